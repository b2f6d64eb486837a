package io.mailtls.dane;

import static io.mailtls.dane.DaneTrustManagerTest.INTER;
import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.Attempt;
import io.mailtls.core.Authentication;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DestinationPolicy;
import io.mailtls.core.DestinationPolicyMap;
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
import java.util.function.BiConsumer;
import org.junit.jupiter.api.Test;

/**
 * The TLSA records of a policy-map relay with an explicit port ({@code relay=HOST:PORT}): RFC 6698
 * §3 and RFC 7672 §2.2 name them by the port connected to, {@code _PORT._tcp.HOST}, as Postfix
 * looks them up for a relayhost {@code [gw]:2525}. The transport-wide {@code port(...)} (which
 * points port-25 traffic at a test server) keeps {@code _25._tcp}.
 */
class DaneRelayPortTest {

  private static final String RELAY = "relay.example.test";
  private static final TestPki.Issued RELAY_LEAF = INTER.leaf().dnsNames(RELAY).issue();
  private static final byte[] MESSAGE =
      "From: a@sender.test\r\nTo: b@example.test\r\nSubject: dane\r\n\r\nHello.\r\n"
          .getBytes(StandardCharsets.US_ASCII);

  /**
   * One message to b@example.test under a {@code dane-only} entry whose relay is {@code
   * relay.example.test}, with an explicit port (the server's) or none (then the transport's
   * port(...) points at the server); {@code tlsa} publishes records given the server's port.
   */
  private static RecipientResult send(
      boolean explicitPort, BiConsumer<DnsZoneBuilder, Integer> tlsa) throws Exception {
    try (MockSmtpServer relay =
        MockSmtpServer.builder()
            .address(InetAddress.getByName("127.0.0.3"))
            .hostname(RELAY)
            .tls(RELAY_LEAF.serverSslContext())
            .start()) {
      int port = relay.port();
      try (TestDnsServer dns =
          TestDnsServer.builder()
              .zone(
                  "example.test",
                  z -> {
                    z.mx("example.test", 10, "mx.example.test")
                        .a("mx.example.test", "127.0.0.2")
                        .a(RELAY, "127.0.0.3");
                    tlsa.accept(z, port);
                  })
              .start()) {
        DnssecResolver resolver =
            DnssecResolver.builder()
                .upstream(dns.socketAddress())
                .trustAnchors(TrustAnchors.parse(dns.trustAnchor()))
                .queryTimeout(Duration.ofSeconds(1))
                .lookupTimeout(Duration.ofSeconds(5))
                .build();
        DestinationPolicyMap map =
            DestinationPolicyMap.builder()
                .put(
                    "example.test",
                    DestinationPolicy.of(DestinationPolicy.Level.DANE_REQUIRED)
                        .withRelay(
                            DestinationPolicy.Relay.parse(
                                explicitPort ? RELAY + ":" + port : RELAY)))
                .build();
        SecureSmtpTransport.Builder b =
            SecureSmtpTransport.builder()
                .withoutMtaSts()
                .dns(resolver)
                .dane(DaneResolver.builder().dns(resolver).build())
                .heloName("client.sender.test")
                .senderPolicy(SenderPolicy.uniform(TlsLevel.OPPORTUNISTIC))
                .timeouts(SmtpTimeouts.uniform(Duration.ofSeconds(5)))
                .destinationPolicies(map);
        if (!explicitPort) {
          b.port(port);
        }
        try (SecureSmtpTransport transport = b.build()) {
          RecipientResult r =
              transport
                  .send(Envelope.of("a@sender.test", "b@example.test"), MessageContent.of(MESSAGE))
                  .result("b@example.test");
          if (r.status() != DeliveryStatus.DELIVERED) {
            assertThat(relay.messages()).isEmpty();
          }
          return r;
        }
      }
    }
  }

  @Test
  void rfc6698Section3_anExplicitRelayPortIsVerifiedByTheRecordsAtThatPort() throws Exception {
    RecipientResult r =
        send(true, (z, port) -> z.tlsaFor(Tlsa.owner(port, RELAY), 3, 1, 1, RELAY_LEAF));
    assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DELIVERED);
    assertThat(r.authentication()).contains(Authentication.VERIFIED);
    assertThat(r.attempt().map(Attempt::detail).orElse("")).contains("DANE: matched TLSA 3 1 1");
    int port = r.attempt().orElseThrow().address().getPort();
    assertThat(r.plan().reasons()).anyMatch(l -> l.contains(Tlsa.owner(port, RELAY)));
  }

  @Test
  void rfc7672Section2_2_recordsAtPort25DoNotVerifyARelayOnAnotherPort() throws Exception {
    RecipientResult r =
        send(true, (z, port) -> z.tlsaFor(Tlsa.smtpOwner(RELAY), 3, 1, 1, RELAY_LEAF));
    assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DEFERRED);
    assertThat(r.attempts()).isEmpty();
    assertThat(r.plan().failure().orElseThrow().type()).isEqualTo(FailureType.DANE_REQUIRED);
  }

  /** A relay without a port, reached on the transport's port(...): still {@code _25._tcp}. */
  @Test
  void theTransportsPortOverrideKeepsTheRecordsAtPort25() throws Exception {
    RecipientResult r =
        send(false, (z, port) -> z.tlsaFor(Tlsa.smtpOwner(RELAY), 3, 1, 1, RELAY_LEAF));
    assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DELIVERED);
    assertThat(r.authentication()).contains(Authentication.VERIFIED);
  }
}
