package io.mailtls.tlsrpt;

import io.mailtls.core.DnssecResolver;
import io.mailtls.core.DomainName;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SenderPolicy;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.core.TlsLevel;
import io.mailtls.dane.DaneResolver;
import io.mailtls.mtasts.MtaStsResolver;
import io.mailtls.testkit.DnsZoneBuilder;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.MtaStsServer;
import io.mailtls.testkit.SmtpAction;
import io.mailtls.testkit.TestDnsServer;
import io.mailtls.testkit.TestPki;
import io.mailtls.testkit.Tlsa;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.security.KeyPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;
import okhttp3.OkHttpClient;
import org.apache.james.jdkim.api.PublicKeyRecordRetriever;

/**
 * Report destinations for the mail channel's tests, on loopback only: a signed zone {@code
 * mail.test} served by the testkit's DNS, mock SMTP servers with real STARTTLS on {@code
 * 127.0.11.x} (one port), an MTA-STS policy host over HTTPS, and the report sender's DKIM key
 * published at {@code rpt._domainkey.sender.mail.test}.
 *
 * <ul>
 *   <li>{@code ok.mail.test}: no policy; STARTTLS with a good certificate.
 *   <li>{@code sts.mail.test}: MTA-STS {@code enforce}; its only MX presents a certificate for
 *       another name, so the policy refuses it.
 *   <li>{@code dane.mail.test}: a TLSA record that matches nothing (DANE refuses the MX).
 *   <li>{@code bounce.mail.test}: the MX answers 550 to RCPT.
 *   <li>{@code defer.mail.test}: the MX answers 451 to RCPT.
 * </ul>
 */
final class MailWorld implements AutoCloseable {

  static final DomainName SIGNING_DOMAIN = DomainName.of("sender.mail.test");
  static final String SELECTOR = "rpt";

  final TestPki pki = TestPki.create();
  final KeyPair dkimKeys;
  final TestDnsServer dns;
  final MtaStsServer sts;
  final DnssecResolver resolver;
  final MtaStsResolver mtaSts;
  private final OkHttpClient http;
  private final List<MockSmtpServer> servers = new ArrayList<>();
  private final Map<String, MockSmtpServer> byHost = new LinkedHashMap<>();
  private final List<Consumer<DnsZoneBuilder>> zone = new ArrayList<>();
  private int port;
  private int nextIp = 1;

  MailWorld() {
    TestDkimKey dkim = TestDkimKey.generate(SIGNING_DOMAIN, SELECTOR);
    dkimKeys = dkim.keys;
    domain("ok.mail.test", "mx.ok.mail.test", leaf("mx.ok.mail.test"));
    domain("sts.mail.test", "mx.sts.mail.test", leaf("elsewhere.mail.test"));
    TestPki.Issued daneLeaf = leaf("mx.dane.mail.test");
    domain("dane.mail.test", "mx.dane.mail.test", daneLeaf);
    zone.add(z -> z.tlsa(Tlsa.smtpOwner("mx.dane.mail.test"), 3, 1, 1, Tlsa.wrongData(1)));
    domain(
        "bounce.mail.test",
        "mx.bounce.mail.test",
        leaf("mx.bounce.mail.test"),
        b ->
            b.onRecipient(
                "tlsrpt@bounce.mail.test", SmtpAction.reply(550, "5.1.1", "no such user")));
    domain(
        "defer.mail.test",
        "mx.defer.mail.test",
        leaf("mx.defer.mail.test"),
        b -> b.onRecipient("tlsrpt@defer.mail.test", SmtpAction.reply(451, "4.3.0", "try later")));
    zone.add(dkim::publish);
    sts =
        MtaStsServer.builder()
            .pki(pki)
            .domain("sts.mail.test", MtaStsServer.policyText("enforce", 86400, "mx.sts.mail.test"))
            .start();
    zone.add(z -> sts.publish(z, "sts.mail.test", "mail1"));
    dns = TestDnsServer.builder().zone("mail.test", z -> zone.forEach(c -> c.accept(z))).start();
    resolver = RptFixtures.resolver(dns);
    http = RptFixtures.http(pki);
    mtaSts = RptFixtures.mtaSts(resolver, http, sts.port());
  }

  private TestPki.Issued leaf(String name) {
    return pki.root().leaf().dnsNames(name).issue();
  }

  private void domain(String domain, String host, TestPki.Issued cert) {
    domain(domain, host, cert, b -> {});
  }

  private void domain(
      String domain, String host, TestPki.Issued cert, Consumer<MockSmtpServer.Builder> script) {
    MockSmtpServer.Builder b =
        MockSmtpServer.builder()
            .address(loopback("127.0.11." + nextIp++))
            .hostname(host)
            .idleTimeout(Duration.ofSeconds(20))
            .tls(cert.serverSslContext());
    if (port != 0) {
      b.port(port);
    }
    script.accept(b);
    MockSmtpServer s;
    try {
      s = b.start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    port = s.port();
    servers.add(s);
    byHost.put(host, s);
    zone.add(z -> z.mailHost(domain, 10, host, s));
  }

  /** The mock server of MX host {@code host}. */
  MockSmtpServer server(String host) {
    MockSmtpServer s = byHost.get(host);
    if (s == null) {
      throw new IllegalArgumentException("no server " + host);
    }
    return s;
  }

  private static InetAddress loopback(String ip) {
    try {
      return InetAddress.getByName(ip);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A transport with MTA-STS and DANE, the sender at {@code opportunistic}. */
  SecureSmtpTransport transport() {
    return SecureSmtpTransport.builder()
        .dns(resolver)
        .dane(DaneResolver.builder().dns(resolver).build())
        .mtaSts(mtaSts)
        .trustStore(pki.trustStore())
        .heloName("client.sender.mail.test")
        .port(port)
        .random(new Random(1))
        .noConnectionReuse()
        .senderPolicy(SenderPolicy.uniform(TlsLevel.OPPORTUNISTIC))
        .timeouts(SmtpTimeouts.uniform(Duration.ofSeconds(5)))
        .build();
  }

  /**
   * The DKIM key records as a verifier gets them: a real TXT lookup of {@code
   * selector._domainkey.domain} at the test DNS server, through the project's validating resolver.
   */
  PublicKeyRecordRetriever dkimKeysFromDns() {
    return TestDkimKey.fromDns(resolver);
  }

  @Override
  public void close() {
    mtaSts.close();
    http.dispatcher().executorService().shutdown();
    http.connectionPool().evictAll();
    servers.forEach(MockSmtpServer::close);
    sts.close();
    dns.close();
  }
}
