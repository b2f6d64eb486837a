package io.mailtls.tlsrpt;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.Attempt;
import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DomainName;
import io.mailtls.core.DowngradeMemory;
import io.mailtls.core.DowngradeProtection;
import io.mailtls.core.Envelope;
import io.mailtls.core.FailureType;
import io.mailtls.core.MessageContent;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SenderPolicy;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.core.TlsLevel;
import io.mailtls.dane.DaneResolver;
import io.mailtls.testkit.FakeClock;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.TestDnsServer;
import io.mailtls.testkit.TestPki;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * RFC 8460 §4.4 counts every session by how its TLS negotiation went, whatever the sender decided
 * about the message afterwards. A plaintext session that reached EHLO without STARTTLS is a failed
 * session ({@code starttls-not-supported}, RFC 8460 §4.3.1) also when the message then did not go
 * there: the host lacks SMTPUTF8 (RFC 6531 §3.2) and the mail went to the next MX, or the downgrade
 * memory refused plaintext to a domain seen with TLS. A TLS session whose host lacks SMTPUTF8 is a
 * successful session. Real servers on loopback, no policy (no-policy-found).
 */
class PlaintextSessionCountTest {

  private static final String ZONE = "count.test";

  /** UTF-8 in a header field (RFC 6532): only a server offering SMTPUTF8 may take it. */
  private static final byte[] UTF8_MESSAGE =
      "From: a@sender.test\r\nTo: b@count.test\r\nSubject: Gr\u00fc\u00dfe\r\n\r\nHello.\r\n"
          .getBytes(StandardCharsets.UTF_8);

  private static final byte[] MESSAGE =
      "From: a@sender.test\r\nTo: b@count.test\r\nSubject: hello\r\n\r\nHello.\r\n"
          .getBytes(StandardCharsets.US_ASCII);

  private static final String[] NO_SMTPUTF8 = {"PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES"};

  private final TestPki pki = TestPki.create();

  private MockSmtpServer server(String ip, int port, String host, boolean tls, boolean utf8)
      throws IOException {
    return server(ip, port, host, tls, utf8, b -> {});
  }

  private MockSmtpServer server(
      String ip,
      int port,
      String host,
      boolean tls,
      boolean utf8,
      java.util.function.Consumer<MockSmtpServer.Builder> more)
      throws IOException {
    MockSmtpServer.Builder b =
        MockSmtpServer.builder()
            .address(InetAddress.getByName(ip))
            .hostname(host)
            .idleTimeout(Duration.ofSeconds(20));
    if (port != 0) {
      b.port(port);
    }
    if (tls) {
      b.tls(pki.root().leaf().dnsNames(host).issue().serverSslContext());
    }
    if (!utf8) {
      b.capabilities(NO_SMTPUTF8);
    }
    more.accept(b);
    return b.start();
  }

  private SecureSmtpTransport.Builder transport(
      TestDnsServer dns, int port, TlsRptAggregator aggregator) {
    var resolver = RptFixtures.resolver(dns);
    return SecureSmtpTransport.builder()
        .dns(resolver)
        .dane(DaneResolver.builder().dns(resolver).build())
        .trustStore(pki.trustStore())
        .heloName("client.sender.test")
        .port(port)
        .random(new Random(1))
        .senderPolicy(SenderPolicy.uniform(TlsLevel.OPPORTUNISTIC))
        .timeouts(SmtpTimeouts.uniform(Duration.ofSeconds(5)))
        .noConnectionReuse()
        .withoutMtaSts()
        .eventListenerFactory(aggregator);
  }

  private static String ip(Optional<java.net.InetSocketAddress> a) {
    return a.orElseThrow().getAddress().getHostAddress();
  }

  private static FailureDetail plaintext(Attempt a, String host) {
    return new FailureDetail(
        "starttls-not-supported",
        Optional.of(ip(a.localAddress())),
        Optional.of(host),
        Optional.of(host),
        Optional.of(a.address().getAddress().getHostAddress()),
        Optional.of(io.mailtls.tlsrpt.internal.SessionAccounting.PLAINTEXT),
        Optional.of("https://www.rfc-editor.org/rfc/rfc8460#section-4.3.1"));
  }

  /**
   * {@code plain.count.test}: one MX, no STARTTLS, no SMTPUTF8. {@code two.count.test}: {@code mx1}
   * (10) the same, {@code mx2} (20) STARTTLS and SMTPUTF8. {@code tls.count.test}: {@code mx1} (10)
   * STARTTLS without SMTPUTF8, {@code mx2} (20) STARTTLS with it. A message with UTF-8 header
   * fields to each.
   */
  @Test
  void aSessionLeftForLackOfSmtputf8IsCountedByItsTls() throws Exception {
    MockSmtpServer plain = server("127.0.12.1", 0, "mx.plain." + ZONE, false, false);
    int port = plain.port();
    MockSmtpServer twoMx1 = server("127.0.12.2", port, "mx1.two." + ZONE, false, false);
    MockSmtpServer twoMx2 = server("127.0.12.3", port, "mx2.two." + ZONE, true, true);
    MockSmtpServer tlsMx1 = server("127.0.12.4", port, "mx1.tls." + ZONE, true, false);
    MockSmtpServer tlsMx2 = server("127.0.12.5", port, "mx2.tls." + ZONE, true, true);
    FakeClock clock = new FakeClock(Instant.parse("2025-04-01T12:00:00Z"));
    InMemoryAggregateStore store = new InMemoryAggregateStore();
    TlsRptAggregator aggregator = TlsRptAggregator.builder().store(store).clock(clock).build();
    try (TestDnsServer dns =
            TestDnsServer.builder()
                .zone(
                    ZONE,
                    z ->
                        z.mailHost("plain." + ZONE, 10, "mx.plain." + ZONE, plain)
                            .mailHost("two." + ZONE, 10, "mx1.two." + ZONE, twoMx1)
                            .mailHost("two." + ZONE, 20, "mx2.two." + ZONE, twoMx2)
                            .mailHost("tls." + ZONE, 10, "mx1.tls." + ZONE, tlsMx1)
                            .mailHost("tls." + ZONE, 20, "mx2.tls." + ZONE, tlsMx2))
                .start();
        SecureSmtpTransport t = transport(dns, port, aggregator).build()) {
      DeliveryReport report =
          t.send(
              Envelope.of("a@sender.test", "b@plain." + ZONE, "b@two." + ZONE, "b@tls." + ZONE),
              MessageContent.of(UTF8_MESSAGE));
      Map<AppliedPolicy, PolicyCounts> day = store.read(LocalDate.parse("2025-04-01"));

      // One plaintext session; the message bounced (no host offered SMTPUTF8).
      RecipientResult p = report.result("b@plain." + ZONE);
      assertThat(p.status()).as("%s", report).isEqualTo(DeliveryStatus.BOUNCED);
      Attempt pa = p.attempts().get(0);
      assertThat(pa.failure()).contains(FailureType.SMTPUTF8_UNAVAILABLE);
      assertThat(pa.tls()).isEmpty();
      assertThat(day.get(AppliedPolicy.noPolicy(DomainName.of("plain." + ZONE))))
          .as("the plaintext session to mx.plain: %s", day)
          .isEqualTo(PolicyCounts.failure(plaintext(pa, "mx.plain." + ZONE)));

      // mx1 in plaintext (left for mx2: no SMTPUTF8), mx2 over TLS: two sessions.
      RecipientResult two = report.result("b@two." + ZONE);
      assertThat(two.status()).as("%s", report).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(two.attempts()).hasSize(2);
      Attempt twoFirst = two.attempts().get(0);
      assertThat(twoFirst.failure()).contains(FailureType.SMTPUTF8_UNAVAILABLE);
      assertThat(day.get(AppliedPolicy.noPolicy(DomainName.of("two." + ZONE))))
          .as("mx1 plaintext and mx2 TLS: %s", day)
          .isEqualTo(
              PolicyCounts.success()
                  .plus(PolicyCounts.failure(plaintext(twoFirst, "mx1.two." + ZONE))));

      // Both sessions negotiated TLS; mx1 lacked SMTPUTF8 only: two successful sessions.
      RecipientResult tls = report.result("b@tls." + ZONE);
      assertThat(tls.status()).as("%s", report).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(tls.attempts()).hasSize(2);
      assertThat(tls.attempts().get(0).tls()).isPresent();
      assertThat(tls.attempts().get(0).failure()).contains(FailureType.SMTPUTF8_UNAVAILABLE);
      assertThat(day.get(AppliedPolicy.noPolicy(DomainName.of("tls." + ZONE))))
          .as("two TLS sessions: %s", day)
          .isEqualTo(PolicyCounts.success().plus(PolicyCounts.success()));
    } finally {
      plain.close();
      twoMx1.close();
      twoMx2.close();
      tlsMx1.close();
      tlsMx2.close();
    }
  }

  /**
   * The downgrade memory (opportunistic, docs/design.md) saw TLS at {@code down.count.test}; the
   * next day the MX no longer offers STARTTLS (as when an attacker strips it, RFC 3207 §6) and the
   * transport closes the session before MAIL. That session is the failed TLS session RFC 8460
   * exists to report: {@code starttls-not-supported} (§4.3.1), as without the memory.
   */
  @Test
  void aSessionWithoutStarttlsRefusedByTheDowngradeMemoryIsCounted() throws Exception {
    String host = "mx.down." + ZONE;
    Attempt a = downgraded(host, false, b -> {});
    assertThat(a.timings().tls()).isEmpty();
    assertThat(day.get(AppliedPolicy.noPolicy(DomainName.of("down." + ZONE))))
        .as("the session without STARTTLS, refused by the downgrade memory: %s", day)
        .isEqualTo(PolicyCounts.failure(plaintext(a, host)));
  }

  /**
   * The same, but the MX now offers STARTTLS and its handshake fails (TLS 1.0 only): the memory
   * refuses the plaintext retry. Counted as without the memory, where the retry goes ahead: a
   * {@code validation-failure} (RFC 8460 §4.3.1), reason {@code TLS_HANDSHAKE_FAILED}.
   */
  @Test
  void aFailedHandshakeRefusedByTheDowngradeMemoryIsCounted() throws Exception {
    String host = "mx.down." + ZONE;
    Attempt a = downgraded(host, true, b -> b.tlsProtocols("TLSv1"));
    assertThat(a.timings().tls()).isPresent();
    assertThat(day.get(AppliedPolicy.noPolicy(DomainName.of("down." + ZONE))))
        .as("the failed handshake, refused by the downgrade memory: %s", day)
        .isEqualTo(
            PolicyCounts.failure(
                new FailureDetail(
                    "validation-failure",
                    Optional.of(ip(a.localAddress())),
                    Optional.of(host),
                    a.announcedName(),
                    Optional.of(a.address().getAddress().getHostAddress()),
                    Optional.of("TLS_HANDSHAKE_FAILED"),
                    Optional.of("https://www.rfc-editor.org/rfc/rfc8460#section-4.3.1"))));
  }

  /** The counts of the day of the second delivery of {@link #downgraded}. */
  private Map<AppliedPolicy, PolicyCounts> day = Map.of();

  /**
   * Delivers to {@code down.count.test} over TLS, then a day later to a second server at the same
   * address, with the downgrade memory on; the second delivery's attempt, refused.
   */
  private Attempt downgraded(
      String host, boolean secondTls, java.util.function.Consumer<MockSmtpServer.Builder> second)
      throws Exception {
    MockSmtpServer first = server("127.0.12.9", 0, host, true, true, b -> {});
    int port = first.port();
    MockSmtpServer replacement = null;
    FakeClock clock = new FakeClock(Instant.parse("2025-04-02T12:00:00Z"));
    InMemoryAggregateStore store = new InMemoryAggregateStore();
    TlsRptAggregator aggregator = TlsRptAggregator.builder().store(store).clock(clock).build();
    try (TestDnsServer dns =
            TestDnsServer.builder()
                .zone(ZONE, z -> z.mailHost("down." + ZONE, 10, host, first))
                .start();
        SecureSmtpTransport t =
            transport(dns, port, aggregator)
                .downgradeProtection(
                    DowngradeProtection.builder(DowngradeMemory.inMemory(100)).clock(clock).build())
                .build()) {
      RecipientResult r1 =
          t.send(Envelope.of("a@sender.test", "b@down." + ZONE), MessageContent.of(MESSAGE))
              .result("b@down." + ZONE);
      assertThat(r1.status()).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(r1.attempt().orElseThrow().tls()).isPresent();
      first.close();
      replacement = server("127.0.12.9", port, host, secondTls, true, second);
      clock.advance(Duration.ofDays(1));
      RecipientResult r2 =
          t.send(Envelope.of("a@sender.test", "b@down." + ZONE), MessageContent.of(MESSAGE))
              .result("b@down." + ZONE);
      assertThat(r2.status()).isEqualTo(DeliveryStatus.DEFERRED);
      Attempt a = r2.attempt().orElseThrow();
      assertThat(a.failure()).contains(FailureType.DOWNGRADE_DETECTED);
      assertThat(replacement.messages()).isEmpty();
      assertThat(store.read(LocalDate.parse("2025-04-02")))
          .containsExactly(
              Map.entry(
                  AppliedPolicy.noPolicy(DomainName.of("down." + ZONE)), PolicyCounts.success()));
      day = store.read(LocalDate.parse("2025-04-03"));
      return a;
    } finally {
      first.close();
      if (replacement != null) {
        replacement.close();
      }
    }
  }
}
