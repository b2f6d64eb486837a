package io.mailtls.core.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.EnhancedStatus;
import io.mailtls.core.Envelope;
import io.mailtls.core.FailureType;
import io.mailtls.core.MessageContent;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.TlsLevel;
import io.mailtls.testkit.MockSmtpServer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * RFC 6531 §3.2: an envelope address with UTF-8 never goes to a server that does not offer
 * SMTPUTF8, and another MX host of the domain may take it (§3.7.2: MX hosts of one domain may
 * differ); recipients that need no SMTPUTF8 go to the first host as before. When no host offered
 * it, the recipient is refused with 5.6.7 (§3.5: 553 for a recipient, 550 for a sender). A message
 * that needs REQUIRETLS (RFC 8689) as well is returned, not deferred, when every host lacked one of
 * the two.
 */
class Utf8AddressNextMxTest {

  private static final String UTF8 = "josé@example.test";
  private static final String ASCII = "jose@example.test";
  private static final String UTF8_SENDER = "jöran@sender.test";
  private static final String UTF8_SUBJECT =
      "From: a@sender.test\r\nSubject: café\r\n\r\nplain body\r\n";

  private static final EnhancedStatus X_6_7 = EnhancedStatus.NON_ASCII_ADDRESS_NOT_PERMITTED;

  private static MockSmtpServer withoutSmtputf8(Fixture f, String ip, String host) {
    return f.server(ip, b -> b.hostname(host).capabilities("PIPELINING", "8BITMIME"));
  }

  private static void twoMx(Fixture f, MockSmtpServer mx1, MockSmtpServer mx2) {
    f.dns(
        d ->
            d.zone(
                "example.test",
                z ->
                    z.mailHost("example.test", 10, "mx1.example.test", mx1)
                        .mailHost("example.test", 20, "mx2.example.test", mx2)));
  }

  private static DeliveryReport send(Fixture f, String sender, String... recipients) {
    return f.transport(TlsLevel.OPPORTUNISTIC)
        .send(
            Envelope.of(sender, recipients),
            MessageContent.of(Fixture.MESSAGE.getBytes(StandardCharsets.UTF_8)));
  }

  /** No command of any session of {@code mx} names {@code address}. */
  /** A server with STARTTLS and REQUIRETLS but without SMTPUTF8. */
  private static MockSmtpServer requireTlsWithoutSmtputf8(Fixture f, String address, String host) {
    return f.server(
        address,
        b ->
            b.hostname(host)
                .tls(Fixture.certFor(host))
                .requireTls()
                .capabilities("PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES"));
  }

  /** A server with STARTTLS and SMTPUTF8 but without REQUIRETLS. */
  private static MockSmtpServer withoutRequireTls(Fixture f, String address, String host) {
    return f.server(address, b -> b.hostname(host).tls(Fixture.certFor(host)));
  }

  private static void neverNamed(MockSmtpServer mx, String address) {
    assertThat(mx.sessions())
        .allSatisfy(s -> assertThat(s.commandLines()).noneMatch(l -> l.contains(address)));
  }

  private static void noMailCommand(MockSmtpServer mx) {
    assertThat(mx.messages()).isEmpty();
    assertThat(mx.sessions())
        .allSatisfy(s -> assertThat(s.commandLines()).noneMatch(l -> l.startsWith("MAIL")));
  }

  @Test
  void rfc6531Section3_2AUtf8RecipientGoesToTheNextMxHostWhileAsciiOnesStayOnTheFirst()
      throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer lacking = withoutSmtputf8(f, "127.0.0.2", "mx1.example.test");
      MockSmtpServer offering = f.server("127.0.0.3", b -> b.hostname("mx2.example.test"));
      twoMx(f, lacking, offering);
      DeliveryReport report = send(f, "a@sender.test", UTF8, ASCII);

      RecipientResult ascii = report.result(ASCII);
      assertThat(ascii.status()).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(ascii.mxHost().orElseThrow().toString()).isEqualTo("mx1.example.test");
      assertThat(lacking.messages()).hasSize(1);
      assertThat(lacking.messages().get(0).recipients()).containsExactly(ASCII);
      assertThat(lacking.messages().get(0).mailParameters()).doesNotContain("SMTPUTF8");
      neverNamed(lacking, UTF8);

      RecipientResult utf8 = report.result(UTF8);
      assertThat(utf8.status()).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(utf8.mxHost().orElseThrow().toString()).isEqualTo("mx2.example.test");
      assertThat(offering.messages()).hasSize(1);
      assertThat(offering.messages().get(0).recipients()).containsExactly(UTF8);
      // RFC 6531 §3.4: the parameter goes with MAIL for the transaction that needs it.
      assertThat(offering.messages().get(0).mailParameters()).contains("SMTPUTF8");

      // The first attempt delivered, so it did not fail; its detail says what it left.
      assertThat(utf8.attempts()).hasSize(2);
      assertThat(utf8.attempts().get(0).failure()).isEmpty();
      assertThat(utf8.attempts().get(0).detail()).contains("SMTPUTF8").contains("1 recipient");
      assertThat(utf8.attempts().get(1).failure()).isEmpty();
    }
  }

  @Test
  void rfc6531Section3_2AUtf8SenderSkipsAHostWithoutSmtputf8ForEveryRecipient() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer lacking = withoutSmtputf8(f, "127.0.0.2", "mx1.example.test");
      MockSmtpServer offering = f.server("127.0.0.3", b -> b.hostname("mx2.example.test"));
      twoMx(f, lacking, offering);
      DeliveryReport report = send(f, UTF8_SENDER, ASCII, "b@example.test");

      assertThat(report.allDelivered()).isTrue();
      noMailCommand(lacking);
      assertThat(offering.messages()).hasSize(1);
      assertThat(offering.messages().get(0).recipients()).containsExactly(ASCII, "b@example.test");
      assertThat(offering.messages().get(0).mailParameters()).contains("SMTPUTF8");
      RecipientResult r = report.result(ASCII);
      assertThat(r.mxHost().orElseThrow().toString()).isEqualTo("mx2.example.test");
      assertThat(r.attempts()).hasSize(2);
      assertThat(r.attempts().get(0).failure()).contains(FailureType.SMTPUTF8_UNAVAILABLE);
    }
  }

  @Test
  void rfc6531Section3_5NoHostOfferingSmtputf8RefusesTheUtf8RecipientWith553() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx1 = withoutSmtputf8(f, "127.0.0.2", "mx1.example.test");
      MockSmtpServer mx2 = withoutSmtputf8(f, "127.0.0.3", "mx2.example.test");
      twoMx(f, mx1, mx2);
      DeliveryReport report = send(f, "a@sender.test", UTF8, ASCII);

      assertThat(report.result(ASCII).status()).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(mx1.messages().get(0).recipients()).containsExactly(ASCII);
      neverNamed(mx1, UTF8);
      // Only the UTF-8 recipient was left for mx2: nothing could go there, not even MAIL FROM.
      noMailCommand(mx2);

      RecipientResult r = report.result(UTF8);
      assertThat(r.status()).isEqualTo(DeliveryStatus.BOUNCED);
      assertThat(r.reply().code()).isEqualTo(553);
      assertThat(r.reply().enhancedStatus()).contains(X_6_7);
      assertThat(r.reply().text()).contains("SMTPUTF8").contains("2 server(s)");
      assertThat(r.attempts()).hasSize(2);
      assertThat(r.attempts().get(0).failure()).isEmpty();
      assertThat(r.attempts().get(1).failure()).contains(FailureType.SMTPUTF8_UNAVAILABLE);
      assertThat(r.mxHost().orElseThrow().toString()).isEqualTo("mx2.example.test");
    }
  }

  @Test
  void rfc6531Section3_5NoHostOfferingSmtputf8RefusesAUtf8SenderWith550() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx1 = withoutSmtputf8(f, "127.0.0.2", "mx1.example.test");
      MockSmtpServer mx2 = withoutSmtputf8(f, "127.0.0.3", "mx2.example.test");
      twoMx(f, mx1, mx2);
      DeliveryReport report = send(f, UTF8_SENDER, ASCII);

      noMailCommand(mx1);
      noMailCommand(mx2);
      RecipientResult r = report.result(ASCII);
      assertThat(r.status()).isEqualTo(DeliveryStatus.BOUNCED);
      // RFC 6531 §3.5: 550 when MAIL needs the ASCII address, 553 for RCPT.
      assertThat(r.reply().code()).isEqualTo(550);
      assertThat(r.reply().enhancedStatus()).contains(X_6_7);
      assertThat(r.reply().text()).contains("sender").contains("SMTPUTF8");
      assertThat(r.attempts())
          .hasSize(2)
          .allSatisfy(a -> assertThat(a.failure()).contains(FailureType.SMTPUTF8_UNAVAILABLE));
    }
  }

  @Test
  void rfc6531Section3_2AHostWithoutSmtputf8ThenAnUnreachableOneDefersTheUtf8Recipient()
      throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer lacking = withoutSmtputf8(f, "127.0.0.2", "mx1.example.test");
      f.dns(
          d ->
              d.zone(
                  "example.test",
                  z ->
                      z.mailHost("example.test", 10, "mx1.example.test", lacking)
                          // nothing listens on mx2's address: it may offer SMTPUTF8 once it answers
                          .mx("example.test", 20, "mx2.example.test")
                          .a("mx2.example.test", "127.0.0.5")));
      DeliveryReport report = send(f, "a@sender.test", UTF8, ASCII);

      assertThat(report.result(ASCII).status()).isEqualTo(DeliveryStatus.DELIVERED);
      RecipientResult r = report.result(UTF8);
      assertThat(r.status()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(r.reply().code()).isEqualTo(451);
      assertThat(r.attempts()).hasSize(2);
      assertThat(r.attempts().get(1).failure()).contains(FailureType.CONNECTION_FAILED);
      neverNamed(lacking, UTF8);
    }
  }

  /** The other way round: the last host tried lacked SMTPUTF8, and its reason is the reply. */
  @Test
  void rfc6531Section3_2AnUnreachableHostThenOneWithoutSmtputf8DefersWith4_6_7() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer lacking = withoutSmtputf8(f, "127.0.0.3", "mx2.example.test");
      f.dns(
          d ->
              d.zone(
                  "example.test",
                  z ->
                      z.mx("example.test", 10, "mx1.example.test")
                          .a("mx1.example.test", "127.0.0.5") // nothing listens there
                          .mailHost("example.test", 20, "mx2.example.test", lacking)));
      DeliveryReport report = send(f, "a@sender.test", UTF8, ASCII);

      RecipientResult ascii = report.result(ASCII);
      assertThat(ascii.status()).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(ascii.mxHost().orElseThrow().toString()).isEqualTo("mx2.example.test");
      RecipientResult r = report.result(UTF8);
      assertThat(r.status()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(r.reply().code()).isEqualTo(451);
      assertThat(r.reply().enhancedStatus()).contains(X_6_7.withStatusClass(4));
      assertThat(r.reply().text()).contains("SMTPUTF8");
      assertThat(r.attempts()).hasSize(2);
      assertThat(r.attempts().get(0).failure()).contains(FailureType.CONNECTION_FAILED);
      assertThat(r.attempts().get(1).failure()).isEmpty();
      neverNamed(lacking, UTF8);
    }
  }

  @Test
  void rfc6531Section3_2TheAttemptLimitLeavingMxHostsUntriedDefersWith4_6_7() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer lacking = withoutSmtputf8(f, "127.0.0.2", "mx1.example.test");
      MockSmtpServer offering = f.server("127.0.0.3", b -> b.hostname("mx2.example.test"));
      twoMx(f, lacking, offering);
      f.transport(TlsLevel.OPPORTUNISTIC, b -> b.maxAttemptsPerDomain(1));
      DeliveryReport report =
          f.transport.send(
              Envelope.of("a@sender.test", UTF8, ASCII),
              MessageContent.of(Fixture.MESSAGE.getBytes(StandardCharsets.UTF_8)));

      assertThat(report.result(ASCII).status()).isEqualTo(DeliveryStatus.DELIVERED);
      RecipientResult r = report.result(UTF8);
      assertThat(r.status()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(r.reply().code()).isEqualTo(451);
      assertThat(r.reply().enhancedStatus()).contains(X_6_7.withStatusClass(4));
      assertThat(r.reply().text()).contains("SMTPUTF8").contains("attempt limit");
      assertThat(offering.sessions()).isEmpty();
    }
  }

  /**
   * RFC 8689 §4.2.1 and RFC 6531 §3.2: mx1 offers REQUIRETLS but not SMTPUTF8, mx2 the reverse; a
   * message with UTF-8 header fields that asks for REQUIRETLS can go to neither, ever: returned
   * (5.7.30, naming both), not deferred until the retry period ends.
   */
  @Test
  void everyHostLackingOneOfTwoRequiredExtensionsReturnsAUtf8HeaderMessage() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx1 = requireTlsWithoutSmtputf8(f, "127.0.0.2", "mx1.example.test");
      MockSmtpServer mx2 = withoutRequireTls(f, "127.0.0.3", "mx2.example.test");
      RecipientResult r = sendRequiringTls(f, mx1, mx2, ASCII, UTF8_SUBJECT);
      returnedNamingBoth(
          r, mx1, mx2, FailureType.SMTPUTF8_UNAVAILABLE, FailureType.REQUIRETLS_UNAVAILABLE);
    }
  }

  /** The same for a UTF-8 recipient, the hosts the other way round. */
  @Test
  void everyHostLackingOneOfTwoRequiredExtensionsReturnsAUtf8Recipient() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx1 = withoutRequireTls(f, "127.0.0.2", "mx1.example.test");
      MockSmtpServer mx2 = requireTlsWithoutSmtputf8(f, "127.0.0.3", "mx2.example.test");
      RecipientResult r = sendRequiringTls(f, mx1, mx2, UTF8, Fixture.MESSAGE);
      returnedNamingBoth(
          r, mx1, mx2, FailureType.REQUIRETLS_UNAVAILABLE, FailureType.SMTPUTF8_UNAVAILABLE);
    }
  }

  /** Sends {@code message} with REQUIRETLS to {@code rcpt}, at mx1 then mx2 (MTA-STS testing). */
  private static RecipientResult sendRequiringTls(
      Fixture f, MockSmtpServer mx1, MockSmtpServer mx2, String rcpt, String message)
      throws Exception {
    twoMx(f, mx1, mx2);
    f.mtaSts = ReportTruthTest.testingPolicy("*.example.test");
    f.transport(TlsLevel.OPPORTUNISTIC, b -> b.trustStore(Fixture.PKI.trustStore()));
    return f.transport
        .send(
            Envelope.of("a@sender.test", rcpt).requireTls(true),
            MessageContent.of(message.getBytes(StandardCharsets.UTF_8)))
        .result(rcpt);
  }

  /** Neither host got MAIL; each lacked one extension; returned with 550 5.7.30 naming both. */
  private static void returnedNamingBoth(
      RecipientResult r,
      MockSmtpServer mx1,
      MockSmtpServer mx2,
      FailureType atMx1,
      FailureType atMx2) {
    noMailCommand(mx1);
    noMailCommand(mx2);
    assertThat(r.attempts()).hasSize(2);
    assertThat(r.attempts().get(0).failure()).contains(atMx1);
    assertThat(r.attempts().get(1).failure()).contains(atMx2);
    assertThat(r.status()).isEqualTo(DeliveryStatus.BOUNCED);
    assertThat(r.reply().code()).isEqualTo(550);
    assertThat(r.reply().enhancedStatus()).contains(EnhancedStatus.REQUIRETLS_NEEDED);
    assertThat(r.reply().text()).contains("REQUIRETLS").contains("SMTPUTF8");
  }
}
