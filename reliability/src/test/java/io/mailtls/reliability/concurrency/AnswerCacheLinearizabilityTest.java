package io.mailtls.reliability.concurrency;

import io.mailtls.core.DnsAnswer;
import io.mailtls.core.DnsOutcome;
import io.mailtls.core.DnsRecord;
import io.mailtls.core.DnsRecordType;
import io.mailtls.core.DnssecState;
import io.mailtls.core.DomainName;
import io.mailtls.core.internal.dns.AnswerCache;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.jetbrains.lincheck.datastructures.IntGen;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.jetbrains.lincheck.datastructures.Validate;
import org.junit.jupiter.api.Test;

/**
 * {@link AnswerCache}, the validated-answer cache with its single flight in front of {@code
 * DnssecResolver}, keeps its promises under concurrent lookups, cancelled lookups and upstream
 * completions of a few names (Lincheck's model checker explores the interleavings; its stress mode
 * runs them on real threads; the upstream's "is a flight running" answer is checked against the
 * sequential specification): never more than one upstream resolution per name in flight, and with a
 * clock that stands still never a second one at all (the answer, or the failure for its failure
 * TTL, is cached), every lookup answered with the answer of the resolution it joined (a secure
 * answer as secure, a failure as the failure), and a caller cancelling its copy never cancels the
 * shared resolution. The upstream is a table of futures that the {@link #answer} operation
 * completes, so that completions race with lookups.
 */
@Param(name = "name", gen = IntGen.class, conf = "0:1")
public class AnswerCacheLinearizabilityTest {

  private static final DomainName[] NAMES = {DomainName.of("a.test"), DomainName.of("b.test")};

  /** What the upstream answers for each name: secure data for a.test, a failure for b.test. */
  private static final DnsAnswer[] ANSWERS = {
    DnsAnswer.builder(NAMES[0], DnsRecordType.A, DnsOutcome.DATA, DnssecState.SECURE)
        .records(List.of(new DnsRecord.Address(loopback())))
        .ttl(Duration.ofSeconds(60))
        .build(),
    DnsAnswer.failed(
        NAMES[1],
        DnsRecordType.A,
        DnssecState.INDETERMINATE,
        io.mailtls.core.DnsFailure.SERVFAIL,
        2,
        "upstream SERVFAIL")
  };

  private final Map<Integer, CompletableFuture<DnsAnswer>> upstream = new ConcurrentHashMap<>();
  private final AtomicInteger resolutions = new AtomicInteger();
  private final AtomicInteger overlapping = new AtomicInteger();

  private final AnswerCache cache =
      new AnswerCache(
          (name, type) -> {
            resolutions.incrementAndGet();
            int i = name.equals(NAMES[0]) ? 0 : 1;
            CompletableFuture<DnsAnswer> f = new CompletableFuture<>();
            if (upstream.putIfAbsent(i, f) != null) {
              overlapping.incrementAndGet(); // a second flight while one is running
            }
            return f;
          },
          Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC),
          100,
          Duration.ofHours(1),
          Duration.ofSeconds(1));

  private static InetAddress loopback() {
    return InetAddress.getLoopbackAddress();
  }

  /**
   * A lookup, answered at once from the cache or later by the flight it starts or joins: either way
   * with exactly the upstream's answer, as {@link #checkWaiters} verifies.
   */
  @Operation
  public void lookup(@Param(name = "name") int i) {
    CompletableFuture<DnsAnswer> f = cache.resolveAsync(NAMES[i], DnsRecordType.A);
    var unused =
        f.whenComplete(
            (a, e) -> {
              if (e != null || !sameAs(a, ANSWERS[i])) {
                wrong.incrementAndGet();
              }
            });
  }

  /** A lookup whose caller gives up at once: cancelling its copy. */
  @Operation
  public void lookupAndCancel(@Param(name = "name") int i) {
    cache.resolveAsync(NAMES[i], DnsRecordType.A).cancel(true);
  }

  /** The upstream answers the flight for the name, if one is running; whether one was. */
  @Operation
  public boolean answer(@Param(name = "name") int i) {
    CompletableFuture<DnsAnswer> f = upstream.remove(i);
    if (f == null) {
      return false;
    }
    if (f.isCancelled()) {
      cancelledUpstream.incrementAndGet();
    }
    f.complete(ANSWERS[i]);
    return true;
  }

  private final AtomicInteger wrong = new AtomicInteger();
  private final AtomicInteger cancelledUpstream = new AtomicInteger();

  private static boolean sameAs(DnsAnswer got, DnsAnswer expected) {
    return got.outcome() == expected.outcome()
        && got.state() == expected.state()
        && got.records().equals(expected.records())
        && got.failure().equals(expected.failure());
  }

  @Validate
  public void checkWaiters() {
    // complete whatever is still in flight: every waiter must then have had the right answer
    for (int i = 0; i < NAMES.length; i++) {
      answer(i);
    }
    if (resolutions.get() > NAMES.length) {
      // the clock stands still, so every answer (the failure for its failure TTL) stays cached
      throw new AssertionError(resolutions.get() + " upstream resolutions of " + NAMES.length);
    }
    if (overlapping.get() != 0) {
      throw new AssertionError("two upstream resolutions of one name at once");
    }
    if (wrong.get() != 0) {
      throw new AssertionError(wrong.get() + " lookups got another answer than the upstream's");
    }
    if (cancelledUpstream.get() != 0) {
      throw new AssertionError("a caller's cancel reached the shared resolution");
    }
  }

  @Test
  void modelChecking() {
    StressBudget.modelCheck(getClass(), 2);
  }

  @Test
  void stress() {
    StressBudget.stressCheck(getClass(), 2);
  }
}
