package io.mailtls.standard;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.Authentication;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DnsResolver;
import io.mailtls.core.Envelope;
import io.mailtls.core.MessageContent;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SmartHost;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.core.TlsLevel;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.MtaStsServer;
import io.mailtls.testkit.TestDnsServer;
import io.mailtls.testkit.TestPki;
import io.mailtls.testkit.Tlsa;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A transport-wide relay ({@code SecureSmtpTransport.Builder.relay}) takes every message, so a
 * recipient's MTA-STS {@code enforce} policy (RFC 8461 §5) and DANE TLSA records (RFC 7672 §2) are
 * not applied by mailtls: that is the operator's choice, and docs/design.md §1 promises that the
 * decision record says so, as it does for a policy-map entry's {@code relay=} and for the {@code
 * withoutMtaSts()} / {@code withoutDane()} opt-outs. Against real peers: the testkit's signed DNS,
 * an HTTPS policy host and mock SMTP servers with STARTTLS.
 */
class RelayRecordTest {

  private static final TestPki PKI = TestPki.create();
  private static final byte[] MESSAGE =
      "Subject: relay\r\n\r\nHello.\r\n".getBytes(StandardCharsets.US_ASCII);

  /** The recipient domain's own MX host, published with MTA-STS enforce and DANE-EE. */
  private static MockSmtpServer recipientMx;

  /** The relay (submission with STARTTLS), with a certificate for its name. */
  private static MockSmtpServer relay;

  private static MtaStsServer sts;
  private static TestDnsServer dns;
  private static DnsResolver resolver;
  private static OkHttpClient http;

  @BeforeAll
  static void start() throws IOException {
    TestPki.Issued mxLeaf = PKI.root().leaf().dnsNames("mx.bank.test").issue();
    recipientMx =
        StandardFixtures.smtpHost("127.0.81.3", 0, "mx.bank.test", mxLeaf.serverSslContext())
            .start();
    relay = StandardFixtures.smtpHost(PKI, "127.0.81.2", 0, "gw.relay.test").start();
    sts =
        MtaStsServer.builder()
            .pki(PKI)
            .domain("bank.test", MtaStsServer.policyText("enforce", 86400, "mx.bank.test"))
            .start();
    dns =
        TestDnsServer.builder()
            .zone("relay.test", z -> z.a("gw.relay.test", "127.0.81.2"))
            .zone(
                "bank.test",
                z ->
                    sts.publish(
                        z.mailHost("bank.test", 10, "mx.bank.test", recipientMx)
                            .tlsaFor(Tlsa.smtpOwner("mx.bank.test"), 3, 1, 1, mxLeaf),
                        "bank.test",
                        "b1"))
            .start();
    resolver = StandardFixtures.resolver(dns);
    http = StandardFixtures.http(PKI);
  }

  @AfterAll
  static void stop() {
    http.connectionPool().evictAll();
    recipientMx.close();
    relay.close();
    sts.close();
    dns.close();
  }

  @Test
  void theDecisionRecordSaysTheRecipientsPoliciesAreNotConsultedThroughARelay(@TempDir Path state) {
    try (SecureSmtpTransport t =
        StandardTransport.setup(state)
            .dns(resolver)
            .policyHttpClient(http)
            .policyPort(sts.port())
            .transportBuilder()
            .heloName("client.sender.test")
            .port(recipientMx.port())
            .trustStore(PKI.trustStore())
            .timeouts(SmtpTimeouts.uniform(Duration.ofSeconds(5)))
            .senderPolicy(io.mailtls.core.SenderPolicy.uniform(TlsLevel.OPPORTUNISTIC))
            .relay(SmartHost.builder("gw.relay.test").port(relay.port()).build())
            .build()) {
      RecipientResult r =
          t.send(Envelope.of("a@sender.test", "b@bank.test"), MessageContent.of(MESSAGE))
              .result("b@bank.test");
      assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(r.authentication()).contains(Authentication.VERIFIED);
      assertThat(relay.messages()).hasSize(1);
      // mailtls never looked at bank.test's policies nor reached its MX host ...
      assertThat(sts.requestCount("bank.test")).isZero();
      assertThat(recipientMx.sessions()).isEmpty();
      // ... and the record says so, as it does for a policy-map relay and for an opt-out.
      assertThat(r.plan().reasons())
          .as("decision record %s", r.plan().reasons())
          .anyMatch(
              l -> l.contains("MTA-STS and DANE are not consulted") && l.contains("gw.relay.test"));
    }
  }
}
