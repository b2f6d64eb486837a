package io.mailtls.core.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.Authentication;
import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.FailureType;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.core.TlsLevel;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.SmtpAction;
import io.mailtls.testkit.SmtpSession;
import io.mailtls.testkit.SmtpStep;
import io.mailtls.testkit.TestPki;
import java.time.Duration;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * The downgrade matrix of docs/design.md §1 for the two sender levels that need no recipient
 * policy, one test per cell: opportunistic delivers (plaintext or unauthenticated TLS as
 * applicable); enforced delivers only when TLS 1.2+ was negotiated, else defers and never sends
 * MAIL.
 */
class DowngradeMatrixTest {

  private static final String HOST = "mx.example.test";

  private static RecipientResult deliver(
      TlsLevel level, UnaryOperator<MockSmtpServer.Builder> server, Fixture f) {
    MockSmtpServer mx = f.server("127.0.0.2", b -> server.apply(b.hostname(HOST)));
    f.dns(d -> d.zone("example.test", z -> z.mailHost("example.test", 10, HOST, mx)));
    DeliveryReport report = f.send(level, "rcpt@example.test");
    return report.result("rcpt@example.test");
  }

  // --- STARTTLS absent -------------------------------------------------------------------

  @Test
  void starttlsAbsentOpportunisticDeliversInPlaintext() throws Exception {
    try (Fixture f = new Fixture()) {
      RecipientResult r = deliver(TlsLevel.OPPORTUNISTIC, b -> b, f);
      assertThat(r.status()).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(r.authentication()).contains(Authentication.PLAINTEXT);
      assertThat(r.tls()).isEmpty();
    }
  }

  @Test
  void starttlsAbsentEnforcedDefersWithoutMail() throws Exception {
    try (Fixture f = new Fixture()) {
      RecipientResult r = deliver(TlsLevel.ENFORCED, b -> b, f);
      assertNotDelivered(r, FailureType.STARTTLS_NOT_SUPPORTED);
    }
  }

  // --- STARTTLS stripped by an attacker ----------------------------------------------------

  @Test
  void starttlsStrippedOpportunisticDeliversInPlaintext() throws Exception {
    try (Fixture f = new Fixture()) {
      RecipientResult r =
          deliver(TlsLevel.OPPORTUNISTIC, b -> b.tls(Fixture.certFor(HOST)).stripStarttls(), f);
      assertThat(r.status()).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(r.authentication()).contains(Authentication.PLAINTEXT);
    }
  }

  @Test
  void starttlsStrippedEnforcedDefers() throws Exception {
    try (Fixture f = new Fixture()) {
      RecipientResult r =
          deliver(TlsLevel.ENFORCED, b -> b.tls(Fixture.certFor(HOST)).stripStarttls(), f);
      assertNotDelivered(r, FailureType.STARTTLS_NOT_SUPPORTED);
    }
  }

  // --- STARTTLS refused with 454 ---------------------------------------------------------------

  @Test
  void starttlsRefusedOpportunisticDeliversInPlaintext() throws Exception {
    try (Fixture f = new Fixture()) {
      RecipientResult r =
          deliver(
              TlsLevel.OPPORTUNISTIC,
              b ->
                  b.tls(Fixture.certFor(HOST))
                      .on(SmtpStep.STARTTLS, SmtpAction.reply(454, "4.7.0", "TLS not available")),
              f);
      assertThat(r.status()).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(r.authentication()).contains(Authentication.PLAINTEXT);
      assertThat(r.attempt().orElseThrow().detail()).contains("STARTTLS refused");
    }
  }

  @Test
  void starttlsRefusedEnforcedDefers() throws Exception {
    try (Fixture f = new Fixture()) {
      RecipientResult r =
          deliver(
              TlsLevel.ENFORCED,
              b ->
                  b.tls(Fixture.certFor(HOST))
                      .on(SmtpStep.STARTTLS, SmtpAction.reply(454, "4.7.0", "TLS not available")),
              f);
      assertNotDelivered(r, FailureType.STARTTLS_NOT_SUPPORTED);
      assertThat(r.attempt().orElseThrow().reply().orElseThrow().code()).isEqualTo(454);
    }
  }

  // --- plaintext injected after the STARTTLS 220 (RFC 3207 §4.2) -------------------------------

  private static MockSmtpServer.Builder injecting(MockSmtpServer.Builder b) {
    return b.tls(Fixture.certFor(HOST))
        .on(
            SmtpStep.STARTTLS,
            SmtpAction.proceed().followedBy("250-PIPELINING\r\n250 INJECTED\r\n"));
  }

  @Test
  void injectedPlaintextIsNeverParsedOpportunistic() throws Exception {
    assertInjectionIgnored(TlsLevel.OPPORTUNISTIC);
  }

  @Test
  void injectedPlaintextIsNeverParsedEnforced() throws Exception {
    assertInjectionIgnored(TlsLevel.ENFORCED);
  }

  private static void assertInjectionIgnored(TlsLevel level) throws Exception {
    try (Fixture f = new Fixture()) {
      RecipientResult r = deliver(level, DowngradeMatrixTest::injecting, f);
      assertThat(r.status()).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(r.authentication()).contains(Authentication.ENCRYPTED);
      assertThat(r.attempt().orElseThrow().detail()).contains("discarded");
      // Capabilities re-learned: an EHLO went over TLS before MAIL.
      SmtpSession s = sessions(f).get(0);
      assertThat(s.commands())
          .filteredOn(c -> c.tls())
          .extracting(c -> c.verb())
          .startsWith("EHLO")
          .contains("MAIL", "RCPT");
    }
  }

  // --- TLS 1.0-only server ---------------------------------------------------------------------

  @Test
  void tls10OnlyOpportunisticDeliversInPlaintextOnAFreshConnection() throws Exception {
    try (Fixture f = new Fixture()) {
      RecipientResult r =
          deliver(
              TlsLevel.OPPORTUNISTIC, b -> b.tls(Fixture.certFor(HOST)).tlsProtocols("TLSv1"), f);
      assertThat(r.status()).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(r.authentication()).contains(Authentication.PLAINTEXT);
      assertThat(r.attempt().orElseThrow().detail()).contains("retrying in plaintext");
      assertThat(sessions(f)).hasSize(2);
      assertThat(sessions(f).get(1).commandLines()).noneMatch(l -> l.startsWith("STARTTLS"));
    }
  }

  @Test
  void tls10OnlyEnforcedDefers() throws Exception {
    try (Fixture f = new Fixture()) {
      RecipientResult r =
          deliver(TlsLevel.ENFORCED, b -> b.tls(Fixture.certFor(HOST)).tlsProtocols("TLSv1"), f);
      assertNotDelivered(r, FailureType.TLS_HANDSHAKE_FAILED);
    }
  }

  // --- handshake abort --------------------------------------------------------------------------

  @Test
  void handshakeAbortOpportunisticDeliversInPlaintextOnAFreshConnection() throws Exception {
    try (Fixture f = new Fixture()) {
      RecipientResult r =
          deliver(
              TlsLevel.OPPORTUNISTIC,
              b ->
                  b.tls(Fixture.certFor(HOST))
                      .on(SmtpStep.TLS_HANDSHAKE, SmtpAction.disconnect(), SmtpAction.proceed()),
              f);
      assertThat(r.status()).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(r.authentication()).contains(Authentication.PLAINTEXT);
      assertThat(sessions(f)).hasSize(2);
    }
  }

  @Test
  void handshakeAbortEnforcedDefers() throws Exception {
    try (Fixture f = new Fixture()) {
      RecipientResult r =
          deliver(
              TlsLevel.ENFORCED,
              b -> b.tls(Fixture.certFor(HOST)).on(SmtpStep.TLS_HANDSHAKE, SmtpAction.disconnect()),
              f);
      assertThat(r.status()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(r.attempt().orElseThrow().failure()).isPresent();
      assertThat(sessions(f))
          .allSatisfy(s -> assertThat(s.commandLines()).noneMatch(l -> l.startsWith("MAIL")));
    }
  }

  // --- the EHLO over TLS fails after a completed handshake -------------------------------------
  // A broken TLS stack often shows only after the handshake, as Postfix's "may" level assumes when
  // it retries in plaintext on a failure up to the EHLO that follows STARTTLS. The first EHLO is
  // in plaintext, the second over TLS, the third on the fresh plaintext connection.

  @Test
  void ehloOverTlsSilentOpportunisticDeliversInPlaintextOnAFreshConnection() throws Exception {
    try (Fixture f = new Fixture()) {
      f.timeouts = SmtpTimeouts.uniform(Duration.ofSeconds(1));
      RecipientResult r = deliver(TlsLevel.OPPORTUNISTIC, ehloOverTls(SmtpAction.hang()), f);
      assertThat(r.status()).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(r.authentication()).contains(Authentication.PLAINTEXT);
      assertThat(r.attempt().orElseThrow().detail()).contains("retrying in plaintext");
      assertThat(sessions(f)).hasSize(2);
      assertThat(sessions(f).get(0).commandLines()).noneMatch(l -> l.startsWith("MAIL"));
      assertThat(sessions(f).get(1).commandLines())
          .noneMatch(l -> l.startsWith("STARTTLS"))
          .anyMatch(l -> l.startsWith("MAIL"));
    }
  }

  @Test
  void ehloOverTlsDroppedOpportunisticDeliversInPlaintextOnAFreshConnection() throws Exception {
    try (Fixture f = new Fixture()) {
      RecipientResult r = deliver(TlsLevel.OPPORTUNISTIC, ehloOverTls(SmtpAction.disconnect()), f);
      assertThat(r.status()).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(r.authentication()).contains(Authentication.PLAINTEXT);
      assertThat(sessions(f)).hasSize(2);
      assertThat(sessions(f).get(1).commandLines()).noneMatch(l -> l.startsWith("STARTTLS"));
    }
  }

  @Test
  void ehloOverTlsSilentEnforcedDefersWithoutMail() throws Exception {
    try (Fixture f = new Fixture()) {
      f.timeouts = SmtpTimeouts.uniform(Duration.ofSeconds(1));
      RecipientResult r = deliver(TlsLevel.ENFORCED, ehloOverTls(SmtpAction.hang()), f);
      assertThat(r.status()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(r.reply().isTransientFailure()).isTrue();
      assertThat(sessions(f))
          .allSatisfy(s -> assertThat(s.commandLines()).noneMatch(l -> l.startsWith("MAIL")));
    }
  }

  private static UnaryOperator<MockSmtpServer.Builder> ehloOverTls(SmtpAction action) {
    return b ->
        b.tls(Fixture.certFor(HOST))
            .on(SmtpStep.EHLO, SmtpAction.proceed(), action, SmtpAction.proceed());
  }

  // --- certificates that would fail verification: unauthenticated TLS at both levels -----------

  @Test
  void expiredCertificateIsEncryptedNotVerified() throws Exception {
    TestPki.Issued expired = Fixture.PKI.root().leaf().dnsNames(HOST).expired().issue();
    assertEncryptedAtBothLevels(b -> b.tls(expired.serverSslContext()));
  }

  @Test
  void wrongNameCertificateIsEncryptedNotVerified() throws Exception {
    assertEncryptedAtBothLevels(b -> b.tls(Fixture.certFor("other.example.net")));
  }

  @Test
  void selfSignedCertificateIsEncryptedNotVerified() throws Exception {
    assertEncryptedAtBothLevels(b -> b.tls(TestPki.selfSigned(HOST).serverSslContext()));
  }

  private static void assertEncryptedAtBothLevels(UnaryOperator<MockSmtpServer.Builder> server)
      throws Exception {
    for (TlsLevel level : new TlsLevel[] {TlsLevel.OPPORTUNISTIC, TlsLevel.ENFORCED}) {
      try (Fixture f = new Fixture()) {
        RecipientResult r = deliver(level, server, f);
        assertThat(r.status()).as(level.token()).isEqualTo(DeliveryStatus.DELIVERED);
        assertThat(r.authentication()).as(level.token()).contains(Authentication.ENCRYPTED);
        assertThat(r.tls().orElseThrow().protocol()).isIn("TLSv1.3", "TLSv1.2");
        assertThat(r.tls().orElseThrow().peerChain()).isNotEmpty();
        assertThat(r.tls().orElseThrow().serverName()).contains(HOST);
        assertThat(sessions(f).get(0).sniHostName()).contains(HOST);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------

  private static java.util.List<SmtpSession> sessions(Fixture f) {
    return f.lastServer().sessions();
  }

  private static void assertNotDelivered(RecipientResult r, FailureType failure) {
    assertThat(r.status()).isEqualTo(DeliveryStatus.DEFERRED);
    assertThat(r.attempt().orElseThrow().failure()).contains(failure);
    assertThat(r.reply().isTransientFailure()).isTrue();
  }
}
