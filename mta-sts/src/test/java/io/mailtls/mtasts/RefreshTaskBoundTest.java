package io.mailtls.mtasts;

import static io.mailtls.mtasts.StsFixture.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DnsResolver;
import io.mailtls.core.DnssecResolver;
import io.mailtls.core.DomainName;
import io.mailtls.core.MtaStsLookup;
import io.mailtls.core.MtaStsMode;
import io.mailtls.core.MtaStsPolicy;
import io.mailtls.core.TrustAnchors;
import io.mailtls.testkit.FakeClock;
import io.mailtls.testkit.MtaStsServer;
import io.mailtls.testkit.TestDnsServer;
import io.mailtls.testkit.TestPki;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Background refresh (RFC 8461 §3.3) planned only for domains the store holds: a bounded store
 * evicts domains, and their refresh tasks, which live for a day, must not pile up in the resolver
 * and in the executor's queue at the rate new recipient domains arrive. A domain the store holds
 * keeps its refresh.
 */
class RefreshTaskBoundTest {

  private static final TestPki PKI = TestPki.create();
  private static final String ZONE = "bound.test";
  private static final int DOMAINS = 80;
  private static final int STORE_ENTRIES = 8;

  private final FakeClock clock = new FakeClock();
  // A real scheduler, its pool thread idle: every refresh is due a day from now on the fake clock,
  // a day of real time too.
  private final ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1);

  @AfterEach
  void stop() {
    executor.shutdownNow();
  }

  private static String domain(int i) {
    return "d" + i + "." + ZONE;
  }

  /** Runs what the executor was given to run now, sweeps included (one thread, in order). */
  private void drain() throws Exception {
    executor.submit(() -> {}).get(10, TimeUnit.SECONDS);
  }

  @Test
  void section3_3_refreshTasksOfEvictedDomainsDoNotOutgrowTheStore() throws Exception {
    MtaStsServer.Builder server = MtaStsServer.builder().pki(PKI);
    for (int i = 0; i < DOMAINS; i++) {
      server.domain(domain(i), MtaStsServer.policyText("enforce", 604800, "mx." + domain(i)));
    }
    List<DomainName> domains = new ArrayList<>();
    try (MtaStsServer https = server.start();
        TestDnsServer dns =
            TestDnsServer.builder()
                .zone(
                    ZONE,
                    z -> {
                      for (int i = 0; i < DOMAINS; i++) {
                        https.publish(z, domain(i), "id1");
                      }
                    })
                .start()) {
      DnsResolver resolver =
          DnssecResolver.builder()
              .upstream(dns.socketAddress())
              .trustAnchors(TrustAnchors.parse(dns.trustAnchor()))
              .queryTimeout(Duration.ofSeconds(2))
              .build();
      OkHttpClient client =
          new OkHttpClient.Builder()
              .sslSocketFactory(PKI.clientSslContext().getSocketFactory(), PKI.trustManager())
              .build();
      InMemoryPolicyStore store = new InMemoryPolicyStore(STORE_ENTRIES, Duration.ZERO, clock);
      MtaStsResolver sts =
          MtaStsResolver.builder()
              .dns(resolver)
              .fetcher(
                  OkHttpPolicyFetcher.builder()
                      .dns(resolver)
                      .client(client)
                      .port(https.port())
                      .build())
              .clock(clock)
              .store(store)
              .scheduler(executor)
              .build();

      // New recipient domains, one after another, each fetched and stored once.
      for (int i = 0; i < DOMAINS; i++) {
        DomainName d = DomainName.of(domain(i));
        domains.add(d);
        assertThat(await(sts.lookupAsync(d))).isInstanceOf(MtaStsLookup.Found.class);
      }
      drain();

      assertThat(https.requestCount(domain(DOMAINS - 1))).isEqualTo(1);
      assertThat(store.size()).isLessThanOrEqualTo(STORE_ENTRIES);
      int bound = Math.max(RefreshScheduler.SWEEP_FLOOR, 2 * STORE_ENTRIES);
      assertThat(sts.plannedRefreshes())
          .as("refresh tasks for %d domains through a store of %d", DOMAINS, STORE_ENTRIES)
          .isLessThanOrEqualTo(bound);
      assertThat(executor.getQueue())
          .as("futures queued in the executor")
          .hasSizeLessThanOrEqualTo(bound)
          .hasSize(sts.plannedRefreshes());
      // Every policy the store holds is still refreshed before it expires (RFC 8461 §3.3).
      int held = 0;
      for (DomainName d : domains) {
        Optional<CachedPolicy> cached = store.peek(d);
        if (cached.isPresent()) {
          held++;
          assertThat(sts.plannedRefresh(d)).as("%s", d).isEqualTo(cached);
        }
      }
      assertThat(held).isPositive();
      sts.close();
      assertThat(executor.getQueue()).isEmpty();
    }
  }

  @Test
  void aReplacedOrCancelledRefreshLeavesTheExecutorsQueue() {
    RefreshScheduler plan = refreshes(executor);
    DomainName d = DomainName.of("a.test");
    CachedPolicy week = enforce("1", Duration.ofDays(7));
    CachedPolicy month = enforce("2", Duration.ofDays(30));

    plan.schedule(d, week);
    plan.schedule(d, month);
    assertThat(executor.getQueue()).hasSize(1);

    plan.cancel(d);
    assertThat(executor.getQueue()).isEmpty();
    assertThat(plan.taskCount()).isZero();
  }

  /**
   * A domain cancelled (its entry evicted, found by a sweep) while its refresh is being handed to
   * the scheduler: the future did not exist yet when the task was cancelled, and must not stay
   * queued, holding its policy, until it is due a day later.
   */
  @Test
  void aRefreshCancelledWhileItIsBeingScheduledLeavesTheQueue() throws InterruptedException {
    CountDownLatch inSchedule = new CountDownLatch(1);
    CountDownLatch proceed = new CountDownLatch(1);
    ScheduledThreadPoolExecutor gated =
        new ScheduledThreadPoolExecutor(1) {
          @Override
          public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
            inSchedule.countDown();
            try {
              proceed.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            return super.schedule(command, delay, unit);
          }
        };
    try {
      RefreshScheduler plan = refreshes(gated);
      DomainName d = DomainName.of("a.test");
      CachedPolicy week = enforce("1", Duration.ofDays(7));
      Thread scheduling = new Thread(() -> plan.schedule(d, week));
      scheduling.start();
      assertThat(inSchedule.await(10, TimeUnit.SECONDS)).isTrue();
      plan.cancel(d);
      proceed.countDown();
      scheduling.join(10_000);
      assertThat(plan.taskCount()).isZero();
      assertThat(gated.getQueue()).as("refreshes queued for a cancelled domain").isEmpty();
    } finally {
      gated.shutdownNow();
    }
  }

  /** Refreshes planned on {@code scheduler}, a day apart, for a store that holds every domain. */
  private RefreshScheduler refreshes(ScheduledExecutorService scheduler) {
    return new RefreshScheduler(
        scheduler,
        clock,
        Duration.ofDays(1),
        Duration.ofHours(1),
        Duration.ZERO,
        Duration.ofMinutes(5),
        new SplittableRandom(1),
        (d, e) -> {},
        d -> true);
  }

  /** An {@code enforce} policy for {@code a.test}, fetched now. */
  private CachedPolicy enforce(String id, Duration maxAge) {
    return CachedPolicy.fetched(
        new MtaStsPolicy(id, MtaStsMode.ENFORCE, List.of("mx.a.test"), maxAge), clock.instant());
  }
}
