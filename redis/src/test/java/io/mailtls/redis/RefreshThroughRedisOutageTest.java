package io.mailtls.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.mailtls.core.DnsResolver;
import io.mailtls.core.DnssecResolver;
import io.mailtls.core.DomainName;
import io.mailtls.core.MtaStsLookup;
import io.mailtls.core.TrustAnchors;
import io.mailtls.mtasts.InMemoryPolicyStore;
import io.mailtls.mtasts.MtaStsResolver;
import io.mailtls.mtasts.OkHttpPolicyFetcher;
import io.mailtls.mtasts.PolicyStore;
import io.mailtls.testkit.FakeClock;
import io.mailtls.testkit.ManualScheduler;
import io.mailtls.testkit.MtaStsServer;
import io.mailtls.testkit.TestDnsServer;
import io.mailtls.testkit.TestPki;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.Test;

/**
 * The proactive refresh of policies held in Redis (RFC 8461 §3.3, §10.2) survives a Redis that does
 * not answer. The resolver drops the refresh task of a domain its store no longer holds (a sweep,
 * and a due refresh that finds nothing); a Redis that does not answer must not read as "no longer
 * held" for the policies this process's bounded local layer has evicted, or their refresh stops for
 * good although the fleet still holds them.
 */
class RefreshThroughRedisOutageTest {

  private static final TestPki PKI = TestPki.create();
  private static final String ZONE = "outage.test";

  /** Enough tasks for the resolver to sweep ({@code RefreshScheduler.SWEEP_FLOOR}). */
  private static final int DOMAINS = 64;

  private static final int LOCAL_ENTRIES = 8;

  private static String domain(int i) {
    return "d" + i + "." + ZONE;
  }

  /**
   * Waits (at most 20 s) until every domain has a refresh planned again: a refresh that runs
   * fetches in the background, and plans the next one when that ends.
   */
  private static void awaitPlanned(ManualScheduler scheduler) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (scheduler.pending().size() < DOMAINS && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
  }

  @Test
  void section3_3_aFrozenRedisCancelsNoRefreshOfAPolicyItStillHolds() throws Exception {
    FakeClock clock = new FakeClock(Instant.now().truncatedTo(ChronoUnit.MILLIS));
    ManualScheduler scheduler = new ManualScheduler(clock);
    MtaStsServer.Builder server = MtaStsServer.builder().pki(PKI);
    for (int i = 0; i < DOMAINS; i++) {
      server.domain(domain(i), MtaStsServer.policyText("enforce", 604800, "mx." + domain(i)));
    }
    try (RedisServerProcess redis = RedisServerProcess.start();
        MtaStsServer https = server.start();
        TestDnsServer dns =
            TestDnsServer.builder()
                .zone(
                    ZONE,
                    z -> {
                      for (int i = 0; i < DOMAINS; i++) {
                        https.publish(z, domain(i), "id1");
                      }
                    })
                .start();
        RedisPolicyStore store =
            RedisPolicyStore.newBuilder(redis.uri())
                .keyPrefix("outage")
                .commandTimeout(Duration.ofMillis(50))
                .reconnectDelay(Duration.ofMillis(100))
                .local(new InMemoryPolicyStore(LOCAL_ENTRIES, Duration.ZERO, clock))
                .clock(clock)
                .build()) {
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
              .scheduler(scheduler)
              .refreshJitter(Duration.ZERO)
              .build();
      List<DomainName> domains = new ArrayList<>();
      for (int i = 0; i < DOMAINS; i++) {
        DomainName d = DomainName.of(domain(i));
        domains.add(d);
        assertThat(sts.lookupAsync(d).get(10, TimeUnit.SECONDS))
            .isInstanceOf(MtaStsLookup.Found.class);
      }
      RedisClient inspector = RedisClient.create(redis.uri());
      try (StatefulRedisConnection<String, String> c = inspector.connect()) {
        RedisCommands<String, String> raw = c.sync();
        List<DomainName> evicted = new ArrayList<>();
        for (DomainName d : domains) {
          assertThat(raw.exists(store.key(d))).as("%s in Redis", d).isEqualTo(1L);
          if (store.local().peek(d).isEmpty()) {
            evicted.add(d);
          }
        }
        assertThat(evicted).as("evicted from the local layer").hasSizeGreaterThan(DOMAINS / 2);
        DomainName probe = evicted.get(0);
        assertThat(store.presence(probe)).isEqualTo(PolicyStore.Presence.HELD);

        // The 64th task queued a sweep; it runs while Redis answers nothing.
        redis.freeze();
        // Reading the probe put it in the local layer; another evicted domain is held only in
        // Redis.
        assertThat(store.local().peek(evicted.get(1))).isEmpty();
        assertThat(store.presence(evicted.get(1))).isEqualTo(PolicyStore.Presence.UNKNOWN);
        scheduler.runDue();
        assertThat(scheduler.pending())
            .as("refreshes planned after a sweep with Redis frozen")
            .hasSize(DOMAINS);

        // Each refresh comes due while Redis is still frozen: none is given up.
        clock.advance(Duration.ofDays(1));
        scheduler.runDue();
        awaitPlanned(scheduler);
        assertThat(scheduler.pending())
            .as("refreshes planned after they came due with Redis frozen")
            .hasSize(DOMAINS);

        redis.resume();
        for (DomainName d : domains) {
          assertThat(raw.exists(store.key(d))).as("%s still in Redis", d).isEqualTo(1L);
        }
        assertThat(store.presence(probe)).isEqualTo(PolicyStore.Presence.HELD);
        // Once Redis answers, the retries refresh every policy.
        clock.advance(Duration.ofMinutes(5));
        scheduler.runDue();
        awaitPlanned(scheduler);
        assertThat(scheduler.pending())
            .as("refreshes planned once Redis answers again")
            .hasSize(DOMAINS)
            .allSatisfy(due -> assertThat(due).isAfter(clock.instant()));
      } finally {
        inspector.shutdown();
      }
      sts.close();
    }
  }
}
