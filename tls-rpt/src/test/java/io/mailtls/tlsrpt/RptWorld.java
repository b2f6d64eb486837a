package io.mailtls.tlsrpt;

import io.mailtls.core.DnsRecordType;
import io.mailtls.core.DnsResolver;
import io.mailtls.core.DnssecResolver;
import io.mailtls.core.DomainName;
import io.mailtls.core.EventListener;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SenderPolicy;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.core.TlsLevel;
import io.mailtls.dane.DaneResolver;
import io.mailtls.mtasts.MtaStsResolver;
import io.mailtls.testkit.DnsZoneBuilder;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.MtaStsServer;
import io.mailtls.testkit.TestDnsServer;
import io.mailtls.testkit.TestPki;
import io.mailtls.testkit.Tlsa;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import mockwebserver3.MockWebServer;
import okhttp3.OkHttpClient;
import org.xbill.DNS.Type;

/**
 * Recipient domains for the TLS-RPT tests, on loopback only: a signed zone {@code rpt.test} served
 * by the testkit's DNS, mock SMTP servers with real STARTTLS on {@code 127.0.10.x} (one port), and
 * an MTA-STS policy host over HTTPS. Each domain publishes {@code _smtp._tls} with two {@code rua}
 * destinations: {@code mailto:tlsrpt@<domain>} (its own MX) and an HTTPS endpoint, {@link #reports}
 * (OkHttp's MockWebServer with a certificate from {@link #pki}, at {@code reports.rpt.test} on
 * {@code 127.0.0.1}). The report sender's DKIM key is published at {@code
 * rpt._domainkey.sender.rpt.test}.
 *
 * <ul>
 *   <li>{@code good.rpt.test}: no policy; STARTTLS with a certificate from the test root.
 *   <li>{@code legacy.rpt.test}: no policy; STARTTLS offered, but TLS 1.0 only.
 *   <li>{@code plain.rpt.test}: no policy; no STARTTLS.
 *   <li>{@code sts.rpt.test}: MTA-STS {@code enforce} naming {@code mx1} and {@code mx2}; {@code
 *       mx1} (preference 10) presents a certificate for another name, {@code mx2} (20) a good one.
 *   <li>{@code dane.rpt.test}: DANE-EE {@code 3 1 1} matching the server's key.
 *   <li>{@code dane-bad.rpt.test}: a TLSA record that matches nothing.
 *   <li>{@code recheck.rpt.test}: {@code mx1} (preference 10) with a certificate for another name,
 *       {@code mx2} (20) with a good one, and an MTA-STS {@code enforce} policy that {@link
 *       #recheckTransport} replaces while mail is under way (RFC 8461 §5.1's re-check).
 *   <li>{@code declared.rpt.test}: MTA-STS {@code enforce} served as {@link #DECLARED_POLICY}, its
 *       fields in an unusual order, with an extension field and mixed line ends; one good MX.
 *   <li>{@code testing-listed.rpt.test}: MTA-STS {@code testing} naming its one MX, which presents
 *       a certificate for another name.
 * </ul>
 */
final class RptWorld implements AutoCloseable {

  static final String SENDER = "a@sender.test";
  static final byte[] MESSAGE =
      "From: a@sender.test\r\nTo: b@rpt.test\r\nSubject: tls-rpt test\r\n\r\nHello.\r\n"
          .getBytes(StandardCharsets.US_ASCII);

  /** The submitter of the reports and the DKIM signing domain of the report mail. */
  static final DomainName SUBMITTER = DomainName.of("sender.rpt.test");

  static final String REPORTS_HOST = "reports.rpt.test";

  /** The domain whose MTA-STS policy changes while mail is under way. */
  static final String RECHECK = "recheck.rpt.test";

  /** {@link #RECHECK}'s first policy: {@code enforce}, naming {@code mx1} only (id {@code rc1}). */
  static final String RECHECK_FIRST_POLICY =
      MtaStsServer.policyText("enforce", 86400, "mx1." + RECHECK);

  /** The policy that replaces it: {@code enforce}, naming {@code mx2} only (id {@code rc2}). */
  static final String RECHECK_SECOND_POLICY =
      MtaStsServer.policyText("enforce", 86400, "mx2." + RECHECK);

  /** The domain whose MTA-STS policy text is not in the usual form. */
  static final String DECLARED = "declared.rpt.test";

  /**
   * {@link #DECLARED}'s policy as served: {@code version} after {@code mode}, a ten-digit {@code
   * max_age} with leading zeros, an extension field (ignored, RFC 8461 §3.2), CRLF and LF lines.
   */
  static final String DECLARED_POLICY =
      "mode: enforce\r\n"
          + "mx: mx.declared.rpt.test\r\n"
          + "max_age: 0000086400\n"
          + "version: STSv1\n"
          + "x-policy-owner: hostmaster at declared.rpt.test\r\n";

  final TestPki pki = TestPki.create();
  final TestDkimKey dkim = TestDkimKey.generate(SUBMITTER, "rpt");

  /** The HTTPS endpoint every domain's {@code rua} names; each test enqueues its responses. */
  final MockWebServer reports = new MockWebServer();

  final TestDnsServer dns;

  /**
   * The one TLSA record of {@code mx.tlsa-unusable.rpt.test} in presentation form ({@code 1 1 1
   * …}): secure, and not usable for SMTP (PKIX-EE, RFC 7672 §3.1.3).
   */
  final String unusableTlsa;

  final MtaStsServer sts;
  final DnssecResolver resolver;
  final MtaStsResolver mtaSts;
  final OkHttpClient http;
  private final List<MockSmtpServer> servers = new ArrayList<>();
  private final List<MtaStsResolver> extraResolvers = new ArrayList<>();
  private final Map<String, MockSmtpServer> byHost = new LinkedHashMap<>();
  private final List<Consumer<DnsZoneBuilder>> zone = new ArrayList<>();
  private int port;
  private int nextIp = 1;

  RptWorld() {
    // Started first: the rua records name its port.
    reports.useHttps(
        pki.root().leaf().dnsNames(REPORTS_HOST).issue().serverSslContext().getSocketFactory());
    try {
      reports.start(InetAddress.getLoopbackAddress(), 0);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    String https = "https://" + REPORTS_HOST + ":" + reports.getPort() + "/tlsrpt";
    zone.add(z -> z.a(REPORTS_HOST, InetAddress.getLoopbackAddress().getHostAddress()));
    zone.add(dkim::publish);
    domain("good.rpt.test", "mx.good.rpt.test", leaf("mx.good.rpt.test"), 10);
    domain("plain.rpt.test", "mx.plain.rpt.test", null, 10);
    domain("sts.rpt.test", "mx1.sts.rpt.test", leaf("elsewhere.rpt.test"), 10);
    domain("sts.rpt.test", "mx2.sts.rpt.test", leaf("mx2.sts.rpt.test"), 20);
    TestPki.Issued daneLeaf = leaf("mx.dane.rpt.test");
    domain("dane.rpt.test", "mx.dane.rpt.test", daneLeaf, 10);
    zone.add(z -> z.tlsaFor(Tlsa.smtpOwner("mx.dane.rpt.test"), 3, 1, 1, daneLeaf));
    domain("dane-bad.rpt.test", "mx.dane-bad.rpt.test", leaf("mx.dane-bad.rpt.test"), 10);
    zone.add(z -> z.tlsa(Tlsa.smtpOwner("mx.dane-bad.rpt.test"), 3, 1, 1, Tlsa.wrongData(1)));
    domain(RECHECK, "mx1." + RECHECK, leaf("elsewhere.rpt.test"), 10);
    domain(RECHECK, "mx2." + RECHECK, leaf("mx2." + RECHECK), 20);
    // An MTA-STS testing policy whose mx patterns leave out the one MX (used all the same).
    domain("testing.rpt.test", "mx.testing.rpt.test", leaf("mx.testing.rpt.test"), 10);
    // STARTTLS offered, but only TLS 1.0, which the client refuses: the handshake fails.
    domain(
        "legacy.rpt.test",
        "mx.legacy.rpt.test",
        leaf("mx.legacy.rpt.test"),
        10,
        b -> b.tlsProtocols("TLSv1"));
    // Secure TLSA records, none usable (PKIX-EE): TLS required, unauthenticated.
    TestPki.Issued unusableLeaf = leaf("mx.tlsa-unusable.rpt.test");
    unusableTlsa =
        "1 1 1 "
            + java.util.HexFormat.of()
                .formatHex(Tlsa.associationData(unusableLeaf.certificate(), 1, 1));
    domain("tlsa-unusable.rpt.test", "mx.tlsa-unusable.rpt.test", unusableLeaf, 10);
    zone.add(z -> z.tlsaFor(Tlsa.smtpOwner("mx.tlsa-unusable.rpt.test"), 1, 1, 1, unusableLeaf));
    domain(DECLARED, "mx." + DECLARED, leaf("mx." + DECLARED), 10);
    // An MTA-STS testing policy that lists the one MX, whose certificate names another host.
    domain("testing-listed.rpt.test", "mx.testing-listed.rpt.test", leaf("elsewhere.rpt.test"), 10);
    for (String d :
        List.of("good", "plain", "sts", "dane", "dane-bad").stream()
            .map(l -> l + ".rpt.test")
            .toList()) {
      zone.add(z -> z.txt("_smtp._tls." + d, "v=TLSRPTv1; rua=mailto:tlsrpt@" + d + "," + https));
    }
    sts =
        MtaStsServer.builder()
            .pki(pki)
            .domain(
                "sts.rpt.test",
                MtaStsServer.policyText("enforce", 86400, "mx1.sts.rpt.test", "mx2.sts.rpt.test"))
            .domain(
                "testing.rpt.test",
                MtaStsServer.policyText("testing", 86400, "mx9.testing.rpt.test"))
            .domain(RECHECK, RECHECK_FIRST_POLICY)
            .domain(DECLARED, DECLARED_POLICY)
            .domain(
                "testing-listed.rpt.test",
                MtaStsServer.policyText("testing", 86400, "mx.testing-listed.rpt.test"))
            .start();
    zone.add(z -> sts.publish(z, DECLARED, "dcl1"));
    zone.add(z -> sts.publish(z, RECHECK, "rc1"));
    zone.add(z -> sts.publish(z, "sts.rpt.test", "rpt1"));
    zone.add(z -> sts.publish(z, "testing.rpt.test", "rpt1"));
    zone.add(z -> sts.publish(z, "testing-listed.rpt.test", "rpt1"));
    dns = TestDnsServer.builder().zone("rpt.test", z -> zone.forEach(c -> c.accept(z))).start();
    resolver = RptFixtures.resolver(dns);
    http = RptFixtures.http(pki);
    mtaSts = RptFixtures.mtaSts(resolver, http, sts.port());
  }

  private TestPki.Issued leaf(String name) {
    return pki.root().leaf().dnsNames(name).issue();
  }

  private void domain(String domain, String host, TestPki.Issued cert, int preference) {
    domain(domain, host, cert, preference, b -> {});
  }

  private void domain(
      String domain,
      String host,
      TestPki.Issued cert,
      int preference,
      Consumer<MockSmtpServer.Builder> more) {
    MockSmtpServer.Builder b =
        MockSmtpServer.builder()
            .address(loopback("127.0.10." + nextIp++))
            .hostname(host)
            .idleTimeout(Duration.ofSeconds(20));
    if (port != 0) {
      b.port(port);
    }
    if (cert != null) {
      b.tls(cert.serverSslContext());
    }
    more.accept(b);
    MockSmtpServer s;
    try {
      s = b.start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    port = s.port();
    servers.add(s);
    byHost.put(host, s);
    zone.add(z -> z.mailHost(domain, preference, host, s));
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

  /** The HTTPS channel to {@link #reports}: one POST per attempt, resolved through the DNS. */
  HttpsReportSender httpsChannel() {
    return HttpsReportSender.builder()
        .client(http)
        .dns(resolver)
        .maxAttempts(1)
        .callTimeout(Duration.ofSeconds(10))
        .build();
  }

  /** A transport with both recipient policies at {@code opportunistic}, reporting to {@code l}. */
  SecureSmtpTransport transport(EventListener.Factory listeners) {
    return builder(listeners).mtaSts(mtaSts).build();
  }

  /** A transport as {@link #transport} makes, at the sender level {@code level}. */
  SecureSmtpTransport transport(EventListener.Factory listeners, TlsLevel level) {
    return baseBuilder(listeners, level).noConnectionReuse().mtaSts(mtaSts).build();
  }

  /** A transport as {@link #transport} makes that keeps sessions open for the next message. */
  SecureSmtpTransport reusingTransport(EventListener.Factory listeners) {
    return baseBuilder(listeners).mtaSts(mtaSts).build();
  }

  /** {@link #transport}'s builder without its MTA-STS resolver. */
  private SecureSmtpTransport.Builder builder(EventListener.Factory listeners) {
    return baseBuilder(listeners).noConnectionReuse();
  }

  private SecureSmtpTransport.Builder baseBuilder(EventListener.Factory listeners) {
    return baseBuilder(listeners, TlsLevel.OPPORTUNISTIC);
  }

  private SecureSmtpTransport.Builder baseBuilder(EventListener.Factory listeners, TlsLevel level) {
    return SecureSmtpTransport.builder()
        .dns(resolver)
        .dane(DaneResolver.builder().dns(resolver).build())
        .trustStore(pki.trustStore())
        .heloName("client.sender.test")
        .port(port)
        .random(new Random(1))
        .senderPolicy(SenderPolicy.uniform(level))
        .timeouts(SmtpTimeouts.uniform(Duration.ofSeconds(5)))
        .eventListenerFactory(listeners);
  }

  /**
   * A transport as {@link #transport} makes, whose MTA-STS look-ups see {@link #RECHECK}'s policy
   * change under way: its {@code _mta-sts} TXT record is read without a cache, and before the
   * second read (RFC 8461 §5.1's re-check, after the first policy left the mail undelivered) the
   * domain publishes {@link #RECHECK_SECOND_POLICY} under the id {@code rc2}. Each call starts from
   * the first policy again.
   */
  SecureSmtpTransport recheckTransport(EventListener.Factory listeners) {
    sts.policy(RECHECK, RECHECK_FIRST_POLICY);
    publishRecheckId("rc1");
    DnssecResolver uncached = RptFixtures.uncachedResolver(dns);
    AtomicInteger reads = new AtomicInteger();
    DnsResolver changing =
        (name, type) -> {
          if (name.equals(DomainName.of("_mta-sts." + RECHECK))
              && type == DnsRecordType.TXT
              && reads.incrementAndGet() == 2) {
            sts.policy(RECHECK, RECHECK_SECOND_POLICY);
            publishRecheckId("rc2");
          }
          return uncached.resolveAsync(name, type);
        };
    MtaStsResolver changingSts = RptFixtures.mtaSts(changing, resolver, http, sts.port());
    extraResolvers.add(changingSts);
    return builder(listeners).mtaSts(changingSts).build();
  }

  private void publishRecheckId(String id) {
    dns.update(
        "rpt.test",
        z ->
            z.remove("_mta-sts." + RECHECK, Type.TXT)
                .txt("_mta-sts." + RECHECK, MtaStsServer.stsRecord(id)));
  }

  @Override
  public void close() {
    mtaSts.close();
    extraResolvers.forEach(MtaStsResolver::close);
    http.dispatcher().executorService().shutdown();
    http.connectionPool().evictAll();
    servers.forEach(MockSmtpServer::close);
    sts.close();
    dns.close();
    reports.close();
  }
}
