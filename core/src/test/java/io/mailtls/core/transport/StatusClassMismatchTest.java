package io.mailtls.core.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.Envelope;
import io.mailtls.core.FailureType;
import io.mailtls.core.MessageContent;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.TlsLevel;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.SmtpAction;
import io.mailtls.testkit.SmtpMessage;
import io.mailtls.testkit.SmtpStep;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * One rule for a reply whose enhanced status code has a class that contradicts its basic code (RFC
 * 3463 §2, RFC 2034 §4 tie the two together), such as {@code 250 5.0.0 queued}: the basic code
 * decides what the client does (RFC 5321 §4.2.1), and the contradicting code is not the reply's
 * status (kept in the text, never acted on, never reported), as Postfix's {@code smtp_chat.c}
 * ignores such "out-of-protocol" codes. The same reply means the same on every path: the final dot
 * after DATA, BDAT LAST in one round trip, and each chunk of a chunked message.
 *
 * <p>Where BDAT has no 354 to show that replies and commands still match, a positive reply from a
 * server that puts status codes in its replies must carry one (RFC 2034 §4): that is a check of the
 * reply's form, and a code of the wrong class is there all the same. It neither hides the verdict
 * (the 250 delivers) nor, in the reply to MAIL, turns the check off.
 */
class StatusClassMismatchTest {

  /** A server offering status codes and PIPELINING but not CHUNKING: the message goes by DATA. */
  private static final String[] WITHOUT_CHUNKING = {
    "PIPELINING", "SIZE 1073741824", "8BITMIME", "ENHANCEDSTATUSCODES"
  };

  private static MockSmtpServer oneMx(Fixture f, UnaryOperator<MockSmtpServer.Builder> b) {
    MockSmtpServer mx = f.server("127.0.0.2", s -> b.apply(s.hostname("mx2.example.test")));
    f.dns(d -> d.zone("example.test", z -> z.mailHost("example.test", 10, "mx2.example.test", mx)));
    return mx;
  }

  private static void deliveredOnThe250(RecipientResult r, MockSmtpServer mx) {
    assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DELIVERED);
    assertThat(r.reply().code()).isEqualTo(250);
    assertThat(r.reply().enhancedStatus()).as("a contradicting code is no status").isEmpty();
    assertThat(r.reply().text()).isEqualTo("5.0.0 queued");
    assertThat(mx.messages()).singleElement().satisfies(m -> assertThat(m.accepted()).isTrue());
  }

  /** The final dot after DATA: the 250 decides, as RFC 5321 §4.2.1 has it. */
  @Test
  void a250WithAClass5StatusToTheFinalDotDelivers() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx =
          oneMx(
              f,
              b ->
                  b.capabilities(WITHOUT_CHUNKING)
                      .on(SmtpStep.DATA_END, SmtpAction.reply(250, "5.0.0 queued")));
      RecipientResult r = f.send(TlsLevel.OPPORTUNISTIC, "a@example.test").result("a@example.test");
      deliveredOnThe250(r, mx);
      assertThat(mx.sessions().get(0).commandLines()).contains("DATA");
    }
  }

  /**
   * BDAT LAST in one round trip: the same reply is the same verdict. Deferring it would send the
   * message the server took a second time (RFC 5321 §6.1).
   */
  @Test
  void a250WithAClass5StatusToBdatLastDeliversAsOnTheFinalDot() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx =
          oneMx(f, b -> b.on(SmtpStep.DATA_END, SmtpAction.reply(250, "5.0.0 queued")));
      RecipientResult r = f.send(TlsLevel.OPPORTUNISTIC, "a@example.test").result("a@example.test");
      deliveredOnThe250(r, mx);
      assertThat(mx.sessions().get(0).commandLines()).anyMatch(l -> l.startsWith("BDAT "));
    }
  }

  /** A chunked message (RFC 3030 §2): the reply to a chunk and to the last one, alike. */
  @Test
  void a250WithAContradictingStatusToEachChunkDeliversAChunkedMessage() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx =
          oneMx(
              f,
              b ->
                  b.on(SmtpStep.BDAT, SmtpAction.reply(250, "4.0.0 chunk taken"))
                      .on(SmtpStep.DATA_END, SmtpAction.reply(250, "5.0.0 queued")));
      String text = "Subject: big\r\n\r\n" + "x".repeat(70).concat("\r\n").repeat(24_000);
      DeliveryReport report =
          f.transport(TlsLevel.OPPORTUNISTIC)
              .send(
                  Envelope.of("a@sender.test", "a@example.test"),
                  MessageContent.of(text.getBytes(StandardCharsets.US_ASCII)));
      deliveredOnThe250(report.result("a@example.test"), mx);
      assertThat(mx.sessions().get(0).commandLines())
          .filteredOn(l -> l.startsWith("BDAT "))
          .hasSizeGreaterThan(1);
      assertThat(mx.messages().get(0).dataAsString()).isEqualTo(text);
    }
  }

  /**
   * A contradicting code in the reply to MAIL still shows that the server puts status codes in its
   * replies (RFC 2034 §4), so a surplus "250 ok" without one, read where the verdict on BDAT LAST
   * is due while the real verdict (a 554) is still to come, is never taken for it.
   */
  @Test
  void aContradictingStatusToMailKeepsASurplusReplyFromPassingForTheVerdict() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx =
          oneMx(
              f,
              b ->
                  b.on(SmtpStep.MAIL, SmtpAction.reply(250, "5.1.0 sender ok"))
                      .on(SmtpStep.RCPT, SmtpAction.proceed().followedBy("250 ok\r\n"))
                      .on(
                          SmtpStep.DATA_END,
                          SmtpAction.reply(554, "5.7.1", "message refused")
                              .after(Duration.ofMillis(700))));
      RecipientResult r = f.send(TlsLevel.OPPORTUNISTIC, "a@example.test").result("a@example.test");
      assertThat(mx.awaitMessages(1, Duration.ofSeconds(5)))
          .as("the server refused the message")
          .noneMatch(SmtpMessage::accepted);
      assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(r.attempt().orElseThrow().failure()).contains(FailureType.PROTOCOL_ERROR);
    }
  }

  /** MAIL and RCPT: the basic code decides, whatever class the code in the text has. */
  @Test
  void envelopeRepliesAreDecidedByTheirBasicCode() throws Exception {
    for (String[] caps : new String[][] {WITHOUT_CHUNKING, null}) {
      try (Fixture f = new Fixture()) {
        MockSmtpServer mx =
            oneMx(
                f,
                b -> {
                  MockSmtpServer.Builder s = caps == null ? b : b.capabilities(caps);
                  return s.on(
                      SmtpStep.RCPT,
                      SmtpAction.reply(250, "5.1.5 ok"),
                      SmtpAction.reply(550, "2.1.1 no such user"),
                      SmtpAction.reply(450, "5.2.1 try later"));
                });
        DeliveryReport r =
            f.send(TlsLevel.OPPORTUNISTIC, "a@example.test", "b@example.test", "c@example.test");
        String path = caps == null ? "BDAT" : "DATA";
        assertThat(r.result("a@example.test").status())
            .as(path + " %s", r)
            .isEqualTo(DeliveryStatus.DELIVERED);
        assertThat(r.result("b@example.test").status())
            .as(path + " %s", r)
            .isEqualTo(DeliveryStatus.BOUNCED);
        assertThat(r.result("b@example.test").reply().enhancedStatus()).isEmpty();
        assertThat(r.result("c@example.test").status())
            .as(path + " %s", r)
            .isEqualTo(DeliveryStatus.DEFERRED);
        assertThat(mx.messages().get(0).recipients()).containsExactly("a@example.test");
      }
    }
  }
}
