package io.mailtls.micrometer;

import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DnssecResolver;
import io.mailtls.core.Envelope;
import io.mailtls.core.EventListener;
import io.mailtls.core.MessageContent;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SenderPolicy;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.TrustAnchors;
import io.mailtls.dane.DaneResolver;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.SmtpAction;
import io.mailtls.testkit.SmtpStep;
import io.mailtls.testkit.TestDnsServer;
import io.mailtls.testkit.TestPki;
import io.mailtls.testkit.Tlsa;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * The real peers of the scripted deliveries: four mock SMTP servers with STARTTLS on 127.0.0.2-5
 * (one port), published as MX hosts by the testkit's signed DNS, and a transport with the DANE
 * provider, sending at the opportunistic level (RFC 7672 §2.2, RFC 7435):
 *
 * <ul>
 *   <li>{@code b@dane.example.test}: TLSA {@code 3 1 1} of the leaf: delivered, VERIFIED by DANE;
 *   <li>{@code b@opp.example.test}: no TLSA (secure NODATA), a certificate no trust store knows:
 *       delivered, ENCRYPTED, under no recipient policy;
 *   <li>{@code b@bounce.example.test}: as {@code opp}, the server answers RCPT with 550 5.1.1:
 *       bounced;
 *   <li>{@code b@mismatch.example.test}: TLSA records that match nothing: the handshake fails DANE
 *       authentication, an enforced policy failure, and the recipient is deferred.
 * </ul>
 */
final class ScriptedDeliveries implements AutoCloseable {

  static final List<String> RECIPIENTS =
      List.of(
          "b@dane.example.test",
          "b@opp.example.test",
          "b@bounce.example.test",
          "b@mismatch.example.test");

  private static final byte[] MESSAGE =
      "From: a@sender.test\r\nTo: b@example.test\r\nSubject: metrics\r\n\r\nHello.\r\n"
          .getBytes(StandardCharsets.US_ASCII);

  private final TestPki pki = TestPki.create();
  private final List<MockSmtpServer> servers = new ArrayList<>();
  private final TestDnsServer dns;
  private int port;

  ScriptedDeliveries() throws IOException {
    TestPki.Issued dane = leaf("mx.dane.example.test");
    MockSmtpServer daneMx = server("127.0.0.2", "mx.dane.example.test", dane, b -> b);
    MockSmtpServer oppMx =
        server("127.0.0.3", "mx.opp.example.test", leaf("mx.opp.example.test"), b -> b);
    MockSmtpServer bounceMx =
        server(
            "127.0.0.4",
            "mx.bounce.example.test",
            leaf("mx.bounce.example.test"),
            b -> b.on(SmtpStep.RCPT, SmtpAction.reply(550, "5.1.1", "no such user here")));
    MockSmtpServer mismatchMx =
        server("127.0.0.5", "mx.mismatch.example.test", leaf("mx.mismatch.example.test"), b -> b);
    dns =
        TestDnsServer.builder()
            .zone(
                "example.test",
                z ->
                    z.mailHost("dane.example.test", 10, "mx.dane.example.test", daneMx)
                        .tlsaFor(Tlsa.smtpOwner("mx.dane.example.test"), 3, 1, 1, dane)
                        .mailHost("opp.example.test", 10, "mx.opp.example.test", oppMx)
                        .mailHost("bounce.example.test", 10, "mx.bounce.example.test", bounceMx)
                        .mailHost(
                            "mismatch.example.test", 10, "mx.mismatch.example.test", mismatchMx)
                        .tlsa(
                            Tlsa.smtpOwner("mx.mismatch.example.test"), 3, 1, 1, Tlsa.wrongData(1)))
            .start();
  }

  private TestPki.Issued leaf(String name) {
    return pki.root().leaf().dnsNames(name).issue();
  }

  private MockSmtpServer server(
      String ip, String name, TestPki.Issued cert, UnaryOperator<MockSmtpServer.Builder> script)
      throws IOException {
    MockSmtpServer.Builder b =
        MockSmtpServer.builder()
            .address(InetAddress.getByName(ip))
            .hostname(name)
            .tls(cert.serverSslContext());
    if (port != 0) {
      b.port(port);
    }
    MockSmtpServer s = script.apply(b).start();
    port = s.port();
    servers.add(s);
    return s;
  }

  /** A transport over these peers whose calls' listeners {@code listeners} makes. */
  SecureSmtpTransport transport(EventListener.Factory listeners) {
    DnssecResolver resolver =
        DnssecResolver.builder()
            .upstream(dns.socketAddress())
            .trustAnchors(TrustAnchors.parse(dns.trustAnchor()))
            .queryTimeout(Duration.ofSeconds(2))
            .lookupTimeout(Duration.ofSeconds(10))
            .build();
    return SecureSmtpTransport.builder()
        .withoutMtaSts()
        .dns(resolver)
        .dane(DaneResolver.builder().dns(resolver).build())
        .heloName("client.sender.test")
        .port(port)
        .senderPolicy(SenderPolicy.uniform(TlsLevel.OPPORTUNISTIC))
        .timeouts(SmtpTimeouts.uniform(Duration.ofSeconds(5)))
        .eventListenerFactory(listeners)
        .build();
  }

  /** The four deliveries, one message each, in {@link #RECIPIENTS} order. */
  static List<DeliveryReport> sendAll(SecureSmtpTransport transport) {
    List<DeliveryReport> reports = new ArrayList<>();
    for (String rcpt : RECIPIENTS) {
      reports.add(transport.send(Envelope.of("a@sender.test", rcpt), MessageContent.of(MESSAGE)));
    }
    return reports;
  }

  @Override
  public void close() {
    servers.forEach(MockSmtpServer::close);
    dns.close();
  }
}
