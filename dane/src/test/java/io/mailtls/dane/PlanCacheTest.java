package io.mailtls.dane;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DaneProvider;
import io.mailtls.core.DeliveryPlan;
import io.mailtls.core.DnssecResolver;
import io.mailtls.core.DomainName;
import io.mailtls.core.EventListener;
import io.mailtls.core.MtaStsLookup;
import io.mailtls.core.MtaStsMode;
import io.mailtls.core.MtaStsPolicy;
import io.mailtls.core.MxHost;
import io.mailtls.core.MxResolution;
import io.mailtls.core.NextHop;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.TlsRequirement;
import io.mailtls.core.TlsaLookup;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.X509ExtendedTrustManager;
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
  private DnssecResolver resolver;
  private MtaStsResolver mtaSts;
  private TransportPolicyResolver planner;
  private MtaStsResolver uncachedSts;

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
    resolver =
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
    if (uncachedSts != null) {
      uncachedSts.close();
    }
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

  /** The domain publishes a new policy, id two, that still names its MX host. */
  private void publishPolicyTwo() {
    sts.policy(DOMAIN, MtaStsServer.policyText("enforce", 86400, "*." + DOMAIN));
    dns.update(DOMAIN, z -> z.remove("_mta-sts." + DOMAIN, Type.TXT));
    dns.update(
        DOMAIN, z -> z.ttl(Duration.ofSeconds(300)).txt("_mta-sts." + DOMAIN, "v=STSv1; id=two;"));
  }

  /**
   * A planner like {@link #planner} but with {@code dane}, and an MTA-STS source that asks DNS for
   * the {@code _mta-sts} TXT record each time (its own resolver keeps no answers): it sees a new
   * policy id at once, as a source behind another resolver, or sharing its store with other
   * senders, may well do while this planner still holds plans of the old policy.
   */
  private TransportPolicyResolver racingPlanner(DaneProvider dane) {
    uncachedSts = mtaSts.newBuilder().dns(resolver.newBuilder().cacheSize(0).build()).build();
    return planner.newBuilder().mtaSts(uncachedSts).dane(dane).build();
  }

  private static String policyId(DeliveryPlan plan) {
    return plan.mtaSts().orElseThrow().id();
  }

  /**
   * RFC 8461 §5.1: once the re-check has found a new policy, mail follows it. A plan that read the
   * old policy before the re-check and ends after it (its TLSA lookup was slow) serves its own
   * caller, but is not cached: the next message is planned under the new policy.
   */
  @Test
  void aPlanOfTheOldPolicyThatEndsAfterTheReCheckIsNotCached() throws InterruptedException {
    world(Duration.ofSeconds(3600));
    HeldDane dane = new HeldDane(DaneResolver.builder().dns(resolver).clock(clock).build());
    TransportPolicyResolver racing = racingPlanner(dane);
    DeliveryPlan old = racing.plan(HOP, TlsLevel.OPPORTUNISTIC);
    assertThat(policyId(old)).isEqualTo("one");
    clock.advance(Duration.ofSeconds(301)); // past the TXT answer's TTL: the plan is made again

    CompletableFuture<Void> release = dane.holdNext();
    PolicyIds seen = new PolicyIds();
    CompletableFuture<DeliveryPlan> late = racing.planAsync(HOP, TlsLevel.OPPORTUNISTIC, seen);
    assertThat(dane.awaitHeld()).as("the plan's TLSA lookup started").isTrue();
    assertThat(seen.await()).as("the plan's MTA-STS lookup ended").isTrue();
    assertThat(seen.ids).containsExactly("one");

    // Meanwhile the domain publishes policy two, and a failing delivery's re-check finds it.
    publishPolicyTwo();
    Optional<DeliveryPlan> replanned = racing.replanIfPolicyChangedAsync(old).join();
    assertThat(replanned.map(PlanCacheTest::policyId)).contains("two");

    release.complete(null);
    assertThat(policyId(late.join())).as("the late plan, for its own caller").isEqualTo("one");
    assertThat(policyId(racing.plan(HOP, TlsLevel.OPPORTUNISTIC)))
        .as("the next message's plan, after the re-check found policy two")
        .isEqualTo("two");
  }

  /**
   * Of two plans for one next hop and level, the one that started later is kept, whichever ends
   * first: a plan that read the old policy and ends late never replaces one of the new policy.
   */
  @Test
  void aPlanStartedEarlierNeverReplacesOneStartedLater() throws InterruptedException {
    world(Duration.ofSeconds(3600));
    HeldDane dane = new HeldDane(DaneResolver.builder().dns(resolver).clock(clock).build());
    TransportPolicyResolver racing = racingPlanner(dane);
    CompletableFuture<Void> release = dane.holdNext();
    PolicyIds seen = new PolicyIds();
    CompletableFuture<DeliveryPlan> late = racing.planAsync(HOP, TlsLevel.OPPORTUNISTIC, seen);
    assertThat(dane.awaitHeld()).isTrue();
    assertThat(seen.await()).isTrue();
    assertThat(seen.ids).containsExactly("one");

    publishPolicyTwo();
    DeliveryPlan current = racing.plan(HOP, TlsLevel.OPPORTUNISTIC);
    assertThat(policyId(current)).isEqualTo("two");

    release.complete(null);
    assertThat(policyId(late.join())).isEqualTo("one");
    DeliveryPlan next = racing.plan(HOP, TlsLevel.OPPORTUNISTIC);
    assertThat(policyId(next)).as("the next message's plan").isEqualTo("two");
    assertThat(next).isSameAs(current);
  }

  /**
   * The policy is the recipient domain's, whatever the sender's level: when the re-check of a plan
   * under one level finds a new policy, the cached plans of every level are forgotten.
   */
  @Test
  void theReCheckForgetsThePlansOfEverySenderLevel() {
    world(Duration.ofSeconds(3600));
    TransportPolicyResolver racing =
        racingPlanner(DaneResolver.builder().dns(resolver).clock(clock).build());
    assertThat(policyId(racing.plan(HOP, TlsLevel.OPPORTUNISTIC))).isEqualTo("one");
    DeliveryPlan enforced = racing.plan(HOP, TlsLevel.ENFORCED);
    assertThat(policyId(enforced)).isEqualTo("one");

    publishPolicyTwo();
    assertThat(racing.replanIfPolicyChangedAsync(enforced).join().map(PlanCacheTest::policyId))
        .contains("two");
    assertThat(policyId(racing.plan(HOP, TlsLevel.OPPORTUNISTIC))).isEqualTo("two");
    assertThat(policyId(racing.plan(HOP, TlsLevel.ENFORCED))).isEqualTo("two");
  }

  /** The ids of the policies a plan's MTA-STS lookups found, and a latch on the first one's end. */
  private static final class PolicyIds implements EventListener {
    final List<String> ids = new CopyOnWriteArrayList<>();
    private final CountDownLatch ended = new CountDownLatch(1);

    @Override
    public void mtaStsLookupEnd(DomainName policyDomain, MtaStsLookup result) {
      if (result instanceof MtaStsLookup.Found f) {
        ids.add(f.policy().id());
      }
      ended.countDown();
    }

    boolean await() throws InterruptedException {
      return ended.await(10, TimeUnit.SECONDS);
    }
  }

  /**
   * The real DANE provider, except that the lookup after {@link #holdNext()} starts only when the
   * returned future completes: a plan held between its MTA-STS lookup and its end.
   */
  private static final class HeldDane implements DaneProvider {
    private final DaneProvider real;
    private final AtomicReference<CompletableFuture<Void>> next = new AtomicReference<>();
    private final CountDownLatch held = new CountDownLatch(1);

    HeldDane(DaneProvider real) {
      this.real = real;
    }

    CompletableFuture<Void> holdNext() {
      CompletableFuture<Void> gate = new CompletableFuture<>();
      next.set(gate);
      return gate;
    }

    boolean awaitHeld() throws InterruptedException {
      return held.await(10, TimeUnit.SECONDS);
    }

    @Override
    public CompletableFuture<TlsaLookup> lookupAsync(MxHost host, MxResolution mx) {
      return lookupAsync(host, mx, 25);
    }

    @Override
    public CompletableFuture<TlsaLookup> lookupAsync(MxHost host, MxResolution mx, int port) {
      CompletableFuture<Void> gate = next.getAndSet(null);
      if (gate == null) {
        return real.lookupAsync(host, mx, port);
      }
      held.countDown();
      return gate.thenCompose(v -> real.lookupAsync(host, mx, port));
    }

    @Override
    public X509ExtendedTrustManager trustManager(TlsRequirement.Dane requirement) {
      return real.trustManager(requirement);
    }
  }
}
