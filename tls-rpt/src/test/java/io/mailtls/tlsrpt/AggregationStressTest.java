package io.mailtls.tlsrpt;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DomainName;
import io.mailtls.core.Envelope;
import io.mailtls.core.EventListener;
import io.mailtls.core.MessageContent;
import io.mailtls.core.PolicyFailure;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.testkit.FakeClock;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Many real threads counting into one store at once, with readers watching: no count is lost or
 * doubled, and every merge is seen whole or not at all. The calls counted are real: one delivery
 * through a {@link SecureSmtpTransport} to every {@link RptWorld} domain, whose report and policy
 * failures each thread then counts again and again.
 */
class AggregationStressTest {

  private static final int THREADS = 16;
  private static final int CALLS_PER_THREAD = 500;

  private static RptWorld world;
  private static DeliveryReport report;
  private static List<PolicyFailure> failures;

  @BeforeAll
  static void deliverOnce() {
    world = new RptWorld();
    List<PolicyFailure> seen = new CopyOnWriteArrayList<>();
    DeliveryReport[] done = new DeliveryReport[1];
    EventListener.Factory capture =
        call ->
            new EventListener() {
              @Override
              public void policyFailure(PolicyFailure failure) {
                seen.add(failure);
              }

              @Override
              public void deliveryEnd(Envelope envelope, DeliveryReport r) {
                done[0] = r;
              }
            };
    try (SecureSmtpTransport t = world.transport(capture)) {
      t.send(
          Envelope.of(
              RptWorld.SENDER,
              "b@good.rpt.test",
              "b@plain.rpt.test",
              "b@sts.rpt.test",
              "b@dane.rpt.test",
              "b@dane-bad.rpt.test"),
          MessageContent.of(RptWorld.MESSAGE));
    }
    report = done[0];
    failures = List.copyOf(seen);
  }

  @AfterAll
  static void stop() {
    world.close();
  }

  @Test
  void inMemory() throws Exception {
    stress(new InMemoryAggregateStore());
  }

  @Test
  void file(@TempDir Path dir) throws Exception {
    Path log = dir.resolve("tlsrpt.log");
    Map<AppliedPolicy, PolicyCounts> expected;
    try (FileAggregateStore store = FileAggregateStore.open(log)) {
      expected = stress(store);
    }
    try (FileAggregateStore store = FileAggregateStore.open(log)) {
      assertThat(store.read(DAY)).isEqualTo(expected);
    }
  }

  private static final LocalDate DAY = LocalDate.parse("2025-03-01");

  private static Map<AppliedPolicy, PolicyCounts> stress(AggregateStore store) throws Exception {
    FakeClock clock = new FakeClock(Instant.parse("2025-03-01T08:00:00Z"));
    TlsRptAggregator aggregator = TlsRptAggregator.builder().store(store).clock(clock).build();
    // What one call counts, on its own.
    InMemoryAggregateStore once = new InMemoryAggregateStore();
    TlsRptAggregator.builder().store(once).clock(clock).build().record(report, failures);
    Map<AppliedPolicy, PolicyCounts> one = once.read(DAY);
    assertThat(one).hasSize(5);
    AppliedPolicy sts =
        one.keySet().stream()
            .filter(p -> p.type() == io.mailtls.tlsrpt.PolicyType.STS)
            .findFirst()
            .orElseThrow();
    AppliedPolicy good = AppliedPolicy.noPolicy(DomainName.of("good.rpt.test"));
    assertThat(one.get(sts).successfulSessions()).isEqualTo(1);
    assertThat(one.get(sts).failedSessions()).isEqualTo(1);

    ExecutorService pool = Executors.newFixedThreadPool(THREADS + 2);
    CountDownLatch go = new CountDownLatch(1);
    AtomicBoolean writing = new AtomicBoolean(true);
    AtomicInteger reads = new AtomicInteger();
    try {
      List<Future<?>> writers =
          java.util.stream.IntStream.range(0, THREADS)
              .mapToObj(
                  i ->
                      pool.submit(
                          () -> {
                            go.await();
                            for (int c = 0; c < CALLS_PER_THREAD; c++) {
                              aggregator.record(report, failures);
                            }
                            return null;
                          }))
              .<Future<?>>map(f -> f)
              .toList();
      List<Future<?>> readers =
          java.util.stream.IntStream.range(0, 2)
              .mapToObj(
                  i ->
                      pool.submit(
                          () -> {
                            go.await();
                            while (writing.get()) {
                              Map<AppliedPolicy, PolicyCounts> seen = store.read(DAY);
                              PolicyCounts s = seen.getOrDefault(sts, PolicyCounts.ZERO);
                              PolicyCounts g = seen.getOrDefault(good, PolicyCounts.ZERO);
                              // One merge adds one success and one failure to sts and one success
                              // to good: a merge seen in part would break these.
                              assertThat(s.successfulSessions()).isEqualTo(s.failedSessions());
                              assertThat(g.successfulSessions()).isEqualTo(s.successfulSessions());
                              reads.incrementAndGet();
                            }
                            return null;
                          }))
              .<Future<?>>map(f -> f)
              .toList();
      go.countDown();
      for (Future<?> w : writers) {
        w.get(120, TimeUnit.SECONDS);
      }
      writing.set(false);
      for (Future<?> r : readers) {
        r.get(10, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(reads.get()).isPositive();
    assertThat(aggregator.failedMerges()).isZero();
    long calls = (long) THREADS * CALLS_PER_THREAD;
    Map<AppliedPolicy, PolicyCounts> all = store.read(DAY);
    assertThat(all.keySet()).isEqualTo(one.keySet());
    for (Map.Entry<AppliedPolicy, PolicyCounts> e : one.entrySet()) {
      PolicyCounts c = e.getValue();
      PolicyCounts got = all.get(e.getKey());
      assertThat(got.successfulSessions()).isEqualTo(c.successfulSessions() * calls);
      assertThat(got.failedSessions()).isEqualTo(c.failedSessions() * calls);
      c.failures().forEach((d, n) -> assertThat(got.failures().get(d)).isEqualTo(n * calls));
      assertThat(got.failures().keySet()).isEqualTo(c.failures().keySet());
    }
    return all;
  }
}
