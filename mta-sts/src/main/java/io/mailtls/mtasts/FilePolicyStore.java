package io.mailtls.mtasts;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mailtls.core.DomainName;
import io.mailtls.core.MtaStsMode;
import io.mailtls.core.MtaStsPolicy;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Clock;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link PolicyStore} kept in one JSON file, so that a restarted sender still applies the
 * policies it had cached (RFC 8461 §5.1: a policy applies until {@code max_age} after its fetch,
 * whatever happens to the process; §10.2: the cache is what resists a blocked discovery).
 *
 * <p>The file is read once, at construction, and rewritten in full on every change: the new content
 * goes to a temporary file in the same directory, is flushed to the device ({@code fsync}), and is
 * renamed over the old file with {@link StandardCopyOption#ATOMIC_MOVE}, so a reader (or a crash)
 * sees the old file or the new one, never a mix. Entries are held in memory by an {@link
 * InMemoryPolicyStore} with the same bound, the same eviction (recently used {@code enforce}
 * policies pinned, W-TinyLFU for the rest) and the same reads: {@link #get} is a use, {@link #peek}
 * is not. The file holds exactly what the memory store keeps after each change: an entry the bound
 * evicts, or refuses, is not written.
 *
 * <p>Uses outlive a restart. The file keeps each entry's last use, and loading gives it back, so an
 * {@code enforce} policy used within {@code recentUse} before the restart is pinned again as soon
 * as the file is loaded, before anything else can be stored: a flood of lookups right after a
 * restart cannot evict the policies of real recipients (RFC 8461 §10.2). Its pin lapses {@code
 * recentUse} after the use the file recorded, unless it is used again. Uses reach the file without
 * a write per lookup:
 *
 * <ul>
 *   <li>every write (each {@link #put} and {@link #remove} rewrites the file anyway) records the
 *       last use of every entry as it is then;
 *   <li>a {@link #get} writes the file itself, before it returns, only when the file has no use of
 *       that entry yet, or has one more than {@link #maxUseLag() a seventh of recentUse} (a day, by
 *       default) before this one. So the first use, which pins an {@code enforce} policy, is
 *       durable at once; after that, lookups cost a write only when the file has fallen that far
 *       behind, at most one write per entry per seventh of {@code recentUse} however often it is
 *       looked up, and one write covers every entry, so concurrent uses share it. This holds for
 *       policies of every mode: a {@code testing} policy is not pinned, but the domain keeps its
 *       use when a refresh replaces it with an {@code enforce} policy, which is then pinned, after
 *       a restart as before. A {@code get} that writes waits for the write, as a {@code put} does;
 *       the other reads never wait for the disk. With a {@code recentUse} of zero nothing is
 *       pinned, and uses only travel with the other writes.
 * </ul>
 *
 * <p>So, as long as writes succeed, the file's last use of an entry is never more than a seventh of
 * {@code recentUse} behind the real one, whenever the process stops, crash included: a restart can
 * shorten a pin by that much at most (a policy last used within six sevenths of {@code recentUse}
 * before the restart is certainly pinned again). With the defaults, at any lookup rate, uses cost
 * one write for the first use of a policy and at most one a day for each policy that keeps being
 * used, on top of the writes of fetches, and fewer when writes for other reasons are frequent (each
 * takes every use along). An attacker's policies cost the same: each needs a fetch, itself a write,
 * before its use can cause one. A write that fails is not retried by the next use (a failing disk
 * would otherwise be tried at every lookup); the next write of any kind writes every use.
 *
 * <p>Format, version 1 (UTF-8 JSON; the comments below explain and are not part of it; unknown
 * members are ignored, so that later additions that need no new version stay readable; keys of
 * {@code policies} are policy domains, normalised on reading as {@link DomainName} does):
 *
 * <pre>{@code
 * {
 *   "format": "mailtls-mta-sts-policy-cache",
 *   "version": 1,
 *   "policies": {
 *     "example.com": {
 *       "id": "20160831085700Z",                 // RFC 8461 §3.1: 1 to 32 letters and digits
 *       "mode": "enforce",                       // enforce | testing | none (§3.2)
 *       "mx": ["mail.example.com", "*.example.net"],
 *       "max_age": 604800,                       // seconds, 0 to 31557600 (§3.2)
 *       "fetched_at": "2024-05-01T10:00:00Z",    // ISO-8601 instants (UTC)
 *       "expires_at": "2024-05-08T10:00:00Z",    // at most fetched_at + max_age
 *       "last_used": "2024-05-03T08:15:30.250Z", // optional, see below
 *       "text": "version: STSv1\nmode: enforce\n..." // optional, see below
 *     }
 *   }
 * }
 * }</pre>
 *
 * <p>{@code last_used}, an ISO-8601 instant, is the last time a sender read the domain's policy
 * with {@link #get} (a use; a policy replaced by a later fetch keeps its domain's last use), as of
 * the last write. It is optional and needs no new version: files written before it existed lack it,
 * and so does an entry never used. Absent, or {@code null}, means never used: the entry loads and
 * is not pinned until it is used. A value that is not an ISO-8601 instant string is ignored with a
 * warning (the entry loads as never used; a damaged value should not go unnoticed, since it costs a
 * pin); a value later than the time of loading (the clock went back) counts as a use at that time.
 * Other programs reading the file may ignore it.
 *
 * <p>{@code text}, a string, is the policy body as fetched ({@link MtaStsPolicy#text()}), which a
 * TLS-RPT report names as the policy declared (RFC 8460 §4.4, §4.5). It is optional and needs no
 * new version: files written before it existed lack it, and so does a policy known by its fields
 * only; such an entry loads without a text, and its reports rebuild the policy from the fields. A
 * value that is not a string of 1 to {@link MtaStsPolicy#MAX_TEXT_LENGTH} characters is ignored
 * (the entry loads without a text, never dropped for it: the text decides nothing). When the
 * entries with their texts would make the file larger than {@value #MAX_FILE_BYTES} bytes, the file
 * is written without any text (with a warning), so that the policies themselves stay durable.
 *
 * <p>{@code fetched_at} later than the time of loading by more than {@link
 * CachedPolicy#CLOCK_TOLERANCE} (the clock ran ahead when the policy was fetched and went back
 * since, or the file was altered) likewise counts as a fetch at that time: the entry loads with
 * {@code fetched_at} now and {@code expires_at} the earlier of its own and {@code max_age} after
 * now, so that it never applies longer than {@code max_age} from now (RFC 8461 §5.1) and does not
 * outrank every later fetch. The policy is kept, not dropped (losing an {@code enforce} policy is a
 * downgrade, §10.2), with a warning, and the file is rewritten with the corrected times as soon as
 * it is loaded, so that a later restart does not count the fetch at its own time again.
 *
 * <p>Never crashes on a bad file: a file that cannot be read, is larger than {@value
 * #MAX_FILE_BYTES} bytes, is not a regular file, is not JSON, has duplicate keys, or has another
 * format or version is ignored as a whole (the store starts empty, a warning is logged and kept in
 * {@link #loadWarnings()}, and the next change writes a new file); an entry that fails validation
 * is skipped on its own, with a warning. A regular file ignored as a whole is never lost: the first
 * write renames it to {@code <file>.rejected} (replacing an earlier one) before the new file takes
 * its name, since it may hold {@code enforce} policies that a transient read error, a damaged byte
 * or a later version's format kept from loading (RFC 8461 §10.2: losing them is a downgrade
 * window). An operator can read them there, or put the file back. If the rename fails, nothing is
 * written and the store serves from memory; the next change tries again. A write that fails is
 * logged; the store keeps serving from memory and the next change tries again. The directory must
 * exist.
 *
 * <p>Thread-safe: reads are served from memory without locking (except a use that owes a write,
 * above); changes are serialised, and each is in the file (when the write succeeds) before {@code
 * put} or {@code remove} returns.
 */
public final class FilePolicyStore implements PolicyStore {

  /** The largest file read, and written: 16 MiB. */
  public static final int MAX_FILE_BYTES = 16 * 1024 * 1024;

  /** The value of the {@code format} member. */
  static final String FORMAT = "mailtls-mta-sts-policy-cache";

  /** The version of the format this class reads and writes. */
  static final int VERSION = 1;

  /**
   * A use is written at once when the file's last use of the entry is more than {@code recentUse}
   * divided by this before it: the file's last uses lag behind by a seventh of {@code recentUse} at
   * most (a day of the default week).
   */
  static final int USE_LAG_DIVISOR = 7;

  private static final Logger log = LoggerFactory.getLogger(FilePolicyStore.class);

  private static final JsonMapper JSON =
      JsonMapper.builder()
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .enable(SerializationFeature.INDENT_OUTPUT)
          .build();

  /**
   * Among loaded entries not pinned by their use: enforce, then testing, then none (only the loss
   * of an enforce policy is a downgrade, RFC 8461 §5), within a mode the latest to expire (§10.2: a
   * policy should outlive an attack).
   */
  private static final Comparator<CachedPolicy> MOST_PROTECTIVE_FIRST =
      Comparator.comparingInt((CachedPolicy e) -> protection(e.policy().mode()))
          .reversed()
          .thenComparing(CachedPolicy::expiresAt, Comparator.reverseOrder());

  /**
   * Which loaded entries to keep first, when the file holds more than the bound: the fresh enforce
   * policies that their restored use pins, the most recently used first (they are what the pins
   * protect in memory, and the pin is what a flood cannot break); then the rest, most protective
   * first; then by domain name.
   */
  private static final Comparator<Loaded> LOAD_ORDER =
      Comparator.comparing(Loaded::pinned)
          .reversed()
          .thenComparing(
              l -> l.pinned() ? l.lastUse().orElseThrow() : Instant.MIN, Comparator.reverseOrder())
          .thenComparing(Loaded::entry, MOST_PROTECTIVE_FIRST)
          .thenComparing(Loaded::domain);

  /** A valid entry of the file; {@code pinned}: a fresh enforce policy its use pins at load. */
  private record Loaded(
      DomainName domain, CachedPolicy entry, Optional<Instant> lastUse, boolean pinned) {}

  private final Path file;
  private final InMemoryPolicyStore memory;
  private final Clock clock;
  private final Duration maxUseLag;
  private final List<String> loadWarnings;
  private final Object writeLock = new Object();
  // The file was ignored as a whole and is still in place: the first write moves it aside.
  // Guarded by writeLock (set in the constructor, before the store is shared).
  private boolean rejectedInPlace;
  // The last use of each entry as last written (or tried: see writeSnapshot), by which a use
  // decides whether it owes a write. Replaced by each write, read without locking.
  private volatile Map<DomainName, Instant> writtenUses = Map.of();

  /**
   * Opens the store in {@code file}, holding at most {@link
   * InMemoryPolicyStore#DEFAULT_MAX_ENTRIES} entries. A missing file is an empty store.
   */
  public FilePolicyStore(Path file) {
    this(file, InMemoryPolicyStore.DEFAULT_MAX_ENTRIES);
  }

  /**
   * Opens the store in {@code file}, holding at most {@code maxEntries} entries, with the default
   * recent-use period and the system clock. A missing file is an empty store.
   *
   * @throws IllegalArgumentException if {@code maxEntries} is not positive
   */
  public FilePolicyStore(Path file, int maxEntries) {
    this(file, maxEntries, InMemoryPolicyStore.DEFAULT_RECENT_USE, Clock.systemUTC());
  }

  /**
   * Opens the store in {@code file}, holding at most {@code maxEntries} entries, in which an {@code
   * enforce} policy read within the last {@code recentUse} is never evicted (see {@link
   * InMemoryPolicyStore}), a read before a restart included: an {@code enforce} policy whose {@code
   * last_used} in the file is within {@code recentUse} before now is pinned at once. When the file
   * holds more than {@code maxEntries} entries (it was written with a larger bound), these pinned
   * policies are loaded first, the most recently used first, leaving out expired ones (an expired
   * policy protects nothing, RFC 8461 §5.1); then the most protective of the rest: {@code enforce}
   * before {@code testing} before {@code none}, and within a mode those that expire last. The rest
   * is dropped before it is stored, so no eviction decides and nothing the load keeps is evicted by
   * the load. A missing file is an empty store.
   *
   * @throws IllegalArgumentException if {@code maxEntries} is not positive or {@code recentUse} is
   *     negative
   */
  public FilePolicyStore(Path file, int maxEntries, Duration recentUse, Clock clock) {
    this.file = Objects.requireNonNull(file, "file").toAbsolutePath();
    this.memory = new InMemoryPolicyStore(maxEntries, recentUse, clock);
    this.clock = clock;
    this.maxUseLag = recentUse.dividedBy(USE_LAG_DIVISOR);
    List<String> warnings = new ArrayList<>();
    if (load(warnings)) {
      synchronized (writeLock) {
        writeSnapshot(); // the corrected fetch times, before a restart can count them again
      }
    }
    this.loadWarnings = Collections.unmodifiableList(warnings);
    this.writtenUses = uses(memory.snapshot()); // what the file says, or less (a future use)
  }

  /** The file this store lives in (absolute). */
  public Path file() {
    return file;
  }

  /** How many entries the store holds now. */
  public int size() {
    return memory.size();
  }

  /**
   * What was wrong with the file when it was loaded: one message for a file ignored as a whole, or
   * one per skipped entry, per entry whose {@code last_used} was ignored and per entry fetched
   * after the load (see the class comment); empty when the file was read cleanly or did not exist.
   * Each was also logged as a warning.
   */
  public List<String> loadWarnings() {
    return loadWarnings;
  }

  /**
   * How far the file's last use of an entry may lag behind the real one: a seventh of {@code
   * recentUse}. A use that the file lags behind by more is written before {@link #get} returns (see
   * the class comment).
   */
  public Duration maxUseLag() {
    return maxUseLag;
  }

  /**
   * The entry, counted as a use (see {@link InMemoryPolicyStore#get}). Writes the file first when
   * the file has no use of the entry, or one more than {@link #maxUseLag()} older (see the class
   * comment).
   */
  @Override
  public Optional<CachedPolicy> get(DomainName policyDomain) {
    Optional<CachedPolicy> entry = memory.get(policyDomain);
    if (entry.isPresent() && useOwesWrite(policyDomain)) {
      synchronized (writeLock) {
        // A write since the check (another use's, or a change) may have taken this use along.
        if (useOwesWrite(policyDomain) && memory.peek(policyDomain).isPresent()) {
          writeSnapshot();
        }
      }
    }
    return entry;
  }

  /** Whether a use of the entry at now leaves the file too far behind: see the class comment. */
  private boolean useOwesWrite(DomainName policyDomain) {
    if (memory.recentUse().isZero()) {
      return false; // nothing is pinned: uses only travel with other writes
    }
    Instant written = writtenUses.get(policyDomain);
    return written == null || Duration.between(written, clock.instant()).compareTo(maxUseLag) > 0;
  }

  /** The entry, not counted as a use. */
  @Override
  public Optional<CachedPolicy> peek(DomainName policyDomain) {
    return memory.peek(policyDomain);
  }

  @Override
  public void put(DomainName policyDomain, CachedPolicy entry) {
    Objects.requireNonNull(policyDomain, "policyDomain");
    Objects.requireNonNull(entry, "entry");
    synchronized (writeLock) {
      memory.put(policyDomain, entry);
      writeSnapshot();
    }
  }

  @Override
  public void remove(DomainName policyDomain) {
    Objects.requireNonNull(policyDomain, "policyDomain");
    synchronized (writeLock) {
      if (memory.peek(policyDomain).isEmpty()) {
        return;
      }
      memory.remove(policyDomain);
      writeSnapshot();
    }
  }

  /** How many entries are pinned now (see {@link InMemoryPolicyStore}). */
  int pinned() {
    return memory.pinned();
  }

  /** What memory holds, with the last uses the next write would record. */
  Map<DomainName, InMemoryPolicyStore.Stored> snapshot() {
    return memory.snapshot();
  }

  @Override
  public String toString() {
    return "FilePolicyStore{" + file + ", " + memory.size() + " entries}";
  }

  // ---------------------------------------------------------------- reading

  /**
   * Loads the file into memory.
   *
   * @return whether an entry was fetched after now and loaded with corrected times, which the file
   *     should hold too
   */
  private boolean load(List<String> warnings) {
    byte[] bytes;
    try {
      bytes = readBounded();
    } catch (NoSuchFileException e) {
      log.debug("MTA-STS policy store {} does not exist yet; starting empty", file);
      return false;
    } catch (IOException | RuntimeException e) {
      // Too large, or a read error: kept aside if it is a regular file (a directory is not moved).
      rejectedInPlace = Files.isRegularFile(file);
      ignoreFile(warnings, "cannot read it: " + e);
      return false;
    }
    // Whatever is wrong with the bytes from here on, they are a regular file worth keeping.
    rejectedInPlace = true;
    JsonNode root;
    try {
      root = JSON.readTree(bytes);
    } catch (JsonProcessingException e) {
      ignoreFile(warnings, "not valid JSON: " + e.getOriginalMessage());
      return false;
    } catch (IOException | RuntimeException e) {
      ignoreFile(warnings, "cannot parse it: " + e);
      return false;
    }
    if (root == null || !root.isObject()) {
      ignoreFile(warnings, "the top level is not a JSON object");
      return false;
    }
    JsonNode format = root.get("format");
    if (format == null || !format.isTextual() || !format.textValue().equals(FORMAT)) {
      ignoreFile(warnings, "\"format\" is not \"" + FORMAT + "\"");
      return false;
    }
    JsonNode version = root.get("version");
    if (version == null || !version.isIntegralNumber() || version.asLong() != VERSION) {
      ignoreFile(
          warnings, "unsupported \"version\" " + version + " (this code reads " + VERSION + ")");
      return false;
    }
    JsonNode policies = root.get("policies");
    if (policies == null || !policies.isObject()) {
      ignoreFile(warnings, "\"policies\" is not a JSON object");
      return false;
    }
    rejectedInPlace = false; // read: skipped entries are the only loss, and they are invalid
    Instant now = clock.instant();
    boolean corrected = false;
    Map<DomainName, CachedPolicy> valid = new HashMap<>();
    Map<DomainName, Instant> lastUses = new HashMap<>();
    for (Map.Entry<String, JsonNode> field : policies.properties()) {
      DomainName domain;
      CachedPolicy entry;
      try {
        domain = parseDomain(field.getKey());
        entry = parseEntry(field.getValue());
      } catch (IllegalArgumentException | DateTimeException | ArithmeticException e) {
        // Time arithmetic on a value the file chose must skip the entry, never fail the load.
        warn(
            warnings,
            "MTA-STS policy store "
                + file
                + ": skipping entry \""
                + field.getKey()
                + "\": "
                + e.getMessage());
        continue;
      }
      if (entry.fetchedAhead(now)) {
        // Like a last use after now: the clock went back (or the file was altered). Kept as a
        // fetch now, so that it expires no later than max_age from now (RFC 8461 §5.1) and does
        // not outrank the fetches to come.
        CachedPolicy asOfNow = entry.fetchedNoLaterThan(now);
        warn(
            warnings,
            "MTA-STS policy store "
                + file
                + ": entry \""
                + field.getKey()
                + "\" has \"fetched_at\" "
                + entry.fetchedAt()
                + ", later than now ("
                + now
                + "; the clock went back?): loaded as fetched now, expiring at "
                + asOfNow.expiresAt()
                + " (RFC 8461 §5.1)");
        entry = asOfNow;
        corrected = true;
      }
      // Two spellings of one name (case, trailing dot): the later fetch wins, and the domain
      // keeps the later use, as it would in memory.
      valid.merge(
          domain,
          entry,
          (previous, next) -> previous.fetchedAt().isBefore(next.fetchedAt()) ? next : previous);
      try {
        parseLastUse(field.getValue())
            .ifPresent(use -> lastUses.merge(domain, use, (a, b) -> a.isAfter(b) ? a : b));
      } catch (IllegalArgumentException | DateTimeException | ArithmeticException e) {
        warn(
            warnings,
            "MTA-STS policy store "
                + file
                + ": entry \""
                + field.getKey()
                + "\" loaded as never used: "
                + e.getMessage());
      }
    }
    List<Loaded> kept =
        valid.entrySet().stream()
            .map(
                e ->
                    loaded(
                        e.getKey(),
                        e.getValue(),
                        Optional.ofNullable(lastUses.get(e.getKey())),
                        now))
            .sorted(LOAD_ORDER)
            .limit(memory.maxEntries())
            .toList();
    // At most maxEntries entries, so nothing is evicted: the order above alone decides.
    for (Loaded l : kept) {
      if (l.lastUse().isPresent()) {
        memory.restore(l.domain(), l.entry(), l.lastUse().get());
      } else {
        memory.put(l.domain(), l.entry());
      }
    }
    log.debug(
        "MTA-STS policy store {}: loaded {} of {} valid entries, {} pinned by their use",
        file,
        kept.size(),
        valid.size(),
        memory.pinned());
    return corrected;
  }

  private Loaded loaded(
      DomainName domain, CachedPolicy entry, Optional<Instant> lastUse, Instant now) {
    boolean pinned =
        lastUse.isPresent() && entry.isFresh(now) && memory.pinsOnRestore(entry, lastUse.get());
    return new Loaded(domain, entry, lastUse, pinned);
  }

  private static void warn(List<String> warnings, String warning) {
    log.warn(warning);
    warnings.add(warning);
  }

  private static int protection(MtaStsMode mode) {
    return switch (mode) {
      case ENFORCE -> 2;
      case TESTING -> 1;
      case NONE -> 0;
    };
  }

  /**
   * Reads the file, at most {@value #MAX_FILE_BYTES} bytes whatever its size claims.
   *
   * @throws NoSuchFileException if there is no file
   * @throws IOException if it is not a regular file, too large, or unreadable
   */
  private byte[] readBounded() throws IOException {
    BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
    if (!attributes.isRegularFile()) {
      throw new IOException(attributes.isDirectory() ? "it is a directory" : "not a regular file");
    }
    try (InputStream in = Files.newInputStream(file)) {
      byte[] bytes = in.readNBytes(MAX_FILE_BYTES + 1);
      if (bytes.length > MAX_FILE_BYTES) {
        throw new IOException("larger than " + MAX_FILE_BYTES + " bytes");
      }
      return bytes;
    }
  }

  private void ignoreFile(List<String> warnings, String why) {
    warn(
        warnings,
        "MTA-STS policy store "
            + file
            + " ignored, starting empty (a regular file is kept as "
            + rejectedName()
            + " on the next change): "
            + why);
  }

  private static DomainName parseDomain(String key) {
    DomainName domain = DomainName.of(key);
    if (domain.isRoot()) {
      throw new IllegalArgumentException("the root is not a policy domain");
    }
    return domain;
  }

  /**
   * Validates one entry.
   *
   * @throws IllegalArgumentException naming the member at fault
   */
  static CachedPolicy parseEntry(JsonNode node) {
    if (node == null || !node.isObject()) {
      throw new IllegalArgumentException("not a JSON object");
    }
    String id = text(node, "id");
    if (!isPolicyId(id)) {
      throw new IllegalArgumentException(
          "\"id\" must be 1 to 32 letters or digits (RFC 8461" + " §3.1): \"" + id + "\"");
    }
    MtaStsMode mode = parseMode(text(node, "mode"));
    JsonNode mx = node.get("mx");
    if (mx == null || !mx.isArray()) {
      throw new IllegalArgumentException("\"mx\" must be an array of strings");
    }
    List<String> patterns = new ArrayList<>();
    for (JsonNode p : mx) {
      if (!p.isTextual()) {
        throw new IllegalArgumentException("\"mx\" must be an array of strings, found " + p);
      }
      patterns.add(normalisePattern(p.textValue()));
    }
    JsonNode maxAgeNode = node.get("max_age");
    if (maxAgeNode == null || !maxAgeNode.isIntegralNumber() || !maxAgeNode.canConvertToLong()) {
      throw new IllegalArgumentException("\"max_age\" must be an integer number of seconds");
    }
    long maxAgeSeconds = maxAgeNode.longValue();
    if (maxAgeSeconds < 0 || maxAgeSeconds > MtaStsPolicy.MAX_AGE_LIMIT.toSeconds()) {
      throw new IllegalArgumentException(
          "\"max_age\" must be 0 to "
              + MtaStsPolicy.MAX_AGE_LIMIT.toSeconds()
              + " (RFC 8461 §3.2): "
              + maxAgeSeconds);
    }
    Duration maxAge = Duration.ofSeconds(maxAgeSeconds);
    Instant fetchedAt = instant(node, "fetched_at");
    Instant expiresAt = instant(node, "expires_at");
    if (Instant.MAX.minus(maxAge).isBefore(fetchedAt)) {
      // fetched_at + max_age, the bound on expires_at, is past the latest Instant: a time no
      // sender fetched at, and one that time arithmetic on the entry would fail on.
      throw new IllegalArgumentException(
          "\"fetched_at\" "
              + fetchedAt
              + " + \"max_age\" "
              + maxAgeSeconds
              + " s is later than the latest representable instant "
              + Instant.MAX);
    }
    if (expiresAt.isBefore(fetchedAt) || expiresAt.isAfter(fetchedAt.plus(maxAge))) {
      throw new IllegalArgumentException(
          "\"expires_at\" "
              + expiresAt
              + " must lie between"
              + " \"fetched_at\" "
              + fetchedAt
              + " and fetched_at + max_age (RFC 8461 §3.2)");
    }
    // MtaStsPolicy checks the rest (mx patterns required unless mode is none).
    MtaStsPolicy policy = new MtaStsPolicy(id, mode, patterns, maxAge);
    JsonNode text = node.get("text");
    if (text != null && text.isTextual()) {
      // Absent in files written before the text was kept; one that cannot be kept is ignored.
      policy = policy.withText(text.textValue());
    }
    return new CachedPolicy(policy, fetchedAt, expiresAt);
  }

  /**
   * The entry's {@code last_used}: empty when absent or null.
   *
   * @throws IllegalArgumentException if it is not an ISO-8601 instant string
   */
  static Optional<Instant> parseLastUse(JsonNode node) {
    JsonNode value = node.get("last_used");
    if (value == null || value.isNull()) {
      return Optional.empty();
    }
    return Optional.of(instant(node, "last_used"));
  }

  private static String text(JsonNode node, String member) {
    JsonNode value = node.get(member);
    if (value == null || !value.isTextual()) {
      throw new IllegalArgumentException("\"" + member + "\" must be a string");
    }
    return value.textValue();
  }

  private static Instant instant(JsonNode node, String member) {
    String value = text(node, member);
    try {
      return Instant.parse(value);
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException(
          "\"" + member + "\" is not an ISO-8601 instant: \"" + value + "\"", e);
    }
  }

  private static MtaStsMode parseMode(String token) {
    for (MtaStsMode mode : MtaStsMode.values()) {
      if (mode.token().equals(token)) {
        return mode;
      }
    }
    throw new IllegalArgumentException(
        "\"mode\" must be enforce, testing or none: \"" + token + "\"");
  }

  // RFC 8461 §4.1: a host name, or "*." and a domain (the wildcard is one left-most label).
  private static String normalisePattern(String pattern) {
    boolean wildcard = pattern.startsWith("*.");
    String name = wildcard ? pattern.substring(2) : pattern;
    DomainName domain = DomainName.of(name);
    if (domain.isRoot() || !domain.isHostName()) {
      throw new IllegalArgumentException("invalid mx pattern \"" + pattern + "\"");
    }
    return wildcard ? "*." + domain : domain.toString();
  }

  // RFC 8461 §3.1: sts-id = 1*32(ALPHA / DIGIT)
  private static boolean isPolicyId(String id) {
    if (id.isEmpty() || id.length() > 32) {
      return false;
    }
    for (int i = 0; i < id.length(); i++) {
      char c = id.charAt(i);
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) {
        return false;
      }
    }
    return true;
  }

  // ---------------------------------------------------------------- writing

  /** The file's content for these entries, with their policies' texts. */
  static byte[] encode(Map<DomainName, InMemoryPolicyStore.Stored> entries) {
    return encode(entries, true);
  }

  /** The file's content for these entries, with or without their policies' texts. */
  static byte[] encode(Map<DomainName, InMemoryPolicyStore.Stored> entries, boolean texts) {
    ObjectNode root = JSON.createObjectNode();
    root.put("format", FORMAT);
    root.put("version", VERSION);
    ObjectNode policies = root.putObject("policies");
    for (Map.Entry<DomainName, InMemoryPolicyStore.Stored> e : entries.entrySet()) {
      CachedPolicy entry = e.getValue().entry();
      MtaStsPolicy policy = entry.policy();
      ObjectNode node = policies.putObject(e.getKey().toString());
      node.put("id", policy.id());
      node.put("mode", policy.mode().token());
      ArrayNode mx = node.putArray("mx");
      policy.mxPatterns().forEach(mx::add);
      node.put("max_age", policy.maxAge().toSeconds());
      node.put("fetched_at", entry.fetchedAt().toString());
      node.put("expires_at", entry.expiresAt().toString());
      e.getValue().lastUse().ifPresent(use -> node.put("last_used", use.toString()));
      if (texts) {
        policy.text().ifPresent(text -> node.put("text", text));
      }
    }
    try {
      return JSON.writeValueAsBytes(root);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot encode the MTA-STS policy store", e);
    }
  }

  /** Writes what memory holds now, with its uses. Called with writeLock held. */
  private void writeSnapshot() {
    Map<DomainName, InMemoryPolicyStore.Stored> entries = memory.snapshot();
    // Recorded even if the write fails: uses do not retry a failing disk at every lookup; the
    // next put or remove writes every use again.
    writtenUses = uses(entries);
    write(entries);
  }

  private static Map<DomainName, Instant> uses(
      Map<DomainName, InMemoryPolicyStore.Stored> entries) {
    Map<DomainName, Instant> uses = new HashMap<>();
    entries.forEach((domain, stored) -> stored.lastUse().ifPresent(use -> uses.put(domain, use)));
    return Collections.unmodifiableMap(uses);
  }

  /** Replaces the file atomically; logs and returns on failure. Called with writeLock held. */
  private void write(Map<DomainName, InMemoryPolicyStore.Stored> entries) {
    byte[] bytes = encode(entries);
    if (bytes.length > MAX_FILE_BYTES) {
      // The texts only serve TLS-RPT reports (RFC 8460 §4.5); the policies must stay durable
      // (RFC 8461 §10.2), so they are written without them rather than not at all.
      byte[] withoutTexts = encode(entries, false);
      log.warn(
          "MTA-STS policy store {}: {} entries with their policy texts take {} bytes, more than"
              + " the {} this store reads back; written without the texts",
          file,
          entries.size(),
          bytes.length,
          MAX_FILE_BYTES);
      bytes = withoutTexts;
    }
    if (bytes.length > MAX_FILE_BYTES) {
      log.error(
          "MTA-STS policy store {} not written: {} entries take {} bytes, more than the {}"
              + " this store reads back; lower maxEntries",
          file,
          entries.size(),
          bytes.length,
          MAX_FILE_BYTES);
      return;
    }
    Path directory = file.getParent();
    Path temp = null;
    try {
      temp = Files.createTempFile(directory, "." + file.getFileName() + ".", ".tmp");
      try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        while (buffer.hasRemaining()) {
          channel.write(buffer);
        }
        channel.force(true);
      }
      if (rejectedInPlace) {
        Path rejected = file.resolveSibling(rejectedName());
        try {
          Files.move(
              file, rejected, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
          log.warn(
              "MTA-STS policy store {}: the file ignored at load is kept as {}", file, rejected);
        } catch (NoSuchFileException gone) {
          log.debug("MTA-STS policy store {}: the file ignored at load is gone", file);
        }
        rejectedInPlace = false;
      }
      Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      temp = null;
      syncDirectory(directory);
    } catch (IOException | RuntimeException e) {
      log.warn(
          "MTA-STS policy store {} not written (the cache stays in memory): {}",
          file,
          e.toString());
    } finally {
      if (temp != null) {
        try {
          Files.deleteIfExists(temp);
        } catch (IOException e) {
          log.warn("cannot delete temporary file {}: {}", temp, e.toString());
        }
      }
    }
  }

  /** The name the file ignored at load is kept under: {@code <file>.rejected}. */
  private String rejectedName() {
    return file.getFileName() + ".rejected";
  }

  /** Makes the rename durable where the platform allows opening a directory (POSIX). */
  private static void syncDirectory(@Nullable Path directory) {
    if (directory == null) {
      return; // a file at the root: no directory of its own to sync
    }
    try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
      channel.force(true);
    } catch (IOException | RuntimeException e) {
      log.debug("cannot fsync directory {}: {}", directory, e.toString());
    }
  }
}
