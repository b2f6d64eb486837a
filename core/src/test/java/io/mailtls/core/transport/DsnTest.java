package io.mailtls.core.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DsnHandling;
import io.mailtls.core.DsnRequest;
import io.mailtls.core.DsnRequest.Notify;
import io.mailtls.core.DsnRequest.Ret;
import io.mailtls.core.EmailAddress;
import io.mailtls.core.Envelope;
import io.mailtls.core.MessageContent;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.TlsLevel;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.SmtpAction;
import io.mailtls.testkit.SmtpSession;
import io.mailtls.testkit.SmtpStep;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * Delivery status notifications (RFC 3461): the envelope's request goes on MAIL FROM and RCPT TO
 * exactly where the server advertises DSN, in every way the transaction can go (lock step,
 * pipelined, BDAT in one round trip and in chunks), and each result says whether it was passed on.
 */
class DsnTest {

  private static final DsnRequest FULL_REQUEST =
      DsnRequest.on(Notify.SUCCESS, Notify.FAILURE).withRet(Ret.HDRS).withEnvelopeId("q+1=2 x");

  private static MockSmtpServer start(Fixture f, UnaryOperator<MockSmtpServer.Builder> server) {
    MockSmtpServer mx = f.server("127.0.0.2", b -> server.apply(b.hostname("mx.example.test")));
    f.dns(d -> d.zone("example.test", z -> z.mailHost("example.test", 10, "mx.example.test", mx)));
    return mx;
  }

  private static DeliveryReport send(Fixture f, Envelope envelope) {
    return send(f.transport(TlsLevel.OPPORTUNISTIC), envelope, Fixture.MESSAGE);
  }

  private static DeliveryReport send(SecureSmtpTransport t, Envelope envelope, String message) {
    return t.send(envelope, MessageContent.of(message.getBytes(StandardCharsets.UTF_8)));
  }

  private static List<String> envelopeLines(SmtpSession s) {
    return s.commandLines().stream()
        .filter(l -> l.startsWith("MAIL ") || l.startsWith("RCPT "))
        .toList();
  }

  @Test
  void theRequestGoesOnMailAndRcptWhereTheServerAdvertisesDsn() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = start(f, b -> b.capabilities("8BITMIME", "DSN"));
      DeliveryReport r =
          send(f, Envelope.of("a@sender.test", "a@example.test").withDsn(FULL_REQUEST));
      assertThat(r.result("a@example.test").status()).isEqualTo(DeliveryStatus.DELIVERED);
      // RFC 3461 §4.4: ENVID is xtext, '+', '=' and SP as +XX.
      assertThat(envelopeLines(mx.sessions().get(0)))
          .containsExactly(
              "MAIL FROM:<a@sender.test> RET=HDRS ENVID=q+2B1+3D2+20x",
              "RCPT TO:<a@example.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a@example.test");
      assertThat(r.result("a@example.test").dsn()).isEqualTo(DsnHandling.PASSED_ON);
    }
  }

  @Test
  void withoutDsnAdvertisedTheMessageStillGoesAndTheResultSaysTheRequestWasNotPassedOn()
      throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = start(f, b -> b.capabilities("8BITMIME"));
      DeliveryReport r =
          send(f, Envelope.of("a@sender.test", "a@example.test").withDsn(FULL_REQUEST));
      assertThat(r.result("a@example.test").status()).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(envelopeLines(mx.sessions().get(0)))
          .containsExactly("MAIL FROM:<a@sender.test>", "RCPT TO:<a@example.test>");
      // RFC 3461 §5.2.2: NOTIFY=SUCCESS asked, but no notification will come ("relayed").
      assertThat(r.result("a@example.test").dsn()).isEqualTo(DsnHandling.NOT_PASSED_ON);
      assertThat(r.result("a@example.test").attempt().orElseThrow().detail())
          .contains("does not offer DSN");
    }
  }

  @Test
  void anEnvelopeWithoutARequestSendsNoDsnParametersToADsnServer() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = start(f, b -> b.capabilities("8BITMIME", "DSN"));
      DeliveryReport r = send(f, Envelope.of("a@sender.test", "a@example.test"));
      assertThat(envelopeLines(mx.sessions().get(0)))
          .containsExactly("MAIL FROM:<a@sender.test>", "RCPT TO:<a@example.test>");
      assertThat(r.result("a@example.test").dsn()).isEqualTo(DsnHandling.NOT_REQUESTED);
    }
  }

  @Test
  void notifyNeverGoesAloneAndWithoutRetOrEnvid() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = start(f, b -> b.capabilities("8BITMIME", "DSN"));
      send(f, Envelope.of("a@sender.test", "a@example.test").withDsn(DsnRequest.never()));
      assertThat(envelopeLines(mx.sessions().get(0)))
          .containsExactly(
              "MAIL FROM:<a@sender.test>",
              "RCPT TO:<a@example.test> NOTIFY=NEVER ORCPT=rfc822;a@example.test");
    }
  }

  @Test
  void orcptIsXtextEncodedAndUtf8AddressesUseTheRfc6533Form() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = start(f, b -> b.capabilities("8BITMIME", "SMTPUTF8", "DSN"));
      send(
          f,
          new Envelope(
                  Optional.of(EmailAddress.parse("a@sender.test")),
                  List.of(
                      EmailAddress.parse("x+tag@example.test"),
                      EmailAddress.parse("\"a=b c\"@example.test"),
                      EmailAddress.parse("jürgen@example.test")))
              .withDsn(DsnRequest.on(Notify.FAILURE)));
      assertThat(envelopeLines(mx.sessions().get(0)))
          .containsExactly(
              "MAIL FROM:<a@sender.test> SMTPUTF8",
              "RCPT TO:<x+tag@example.test> NOTIFY=FAILURE ORCPT=rfc822;x+2Btag@example.test",
              "RCPT TO:<\"a=b c\"@example.test> NOTIFY=FAILURE"
                  + " ORCPT=rfc822;\"a+3Db+20c\"@example.test",
              // RFC 6533 §3: utf-8-addr-xtext, non-ASCII as \x{code point}
              "RCPT TO:<jürgen@example.test> NOTIFY=FAILURE ORCPT=utf-8;j\\x{FC}rgen@example.test");
    }
  }

  @Test
  void withoutOriginalRecipientsNoOrcptGoes() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = start(f, b -> b.capabilities("8BITMIME", "DSN"));
      send(
          f,
          Envelope.of("a@sender.test", "a@example.test")
              .withDsn(DsnRequest.serverDefault().withRet(Ret.FULL).withOriginalRecipients(false)));
      assertThat(envelopeLines(mx.sessions().get(0)))
          .containsExactly("MAIL FROM:<a@sender.test> RET=FULL", "RCPT TO:<a@example.test>");
    }
  }

  @Test
  void pipelinedEnvelopeCarriesTheParameters() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = start(f, b -> b.capabilities("PIPELINING", "8BITMIME", "DSN"));
      DeliveryReport r =
          send(
              f,
              Envelope.of("a@sender.test", "a@example.test", "b@example.test")
                  .withDsn(FULL_REQUEST));
      assertThat(mx.sessions().get(0).commandBatches())
          .anySatisfy(
              batch ->
                  assertThat(batch)
                      .containsExactly(
                          "MAIL FROM:<a@sender.test> RET=HDRS ENVID=q+2B1+3D2+20x",
                          "RCPT TO:<a@example.test> NOTIFY=SUCCESS,FAILURE"
                              + " ORCPT=rfc822;a@example.test",
                          "RCPT TO:<b@example.test> NOTIFY=SUCCESS,FAILURE"
                              + " ORCPT=rfc822;b@example.test",
                          "DATA"));
      assertThat(r.recipients())
          .allSatisfy(x -> assertThat(x.dsn()).isEqualTo(DsnHandling.PASSED_ON));
    }
  }

  /**
   * A refused MAIL FROM opens no transaction: the RCPT TOs that went with it in a pipelined group
   * get 503 (RFC 5321 §4.1.4), so the server never took the recipients' NOTIFY/ORCPT and no
   * notification will come from it. The result says NOT_PASSED_ON, in lock step (no RCPT goes) and
   * pipelined alike, with RCPT TO alone in its group or with BDAT in one round trip.
   */
  @Test
  void aRefusedMailFromPassesTheRequestOnInNoMode() throws Exception {
    assertNotPassedOnInEveryMode(
        SmtpStep.MAIL, SmtpAction.reply(550, "5.7.1", "sender refused"), DeliveryStatus.BOUNCED);
  }

  /**
   * A session lost after RCPT TO was written and before its reply: nothing shows that the server
   * read the request, so none was passed on, in lock step, pipelined and in one round trip alike.
   * The recipient is deferred, and the result must not promise notifications from that server.
   */
  @Test
  void aRcptWrittenIntoALostSessionPassesNothingOn() throws Exception {
    assertNotPassedOnInEveryMode(SmtpStep.RCPT, SmtpAction.disconnect(), DeliveryStatus.DEFERRED);
  }

  /**
   * With {@code step} answered by {@code action}, the recipient ends {@code status} and its DSN
   * request NOT_PASSED_ON in lock step, pipelined, and pipelined with BDAT in one round trip.
   */
  private static void assertNotPassedOnInEveryMode(
      SmtpStep step, SmtpAction action, DeliveryStatus status) throws Exception {
    for (String[] caps :
        List.of(
            new String[] {"8BITMIME", "DSN"},
            new String[] {"PIPELINING", "8BITMIME", "DSN"},
            new String[] {"PIPELINING", "8BITMIME", "DSN", "CHUNKING", "ENHANCEDSTATUSCODES"})) {
      try (Fixture f = new Fixture()) {
        start(f, b -> b.capabilities(caps).on(step, action));
        DeliveryReport r =
            send(f, Envelope.of("a@sender.test", "a@example.test").withDsn(FULL_REQUEST));
        assertThat(r.result("a@example.test").status())
            .as(List.of(caps).toString())
            .isEqualTo(status);
        assertThat(r.result("a@example.test").dsn())
            .as(List.of(caps).toString())
            .isEqualTo(DsnHandling.NOT_PASSED_ON);
      }
    }
  }

  @Test
  void chunkedSendsCarryTheParametersInOneTripAndInChunks() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx =
          start(
              f,
              b ->
                  b.capabilities(
                      "PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", "CHUNKING", "DSN"));
      SecureSmtpTransport t = f.transport(TlsLevel.OPPORTUNISTIC);
      Envelope envelope = Envelope.of("a@sender.test", "a@example.test").withDsn(FULL_REQUEST);
      DeliveryReport small = send(t, envelope, Fixture.MESSAGE);
      // At least BDAT_THRESHOLD (1 MiB): BDAT chunks after the envelope's replies.
      String big = Fixture.MESSAGE + ("x".repeat(998) + "\r\n").repeat(1100);
      DeliveryReport large = send(t, envelope, big);
      assertThat(small.result("a@example.test").status()).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(large.result("a@example.test").status()).isEqualTo(DeliveryStatus.DELIVERED);
      List<String> lines = mx.sessions().stream().flatMap(s -> s.commandLines().stream()).toList();
      assertThat(lines.stream().filter(l -> l.startsWith("BDAT ")).count())
          .isGreaterThanOrEqualTo(3);
      assertThat(lines.stream().filter(l -> l.startsWith("MAIL ")))
          .hasSize(2)
          .allMatch(l -> l.equals("MAIL FROM:<a@sender.test> RET=HDRS ENVID=q+2B1+3D2+20x"));
      assertThat(lines.stream().filter(l -> l.startsWith("RCPT ")))
          .hasSize(2)
          .allMatch(
              l ->
                  l.equals(
                      "RCPT TO:<a@example.test> NOTIFY=SUCCESS,FAILURE"
                          + " ORCPT=rfc822;a@example.test"));
      assertThat(small.result("a@example.test").dsn()).isEqualTo(DsnHandling.PASSED_ON);
      assertThat(large.result("a@example.test").dsn()).isEqualTo(DsnHandling.PASSED_ON);
    }
  }

  @Test
  void aRetryOfTheDeferredRecipientsKeepsTheRequest() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx =
          start(
              f,
              b ->
                  b.capabilities("8BITMIME", "DSN")
                      .onRecipient(
                          "b@example.test",
                          SmtpAction.reply(451, "4.2.1", "try later"),
                          SmtpAction.proceed()));
      SecureSmtpTransport t = f.transport(TlsLevel.OPPORTUNISTIC);
      Envelope envelope =
          Envelope.of("a@sender.test", "a@example.test", "b@example.test")
              .requireTls(false)
              .withDsn(DsnRequest.on(Notify.SUCCESS));
      DeliveryReport first = send(t, envelope, Fixture.MESSAGE);
      assertThat(first.result("b@example.test").status()).isEqualTo(DeliveryStatus.DEFERRED);
      Envelope retry = envelope.withRecipients(List.of(EmailAddress.parse("b@example.test")));
      assertThat(retry.dsn()).contains(DsnRequest.on(Notify.SUCCESS));
      DeliveryReport second = send(t, retry, Fixture.MESSAGE);
      assertThat(second.result("b@example.test").status()).isEqualTo(DeliveryStatus.DELIVERED);
      List<String> lines = mx.sessions().stream().flatMap(s -> s.commandLines().stream()).toList();
      assertThat(lines.stream().filter(l -> l.startsWith("RCPT TO:<b@")))
          .containsExactly(
              "RCPT TO:<b@example.test> NOTIFY=SUCCESS ORCPT=rfc822;b@example.test",
              "RCPT TO:<b@example.test> NOTIFY=SUCCESS ORCPT=rfc822;b@example.test");
    }
  }

  @Test
  void envelopeChangesKeepTheRequest() {
    Envelope e = Envelope.of("a@sender.test", "a@example.test").withDsn(FULL_REQUEST);
    assertThat(e.requireTls(true).dsn()).contains(FULL_REQUEST);
    assertThat(e.withRecipients(List.of(EmailAddress.parse("c@example.test"))).dsn())
        .contains(FULL_REQUEST);
    assertThat(e.withoutDsn().dsn()).isEmpty();
    assertThat(Envelope.of("a@sender.test", "a@example.test").dsn()).isEmpty();
    assertThat(
            new Envelope(Optional.empty(), List.of(EmailAddress.parse("a@example.test")), true)
                .dsn())
        .isEmpty();
  }

  @Test
  void badRequestsFailWhenBuiltNotWhenSent() {
    // RFC 3461 §4.1: NEVER stands alone.
    assertThatThrownBy(() -> DsnRequest.on(Notify.NEVER, Notify.FAILURE))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("RFC 3461 §4.1");
    // RFC 3461 §4.4: printable US-ASCII, at most 100 characters as xtext.
    DsnRequest base = DsnRequest.serverDefault();
    assertThatThrownBy(() -> base.withEnvelopeId("x".repeat(101)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("RFC 3461 §4.4");
    assertThatThrownBy(() -> base.withEnvelopeId("+".repeat(34))) // 102 as xtext
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> base.withEnvelopeId("id\r\nRSET"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> base.withEnvelopeId("idé"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> base.withEnvelopeId("")).isInstanceOf(IllegalArgumentException.class);
    assertThat(base.withEnvelopeId("x".repeat(100)).envelopeId()).contains("x".repeat(100));
    assertThat(DsnRequest.on(Notify.DELAY, Notify.SUCCESS).notifyOn())
        .containsExactly(Notify.SUCCESS, Notify.DELAY);
  }
}
