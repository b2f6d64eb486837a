package io.mailtls.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailtls.testkit.TestDnsServer;
import io.mailtls.testkit.ValidatingResolverServer;
import io.mailtls.testkit.junit.TestkitExtension;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link DnssecResolver#newBuilder()}: a derived resolver overrides what its builder is told and
 * keeps every other setting; the original is unchanged.
 */
class DnssecResolverNewBuilderTest {

  private static final DomainName SIGNED = DomainName.of("signed.test");

  @RegisterExtension static final TestkitExtension testkit = new TestkitExtension();

  private static final TestDnsServer dns =
      testkit.start(
          TestDnsServer.builder().zone("signed.test", z -> z.txt("signed.test", "signed")));
  private static final ValidatingResolverServer validator =
      testkit.closeAfter(ValidatingResolverServer.start(dns.socketAddress(), dns.trustAnchor()));

  private static DnssecResolver validating() {
    return DnssecResolver.builder()
        .upstream(dns.socketAddress())
        .trustAnchors(TrustAnchors.parse(dns.trustAnchor()))
        .queryTimeout(Duration.ofSeconds(2))
        .lookupTimeout(Duration.ofSeconds(5))
        .build();
  }

  @Test
  void aDerivedResolverOverridesTheAnchorsAndKeepsTheUpstreamAndMode() {
    DnssecResolver original = validating();
    // the IANA root does not sign the test tree: the same answers, validated from it, are bogus
    DnssecResolver derived = original.newBuilder().trustAnchors(TrustAnchors.ianaRoot()).build();

    DnsAnswer viaDerived = derived.resolve(SIGNED, DnsRecordType.TXT);
    assertThat(viaDerived.state()).isEqualTo(DnssecState.BOGUS);
    assertThat(viaDerived.failure())
        .as("the test server answered, and validation failed")
        .contains(DnsFailure.VALIDATION_FAILED);
    assertThat(derived.mode()).isEqualTo(DnssecMode.VALIDATE);
    assertThat(derived.upstreams()).isEqualTo(original.upstreams());

    DnsAnswer viaOriginal = original.resolve(SIGNED, DnsRecordType.TXT);
    assertThat(viaOriginal.state()).isEqualTo(DnssecState.SECURE);
    assertThat(viaOriginal.records(DnsRecord.Txt.class))
        .extracting(DnsRecord.Txt::text)
        .containsExactly("signed");
  }

  /** Anchors named for in-process validation are not carried into TRUST_AD, which uses none. */
  @Test
  void aDerivedResolverMaySwitchToTrustAd() {
    DnssecResolver original = validating();
    DnssecResolver derived =
        original.newBuilder().mode(DnssecMode.TRUST_AD).upstream(validator.socketAddress()).build();
    assertThat(derived.mode()).isEqualTo(DnssecMode.TRUST_AD);
    assertThat(derived.resolve(SIGNED, DnsRecordType.TXT).state()).isEqualTo(DnssecState.SECURE);
    assertThat(original.mode()).isEqualTo(DnssecMode.VALIDATE);
    // anchors given to the derived builder itself are still a contradiction
    assertThatThrownBy(
            () ->
                original
                    .newBuilder()
                    .mode(DnssecMode.TRUST_AD)
                    .upstream(validator.socketAddress())
                    .trustAnchors(TrustAnchors.ianaRoot())
                    .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("TRUST_AD");
  }

  @Test
  void eachSettingOnceInTheDerivedBuilder() {
    DnssecResolver.Builder b = validating().newBuilder().queryTimeout(Duration.ofSeconds(1));
    assertThatThrownBy(() -> b.queryTimeout(Duration.ofSeconds(3)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("queryTimeout");
    // an overridden upstream replaces the inherited one rather than adding to it
    DnssecResolver other = b.upstream(validator.socketAddress()).build();
    assertThat(other.upstreams()).containsExactly(validator.socketAddress());
  }
}
