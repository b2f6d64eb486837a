package io.mailtls.mtasts;

import static io.mailtls.mtasts.StsFixture.DOMAIN;
import static io.mailtls.mtasts.StsFixture.MAX_AGE;
import static io.mailtls.mtasts.StsFixture.POLICY_DOMAIN;
import static io.mailtls.mtasts.StsFixture.TXT_NAME;
import static io.mailtls.mtasts.StsFixture.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DeliveryPlan;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.FailureType;
import io.mailtls.core.MtaStsMode;
import io.mailtls.core.NextHop;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.TransportPolicyResolver;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.Type;

/**
 * The {@code sts-required} sender level against {@link MtaStsResolver}'s cache, through core's
 * {@link TransportPolicyResolver}: real signed DNS, a fake clock. A cached policy that applies only
 * because discovery failed (RFC 8461 §3.3, §5.1) must not turn a transient failure into a bounce:
 * the domain may have published an {@code enforce} policy that could not be read.
 */
class StsRequiredCacheTest {

  private final StsFixture fx = new StsFixture();

  @BeforeEach
  void mx() {
    fx.dns.update(DOMAIN, z -> z.mx(DOMAIN, 10, "mx1.example.test"));
  }

  @AfterEach
  void close() {
    fx.close();
  }

  private DeliveryPlan plan(MtaStsResolver sts) {
    TransportPolicyResolver planner =
        TransportPolicyResolver.builder()
            .dns(fx.resolver)
            .mtaSts(sts)
            .withoutDane()
            .clock(fx.clock)
            .planCacheSize(0)
            .build();
    return planner.plan(new NextHop.Domain(POLICY_DOMAIN), TlsLevel.STS_REQUIRED);
  }

  /** A cached {@code testing} policy, then the domain's TXT lookup fails (SERVFAIL). */
  @Test
  void section3_3_stsRequiredDefersWhenTheTxtLookupFailsAndOnlyATestingPolicyIsCached() {
    fx.fetcher.serve(DOMAIN, MtaStsMode.TESTING, MAX_AGE, "mx1.example.test");
    MtaStsResolver sts = fx.sts();
    assertThat(await(sts.lookupAsync(POLICY_DOMAIN))).isNotNull();
    fx.clock.advance(Duration.ofHours(1));
    fx.dns.servfail(TXT_NAME, Type.TXT);

    DeliveryPlan plan = plan(sts);

    assertThat(plan.failure()).isPresent();
    // The TXT lookup failed: the domain may now publish enforce; "try later", not "never".
    assertThat(plan.failure().get().status()).isEqualTo(DeliveryStatus.DEFERRED);
  }

  /**
   * A cached {@code testing} policy; the domain publishes a new id (a move to {@code enforce}, say)
   * whose fetch fails. The superseded {@code testing} policy still applies (§3.3), but it cannot
   * prove that the domain does not enforce now.
   */
  @Test
  void section5_1_stsRequiredDefersWhenANewPolicyIdCannotBeFetchedAndOnlyTestingIsCached() {
    fx.fetcher.serve(DOMAIN, MtaStsMode.TESTING, MAX_AGE, "mx1.example.test");
    MtaStsResolver sts = fx.sts();
    await(sts.lookupAsync(POLICY_DOMAIN));
    fx.clock.advance(Duration.ofHours(1));
    fx.publish("v=STSv1; id=2");
    fx.fetcher.fail(DOMAIN, FailureType.STS_POLICY_FETCH_ERROR, "HTTP 503");

    DeliveryPlan plan = plan(sts);

    assertThat(plan.failure()).isPresent();
    assertThat(plan.failure().get().status()).isEqualTo(DeliveryStatus.DEFERRED);
  }

  /** Control: a cached {@code testing} policy whose id DNS confirms is a reason to bounce. */
  @Test
  void stsRequiredBouncesWhenTheConfirmedPolicyIsTesting() {
    fx.fetcher.serve(DOMAIN, MtaStsMode.TESTING, MAX_AGE, "mx1.example.test");
    MtaStsResolver sts = fx.sts();
    await(sts.lookupAsync(POLICY_DOMAIN));
    fx.clock.advance(Duration.ofHours(1));

    DeliveryPlan plan = plan(sts);

    assertThat(plan.failure()).isPresent();
    assertThat(plan.failure().get().status()).isEqualTo(DeliveryStatus.BOUNCED);
  }
}
