package io.mailtls.core.internal.dns;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.mailtls.core.DnsAnswer;
import io.mailtls.core.DnsOutcome;
import io.mailtls.core.DnsRecord;
import io.mailtls.core.DnsRecordType;
import io.mailtls.core.DnssecState;
import io.mailtls.core.DomainName;
import io.mailtls.core.internal.CacheTime;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;
import org.jspecify.annotations.Nullable;

/**
 * The validated-answer cache in front of {@link DnsjavaResolver}: answers keyed by (name, type),
 * each kept with its DNSSEC state for its own {@link DnsAnswer#ttl()} (capped) as {@link CacheTime}
 * measures time (with the system clock, monotonic time: a wall clock stepped back keeps no answer
 * beyond its TTL), bounded by entry count; and a single-flight table, so that concurrent identical
 * lookups share one resolution. Thread-safe.
 *
 * <p>Only {@link DnsOutcome#DATA}, {@link DnsOutcome#NXDOMAIN} and {@link DnsOutcome#NODATA}
 * answers that are {@link DnssecState#SECURE} or {@link DnssecState#INSECURE} are kept as data. A
 * failure (bogus, indeterminate, SERVFAIL, timeout) is kept, as the failure it is and with its
 * state, for the failure TTL only (RFC 2308 §7, RFC 9520 §3.2), and never for longer than 5
 * minutes: a cache hands back exactly the state the resolution established, so nothing bogus can
 * come out of it secure or insecure (RFC 4035 §4.7).
 *
 * <p>The bound is in weight, not entries: an answer counts once per started {@link #BYTES_PER_UNIT}
 * octets of data, so that peers serving huge RRsets under names of their choosing cannot make it
 * hold more than {@code maxEntries} kilobytes.
 */
public final class AnswerCache {

  /** RFC 2308 §7.1, RFC 9520 §3.2: resolution failures are remembered at most 5 minutes. */
  public static final Duration MAX_FAILURE_TTL = Duration.ofMinutes(5);

  private record Key(DomainName name, DnsRecordType type) {}

  /**
   * The octets of answer data one entry of the size the builder gives may hold: an answer counts as
   * one entry per started kilobyte of its records, names and reason, as estimated by {@link
   * #weight}. MX, A, AAAA, TLSA and MTA-STS TXT answers (about 500 to 800 bytes of heap each) weigh
   * one entry.
   */
  static final int BYTES_PER_UNIT = 1024;

  /**
   * An answer, the millisecond of {@link CacheTime} at which it expires, and its weight in units of
   * {@link #BYTES_PER_UNIT}.
   */
  private record Entry(DnsAnswer answer, long expiresAtMillis, int weight) {}

  private final BiFunction<DomainName, DnsRecordType, CompletableFuture<DnsAnswer>> source;
  private final CacheTime time;
  private final @Nullable Cache<Key, Entry> cache;
  private final long maxTtlMillis;
  private final long failureTtlMillis;
  private final ConcurrentHashMap<Key, CompletableFuture<DnsAnswer>> inFlight =
      new ConcurrentHashMap<>();

  /**
   * @param source the resolution behind the cache; its futures complete normally
   * @param maxEntries the most answers of up to {@link #BYTES_PER_UNIT} octets kept (a larger
   *     answer counts as several); 0 keeps none (lookups are still single-flight)
   * @param maxTtl the longest an answer is kept, whatever its TTL
   * @param failureTtl how long a failure is kept, at most {@link #MAX_FAILURE_TTL}
   */
  public AnswerCache(
      BiFunction<DomainName, DnsRecordType, CompletableFuture<DnsAnswer>> source,
      Clock clock,
      int maxEntries,
      Duration maxTtl,
      Duration failureTtl) {
    this.source = source;
    this.time = CacheTime.of(clock);
    this.cache =
        maxEntries == 0
            ? null
            : Caffeine.newBuilder()
                // Weighed, not counted: an answer of peer data may be 64 KB (a TXT or MX RRset
                // over TCP), and 100,000 of them would be gigabytes. An ordinary answer weighs one
                // unit, so the cache still holds maxEntries of those.
                .maximumWeight(maxEntries)
                .<Key, Entry>weigher((k, e) -> e.weight())
                // eviction runs on the calling thread: no pool of our own, none of the JVM's
                .executor(Runnable::run)
                .build();
    this.maxTtlMillis = maxTtl.toMillis();
    this.failureTtlMillis = Math.min(failureTtl.toMillis(), MAX_FAILURE_TTL.toMillis());
  }

  /** The cached answer, with the time left as its TTL, or the (shared) resolution. */
  public CompletableFuture<DnsAnswer> resolveAsync(DomainName name, DnsRecordType type) {
    Key key = new Key(name, type);
    DnsAnswer hit = cached(key);
    if (hit != null) {
      return CompletableFuture.completedFuture(hit);
    }
    CompletableFuture<DnsAnswer> mine = new CompletableFuture<>();
    CompletableFuture<DnsAnswer> running = inFlight.putIfAbsent(key, mine);
    if (running != null) {
      // copy(): a caller that completes or cancels its future cannot touch the shared one
      return running.copy();
    }
    // Checked again now that this lookup owns the flight: another may have stored the answer
    // between the first check and putIfAbsent.
    hit = cached(key);
    if (hit != null) {
      inFlight.remove(key, mine);
      mine.complete(hit);
      return mine.copy();
    }
    CompletableFuture<DnsAnswer> resolution;
    try {
      resolution = source.apply(name, type);
    } catch (RuntimeException | Error e) {
      inFlight.remove(key, mine);
      mine.completeExceptionally(e);
      throw e;
    }
    var unused =
        resolution.whenComplete(
            (answer, error) -> {
              DnsAnswer capped = answer == null ? null : capped(answer);
              if (error == null && capped != null) {
                store(key, capped);
              }
              // Stored first, then out of the table: a lookup in between finds one or the other.
              inFlight.remove(key, mine);
              if (error != null) {
                mine.completeExceptionally(error);
              } else {
                mine.complete(capped);
              }
            });
    return mine.copy();
  }

  /**
   * {@code answer} with its TTL lowered to the cap: the lookup that resolved it gets the lifetime a
   * hit would, so that what a caller builds on it (a TLSA or MTA-STS result, a delivery plan) lasts
   * no longer than the cache keeps the answer. Also with the cache off.
   */
  private DnsAnswer capped(DnsAnswer answer) {
    return answer.ttl().toMillis() > maxTtlMillis
        ? answer.withTtl(Duration.ofMillis(maxTtlMillis))
        : answer;
  }

  private @Nullable DnsAnswer cached(Key key) {
    if (cache == null) {
      return null;
    }
    Entry e = cache.getIfPresent(key);
    if (e == null) {
      return null;
    }
    long left = e.expiresAtMillis() - time.millis();
    if (left <= 0) {
      cache.asMap().remove(key, e);
      return null;
    }
    return e.answer().withTtl(Duration.ofSeconds(left / 1000));
  }

  private void store(Key key, DnsAnswer answer) {
    if (cache == null) {
      return;
    }
    long ttl;
    if (reusableAsData(answer)) {
      ttl = Math.min(answer.ttl().toMillis(), maxTtlMillis);
    } else {
      ttl = failureTtlMillis;
    }
    if (ttl <= 0) {
      cache.invalidate(key);
      return;
    }
    cache.put(key, new Entry(answer, time.millis() + ttl, weight(answer)));
  }

  /**
   * What {@code answer} weighs in the cache: its approximate size in octets (record data, names,
   * reason text), in started units of {@link #BYTES_PER_UNIT}, at least 1.
   */
  static int weight(DnsAnswer answer) {
    long bytes = estimatedBytes(answer);
    return (int)
        Math.min(Integer.MAX_VALUE, Math.max(1, (bytes + BYTES_PER_UNIT - 1) / BYTES_PER_UNIT));
  }

  /**
   * The approximate size of {@code answer} in octets: its records' data and names, its CNAME chain
   * and its reason text, with a small overhead per record. An estimate for bounding caches, not a
   * measurement of the heap.
   */
  public static long estimatedBytes(DnsAnswer answer) {
    long bytes = 64L + answer.name().toString().length();
    for (DomainName n : answer.cnameChain()) {
      bytes += 16L + n.toString().length();
    }
    bytes += answer.reason().map(String::length).orElse(0);
    for (DnsRecord r : answer.records()) {
      bytes += 16;
      if (r instanceof DnsRecord.Address a) {
        bytes += a.address().getAddress().length;
      } else if (r instanceof DnsRecord.Mx mx) {
        bytes += mx.exchange().toString().length();
      } else if (r instanceof DnsRecord.Txt txt) {
        for (String t : txt.strings()) {
          bytes += 16L + t.length();
        }
      } else if (r instanceof DnsRecord.Tlsa tlsa) {
        bytes += tlsa.data().length;
      } else if (r instanceof DnsRecord.Cname c) {
        bytes += c.target().toString().length();
      }
    }
    return bytes;
  }

  /** Data or a proof of absence, secure or provably insecure: what may be kept for its TTL. */
  private static boolean reusableAsData(DnsAnswer answer) {
    return answer.outcome() != DnsOutcome.FAILURE
        && (answer.state() == DnssecState.SECURE || answer.state() == DnssecState.INSECURE);
  }
}
