package io.mailtls.dane;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DeliveryPlan;
import io.mailtls.core.DnssecResolver;
import io.mailtls.core.MtaStsMode;
import io.mailtls.core.MtaStsPolicy;
import io.mailtls.core.NextHop;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.TlsRequirement;
import io.mailtls.core.TransportPolicyResolver;
import io.mailtls.core.TrustAnchors;
import io.mailtls.mtasts.MtaStsResolver;
import io.mailtls.mtasts.OkHttpPolicyFetcher;
import io.mailtls.testkit.FakeClock;
import io.mailtls.testkit.MtaStsServer;
import io.mailtls.testkit.TestDnsServer;
import io.mailtls.testkit.TestPki;
import io.mailtls.testkit.Tlsa;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.Type;

/**
 * {@link TransportPolicyResolver}'s plan cache with the real providers (DNSSEC validation in
 * process, {@link MtaStsResolver} over HTTPS, {@link DaneResolver}), time told by one {@link
 * FakeClock}: a plan is reused until the earliest expiry among its inputs, and then made again; a
 * changed MTA-STS policy is seen as soon as its TXT record's TTL allows; a failed plan is not
 * reused; and RFC 8461 §5.1's re-check replaces the cached plan.
 *
 * <p>TTLs: MX and addresses 3,600 s, the {@code _mta-sts} TXT record 300 s, TLSA 120 s (or 3,600 s
 * where the TXT record is to be the earliest), the policy's max_age a day.
 */
@SuppressWarnings("CanonicalDuration") // TTLs in seconds, as DNS zones give them
class PlanCacheTest {

  private static final String DOMAIN = "cache.test";
  private static final NextHop HOP = NextHop.parse(DOMAIN);
  private static final String TLSA_OWNER = "_25._tcp.mx.cache.test";

  private final FakeClock clock = new FakeClock();
  private TestPki pki;
  private MtaStsServer sts;
  private TestDnsServer dns;
  private MtaStsResolver mtaSts;
  private TransportPolicyResolver planner;

  @BeforeEach
  void start() {
    pki = TestPki.create();
    sts =
        MtaStsServer.builder()
            .pki(pki)
            .domain(DOMAIN, MtaStsServer.policyText("enforce", 86400, "mx." + DOMAIN))
            .start();
  }

  /** DNS with the TLSA record's TTL as given, and the planner over it. */
  private void world(Duration tlsaTtl) {
    dns =
        TestDnsServer.builder()
            .clock(clock)
            .zone(
                DOMAIN,
                z -> {
                  z.ttl(Duration.ofSeconds(3600))
                      .mx(DOMAIN, 10, "mx." + DOMAIN)
                      .a("mx." + DOMAIN, "127.0.0.2");
                  sts.publishHost(z, DOMAIN);
                  z.ttl(Duration.ofSeconds(300)).txt("_mta-sts." + DOMAIN, "v=STSv1; id=one;");
                  z.ttl(tlsaTtl).tlsa(TLSA_OWNER, 3, 1, 1, Tlsa.wrongData(1));
                })
            .zone(
                "broken.test",
                z -> z.mx("broken.test", 10, "mx.broken.test").a("mx.broken.test", "127.0.0.3"))
            .start();
    DnssecResolver resolver =
        DnssecResolver.builder()
            .upstream(dns.socketAddress())
            .trustAnchors(TrustAnchors.parse(dns.trustAnchor()))
            .clock(clock)
            .queryTimeout(Duration.ofSeconds(2))
            .retries(0)
            .build();
    OkHttpClient http =
        new OkHttpClient.Builder()
            .sslSocketFactory(pki.clientSslContext().getSocketFactory(), pki.trustManager())
            .build();
    mtaSts =
        MtaStsResolver.builder()
            .dns(resolver)
            .clock(clock)
            .fetcher(
                OkHttpPolicyFetcher.builder()
                    .client(http)
                    .dns(resolver)
                    .port(sts.port())
                    .connectTimeout(Duration.ofSeconds(2))
                    .callTimeout(Duration.ofSeconds(10))
                    .build())
            .build();
    planner =
        TransportPolicyResolver.builder()
            .dns(resolver)
            .mtaSts(mtaSts)
            .dane(DaneResolver.builder().dns(resolver).clock(clock).build())
            .clock(clock)
            .build();
  }

  @AfterEach
  void stop() {
    if (mtaSts != null) {
      mtaSts.close();
    }
    if (dns != null) {
      dns.close();
    }
    sts.close();
  }

  private DeliveryPlan plan() {
    return planner.plan(HOP, TlsLevel.OPPORTUNISTIC);
  }

  private static Optional<MtaStsMode> mode(DeliveryPlan plan) {
    return plan.mtaSts().map(MtaStsPolicy::mode);
  }

  @Test
  void aPlanIsReusedUntilTheEarliestInputTtlAndThenMadeAgain() {
    world(Duration.ofSeconds(120));
    DeliveryPlan first = plan();
    assertThat(first.failure()).isEmpty();
    assertThat(first.hosts().get(0).requirement()).isInstanceOf(TlsRequirement.Dane.class);
    assertThat(mode(first)).contains(MtaStsMode.ENFORCE);
    long queries = dns.totalQueryCount();
    int fetches = sts.requestCount(DOMAIN);

    clock.advance(Duration.ofSeconds(119));
    assertThat(plan()).isSameAs(first);
    assertThat(planner.plan(HOP, TlsLevel.OPPORTUNISTIC)).isSameAs(first);
    assertThat(dns.totalQueryCount()).isEqualTo(queries); // not even the DNS cache was asked
    assertThat(sts.requestCount(DOMAIN)).isEqualTo(fetches);

    // The TLSA answer (120 s) is the first input to expire: a new plan, asking DNS for TLSA
    // again and for nothing else (the other answers are still cached), and no policy fetch.
    clock.advance(Duration.ofSeconds(2));
    DeliveryPlan second = plan();
    assertThat(second).isNotSameAs(first);
    assertThat(second.hosts()).isEqualTo(first.hosts());
    assertThat(dns.queryCount(TLSA_OWNER + ".", Type.TLSA)).isEqualTo(2);
    assertThat(dns.queryCount(DOMAIN + ".", Type.MX)).isEqualTo(1);
    assertThat(sts.requestCount(DOMAIN)).isEqualTo(fetches);
  }

  @Test
  void eachSenderLevelHasItsOwnPlan() {
    world(Duration.ofSeconds(120));
    DeliveryPlan opportunistic = plan();
    DeliveryPlan enforced = planner.plan(HOP, TlsLevel.ENFORCED);
    assertThat(enforced).isNotSameAs(opportunistic);
    assertThat(enforced.senderLevel()).contains(TlsLevel.ENFORCED);
    assertThat(planner.plan(HOP, TlsLevel.ENFORCED)).isSameAs(enforced);
    assertThat(plan()).isSameAs(opportunistic);
  }

  @Test
  void aChangedPolicyIsSeenOnceItsTxtRecordExpires() {
    world(Duration.ofSeconds(3600));
    DeliveryPlan first = plan();
    assertThat(mode(first)).contains(MtaStsMode.ENFORCE);

    // The domain publishes a new policy (id two, testing). The TXT answer (300 s) bounds the plan.
    sts.policy(DOMAIN, MtaStsServer.policyText("testing", 86400, "mx." + DOMAIN));
    dns.update(DOMAIN, z -> z.remove("_mta-sts." + DOMAIN, Type.TXT));
    dns.update(
        DOMAIN, z -> z.ttl(Duration.ofSeconds(300)).txt("_mta-sts." + DOMAIN, "v=STSv1; id=two;"));
    clock.advance(Duration.ofSeconds(299));
    assertThat(plan()).isSameAs(first);

    clock.advance(Duration.ofSeconds(2));
    DeliveryPlan changed = plan();
    assertThat(mode(changed)).contains(MtaStsMode.TESTING);
    assertThat(changed.mtaSts().orElseThrow().id()).isEqualTo("two");
  }

  @Test
  void theReCheckReplacesTheCachedPlanWhenThePolicyChanged() {
    world(Duration.ofSeconds(3600));
    DeliveryPlan first = plan();
    sts.policy(DOMAIN, MtaStsServer.policyText("enforce", 86400, "mx.elsewhere.test"));
    dns.update(DOMAIN, z -> z.remove("_mta-sts." + DOMAIN, Type.TXT));
    dns.update(
        DOMAIN, z -> z.ttl(Duration.ofSeconds(300)).txt("_mta-sts." + DOMAIN, "v=STSv1; id=two;"));
    // The TXT record may be cached for 300 s: no change can be seen before (RFC 2308, RFC 8461
    // §5.1 asks for the record as DNS gives it).
    assertThat(planner.replanIfPolicyChangedAsync(first).join()).isEmpty();
    clock.advance(Duration.ofSeconds(301));
    Optional<DeliveryPlan> replanned = planner.replanIfPolicyChangedAsync(first).join();
    assertThat(replanned).isPresent();
    assertThat(replanned.get().mtaSts().orElseThrow().id()).isEqualTo("two");
    // The cached plan of the old policy is gone: the next message follows the new policy at once,
    // in a plan made from the answers as they are then.
    DeliveryPlan next = plan();
    assertThat(next.mtaSts().orElseThrow().id()).isEqualTo("two");
    assertThat(next).isNotSameAs(first);
  }

  /**
   * The re-check's plan is made from the old plan's MX answers, whose TTLs ran from when the old
   * plan looked them up: it serves the retry, and is never cached as though they had just been
   * looked up. Once the MX answer's TTL (counted from the first plan) has run out, the next plan
   * sees the MX host the domain moved to.
   */
  @Test
  void theReCheckPlanDoesNotKeepTheOldMxAnswersBeyondTheirTtl() {
    world(Duration.ofSeconds(3600));
    DeliveryPlan first = plan();
    clock.advance(Duration.ofSeconds(3500));
    sts.policy(DOMAIN, MtaStsServer.policyText("enforce", 86400, "*." + DOMAIN));
    dns.update(DOMAIN, z -> z.remove("_mta-sts." + DOMAIN, Type.TXT));
    dns.update(
        DOMAIN, z -> z.ttl(Duration.ofSeconds(300)).txt("_mta-sts." + DOMAIN, "v=STSv1; id=two;"));
    Optional<DeliveryPlan> replanned = planner.replanIfPolicyChangedAsync(first).join();
    assertThat(replanned).isPresent();
    assertThat(hostNames(replanned.get())).containsExactly("mx." + DOMAIN);
    // The domain moves its mail to another host; the first plan's MX answer expires at 3,600 s.
    dns.update(
        DOMAIN,
        z ->
            z.remove(DOMAIN, Type.MX)
                .ttl(Duration.ofSeconds(3600))
                .mx(DOMAIN, 10, "mx2." + DOMAIN)
                .a("mx2." + DOMAIN, "127.0.0.4"));
    clock.advance(Duration.ofSeconds(200));
    assertThat(hostNames(plan())).containsExactly("mx2." + DOMAIN);
  }

  private static List<String> hostNames(DeliveryPlan plan) {
    return plan.hosts().stream().map(h -> h.name().orElseThrow().toString()).toList();
  }

  @Test
  void aFailedPlanIsNotReused() {
    world(Duration.ofSeconds(120));
    dns.servfail("mx.broken.test", Type.A);
    dns.servfail("mx.broken.test", Type.AAAA);
    NextHop broken = NextHop.parse("broken.test");
    DeliveryPlan first = planner.plan(broken, TlsLevel.OPPORTUNISTIC);
    assertThat(first.failure()).isPresent();
    clock.advance(Duration.ofSeconds(2)); // past the DNS failure cache (1 s)
    dns.clearFaults();
    DeliveryPlan second = planner.plan(broken, TlsLevel.OPPORTUNISTIC);
    assertThat(second.failure()).isEmpty();
    assertThat(second.hosts()).hasSize(1);
  }

  @Test
  void withoutAPlanCacheEveryPlanIsMadeAgain() {
    world(Duration.ofSeconds(120));
    TransportPolicyResolver uncached = planner.newBuilder().planCacheSize(0).build();
    DeliveryPlan first = uncached.plan(HOP, TlsLevel.OPPORTUNISTIC);
    DeliveryPlan second = uncached.plan(HOP, TlsLevel.OPPORTUNISTIC);
    assertThat(second).isNotSameAs(first);
    assertThat(second.hosts()).isEqualTo(first.hosts());
  }
}
