package io.mailtls.tlsrpt;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mailtls.core.DomainName;
import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A {@link PendingReportStore} that survives a crash: one JSON file per entry in a directory
 * ({@code <day>_<policy domain>.json}), each written to a temporary file, forced to the device and
 * moved over the old one with {@link StandardCopyOption#ATOMIC_MOVE}, so that a crash leaves the
 * old entry or the new one. A temporary file left by a crash is deleted on opening. The report is
 * kept as its exact bytes (base64), so a retry sends the same report with the same {@code
 * report-id}. docs/tls-rpt.md describes the format.
 *
 * <p>One process at a time: the directory's {@code lock} file is locked while the store is open. A
 * file that does not parse makes opening fail (it was written whole, so it is corruption, not a
 * torn write). Thread-safe.
 */
public final class FilePendingReportStore implements PendingReportStore {

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final String FORMAT = "mailtls-tlsrpt-pending";
  private static final int VERSION = 1;
  private static final String SUFFIX = ".json";
  private static final String TEMP = ".tmp";

  private final Path dir;
  private final FileChannel lockChannel;
  private final FileLock lock;
  private final Map<String, PendingReport> entries = new HashMap<>();
  private boolean closed;

  private FilePendingReportStore(Path dir, FileChannel lockChannel, FileLock lock) {
    this.dir = dir;
    this.lockChannel = lockChannel;
    this.lock = lock;
  }

  /**
   * Opens (or creates) the store in {@code dir} and reads its entries.
   *
   * @throws IOException if the directory cannot be read or locked, or an entry is corrupt
   */
  public static FilePendingReportStore open(Path dir) throws IOException {
    Objects.requireNonNull(dir, "dir");
    Files.createDirectories(dir);
    FileChannel channel =
        FileChannel.open(
            dir.resolve("lock"),
            StandardOpenOption.CREATE,
            StandardOpenOption.READ,
            StandardOpenOption.WRITE);
    FileLock lock;
    try {
      lock = channel.tryLock();
    } catch (OverlappingFileLockException e) {
      channel.close();
      throw new IOException(dir + " is open in another store of this process", e);
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
    if (lock == null) {
      channel.close();
      throw new IOException(dir + " is open in another store");
    }
    FilePendingReportStore store = new FilePendingReportStore(dir, channel, lock);
    try {
      store.read();
    } catch (IOException | RuntimeException e) {
      store.close();
      throw e;
    }
    return store;
  }

  private void read() throws IOException {
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
      for (Path f : files) {
        String name = f.getFileName().toString();
        if (name.endsWith(TEMP)) {
          Files.deleteIfExists(f); // an interrupted save: the entry it replaced is still whole
        } else if (name.endsWith(SUFFIX)) {
          PendingReport r;
          try {
            r = decode(JSON.readTree(f.toFile()));
          } catch (IOException | RuntimeException e) {
            throw new IOException("corrupt pending report " + f + ": " + e.getMessage(), e);
          }
          if (!fileName(r).equals(name)) {
            throw new IOException(f + " holds the entry of " + r.key());
          }
          entries.put(r.key(), r);
        }
      }
    }
  }

  /** The directory. */
  public Path directory() {
    return dir;
  }

  @Override
  public synchronized List<PendingReport> load() throws IOException {
    ensureOpen();
    return List.copyOf(entries.values());
  }

  @Override
  public synchronized void save(PendingReport report) throws IOException {
    Objects.requireNonNull(report, "report");
    ensureOpen();
    byte[] bytes = JSON.writeValueAsBytes(encode(report));
    Path target = dir.resolve(fileName(report));
    Path temp = dir.resolve(fileName(report) + TEMP);
    try (FileChannel out =
        FileChannel.open(
            temp,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE)) {
      ByteBuffer buf = ByteBuffer.wrap(bytes);
      while (buf.hasRemaining()) {
        out.write(buf);
      }
      out.force(true);
    } catch (IOException e) {
      Files.deleteIfExists(temp);
      throw e;
    }
    try {
      Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      Files.deleteIfExists(temp);
      throw e;
    }
    forceDirectory();
    entries.put(report.key(), report);
  }

  @Override
  public synchronized void remove(LocalDate day, DomainName policyDomain) throws IOException {
    ensureOpen();
    String key = PendingReport.key(day, policyDomain);
    PendingReport r = entries.get(key);
    if (r != null) {
      Files.deleteIfExists(dir.resolve(fileName(r)));
      forceDirectory();
      entries.remove(key);
    }
  }

  private void forceDirectory() {
    // Makes the rename durable where the platform allows opening a directory (Linux does).
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    } catch (IOException | UnsupportedOperationException e) {
      // not every platform can; the rename itself is still atomic
    }
  }

  private static String fileName(PendingReport r) {
    return r.day() + "_" + r.policyDomain() + SUFFIX;
  }

  private void ensureOpen() throws IOException {
    if (closed) {
      throw new IOException("store closed: " + dir);
    }
  }

  @Override
  public synchronized void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    try {
      lock.release();
    } finally {
      lockChannel.close();
    }
  }

  static ObjectNode encode(PendingReport r) {
    ObjectNode o = JSON.createObjectNode();
    o.put("format", FORMAT);
    o.put("version", VERSION);
    o.put("day", r.day().toString());
    o.put("policyDomain", r.policyDomain().toString());
    o.put("stage", r.stage().name());
    o.put("lookups", r.lookups());
    r.firstLookup().ifPresent(t -> o.put("firstLookup", t.toString()));
    r.nextLookup().ifPresent(t -> o.put("nextLookup", t.toString()));
    o.put("detail", r.detail());
    r.report()
        .ifPresent(
            rep -> {
              ObjectNode ro = o.putObject("report");
              ro.put("fileName", rep.fileName(false));
              ro.put("reportId", rep.reportId());
              ro.put("json", Base64.getEncoder().encodeToString(rep.json()));
            });
    ArrayNode ds = o.putArray("destinations");
    for (PendingReport.Destination d : r.destinations()) {
      ObjectNode dn = ds.addObject();
      dn.put("uri", d.uri().toString());
      dn.put("state", d.state().name());
      dn.put("attempts", d.attempts());
      d.firstAttempt().ifPresent(t -> dn.put("firstAttempt", t.toString()));
      d.nextAttempt().ifPresent(t -> dn.put("nextAttempt", t.toString()));
      d.lastOutcome()
          .ifPresent(
              out -> {
                ObjectNode on = dn.putObject("lastOutcome");
                on.put("delivered", out instanceof ReportOutcome.Delivered);
                on.put("detail", out.detail());
                on.put("permanent", out instanceof ReportOutcome.NotDelivered nd && nd.permanent());
              });
    }
    return o;
  }

  static PendingReport decode(JsonNode o) {
    if (!FORMAT.equals(o.path("format").asText()) || o.path("version").asInt() != VERSION) {
      throw new IllegalArgumentException("not a " + FORMAT + " version " + VERSION + " file");
    }
    LocalDate day = LocalDate.parse(text(o, "day"));
    DomainName domain = DomainName.of(text(o, "policyDomain"));
    Optional<TlsRptReport> report = Optional.empty();
    JsonNode ro = o.get("report");
    if (ro != null) {
      // §5.1's name: sender!policy-domain!begin!end!unique-id.json
      String name = text(ro, "fileName");
      String[] parts = name.split("!", -1);
      if (parts.length != 5 || !parts[4].endsWith(".json")) {
        throw new IllegalArgumentException("bad report file name: " + name);
      }
      report =
          Optional.of(
              new TlsRptReport(
                  DomainName.of(parts[0]),
                  domain,
                  day,
                  text(ro, "reportId"),
                  parts[4].substring(0, parts[4].length() - ".json".length()),
                  Base64.getDecoder().decode(text(ro, "json"))));
    }
    List<PendingReport.Destination> ds = new ArrayList<>();
    for (JsonNode dn : o.path("destinations")) {
      Optional<ReportOutcome> last = Optional.empty();
      JsonNode on = dn.get("lastOutcome");
      if (on != null) {
        String detail = text(on, "detail");
        last =
            Optional.of(
                on.path("delivered").asBoolean()
                    ? new ReportOutcome.Delivered(detail)
                    : new ReportOutcome.NotDelivered(detail, on.path("permanent").asBoolean()));
      }
      ds.add(
          new PendingReport.Destination(
              URI.create(text(dn, "uri")),
              PendingReport.DestinationState.valueOf(text(dn, "state")),
              dn.path("attempts").asInt(),
              instant(dn, "firstAttempt"),
              instant(dn, "nextAttempt"),
              last));
    }
    return new PendingReport(
        day,
        domain,
        PendingReport.Stage.valueOf(text(o, "stage")),
        report,
        ds,
        o.path("lookups").asInt(),
        instant(o, "firstLookup"),
        instant(o, "nextLookup"),
        text(o, "detail"));
  }

  private static String text(JsonNode o, String field) {
    JsonNode n = o.get(field);
    if (n == null || !n.isTextual()) {
      throw new IllegalArgumentException("missing " + field);
    }
    return n.asText();
  }

  private static Optional<Instant> instant(JsonNode o, String field) {
    JsonNode n = o.get(field);
    return n == null ? Optional.empty() : Optional.of(Instant.parse(n.asText()));
  }
}
