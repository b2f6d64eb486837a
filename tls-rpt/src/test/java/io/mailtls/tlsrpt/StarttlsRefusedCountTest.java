package io.mailtls.tlsrpt;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.Attempt;
import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DomainName;
import io.mailtls.core.Envelope;
import io.mailtls.core.FailureType;
import io.mailtls.core.MessageContent;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SenderPolicy;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.TlsRequirement;
import io.mailtls.dane.DaneResolver;
import io.mailtls.testkit.FakeClock;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.SmtpAction;
import io.mailtls.testkit.SmtpStep;
import io.mailtls.testkit.TestDnsServer;
import io.mailtls.testkit.TestPki;
import io.mailtls.testkit.Tlsa;
import io.mailtls.tlsrpt.internal.SessionAccounting;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * RFC 8460 §4.3.1 tells a server that does not support STARTTLS ({@code starttls-not-supported})
 * from a negotiation that failed ({@code validation-failure}, or a certificate's own type). A
 * server that advertises STARTTLS and refuses it with a reply other than 220 ({@code 454 4.7.0 TLS
 * not available}, RFC 3207 §4) did not support it: no handshake took place. It is reported as such
 * at every level and under every policy, as a server that does not advertise STARTTLS is; a
 * handshake that began and failed is reported as that failure. Real servers and a signed zone on
 * loopback.
 *
 * <ul>
 *   <li>{@code refused.<zone>}: no policy; STARTTLS advertised, answered 454.
 *   <li>{@code refused-dane.<zone>}: DANE-EE {@code 3 1 1} matching the server's key; STARTTLS
 *       advertised, answered 454.
 *   <li>{@code legacy.<zone>}: no policy; STARTTLS offered, TLS 1.0 only: the handshake fails.
 *   <li>{@code legacy-dane.<zone>}: the same under DANE-EE.
 * </ul>
 */
class StarttlsRefusedCountTest {

  private static final String ZONE = "refusal.test";

  private static final byte[] MESSAGE =
      "From: a@sender.test\r\nTo: b@refusal.test\r\nSubject: hello\r\n\r\nHello.\r\n"
          .getBytes(StandardCharsets.US_ASCII);

  private static final String SECTION_4_3_1 =
      "https://www.rfc-editor.org/rfc/rfc8460#section-4.3.1";

  private static final TestPki PKI = TestPki.create();
  private static final List<MockSmtpServer> SERVERS = new ArrayList<>();
  private static TestDnsServer dns;
  private static int port;
  private static int nextIp = 1;

  @BeforeAll
  static void start() throws IOException {
    List<Consumer<io.mailtls.testkit.DnsZoneBuilder>> zone = new ArrayList<>();
    Consumer<MockSmtpServer.Builder> refuse =
        b -> b.on(SmtpStep.STARTTLS, SmtpAction.reply(454, "4.7.0", "TLS not available"));
    Consumer<MockSmtpServer.Builder> legacy = b -> b.tlsProtocols("TLSv1");
    mx(zone, "refused." + ZONE, false, refuse);
    mx(zone, "refused-dane." + ZONE, true, refuse);
    mx(zone, "legacy." + ZONE, false, legacy);
    mx(zone, "legacy-dane." + ZONE, true, legacy);
    dns = TestDnsServer.builder().zone(ZONE, z -> zone.forEach(c -> c.accept(z))).start();
  }

  /** A domain with one MX host, {@code mx.<domain>}; with DANE-EE on its key if {@code dane}. */
  private static void mx(
      List<Consumer<io.mailtls.testkit.DnsZoneBuilder>> zone,
      String domain,
      boolean dane,
      Consumer<MockSmtpServer.Builder> more)
      throws IOException {
    String host = "mx." + domain;
    TestPki.Issued leaf = PKI.root().leaf().dnsNames(host).issue();
    MockSmtpServer.Builder b =
        MockSmtpServer.builder()
            .address(InetAddress.getByName("127.0.13." + nextIp++))
            .hostname(host)
            .idleTimeout(Duration.ofSeconds(20))
            .tls(leaf.serverSslContext());
    if (port != 0) {
      b.port(port);
    }
    more.accept(b);
    MockSmtpServer s = b.start();
    port = s.port();
    SERVERS.add(s);
    zone.add(z -> z.mailHost(domain, 10, host, s));
    if (dane) {
      zone.add(z -> z.tlsaFor(Tlsa.smtpOwner(host), 3, 1, 1, leaf));
    }
  }

  @AfterAll
  static void stop() {
    SERVERS.forEach(MockSmtpServer::close);
    if (dns != null) {
      dns.close();
    }
  }

  private static SecureSmtpTransport transport(TlsLevel level, TlsRptAggregator aggregator) {
    var resolver = RptFixtures.resolver(dns);
    return SecureSmtpTransport.builder()
        .dns(resolver)
        .dane(DaneResolver.builder().dns(resolver).build())
        .trustStore(PKI.trustStore())
        .heloName("client.sender.test")
        .port(port)
        .random(new Random(1))
        .senderPolicy(SenderPolicy.uniform(level))
        .timeouts(SmtpTimeouts.uniform(Duration.ofSeconds(5)))
        .noConnectionReuse()
        .withoutMtaSts()
        .eventListenerFactory(aggregator)
        .build();
  }

  /** The day's counts after sending one message to each of {@code recipients} at {@code level}. */
  private static Map<AppliedPolicy, PolicyCounts> count(
      String day, TlsLevel level, List<RecipientResult> results, String... recipients) {
    FakeClock clock = new FakeClock(Instant.parse(day + "T12:00:00Z"));
    InMemoryAggregateStore store = new InMemoryAggregateStore();
    TlsRptAggregator aggregator = TlsRptAggregator.builder().store(store).clock(clock).build();
    try (SecureSmtpTransport t = transport(level, aggregator)) {
      DeliveryReport report =
          t.send(Envelope.of("a@sender.test", recipients), MessageContent.of(MESSAGE));
      results.addAll(report.recipients());
    }
    return store.read(LocalDate.parse(day));
  }

  private static FailureDetail detail(Attempt a, String resultType, String reasonCode) {
    return new FailureDetail(
        resultType,
        Optional.of(a.localAddress().orElseThrow().getAddress().getHostAddress()),
        a.host().map(DomainName::toString),
        a.announcedName(),
        Optional.of(a.address().getAddress().getHostAddress()),
        Optional.of(reasonCode),
        Optional.of(SECTION_4_3_1));
  }

  private static RecipientResult result(List<RecipientResult> results, String recipient) {
    return results.stream()
        .filter(r -> r.recipient().toString().equals(recipient))
        .findFirst()
        .orElseThrow();
  }

  /**
   * At {@code opportunistic}, the refused STARTTLS leaves the session in plaintext on the same
   * connection (RFC 3207 §4): a session that went on without TLS because the server did not support
   * it, as one without STARTTLS in its EHLO reply is ({@code PLAINTEXT}); under the DANE policy the
   * session is not delivered, and the policy failure is the refusal, not a handshake.
   */
  @Test
  void aRefusedStarttlsIsStarttlsNotSupportedUnderEveryPolicy() {
    List<RecipientResult> results = new ArrayList<>();
    Map<AppliedPolicy, PolicyCounts> day =
        count(
            "2025-05-01",
            TlsLevel.OPPORTUNISTIC,
            results,
            "b@refused." + ZONE,
            "b@refused-dane." + ZONE);

    RecipientResult plain = result(results, "b@refused." + ZONE);
    assertThat(plain.status()).as("%s", results).isEqualTo(DeliveryStatus.DELIVERED);
    Attempt plainSession = plain.attempt().orElseThrow();
    assertThat(plainSession.tls()).isEmpty();
    assertThat(plainSession.plaintextReason()).contains(FailureType.STARTTLS_NOT_SUPPORTED);
    assertThat(day.get(AppliedPolicy.noPolicy(DomainName.of("refused." + ZONE))))
        .as("opportunistic, STARTTLS refused: %s", day)
        .isEqualTo(
            PolicyCounts.failure(
                detail(plainSession, "starttls-not-supported", SessionAccounting.PLAINTEXT)));

    RecipientResult dane = result(results, "b@refused-dane." + ZONE);
    assertThat(dane.status()).as("%s", results).isEqualTo(DeliveryStatus.DEFERRED);
    Attempt daneSession = dane.attempts().get(0);
    assertThat(daneSession.failure()).contains(FailureType.STARTTLS_NOT_SUPPORTED);
    assertThat(daneSession.plaintextReason()).as("TLS was required").isEmpty();
    AppliedPolicy tlsa =
        AppliedPolicy.tlsa(
            DomainName.of("refused-dane." + ZONE),
            ((TlsRequirement.Dane) daneSession.requirement()).records(),
            "mx.refused-dane." + ZONE);
    assertThat(day.get(tlsa))
        .as("DANE, STARTTLS refused: %s", day)
        .isEqualTo(
            PolicyCounts.failure(
                detail(daneSession, "starttls-not-supported", "STARTTLS_NOT_SUPPORTED")));
  }

  /** At {@code enforced} without a policy the same server was reported so already: the same. */
  @Test
  void aRefusedStarttlsAtEnforcedIsStarttlsNotSupported() {
    List<RecipientResult> results = new ArrayList<>();
    Map<AppliedPolicy, PolicyCounts> day =
        count("2025-05-02", TlsLevel.ENFORCED, results, "b@refused." + ZONE);
    Attempt session = result(results, "b@refused." + ZONE).attempts().get(0);
    assertThat(session.failure()).contains(FailureType.STARTTLS_NOT_SUPPORTED);
    assertThat(day.get(AppliedPolicy.noPolicy(DomainName.of("refused." + ZONE))))
        .isEqualTo(
            PolicyCounts.failure(
                detail(session, "starttls-not-supported", "STARTTLS_NOT_SUPPORTED")));
  }

  /**
   * A handshake that began (the server answered 220) and failed is the negotiation's failure
   * ({@code validation-failure}), with and without a policy: the server does support STARTTLS.
   */
  @Test
  void aHandshakeThatFailedIsAValidationFailureUnderEveryPolicy() {
    List<RecipientResult> results = new ArrayList<>();
    Map<AppliedPolicy, PolicyCounts> day =
        count(
            "2025-05-03",
            TlsLevel.OPPORTUNISTIC,
            results,
            "b@legacy." + ZONE,
            "b@legacy-dane." + ZONE);

    RecipientResult plain = result(results, "b@legacy." + ZONE);
    assertThat(plain.status()).as("%s", results).isEqualTo(DeliveryStatus.DELIVERED);
    Attempt plainSession = plain.attempt().orElseThrow();
    assertThat(plainSession.plaintextReason()).contains(FailureType.TLS_HANDSHAKE_FAILED);
    assertThat(day.get(AppliedPolicy.noPolicy(DomainName.of("legacy." + ZONE))))
        .as("opportunistic, handshake failed: %s", day)
        .isEqualTo(
            PolicyCounts.failure(
                detail(plainSession, "validation-failure", "TLS_HANDSHAKE_FAILED")));

    RecipientResult dane = result(results, "b@legacy-dane." + ZONE);
    assertThat(dane.status()).as("%s", results).isEqualTo(DeliveryStatus.DEFERRED);
    Attempt daneSession = dane.attempts().get(0);
    FailureType type = daneSession.failure().orElseThrow();
    assertThat(type.tlsRptResultType()).contains("validation-failure");
    AppliedPolicy tlsa =
        AppliedPolicy.tlsa(
            DomainName.of("legacy-dane." + ZONE),
            ((TlsRequirement.Dane) daneSession.requirement()).records(),
            "mx.legacy-dane." + ZONE);
    assertThat(day.get(tlsa))
        .as("DANE, handshake failed: %s", day)
        .isEqualTo(PolicyCounts.failure(detail(daneSession, "validation-failure", type.name())));
  }
}
