package io.mailtls.dane;

import static io.mailtls.dane.DaneTrustManagerTest.INTER;
import static io.mailtls.dane.DaneTrustManagerTest.LEAF;
import static io.mailtls.dane.DaneTrustManagerTest.MX;
import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.Attempt;
import io.mailtls.core.Authentication;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DnssecResolver;
import io.mailtls.core.Envelope;
import io.mailtls.core.FailureType;
import io.mailtls.core.MessageContent;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SenderPolicy;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.TrustAnchors;
import io.mailtls.testkit.DnsZoneBuilder;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.TestDnsServer;
import io.mailtls.testkit.TestPki;
import io.mailtls.testkit.Tlsa;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.Type;

/**
 * The provider plugged into core's transport, end to end on loopback: MX and TLSA from the
 * testkit's signed DNS, STARTTLS to a mock SMTP server, delivery decided by DANE (RFC 7672 §2.2 and
 * §3).
 */
class DaneTransportTest {

  private static final byte[] MESSAGE =
      "From: a@sender.test\r\nTo: b@example.test\r\nSubject: dane\r\n\r\nHello.\r\n"
          .getBytes(StandardCharsets.US_ASCII);

  private static RecipientResult deliver(
      TlsLevel level,
      String recipientDomain,
      Consumer<DnsZoneBuilder> exampleZone,
      Consumer<TestDnsServer> faults)
      throws Exception {
    return deliver(level, recipientDomain, exampleZone, faults, io.mailtls.core.EventListener.NONE);
  }

  private static RecipientResult deliver(
      TlsLevel level,
      String recipientDomain,
      Consumer<DnsZoneBuilder> exampleZone,
      Consumer<TestDnsServer> faults,
      io.mailtls.core.EventListener listener)
      throws Exception {
    return deliver(LEAF, level, recipientDomain, exampleZone, faults, listener);
  }

  private static RecipientResult deliver(
      TestPki.Certified presented,
      TlsLevel level,
      String recipientDomain,
      Consumer<DnsZoneBuilder> exampleZone,
      Consumer<TestDnsServer> faults,
      io.mailtls.core.EventListener listener)
      throws Exception {
    try (MockSmtpServer server =
            MockSmtpServer.builder()
                .address(InetAddress.getByName("127.0.0.2"))
                .hostname(MX)
                .tls(presented.serverSslContext())
                .start();
        TestDnsServer dns =
            TestDnsServer.builder()
                .zone(
                    "example.test",
                    z -> {
                      z.mailHost("example.test", 10, MX, server);
                      exampleZone.accept(z);
                    })
                .zone("plain.test", z -> z.unsigned().mx("plain.test", 10, MX))
                .start()) {
      faults.accept(dns);
      DnssecResolver resolver =
          DnssecResolver.builder()
              .upstream(dns.socketAddress())
              .trustAnchors(TrustAnchors.parse(dns.trustAnchor()))
              .queryTimeout(Duration.ofSeconds(1))
              .lookupTimeout(Duration.ofSeconds(5))
              .build();
      try (SecureSmtpTransport transport =
          SecureSmtpTransport.builder()
              .withoutMtaSts()
              .dns(resolver)
              .dane(DaneResolver.builder().dns(resolver).build())
              .heloName("client.sender.test")
              .port(server.port())
              .senderPolicy(SenderPolicy.uniform(level))
              .timeouts(SmtpTimeouts.uniform(Duration.ofSeconds(5)))
              .eventListener(listener)
              .build()) {
        String rcpt = "b@" + recipientDomain;
        return transport
            .send(Envelope.of("a@sender.test", rcpt), MessageContent.of(MESSAGE))
            .result(rcpt);
      }
    }
  }

  @Test
  void daneRequiredDeliversToAMatchingServerAsVerified() throws Exception {
    RecipientResult r =
        deliver(
            TlsLevel.DANE_REQUIRED,
            "example.test",
            z -> z.tlsaFor(Tlsa.smtpOwner(MX), 3, 1, 1, LEAF),
            dns -> {});
    assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DELIVERED);
    assertThat(r.authentication()).contains(Authentication.VERIFIED);
    assertThat(r.attempt().map(Attempt::detail).orElse("")).contains("DANE: matched TLSA 3 1 1");
  }

  @Test
  void daneTaWithTheRightNameDelivers() throws Exception {
    RecipientResult r =
        deliver(
            TlsLevel.OPPORTUNISTIC,
            "example.test",
            z -> z.tlsaFor(Tlsa.smtpOwner(MX), 2, 0, 1, INTER),
            dns -> {});
    assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DELIVERED);
    assertThat(r.authentication()).contains(Authentication.VERIFIED);
  }

  @Test
  void anInsecureMxWithSecureTlsaIsTrustedNotVerified() throws Exception {
    RecipientResult r =
        deliver(
            TlsLevel.OPPORTUNISTIC,
            "plain.test",
            z -> z.tlsaFor(Tlsa.smtpOwner(MX), 3, 1, 1, LEAF),
            dns -> {});
    assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DELIVERED);
    assertThat(r.authentication()).contains(Authentication.TRUSTED);
  }

  @Test
  void aMismatchIsNeverDeliveredEvenOpportunistically() throws Exception {
    RecipientResult r =
        deliver(
            TlsLevel.OPPORTUNISTIC,
            "example.test",
            z -> z.tlsa(Tlsa.smtpOwner(MX), 3, 1, 1, Tlsa.wrongData(1)),
            dns -> {});
    assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DEFERRED);
    assertThat(r.attempts())
        .isNotEmpty()
        .allSatisfy(
            a -> {
              assertThat(a.failure()).contains(FailureType.CERTIFICATE_NOT_TRUSTED);
              assertThat(a.tls()).isEmpty();
            });
  }

  /** RFC 8460: a DANE failure that stopped delivery is reported to the listener for TLS-RPT. */
  @Test
  void aDaneMismatchIsReportedAsAnEnforcedPolicyFailure() throws Exception {
    java.util.List<io.mailtls.core.PolicyFailure> failures =
        new java.util.concurrent.CopyOnWriteArrayList<>();
    io.mailtls.core.EventListener recorder =
        new io.mailtls.core.EventListener() {
          @Override
          public void policyFailure(io.mailtls.core.PolicyFailure f) {
            failures.add(f);
          }
        };
    RecipientResult r =
        deliver(
            TlsLevel.OPPORTUNISTIC,
            "example.test",
            z -> z.tlsa(Tlsa.smtpOwner(MX), 3, 1, 1, Tlsa.wrongData(1)),
            dns -> {},
            recorder);
    assertThat(r.status()).isEqualTo(DeliveryStatus.DEFERRED);
    assertThat(failures)
        .singleElement()
        .satisfies(
            f -> {
              assertThat(f.source()).isEqualTo(io.mailtls.core.PolicySource.DANE);
              assertThat(f.enforced()).isTrue();
              assertThat(f.type()).isEqualTo(FailureType.CERTIFICATE_NOT_TRUSTED);
              assertThat(f.type().tlsRptResultType()).contains("certificate-not-trusted");
            });
  }

  @Test
  void aTlsaServfailIsNeverReadAsNoDane() throws Exception {
    RecipientResult r =
        deliver(
            TlsLevel.OPPORTUNISTIC,
            "example.test",
            z -> z.tlsaFor(Tlsa.smtpOwner(MX), 3, 1, 1, LEAF),
            dns -> dns.servfail(Tlsa.smtpOwner(MX), Type.TLSA));
    assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DEFERRED);
    assertThat(r.attempts()).isEmpty();
    assertThat(r.plan().skipped())
        .singleElement()
        .satisfies(s -> assertThat(s.failure()).isEqualTo(FailureType.DNSSEC_INVALID));
  }

  /**
   * A certificate is peer input: a CR and LF in its subject reach the DANE failure text, which used
   * to go as it was into a reply that rejects CR, so {@code send()} threw. Now the subject is
   * quoted: one result, deferred, and the text shows the CR and LF escaped.
   */
  @Test
  void aCertificateSubjectWithACrIsQuotedNotThrown() throws Exception {
    TestPki.Issued odd =
        INTER
            .leaf()
            .dnsNames(MX)
            .commonName("mx.example.test\r\n250 2.0.0 delivered, honest")
            .issue();
    RecipientResult r =
        deliver(
            odd,
            TlsLevel.OPPORTUNISTIC,
            "example.test",
            z -> z.tlsa(Tlsa.smtpOwner(MX), 3, 1, 1, Tlsa.wrongData(1)),
            dns -> {},
            io.mailtls.core.EventListener.NONE);
    assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DEFERRED);
    assertThat(r.attempts())
        .isNotEmpty()
        .allSatisfy(a -> assertThat(a.failure()).contains(FailureType.CERTIFICATE_NOT_TRUSTED));
    String shown = r.reply().text() + r.attempts().get(0).detail();
    assertThat(shown).contains("mx.example.test\\r\\n250 2.0.0 delivered").doesNotContain("\r");
    assertThat(r.reply().lines()).noneMatch(l -> l.startsWith("250"));
  }
}
