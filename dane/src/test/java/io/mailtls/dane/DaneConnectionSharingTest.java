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
import io.mailtls.core.MessageContent;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SenderPolicy;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.core.TlsDetails;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.TrustAnchors;
import io.mailtls.testkit.DnsZoneBuilder;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.TestDnsServer;
import io.mailtls.testkit.Tlsa;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Many recipient domains behind one MX host (an ESP's shape): connections and TLS sessions verified
 * by DANE for the MX host are shared by every domain whose requirement verifies the same way, and
 * by no other (RFC 7672 §3.2: DANE-EE checks no name; DANE-TA checks the reference identifiers,
 * which name the recipient domain when the MX answer is secure).
 */
class DaneConnectionSharingTest {

  private static final byte[] MESSAGE =
      "From: a@sender.test\r\nTo: b@example.test\r\nSubject: dane\r\n\r\nHello.\r\n"
          .getBytes(StandardCharsets.US_ASCII);

  private MockSmtpServer server;
  private TestDnsServer dns;
  private SecureSmtpTransport transport;

  @AfterEach
  void close() {
    if (transport != null) {
      transport.close();
    }
    if (dns != null) {
      dns.close();
    }
    if (server != null) {
      server.close();
    }
  }

  /**
   * a.example.test and b.example.test (secure MX) and plain.test (insecure MX: TRUSTED, RFC 7672
   * §2.2.1), all with MX host {@code mx.example.test}, whose TLSA records {@code tlsa} adds.
   */
  private void start(Consumer<DnsZoneBuilder> tlsa, Consumer<SecureSmtpTransport.Builder> extra)
      throws Exception {
    server =
        MockSmtpServer.builder()
            .address(InetAddress.getByName("127.0.0.2"))
            .hostname(MX)
            .tls(LEAF.serverSslContext())
            .start();
    dns =
        TestDnsServer.builder()
            .zone(
                "example.test",
                z -> {
                  z.mailHost("a.example.test", 10, MX, server);
                  z.mx("b.example.test", 10, MX);
                  tlsa.accept(z);
                })
            .zone("plain.test", z -> z.unsigned().mx("plain.test", 10, MX))
            .start();
    DnssecResolver resolver =
        DnssecResolver.builder()
            .upstream(dns.socketAddress())
            .trustAnchors(TrustAnchors.parse(dns.trustAnchor()))
            .queryTimeout(Duration.ofSeconds(1))
            .lookupTimeout(Duration.ofSeconds(5))
            .build();
    SecureSmtpTransport.Builder b =
        SecureSmtpTransport.builder()
            .withoutMtaSts()
            .dns(resolver)
            .dane(DaneResolver.builder().dns(resolver).build())
            .heloName("client.sender.test")
            .port(server.port())
            .senderPolicy(SenderPolicy.uniform(TlsLevel.OPPORTUNISTIC))
            .timeouts(SmtpTimeouts.uniform(Duration.ofSeconds(5)));
    extra.accept(b);
    transport = b.build();
  }

  private RecipientResult send(String domain) {
    String rcpt = "b@" + domain;
    RecipientResult r =
        transport.send(Envelope.of("a@sender.test", rcpt), MessageContent.of(MESSAGE)).result(rcpt);
    assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DELIVERED);
    return r;
  }

  private static String detail(RecipientResult r) {
    return r.attempt().map(Attempt::detail).orElse("");
  }

  @Test
  void domainsWithTheSameMxAndDaneEeRecordsShareOneConnection() throws Exception {
    start(z -> z.tlsaFor(Tlsa.smtpOwner(MX), 3, 1, 1, LEAF), b -> {});

    RecipientResult a = send("a.example.test");
    RecipientResult b = send("b.example.test");
    assertThat(a.authentication()).contains(Authentication.VERIFIED);
    assertThat(b.authentication()).contains(Authentication.VERIFIED);
    assertThat(detail(b)).contains("reused connection");
    assertThat(server.sessions()).hasSize(1);

    // An insecure MX answer: the same records, but only TRUSTED (RFC 7672 §2.2.1): not the
    // VERIFIED connection, and not its TLS session either.
    RecipientResult plain = send("plain.test");
    assertThat(plain.authentication()).contains(Authentication.TRUSTED);
    assertThat(server.sessions()).hasSize(2);
    assertThat(plain.tls().map(TlsDetails::resumed)).contains(false);
    assertThat(detail(plain)).contains("DANE: matched TLSA 3 1 1");
  }

  @Test
  void daneTaRecordsCheckTheRecipientDomainAmongTheNamesSoItsConnectionsAreNotShared()
      throws Exception {
    start(z -> z.tlsaFor(Tlsa.smtpOwner(MX), 2, 0, 1, INTER), b -> {});

    RecipientResult a = send("a.example.test");
    RecipientResult b = send("b.example.test");
    assertThat(a.authentication()).contains(Authentication.VERIFIED);
    assertThat(b.authentication()).contains(Authentication.VERIFIED);
    assertThat(detail(b)).doesNotContain("reused connection");
    assertThat(server.sessions()).hasSize(2);
    assertThat(b.tls().map(TlsDetails::resumed)).contains(false);
  }

  @Test
  void aNewConnectionForAnotherDomainResumesTheTlsSessionAndReportsTheSameAuthentication()
      throws Exception {
    start(z -> z.tlsaFor(Tlsa.smtpOwner(MX), 3, 1, 1, LEAF), b -> b.noConnectionReuse());

    RecipientResult a = send("a.example.test");
    RecipientResult b = send("b.example.test");
    RecipientResult again = send("a.example.test");
    assertThat(server.sessions()).hasSize(3);
    assertThat(a.tls().map(TlsDetails::resumed)).contains(false);
    assertThat(detail(a)).contains("DANE: matched TLSA 3 1 1");
    for (RecipientResult r : new RecipientResult[] {b, again}) {
      assertThat(r.tls().map(TlsDetails::resumed)).contains(true);
      assertThat(r.authentication()).contains(Authentication.VERIFIED);
      assertThat(detail(r)).contains("TLS session resumed");
      assertThat(r.tls().orElseThrow().peerChain())
          .isEqualTo(a.tls().orElseThrow().peerChain())
          .isNotEmpty();
    }
  }
}
