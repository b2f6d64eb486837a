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
 * Issue 11 item 5, TRUST_AD mode and the system resolvers: trusting the AD bit needs a named
 * validating resolver, and the start-up self-check tells a validating resolver from one that merely
 * sits on loopback.
 */
class TrustAdSelfCheckTest {

  private static final DomainName BOGUS = DomainName.of("mx.bogus.test");
  private static final DomainName SIGNED = DomainName.of("signed.test");

  @RegisterExtension static final TestkitExtension testkit = new TestkitExtension();

  private static final TestDnsServer dns =
      testkit.start(
          TestDnsServer.builder()
              .zone("signed.test", z -> z.txt("signed.test", "signed"))
              .zone("bogus.test", z -> z.wrongDs().a("mx.bogus.test", "127.0.0.81")));
  private static final ValidatingResolverServer validator =
      testkit.closeAfter(ValidatingResolverServer.start(dns.socketAddress(), dns.trustAnchor()));

  private static DnssecResolver trustAd(java.net.InetSocketAddress upstream) {
    return DnssecResolver.builder()
        .mode(DnssecMode.TRUST_AD)
        .upstream(upstream)
        .queryTimeout(Duration.ofSeconds(2))
        .lookupTimeout(Duration.ofSeconds(5))
        .build();
  }

  @Test
  void trustAdRefusesToDefaultToTheSystemResolvers() {
    assertThatThrownBy(() -> DnssecResolver.builder().mode(DnssecMode.TRUST_AD).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("upstream(...)")
        .hasMessageContaining("forwarding stub");
  }

  @Test
  void aValidatingResolverPassesTheSelfCheck() {
    DnssecSelfCheck.Result r =
        DnssecSelfCheck.run(trustAd(validator.socketAddress()), BOGUS, SIGNED);
    assertThat(r.problems()).isEmpty();
    assertThat(r.passed()).isTrue();
    assertThat(r.bogus().isSuccess()).isFalse();
    assertThat(r.signed().state()).isEqualTo(DnssecState.SECURE);
  }

  /**
   * A loopback server that does not validate (here the authoritative server itself, which never
   * sets AD and serves the bogus zone's data as it is) fails on both names.
   */
  @Test
  void aNonValidatingLoopbackServerFailsTheSelfCheck() {
    DnssecSelfCheck.Result r = DnssecSelfCheck.run(trustAd(dns.socketAddress()), BOGUS, SIGNED);
    assertThat(r.passed()).isFalse();
    assertThat(r.problems()).hasSize(2);
    assertThat(r.problems().get(0))
        .contains("mx.bogus.test resolved")
        .contains("does not validate");
    assertThat(r.problems().get(1)).contains("signed.test resolved INSECURE");
  }

  /** In-process validation passes the same check, so the check is about the resolver. */
  @Test
  void inProcessValidationPassesTheSelfCheckOverTheSameServer() {
    DnssecResolver validating =
        DnssecResolver.builder()
            .upstream(dns.socketAddress())
            .trustAnchors(TrustAnchors.parse(dns.trustAnchor()))
            .queryTimeout(Duration.ofSeconds(2))
            .build();
    assertThat(DnssecSelfCheck.run(validating, BOGUS, SIGNED).problems()).isEmpty();
  }
}
