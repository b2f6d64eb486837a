package io.mailtls.standard;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.Authentication;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DestinationPolicyMap;
import io.mailtls.core.DnsResolver;
import io.mailtls.core.Envelope;
import io.mailtls.core.MessageContent;
import io.mailtls.core.PolicySource;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.MtaStsServer;
import io.mailtls.testkit.TestDnsServer;
import io.mailtls.testkit.TestPki;
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
 * A policy-map relay on a port of its own ({@code relay=HOST:PORT}) under REQUIRETLS (RFC 8689
 * §4.2.1), against real peers: the testkit's signed DNS, an HTTPS MTA-STS policy host and mock SMTP
 * servers with STARTTLS. When REQUIRETLS raises the relay host to PKIX for the message (its own
 * MTA-STS {@code testing} policy lists it), the message still goes to the entry's port, not to the
 * transport's port on the relay's address.
 */
class PolicyMapRelayRequireTlsTest {

  private static final TestPki PKI = TestPki.create();
  private static final byte[] MESSAGE =
      "Subject: relay port\r\n\r\nHello.\r\n".getBytes(StandardCharsets.US_ASCII);

  /** The transport's port: another server's, on another address. */
  private static MockSmtpServer elsewhere;

  /** The relay, gw.test, on a port of its own; PKIX certificate, advertises REQUIRETLS. */
  private static MockSmtpServer gateway;

  private static MtaStsServer sts;
  private static TestDnsServer dns;
  private static DnsResolver resolver;
  private static OkHttpClient http;

  @BeforeAll
  static void start() throws IOException {
    elsewhere =
        StandardFixtures.smtpHost(PKI, "127.0.79.3", 0, "mx.elsewhere.test").requireTls().start();
    gateway = StandardFixtures.smtpHost(PKI, "127.0.79.2", 0, "gw.test").requireTls().start();
    sts =
        MtaStsServer.builder()
            .pki(PKI)
            .domain("gw.test", MtaStsServer.policyText("testing", 86400, "gw.test"))
            .start();
    dns =
        TestDnsServer.builder()
            // the relay: no MX, its own address (implicit MX), an MTA-STS testing policy listing it
            .zone("gw.test", z -> sts.publish(z.a("gw.test", "127.0.79.2"), "gw.test", "g1"))
            // the destination's own MX host, which mail through the relay never reaches
            .zone("dest.test", z -> z.mailHost("dest.test", 10, "mx.dest.test", elsewhere))
            .start();
    resolver = StandardFixtures.resolver(dns);
    http = StandardFixtures.http(PKI);
  }

  @AfterAll
  static void stop() {
    http.connectionPool().evictAll();
    gateway.close();
    elsewhere.close();
    sts.close();
    dns.close();
  }

  @Test
  void requireTlsRaisingTheRelayToPkixKeepsTheEntrysPort(@TempDir Path state) throws Exception {
    DestinationPolicyMap map =
        DestinationPolicyMap.parse(
            "dest.test opportunistic relay=gw.test:" + gateway.port() + "\n");
    try (SecureSmtpTransport t =
        StandardTransport.setup(state)
            .dns(resolver)
            .policyHttpClient(http)
            .policyPort(sts.port())
            .transportBuilder()
            .heloName("client.sender.test")
            .port(elsewhere.port())
            .trustStore(PKI.trustStore())
            .timeouts(SmtpTimeouts.uniform(Duration.ofSeconds(5)))
            .destinationPolicies(map)
            .build()) {
      RecipientResult r =
          t.send(
                  Envelope.of("a@sender.test", "b@dest.test").requireTls(true),
                  MessageContent.of(MESSAGE))
              .result("b@dest.test");
      assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(r.plan().reasons()).anyMatch(l -> l.contains("gw.test raised"));
      assertThat(r.plan().hosts())
          .singleElement()
          .satisfies(h -> assertThat(h.port()).contains(gateway.port()));
      assertThat(r.attempt().orElseThrow().source()).isEqualTo(PolicySource.MTA_STS);
      assertThat(r.authentication()).contains(Authentication.VERIFIED);
      assertThat(gateway.messages())
          .singleElement()
          .satisfies(m -> assertThat(m.mailParameters()).contains("REQUIRETLS"));
      assertThat(elsewhere.sessions()).isEmpty();
    }
  }
}
