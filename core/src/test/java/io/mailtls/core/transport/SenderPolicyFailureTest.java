package io.mailtls.core.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailtls.core.DeliveryPlan;
import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DnssecResolver;
import io.mailtls.core.DomainName;
import io.mailtls.core.Envelope;
import io.mailtls.core.FailureType;
import io.mailtls.core.MessageContent;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SenderPolicy;
import io.mailtls.core.SenderPolicyException;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.TrustAnchors;
import io.mailtls.testkit.MockSmtpServer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Issue 11 item 3, a failing sender-policy lookup lowers the level: the application's lookup of the
 * sender's TLS level (a configuration store) fails. The message must be deferred with a typed
 * reason, never sent at the (usually opportunistic) default; only an explicit "no entry" means the
 * default.
 */
class SenderPolicyFailureTest {

  private static Optional<TlsLevel> storeDown(DomainName d) {
    throw new IllegalStateException("configuration store unreachable");
  }

  /** A plaintext-only MX for example.test, and a transport under {@code policy}. */
  private static DeliveryReport send(Fixture f, SenderPolicy policy) {
    MockSmtpServer mx = f.server("127.0.0.2", b -> b.hostname("mx.example.test"));
    f.dns(d -> d.zone("example.test", z -> z.mailHost("example.test", 10, "mx.example.test", mx)));
    SecureSmtpTransport transport =
        SecureSmtpTransport.builder()
            .withoutMtaSts()
            .withoutDane()
            .dns(
                DnssecResolver.builder()
                    .upstream(f.dns.socketAddress())
                    .trustAnchors(TrustAnchors.parse(f.dns.trustAnchor()))
                    .queryTimeout(Duration.ofSeconds(2))
                    .build())
            .heloName("client.sender.test")
            .port(f.port())
            .senderPolicy(policy)
            .build();
    f.closeLater(transport);
    return transport.send(
        Envelope.of("a@sender.test", "b@example.test", "c@example.test"),
        MessageContent.of(Fixture.MESSAGE.getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void aFailingSenderPolicyLookupDefersInsteadOfLoweringTheLevel() throws Exception {
    try (Fixture f = new Fixture()) {
      DeliveryReport report =
          send(f, SenderPolicy.of(SenderPolicyFailureTest::storeDown, TlsLevel.OPPORTUNISTIC));
      assertThat(report.recipients())
          .hasSize(2)
          .allSatisfy(
              r -> {
                assertThat(r.status()).isEqualTo(DeliveryStatus.DEFERRED);
                assertThat(r.reply().code()).isEqualTo(451);
                assertThat(r.reply().locallyGenerated()).isTrue();
                assertThat(r.reply().text())
                    .contains("sender.test")
                    .contains("configuration store unreachable");
                assertThat(r.plan().failure())
                    .map(DeliveryPlan.Failure::type)
                    .contains(FailureType.SENDER_POLICY_UNAVAILABLE);
                assertThat(r.plan().senderLevel()).as("no level applied").isEmpty();
                assertThat(r.attempts()).isEmpty();
              });
      assertThat(f.lastServer().sessions()).as("nothing was sent opportunistically").isEmpty();
    }
  }

  @Test
  void aLookupReturningNullIsAFailureNotTheDefault() throws Exception {
    try (Fixture f = new Fixture()) {
      DeliveryReport report = send(f, SenderPolicy.of(d -> null, TlsLevel.OPPORTUNISTIC));
      assertThat(report.recipients())
          .allSatisfy(
              r -> {
                assertThat(r.status()).isEqualTo(DeliveryStatus.DEFERRED);
                assertThat(r.plan().failure())
                    .map(DeliveryPlan.Failure::type)
                    .contains(FailureType.SENDER_POLICY_UNAVAILABLE);
              });
      assertThat(f.lastServer().sessions()).isEmpty();
    }
  }

  @Test
  void anExplicitNoEntryMeansTheDefault() throws Exception {
    try (Fixture f = new Fixture()) {
      DeliveryReport report =
          send(f, SenderPolicy.of(d -> Optional.empty(), TlsLevel.OPPORTUNISTIC));
      for (RecipientResult r : report.recipients()) {
        assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DELIVERED);
        assertThat(r.plan().senderLevel()).contains(TlsLevel.OPPORTUNISTIC);
      }
    }
  }

  @Test
  void levelForThrowsATypedExceptionKeepingTheCause() {
    SenderPolicy policy =
        SenderPolicy.of(SenderPolicyFailureTest::storeDown, TlsLevel.OPPORTUNISTIC);
    assertThatThrownBy(() -> policy.levelFor(Optional.of(DomainName.of("sender.test"))))
        .isInstanceOfSatisfying(
            SenderPolicyException.class,
            e -> {
              assertThat(e.senderDomain()).isEqualTo(DomainName.of("sender.test"));
              assertThat(e.getCause()).isInstanceOf(IllegalStateException.class);
            });
    // The null reverse-path (a bounce) has no sending domain to look up: the default applies.
    assertThat(policy.levelFor(Optional.empty())).isEqualTo(TlsLevel.OPPORTUNISTIC);
  }
}
