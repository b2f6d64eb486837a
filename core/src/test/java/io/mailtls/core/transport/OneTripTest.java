package io.mailtls.core.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.ContentDescriptor;
import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.Envelope;
import io.mailtls.core.FailureType;
import io.mailtls.core.MessageContent;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.core.TlsLevel;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.SmtpAction;
import io.mailtls.testkit.SmtpMessage;
import io.mailtls.testkit.SmtpSession;
import io.mailtls.testkit.SmtpStep;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * A message of known size, up to 256 KiB, to a server that offers PIPELINING and CHUNKING goes in
 * one round trip: MAIL, the RCPTs and {@code BDAT n LAST} with the whole message in one write (RFC
 * 3030 §4.2), then the replies in order. Content that fails or breaks its declaration sends
 * nothing; after the write, whatever the replies do not decide is deferred, never tried elsewhere.
 */
class OneTripTest {

  private static final String SUBJECT_LINE = "Subject: hi\r\n";

  private static MockSmtpServer mx(Fixture f, String ip, UnaryOperator<MockSmtpServer.Builder> b) {
    return f.server(ip, s -> b.apply(s.hostname(host(ip))));
  }

  /** mx2.example.test for 127.0.0.2. */
  private static String host(String ip) {
    return "mx" + ip.substring(ip.lastIndexOf('.') + 1) + ".example.test";
  }

  private static MockSmtpServer oneMx(Fixture f, UnaryOperator<MockSmtpServer.Builder> b) {
    MockSmtpServer mx = mx(f, "127.0.0.2", b);
    f.dns(d -> d.zone("example.test", z -> z.mailHost("example.test", 10, "mx2.example.test", mx)));
    return mx;
  }

  /** A second MX host, mx3.example.test (preference 20), behind {@code first} (10). */
  private static MockSmtpServer backup(Fixture f, MockSmtpServer first) {
    MockSmtpServer second = mx(f, "127.0.0.3", b -> b);
    f.dns(
        d ->
            d.zone(
                "example.test",
                z ->
                    z.mailHost("example.test", 10, "mx2.example.test", first)
                        .mailHost("example.test", 20, "mx3.example.test", second)));
    return second;
  }

  /** A session as recorded so far (a pooled one is still open). */
  private static SmtpSession session(MockSmtpServer mx, int index) {
    return mx.sessions().get(index);
  }

  private static List<String> transactionBatch(SmtpSession s) {
    return s.commandBatches().stream()
        .filter(b -> b.stream().anyMatch(l -> l.startsWith("MAIL FROM:")))
        .findFirst()
        .orElseThrow();
  }

  @Test
  void theEnvelopeAndTheWholeMessageGoInOneWrite() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = oneMx(f, b -> b);
      DeliveryReport r = f.send(TlsLevel.OPPORTUNISTIC, "a@example.test", "b@example.test");
      assertThat(r.allDelivered()).isTrue();
      SmtpSession s = session(mx, 0);
      int size = Fixture.MESSAGE.getBytes(StandardCharsets.UTF_8).length;
      assertThat(transactionBatch(s))
          .containsExactly(
              "MAIL FROM:<a@sender.test> SIZE=" + size,
              "RCPT TO:<a@example.test>",
              "RCPT TO:<b@example.test>",
              "BDAT " + size + " LAST");
      assertThat(s.commandLines()).doesNotContain("DATA");
      SmtpMessage m = mx.messages().get(0);
      assertThat(m.chunked()).isTrue();
      assertThat(m.dataAsString()).isEqualTo(Fixture.MESSAGE);
      assertThat(m.recipients()).containsExactly("a@example.test", "b@example.test");
    }
  }

  @Test
  void lineBreaksAreNormalisedAndDotsLeftAsTheyAre() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = oneMx(f, b -> b);
      String text = "From: a@sender.test\n" + SUBJECT_LINE + "\n.a dot\rlone CR\nend";
      DeliveryReport r =
          f.transport(TlsLevel.OPPORTUNISTIC)
              .send(
                  Envelope.of("a@sender.test", "a@example.test"),
                  MessageContent.of(text.getBytes(StandardCharsets.UTF_8)));
      assertThat(r.allDelivered()).isTrue();
      assertThat(mx.messages().get(0).dataAsString())
          // BDAT carries the octets as they are (RFC 3030 §2): no dot-stuffing, no CRLF added.
          .isEqualTo("From: a@sender.test\r\n" + SUBJECT_LINE + "\r\n.a dot\r\nlone CR\r\nend");
    }
  }

  @Test
  void aCallersArrayWithOnlyCrlfLineBreaksArrivesOctetForOctet() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = oneMx(f, b -> b);
      // 8-bit text, a line that starts with a dot, a NUL and no line break at the end: BDAT
      // carries all of it as it is (RFC 3030 §2).
      byte[] octets =
          ("From: a@sender.test\r\n" + SUBJECT_LINE + "\r\nGrüße\r\n.dot\r\nnul\0\r\nend")
              .getBytes(StandardCharsets.UTF_8);
      DeliveryReport r =
          f.transport(TlsLevel.OPPORTUNISTIC)
              .send(Envelope.of("a@sender.test", "a@example.test"), MessageContent.of(octets));
      assertThat(r.allDelivered()).isTrue();
      assertThat(transactionBatch(session(mx, 0)))
          .containsExactly(
              // RFC 1870 §4: SIZE counts the CRLF an unterminated last line gets with DATA.
              "MAIL FROM:<a@sender.test> SIZE=" + (octets.length + 2) + " BODY=8BITMIME",
              "RCPT TO:<a@example.test>",
              "BDAT " + octets.length + " LAST");
      assertThat(mx.messages().get(0).data()).isEqualTo(octets);
    }
  }

  @Test
  void aCallersArrayEndingInALoneCrIsNormalisedNotSentAsItIs() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = oneMx(f, b -> b);
      byte[] octets =
          ("From: a@sender.test\r\n" + SUBJECT_LINE + "\r\nend\r").getBytes(StandardCharsets.UTF_8);
      DeliveryReport r =
          f.transport(TlsLevel.OPPORTUNISTIC)
              .send(Envelope.of("a@sender.test", "a@example.test"), MessageContent.of(octets));
      assertThat(r.allDelivered()).isTrue();
      assertThat(mx.messages().get(0).dataAsString())
          .isEqualTo("From: a@sender.test\r\n" + SUBJECT_LINE + "\r\nend\r\n");
      assertThat(octets[octets.length - 1])
          .as("the caller's array is left as it was")
          .isEqualTo((byte) '\r');
    }
  }

  @Test
  void aRefusedRecipientBouncesAndTheOthersAreDelivered() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx =
          oneMx(
              f,
              b ->
                  b.on(
                      SmtpStep.RCPT,
                      SmtpAction.proceed(),
                      SmtpAction.reply(550, "5.1.1", "no such user"),
                      SmtpAction.proceed()));
      DeliveryReport r = f.send(TlsLevel.OPPORTUNISTIC, "a@example.test", "b@example.test");
      assertThat(r.result("a@example.test").status()).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(r.result("b@example.test").status()).isEqualTo(DeliveryStatus.BOUNCED);
      assertThat(r.result("b@example.test").reply().code()).isEqualTo(550);
      assertThat(mx.messages().get(0).recipients()).containsExactly("a@example.test");
    }
  }

  @Test
  void everyRecipientRefusedSendsRsetAndTheConnectionServesTheNextMessage() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx =
          oneMx(
              f,
              b ->
                  b.on(
                      SmtpStep.RCPT,
                      SmtpAction.reply(550, "5.1.1", "no such user"),
                      SmtpAction.reply(450, "4.2.1", "try later"),
                      SmtpAction.proceed()));
      SecureSmtpTransport t = f.transport(TlsLevel.OPPORTUNISTIC);
      DeliveryReport r = Fixture.send(t, "a@example.test", "b@example.test");
      assertThat(r.result("a@example.test").status()).isEqualTo(DeliveryStatus.BOUNCED);
      assertThat(r.result("b@example.test").status()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(r.result("b@example.test").reply().code()).isEqualTo(450);
      assertThat(mx.messages()).noneMatch(SmtpMessage::accepted);

      assertThat(Fixture.send(t, "c@example.test").allDelivered()).isTrue();
      assertThat(mx.sessions()).hasSize(1);
      assertThat(session(mx, 0).commandLines()).contains("RSET");
    }
  }

  @Test
  void aRefusedMailDecidesEveryRecipient() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx =
          oneMx(f, b -> b.on(SmtpStep.MAIL, SmtpAction.reply(553, "5.7.1", "sender refused")));
      DeliveryReport r = f.send(TlsLevel.OPPORTUNISTIC, "a@example.test", "b@example.test");
      assertThat(r.recipients())
          .allSatisfy(
              x -> {
                assertThat(x.status()).isEqualTo(DeliveryStatus.BOUNCED);
                assertThat(x.reply().code()).isEqualTo(553);
              });
      assertThat(mx.messages()).noneMatch(SmtpMessage::accepted);
    }
  }

  @Test
  void aRefusedLastChunkDecidesTheAcceptedRecipients() throws Exception {
    try (Fixture f = new Fixture()) {
      oneMx(f, b -> b.on(SmtpStep.DATA_END, SmtpAction.reply(452, "4.3.1", "disk full")));
      RecipientResult r = f.send(TlsLevel.OPPORTUNISTIC, "a@example.test").result("a@example.test");
      assertThat(r.status()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(r.reply().code()).isEqualTo(452);
    }
  }

  @Test
  void contentThatCannotBeReadSendsNothingAndLeavesTheConnectionClean() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = oneMx(f, b -> b);
      SecureSmtpTransport t = f.transport(TlsLevel.OPPORTUNISTIC);
      ContentDescriptorTest.Pushing failing =
          new ContentDescriptorTest.Pushing(
              Fixture.MESSAGE,
              Optional.of(new ContentDescriptor(false, false, OptionalLong.of(60))),
              14);
      RecipientResult r =
          t.send(Envelope.of("a@sender.test", "a@example.test"), failing).result("a@example.test");
      assertThat(r.status()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(r.reply().text()).contains("could not be read").contains("disk on fire");

      assertThat(Fixture.send(t, "c@example.test").allDelivered()).isTrue();
      assertThat(mx.sessions()).hasSize(1);
      assertThat(mx.messages()).hasSize(1);
      assertThat(session(mx, 0).commandLines().stream().filter(l -> l.startsWith("MAIL")))
          .hasSize(1);
    }
  }

  @Test
  void contentThatBreaksItsDeclarationSendsNothing() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = oneMx(f, b -> b);
      ContentDescriptorTest.Pushing eightBit =
          new ContentDescriptorTest.Pushing(
              "Subject: x\r\n\r\nnaïve\r\n",
              Optional.of(new ContentDescriptor(false, false, OptionalLong.of(30))));
      RecipientResult r =
          f.transport(TlsLevel.OPPORTUNISTIC)
              .send(Envelope.of("a@sender.test", "a@example.test"), eightBit)
              .result("a@example.test");
      assertThat(r.status()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(r.reply().text()).contains("broke its declaration").contains("8-bit");
      assertThat(session(mx, 0).commandLines()).noneMatch(l -> l.startsWith("MAIL"));
      assertThat(mx.messages()).isEmpty();
    }
  }

  @Test
  void contentLargerThanItsDeclaredSizeGoesTheUsualWay() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = oneMx(f, b -> b);
      String text = "Subject: long\r\n\r\n" + "a line of text\r\n".repeat(500);
      ContentDescriptorTest.Pushing understated =
          new ContentDescriptorTest.Pushing(
              text, Optional.of(new ContentDescriptor(false, false, OptionalLong.of(100))));
      DeliveryReport r =
          f.transport(TlsLevel.OPPORTUNISTIC)
              .send(Envelope.of("a@sender.test", "a@example.test"), understated);
      assertThat(r.allDelivered()).isTrue();
      assertThat(session(mx, 0).commandLines()).contains("DATA");
      assertThat(mx.messages().get(0).dataAsString()).isEqualTo(text);
      assertThat(understated.writes).hasValue(2);
    }
  }

  @Test
  void aMessageOverTheOneTripSizeGoesTheUsualWay() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = oneMx(f, b -> b);
      String text = "Subject: big\r\n\r\n" + "x".repeat(70).concat("\r\n").repeat(4_000);
      DeliveryReport r =
          f.transport(TlsLevel.OPPORTUNISTIC)
              .send(
                  Envelope.of("a@sender.test", "a@example.test"),
                  MessageContent.of(text.getBytes(StandardCharsets.US_ASCII)));
      assertThat(r.allDelivered()).isTrue();
      assertThat(session(mx, 0).commandLines()).contains("DATA");
      assertThat(mx.messages().get(0).dataAsString()).isEqualTo(text);
    }
  }

  @Test
  void aServerWithoutChunkingOrPipeliningGetsData() throws Exception {
    for (String[] caps :
        List.of(new String[] {"PIPELINING", "8BITMIME"}, new String[] {"CHUNKING", "8BITMIME"})) {
      try (Fixture f = new Fixture()) {
        MockSmtpServer mx = oneMx(f, b -> b.capabilities(caps));
        assertThat(f.send(TlsLevel.OPPORTUNISTIC, "a@example.test").allDelivered()).isTrue();
        assertThat(session(mx, 0).commandLines()).contains("DATA");
      }
    }
  }

  /**
   * The server has the message once the write is out: a connection lost before the verdict defers,
   * and the second MX host never sees it.
   */
  @Test
  void aConnectionLostAfterTheWriteDefersAndTriesNoOtherHost() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer first =
          mx(f, "127.0.0.2", b -> b.on(SmtpStep.DATA_END, SmtpAction.disconnect()));
      MockSmtpServer second = backup(f, first);
      RecipientResult r = f.send(TlsLevel.OPPORTUNISTIC, "a@example.test").result("a@example.test");
      assertThat(r.status()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(r.reply().code()).isEqualTo(451);
      assertThat(second.sessions()).isEmpty();
    }
  }

  /**
   * RFC 3030 §2: a 250 where the reply to BDAT LAST is due, after every RCPT was refused, does not
   * add up (here the server's own refusal of the chunk follows it): nothing is decided by it.
   */
  @Test
  void aPositiveLastReplyWithoutARecipientIsAProtocolError() throws Exception {
    try (Fixture f = new Fixture()) {
      oneMx(
          f,
          b ->
              b.on(
                  SmtpStep.RCPT,
                  SmtpAction.reply(550, "5.1.1", "no such user")
                      .followedBy("250 2.0.0 queued anyway\r\n")));
      RecipientResult r = f.send(TlsLevel.OPPORTUNISTIC, "a@example.test").result("a@example.test");
      assertThat(r.status()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(r.attempt().orElseThrow().failure()).contains(FailureType.PROTOCOL_ERROR);
    }
  }

  /**
   * A surplus reply after RCPT shifts every later reply by one, so the RCPT's "250 2.1.5" would be
   * read as the verdict on the message: with ENHANCEDSTATUSCODES, an address status there (RFC 3463
   * §3.3) shows the shift, and the real verdict, if it has arrived, is surplus input (RFC 2920
   * §3.1). Either way a protocol error: deferred, and the connection is not used again.
   */
  @Test
  void moreRepliesThanCommandsDeferEvenAfterA250() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx =
          oneMx(
              f,
              b ->
                  b.on(
                      SmtpStep.RCPT,
                      SmtpAction.proceed().followedBy("250 2.1.5 one reply too many\r\n"),
                      SmtpAction.proceed()));
      SecureSmtpTransport t = f.transport(TlsLevel.OPPORTUNISTIC);
      RecipientResult r = Fixture.send(t, "a@example.test").result("a@example.test");
      assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(r.attempt().orElseThrow().failure()).contains(FailureType.PROTOCOL_ERROR);
      // The connection is not used again.
      assertThat(Fixture.send(t, "c@example.test").allDelivered()).isTrue();
      assertThat(mx.sessions()).hasSize(2);
    }
  }

  /**
   * A surplus reply after RCPT that carries no enhanced status code, while the real verdict (a 554)
   * is still to come: read in order, the surplus stands where the verdict on BDAT LAST is due. A
   * server that puts status codes in its replies (RFC 2034 §4) puts one in that verdict too, so a
   * 250 without one is out of step: deferred, never delivered on it, and the connection not used
   * again.
   */
  @Test
  void aSurplusReplyWithoutAStatusCodeIsNeverTakenForTheVerdict() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx =
          oneMx(
              f,
              b ->
                  b.on(SmtpStep.RCPT, SmtpAction.proceed().followedBy("250 ok\r\n"))
                      .on(
                          SmtpStep.DATA_END,
                          SmtpAction.reply(554, "5.7.1", "message refused")
                              .after(Duration.ofMillis(700))));
      RecipientResult r = f.send(TlsLevel.OPPORTUNISTIC, "a@example.test").result("a@example.test");
      assertThat(mx.awaitMessages(1, Duration.ofSeconds(5)).get(0).accepted())
          .as("the server refused the message")
          .isFalse();
      assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(r.attempt().orElseThrow().failure()).contains(FailureType.PROTOCOL_ERROR);
      assertThat(session(mx, 0).commandLines()).anyMatch(l -> l.startsWith("BDAT "));
    }
  }

  /**
   * Without ENHANCEDSTATUSCODES nothing could tell a surplus reply from the verdict on BDAT, so a
   * server that offers CHUNKING but no status codes gets DATA, whose 354 shows that replies and
   * commands still match: the same surplus reply then stands where the 354 is due, a protocol error
   * before any content went out.
   */
  @Test
  void withoutStatusCodesChunkingIsNotUsedAndASurplusReplyIsCaughtAtData() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx =
          oneMx(f, b -> b.capabilities("PIPELINING", "8BITMIME", "CHUNKING", "SIZE 10000000"));
      assertThat(f.send(TlsLevel.OPPORTUNISTIC, "a@example.test").allDelivered()).isTrue();
      assertThat(session(mx, 0).commandLines())
          .contains("DATA")
          .noneMatch(l -> l.startsWith("BDAT"));
    }
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx =
          oneMx(
              f,
              b ->
                  b.capabilities("PIPELINING", "8BITMIME", "CHUNKING")
                      .on(SmtpStep.RCPT, SmtpAction.proceed().followedBy("250 ok\r\n"))
                      .on(
                          SmtpStep.DATA_END,
                          SmtpAction.reply(554, "message refused").after(Duration.ofMillis(700))));
      RecipientResult r = f.send(TlsLevel.OPPORTUNISTIC, "a@example.test").result("a@example.test");
      assertThat(r.status()).as("%s", r).isNotEqualTo(DeliveryStatus.DELIVERED);
      assertThat(r.attempt().orElseThrow().failure()).contains(FailureType.PROTOCOL_ERROR);
      assertThat(mx.messages()).as("no content went out").isEmpty();
    }
  }

  /** RFC 5321 §4.3.2: a 354 is no answer to RCPT; the replies decide nothing. */
  @Test
  void a354ToRcptIsAProtocolErrorThatDecidesNothing() throws Exception {
    try (Fixture f = new Fixture()) {
      oneMx(f, b -> b.on(SmtpStep.RCPT, SmtpAction.reply(354, "go ahead"), SmtpAction.proceed()));
      DeliveryReport r = f.send(TlsLevel.OPPORTUNISTIC, "a@example.test", "b@example.test");
      assertThat(r.recipients())
          .allSatisfy(
              x -> {
                assertThat(x.status()).isEqualTo(DeliveryStatus.DEFERRED);
                assertThat(x.attempt().orElseThrow().failure())
                    .contains(FailureType.PROTOCOL_ERROR);
              });
    }
  }

  /**
   * A reply after the last one: without DATA's 354 nothing showed that replies and commands
   * matched, so the 250 may not be the verdict. Deferred (a duplicate at worst, never a loss).
   */
  @Test
  void extraInputAfterTheLastReplyDefers() throws Exception {
    try (Fixture f = new Fixture()) {
      oneMx(
          f,
          b ->
              b.on(
                  SmtpStep.DATA_END,
                  SmtpAction.proceed().followedBy("554 5.0.0 the real one\r\n")));
      RecipientResult r = f.send(TlsLevel.OPPORTUNISTIC, "a@example.test").result("a@example.test");
      assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(r.attempt().orElseThrow().failure()).contains(FailureType.PROTOCOL_ERROR);
    }
  }

  /**
   * The content has left with the envelope, so a server may judge the whole message before it
   * answers MAIL: each reply waits as long as the verdict may (RFC 5321 §4.5.3.2.6), not the
   * command timeout.
   */
  @Test
  void repliesHeldUntilTheMessageIsJudgedWaitAsLongAsTheVerdict() throws Exception {
    try (Fixture f = new Fixture()) {
      Duration s5 = Duration.ofSeconds(5);
      f.timeouts = new SmtpTimeouts(s5, s5, Duration.ofMillis(300), s5, s5, s5, s5);
      oneMx(f, b -> b.on(SmtpStep.MAIL, SmtpAction.proceed().after(Duration.ofMillis(900))));
      RecipientResult r = f.send(TlsLevel.OPPORTUNISTIC, "a@example.test").result("a@example.test");
      assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DELIVERED);
    }
  }

  /** A 421 to MAIL (RFC 5321 §3.8): no transaction took the message, so the next host is tried. */
  @Test
  void a421ToMailSendsTheRecipientsToTheNextHost() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer first =
          mx(f, "127.0.0.2", b -> b.on(SmtpStep.MAIL, SmtpAction.reply(421, "4.3.2", "closing")));
      MockSmtpServer second = backup(f, first);
      RecipientResult r = f.send(TlsLevel.OPPORTUNISTIC, "a@example.test").result("a@example.test");
      assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(first.messages()).noneMatch(SmtpMessage::accepted);
      assertThat(second.messages())
          .singleElement()
          .satisfies(m -> assertThat(m.chunked()).isTrue());
    }
  }

  /** Text far larger than its declared size: the chunk overflows while the content writes. */
  private static final String UNDERSTATED =
      "Subject: long\r\n\r\n" + "a line of text that goes on\r\n".repeat(2_000);

  private static void wentTheUsualWayOnce(MockSmtpServer mx, DeliveryReport r) {
    assertThat(r.allDelivered()).isTrue();
    List<String> lines = session(mx, 0).commandLines();
    assertThat(lines.stream().filter(l -> l.startsWith("MAIL"))).hasSize(1);
    assertThat(lines).contains("DATA").noneMatch(l -> l.startsWith("BDAT"));
    assertThat(mx.messages().get(0).dataAsString()).isEqualTo(UNDERSTATED);
  }

  @Test
  void contentOverflowingItsDeclaredSizeWhileWritingGoesTheUsualWay() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = oneMx(f, b -> b);
      ContentDescriptorTest.Pushing understated =
          new ContentDescriptorTest.Pushing(
              UNDERSTATED, Optional.of(new ContentDescriptor(false, false, OptionalLong.of(100))));
      wentTheUsualWayOnce(
          mx,
          f.transport(TlsLevel.OPPORTUNISTIC)
              .send(Envelope.of("a@sender.test", "a@example.test"), understated));
      assertThat(understated.writes).hasValue(2);
    }
  }

  /**
   * A content that swallows the overflow's exception and returns as if all went well: what it left
   * in the chunk is a cut message, and never goes out.
   */
  @Test
  void contentThatSwallowsTheOverflowStillGoesTheUsualWay() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = oneMx(f, b -> b);
      byte[] octets = UNDERSTATED.getBytes(StandardCharsets.US_ASCII);
      MessageContent swallowing =
          new MessageContent() {
            @Override
            public java.io.InputStream open() {
              return new java.io.ByteArrayInputStream(octets);
            }

            @Override
            public void writeTo(java.io.OutputStream out) {
              for (int i = 0; i < octets.length; i += 100) {
                try {
                  out.write(octets, i, Math.min(100, octets.length - i));
                } catch (java.io.IOException ignored) {
                  // a careless content: carries on
                }
              }
            }

            @Override
            public Optional<ContentDescriptor> descriptor() {
              return Optional.of(new ContentDescriptor(false, false, OptionalLong.of(100)));
            }
          };
      wentTheUsualWayOnce(
          mx,
          f.transport(TlsLevel.OPPORTUNISTIC)
              .send(Envelope.of("a@sender.test", "a@example.test"), swallowing));
    }
  }
}
