package io.mailtls.cli.demo;

import io.mailtls.core.Authentication;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DnsResolver;
import io.mailtls.core.DnssecResolver;
import io.mailtls.core.Envelope;
import io.mailtls.core.MessageContent;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SenderPolicy;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.TrustAnchors;
import io.mailtls.dane.DaneResolver;
import io.mailtls.mtasts.MtaStsResolver;
import io.mailtls.mtasts.OkHttpPolicyFetcher;
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
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import okhttp3.OkHttpClient;
import org.jspecify.annotations.Nullable;

/**
 * The delivery part of the embedded demo: recipient domains with every kind of transport security,
 * served on loopback by the testkit (signed DNS, MTA-STS over HTTPS, mock SMTP servers with real
 * TLS), and one message to each under each sender level.
 */
public final class DeliveryDemo {

  /** A cell's outcome: status, and for deliveries how the peer was authenticated. */
  public record Outcome(DeliveryStatus status, @Nullable Authentication authentication) {
    static Outcome of(RecipientResult r) {
      return new Outcome(
          r.status(),
          r.status() == DeliveryStatus.DELIVERED ? r.authentication().orElse(null) : null);
    }

    @Override
    public String toString() {
      return authentication == null ? status.name() : status + " " + authentication;
    }
  }

  /** One recipient domain: what it publishes and the outcome required under each level. */
  public record Scenario(String domain, String publishes, Map<TlsLevel, Outcome> required) {}

  /** A row of the matrix: the scenario, what happened per level, and why. */
  public record Row(
      Scenario scenario, Map<TlsLevel, Outcome> actual, Map<TlsLevel, String> reasons) {
    public boolean asExpected() {
      return scenario.required().equals(actual);
    }
  }

  private static final TlsLevel[] LEVELS = TlsLevel.values();
  private static final byte[] MESSAGE =
      ("From: demo@sender.test\r\nTo: someone\r\n"
              + "Subject: mailtls demo\r\n\r\nHello from the mailtls demo.\r\n")
          .getBytes(StandardCharsets.US_ASCII);

  private DeliveryDemo() {}

  private static Map<TlsLevel, Outcome> row(
      Outcome opportunistic, Outcome enforced, Outcome stsRequired, Outcome daneRequired) {
    Map<TlsLevel, Outcome> m = new EnumMap<>(TlsLevel.class);
    m.put(TlsLevel.OPPORTUNISTIC, opportunistic);
    m.put(TlsLevel.ENFORCED, enforced);
    m.put(TlsLevel.STS_REQUIRED, stsRequired);
    m.put(TlsLevel.DANE_REQUIRED, daneRequired);
    return m;
  }

  private static Outcome o(DeliveryStatus s, @Nullable Authentication a) {
    return new Outcome(s, a);
  }

  private static final Outcome VERIFIED = o(DeliveryStatus.DELIVERED, Authentication.VERIFIED);
  private static final Outcome ENCRYPTED = o(DeliveryStatus.DELIVERED, Authentication.ENCRYPTED);
  private static final Outcome PLAINTEXT = o(DeliveryStatus.DELIVERED, Authentication.PLAINTEXT);
  private static final Outcome DEFERRED = o(DeliveryStatus.DEFERRED, null);
  private static final Outcome BOUNCED = o(DeliveryStatus.BOUNCED, null);

  /** The scenarios and the outcomes docs/design.md §1 requires. */
  public static final List<Scenario> SCENARIOS =
      List.of(
          new Scenario(
              "good.test",
              "STARTTLS, certificate from a private CA",
              row(ENCRYPTED, ENCRYPTED, BOUNCED, DEFERRED)),
          new Scenario("plain.test", "no STARTTLS", row(PLAINTEXT, DEFERRED, BOUNCED, DEFERRED)),
          new Scenario(
              "selfsigned.test",
              "STARTTLS, self-signed certificate",
              row(ENCRYPTED, ENCRYPTED, BOUNCED, DEFERRED)),
          new Scenario(
              "dane-ee.test",
              "DANE-EE 3 1 1 of the server key",
              row(VERIFIED, VERIFIED, BOUNCED, VERIFIED)),
          new Scenario(
              "dane-ta.test",
              "DANE-TA 2 1 1 of the issuing CA",
              row(VERIFIED, VERIFIED, BOUNCED, VERIFIED)),
          new Scenario(
              "dane-bad.test",
              "TLSA that matches no certificate",
              row(DEFERRED, DEFERRED, BOUNCED, DEFERRED)),
          new Scenario(
              "sts.test",
              "MTA-STS enforce, WebPKI-valid MX",
              row(VERIFIED, VERIFIED, VERIFIED, DEFERRED)),
          new Scenario(
              "sts-badcert.test",
              "MTA-STS enforce, MX certificate for another name",
              row(DEFERRED, DEFERRED, DEFERRED, DEFERRED)),
          new Scenario(
              "bogus.test",
              "DNSSEC-bogus zone (expired signatures)",
              row(DEFERRED, DEFERRED, DEFERRED, DEFERRED)),
          new Scenario(
              "nullmx.test", "null MX (RFC 7505)", row(BOUNCED, BOUNCED, BOUNCED, BOUNCED)));

  /** Starts every fixture, delivers each scenario under each level, stops the fixtures. */
  public static List<Row> run() {
    TestPki pki = TestPki.create();
    List<MockSmtpServer> servers = new ArrayList<>();
    int[] port = {0};
    java.util.function.BiFunction<String, UnaryOperator<MockSmtpServer.Builder>, MockSmtpServer>
        smtp =
            (ip, config) -> {
              try {
                MockSmtpServer.Builder b =
                    MockSmtpServer.builder().address(InetAddress.getByName(ip)).digestOnly();
                if (port[0] != 0) {
                  b.port(port[0]);
                }
                MockSmtpServer s = config.apply(b).start();
                port[0] = s.port();
                servers.add(s);
                return s;
              } catch (IOException e) {
                throw new UncheckedIOException(e);
              }
            };
    java.util.function.BiFunction<String, String, MockSmtpServer> rootSigned =
        (ip, host) ->
            smtp.apply(
                ip,
                b ->
                    b.hostname(host)
                        .tls(pki.root().leaf().dnsNames(host).issue().serverSslContext()));
    TestPki.Issued daneLeaf = pki.root().leaf().dnsNames("mx.dane-ee.test").issue();
    TestPki.Ca daneCa = pki.root().intermediate("mailtls demo DANE CA");
    TestPki.Issued daneTaLeaf = daneCa.leaf().dnsNames("mx.dane-ta.test").issue();
    MockSmtpServer good = rootSigned.apply("127.0.0.11", "mx.good.test");
    MockSmtpServer plain = smtp.apply("127.0.0.12", b -> b.hostname("mx.plain.test"));
    MockSmtpServer selfSigned =
        smtp.apply(
            "127.0.0.13",
            b ->
                b.hostname("mx.selfsigned.test")
                    .tls(TestPki.selfSigned("mx.selfsigned.test").serverSslContext()));
    MockSmtpServer daneEe =
        smtp.apply(
            "127.0.0.14", b -> b.hostname("mx.dane-ee.test").tls(daneLeaf.serverSslContext()));
    MockSmtpServer daneTa =
        smtp.apply(
            "127.0.0.15", b -> b.hostname("mx.dane-ta.test").tls(daneTaLeaf.serverSslContext()));
    MockSmtpServer daneBad = rootSigned.apply("127.0.0.16", "mx.dane-bad.test");
    MockSmtpServer sts = rootSigned.apply("127.0.0.17", "mx.sts.test");
    MockSmtpServer stsBad =
        smtp.apply(
            "127.0.0.18",
            b ->
                b.hostname("mx.sts-badcert.test")
                    .tls(pki.root().leaf().dnsNames("wrong.example").issue().serverSslContext()));
    MockSmtpServer bogus = rootSigned.apply("127.0.0.19", "mx.bogus.test");
    try (MtaStsServer policies =
            MtaStsServer.builder()
                .pki(pki)
                .domain("sts.test", MtaStsServer.policyText("enforce", 86400, "mx.sts.test"))
                .domain(
                    "sts-badcert.test",
                    MtaStsServer.policyText("enforce", 86400, "*.sts-badcert.test"))
                .start();
        TestDnsServer dns =
            TestDnsServer.builder()
                .zone("good.test", mail("good.test", good))
                .zone("plain.test", mail("plain.test", plain))
                .zone("selfsigned.test", mail("selfsigned.test", selfSigned))
                .zone(
                    "dane-ee.test",
                    z ->
                        mail("dane-ee.test", daneEe)
                            .accept(
                                z.tlsaFor(Tlsa.smtpOwner("mx.dane-ee.test"), 3, 1, 1, daneLeaf)))
                .zone(
                    "dane-ta.test",
                    z ->
                        mail("dane-ta.test", daneTa)
                            .accept(z.tlsaFor(Tlsa.smtpOwner("mx.dane-ta.test"), 2, 1, 1, daneCa)))
                .zone(
                    "dane-bad.test",
                    z ->
                        mail("dane-bad.test", daneBad)
                            .accept(
                                z.tlsa(
                                    Tlsa.smtpOwner("mx.dane-bad.test"),
                                    3,
                                    1,
                                    1,
                                    Tlsa.wrongData(1))))
                .zone(
                    "sts.test",
                    z -> mail("sts.test", sts).accept(policies.publish(z, "sts.test", "demo1")))
                .zone(
                    "sts-badcert.test",
                    z ->
                        mail("sts-badcert.test", stsBad)
                            .accept(policies.publish(z, "sts-badcert.test", "demo1")))
                .zone("bogus.test", z -> mail("bogus.test", bogus).accept(z.expiredSignatures()))
                .zone("nullmx.test", z -> z.nullMx("nullmx.test"))
                .start()) {
      DnsResolver resolver =
          DnssecResolver.builder()
              .upstream(dns.socketAddress())
              .trustAnchors(TrustAnchors.parse(dns.trustAnchor()))
              .queryTimeout(Duration.ofSeconds(2))
              .lookupTimeout(Duration.ofSeconds(8))
              .build();
      OkHttpClient client =
          new OkHttpClient.Builder()
              .sslSocketFactory(pki.clientSslContext().getSocketFactory(), pki.trustManager())
              .build();
      List<Row> rows = new ArrayList<>();
      try (MtaStsResolver mtaSts =
          MtaStsResolver.builder()
              .dns(resolver)
              .fetcher(
                  OkHttpPolicyFetcher.builder()
                      .dns(resolver)
                      .client(client)
                      .port(policies.port())
                      .build())
              .build()) {
        Map<TlsLevel, SecureSmtpTransport> transports = new EnumMap<>(TlsLevel.class);
        for (TlsLevel level : LEVELS) {
          transports.put(
              level,
              SecureSmtpTransport.builder()
                  .dns(resolver)
                  .mtaSts(mtaSts)
                  .dane(DaneResolver.builder().dns(resolver).build())
                  .trustStore(pki.trustStore())
                  .heloName("demo.sender.test")
                  .port(port[0])
                  .senderPolicy(SenderPolicy.uniform(level))
                  .timeouts(SmtpTimeouts.uniform(Duration.ofSeconds(5)))
                  .build());
        }
        for (Scenario s : SCENARIOS) {
          Map<TlsLevel, Outcome> actual = new EnumMap<>(TlsLevel.class);
          Map<TlsLevel, String> reasons = new EnumMap<>(TlsLevel.class);
          for (TlsLevel level : LEVELS) {
            RecipientResult r =
                Objects.requireNonNull(transports.get(level))
                    .send(
                        Envelope.of("demo@sender.test", "someone@" + s.domain()),
                        MessageContent.of(MESSAGE))
                    .result("someone@" + s.domain());
            actual.put(level, Outcome.of(r));
            reasons.put(level, reason(r));
          }
          rows.add(new Row(s, actual, reasons));
        }
        transports.values().forEach(SecureSmtpTransport::close);
      }
      return rows;
    } finally {
      servers.forEach(MockSmtpServer::close);
    }
  }

  private static Consumer<DnsZoneBuilder> mail(String domain, MockSmtpServer server) {
    return z -> z.mailHost(domain, 10, "mx." + domain, server);
  }

  /** The short reason for a cell: the reply for failures, the TLS protocol for deliveries. */
  private static String reason(RecipientResult r) {
    if (r.status() == DeliveryStatus.DELIVERED) {
      return r.tls().map(t -> t.protocol()).orElse("no TLS")
          + " via "
          + r.mxHost().map(Object::toString).orElse("?")
          + " ("
          + r.attempt().map(a -> a.source().name()).orElse("")
          + ")";
    }
    String failure =
        r.attempt()
            .flatMap(a -> a.failure())
            .map(Enum::name)
            .or(() -> r.plan().failure().map(f -> f.type().name()))
            .orElse("");
    String text = r.reply().lines().get(0);
    if (text.length() > 150) {
      text = text.substring(0, 147) + "...";
    }
    return r.reply().code() + " " + failure + ": " + text;
  }

  /** The levels in column order. */
  public static List<TlsLevel> levels() {
    return List.of(LEVELS);
  }
}
