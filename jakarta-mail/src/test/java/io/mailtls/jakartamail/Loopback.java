package io.mailtls.jakartamail;

import io.mailtls.core.DnssecResolver;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SenderPolicy;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.TrustAnchors;
import io.mailtls.testkit.DnsZoneBuilder;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.SmtpSession;
import io.mailtls.testkit.TestDnsServer;
import io.mailtls.testkit.TestPki;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import javax.net.ssl.SSLContext;

/**
 * Real peers on loopback: one mock SMTP server on 127.0.0.2, published as the MX host of {@code
 * example.test} by the testkit's signed DNS server, and a transport pointed at both. Closed by
 * {@link #close()}.
 */
final class Loopback implements AutoCloseable {

  static final TestPki PKI = TestPki.create();
  static final String MX = "mx.example.test";

  final MockSmtpServer server;
  final TestDnsServer dns;
  final DnssecResolver resolver;
  private SecureSmtpTransport transport;

  private Loopback(MockSmtpServer server, TestDnsServer dns) {
    this.server = server;
    this.dns = dns;
    this.resolver =
        DnssecResolver.builder()
            .upstream(dns.socketAddress())
            .trustAnchors(TrustAnchors.parse(dns.trustAnchor()))
            .queryTimeout(Duration.ofSeconds(2))
            .lookupTimeout(Duration.ofSeconds(10))
            .build();
  }

  /** A server configured by {@code config}, as the MX host of example.test. */
  static Loopback start(UnaryOperator<MockSmtpServer.Builder> config) {
    return start(config, z -> {});
  }

  /** As {@link #start(UnaryOperator)}, with more records in the example.test zone. */
  static Loopback start(
      UnaryOperator<MockSmtpServer.Builder> config, Consumer<DnsZoneBuilder> zone) {
    MockSmtpServer server;
    try {
      server =
          config
              .apply(
                  MockSmtpServer.builder().address(InetAddress.getByName("127.0.0.2")).hostname(MX))
              .start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the mock server", e);
    }
    TestDnsServer dns =
        TestDnsServer.builder()
            .zone(
                "example.test",
                z -> {
                  z.mailHost("example.test", 10, MX, server);
                  zone.accept(z);
                })
            .start();
    return new Loopback(server, dns);
  }

  /** A server certificate for {@code names}, issued by the test root. */
  static SSLContext certFor(String... names) {
    return PKI.root().leaf().dnsNames(names).issue().serverSslContext();
  }

  /** The transport for a sender level, with short timeouts. */
  SecureSmtpTransport transport(TlsLevel level) {
    if (transport != null) {
      transport.close();
    }
    transport =
        SecureSmtpTransport.builder()
            .withoutMtaSts()
            .withoutDane()
            .dns(resolver)
            .heloName("client.sender.test")
            .port(server.port())
            .senderPolicy(SenderPolicy.uniform(level))
            .timeouts(SmtpTimeouts.uniform(Duration.ofSeconds(10)))
            .build();
    return transport;
  }

  /** Whether any session of the server got as far as MAIL FROM. */
  /**
   * The provider's settings for this DNS server and this mock server's port, its trust anchor and
   * state kept in {@code dir}.
   */
  Properties providerSettings(Path dir) throws IOException {
    Path anchor = dir.resolve("anchor.ds");
    Files.writeString(anchor, dns.trustAnchor(), StandardCharsets.US_ASCII);
    Properties p = new Properties();
    p.setProperty("mail.mailtls.helo", "client.sender.test");
    p.setProperty("mail.mailtls.port", Integer.toString(server.port()));
    p.setProperty("mail.mailtls.dns.resolvers", dns.address().getHostAddress() + ":" + dns.port());
    p.setProperty("mail.mailtls.dns.trustanchor", anchor.toString());
    p.setProperty("mail.mailtls.statedir", dir.resolve("state").toString());
    p.setProperty("mail.mailtls.connectiontimeout", "10000");
    p.setProperty("mail.mailtls.timeout", "10000");
    return p;
  }

  boolean sawMail() {
    List<SmtpSession> sessions = server.sessions();
    return sessions.stream()
        .flatMap(s -> s.commandLines().stream())
        .anyMatch(l -> l.regionMatches(true, 0, "MAIL", 0, 4));
  }

  @Override
  public void close() {
    if (transport != null) {
      transport.close();
    }
    server.close();
    dns.close();
  }
}
