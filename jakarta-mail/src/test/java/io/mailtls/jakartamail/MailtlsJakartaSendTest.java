package io.mailtls.jakartamail;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.Authentication;
import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.Envelope;
import io.mailtls.core.FailureType;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.TlsLevel;
import io.mailtls.testkit.SmtpMessage;
import jakarta.mail.BodyPart;
import jakarta.mail.Multipart;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import jakarta.mail.internet.MimeUtility;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link MailtlsJakarta#send} end to end with real Angus Mail messages: DNS from the testkit's
 * signed zones, delivery to a mock SMTP server with real STARTTLS, the received octets compared
 * with an independent {@code writeTo}.
 */
class MailtlsJakartaSendTest {

  private static final List<String> RECIPIENTS =
      List.of("to@example.test", "cc@example.test", "hidden@example.test");

  @AfterEach
  void noWriterThreadOutlivesItsTest() throws InterruptedException {
    assertThat(WriterThreadsProbe.awaitNone(Duration.ofSeconds(10))).isEmpty();
  }

  @ParameterizedTest
  @EnumSource(
      value = TlsLevel.class,
      names = {"OPPORTUNISTIC", "ENFORCED"})
  void aMultipartMessageArrivesOctetForOctet(TlsLevel level) throws Exception {
    byte[] attachment = Messages.binary(300 * 1024);
    try (Loopback net = Loopback.start(b -> b.tls(Loopback.certFor(Loopback.MX)))) {
      MimeMessage m = Messages.multipart(attachment);

      DeliveryReport report = MailtlsJakarta.send(net.transport(level), m);

      assertThat(report.recipients())
          .hasSize(3)
          .allSatisfy(
              r -> {
                assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DELIVERED);
                assertThat(r.authentication()).contains(Authentication.ENCRYPTED);
              });
      SmtpMessage got = net.server.awaitMessages(1, Duration.ofSeconds(10)).get(0);
      assertThat(got.tls()).isTrue();
      assertThat(got.mailFrom()).isEqualTo("a@sender.test");
      assertThat(got.recipients()).containsExactlyElementsOf(RECIPIENTS);
      // RFC 5321 §4.5.2: the server undid the dot-stuffing; what is left is writeTo's output.
      assertThat(got.data()).isEqualTo(Messages.onTheWire(Messages.written(m)));
      String text = got.dataAsString();
      assertThat(text).doesNotContainIgnoringCase("\r\nBcc:").doesNotContain("hidden@");
      assertThat(text).contains("\r\n.a line that starts").isNotEmpty();

      // And it still reads as the same message.
      MimeMessage back = new MimeMessage(Messages.session(), new ByteArrayInputStream(got.data()));
      assertThat(back.getSubject()).isEqualTo(Messages.SUBJECT);
      assertThat(back.getRecipients(jakarta.mail.Message.RecipientType.BCC)).isNull();
      Multipart parts = (Multipart) back.getContent();
      BodyPart file = parts.getBodyPart(1);
      assertThat(file.getFileName()).isEqualTo(Messages.ATTACHMENT_NAME);
      try (InputStream in = file.getInputStream()) {
        assertThat(in.readAllBytes()).isEqualTo(attachment);
      }
      Multipart alternative = (Multipart) parts.getBodyPart(0).getContent();
      assertThat((String) alternative.getBodyPart(0).getContent())
          .isEqualTo(Messages.TEXT.replace("\n", "\r\n"));
    }
  }

  @Test
  void opportunisticDeliversInPlaintextWhenTheServerHasNoStarttls() throws Exception {
    try (Loopback net = Loopback.start(b -> b)) {
      MimeMessage m = Messages.multipart(Messages.binary(1000));
      DeliveryReport report = MailtlsJakarta.send(net.transport(TlsLevel.OPPORTUNISTIC), m);
      assertThat(report.recipients())
          .allSatisfy(
              r -> {
                assertThat(r.status()).isEqualTo(DeliveryStatus.DELIVERED);
                assertThat(r.authentication()).contains(Authentication.PLAINTEXT);
              });
      SmtpMessage got = net.server.awaitMessages(1, Duration.ofSeconds(10)).get(0);
      assertThat(got.tls()).isFalse();
      assertThat(got.data()).isEqualTo(Messages.onTheWire(Messages.written(m)));
    }
  }

  @Test
  void enforcedDefersWhenTheServerHasNoStarttls() throws Exception {
    try (Loopback net = Loopback.start(b -> b)) {
      DeliveryReport report =
          MailtlsJakarta.send(
              net.transport(TlsLevel.ENFORCED), Messages.multipart(Messages.binary(1000)));
      assertThat(report.recipients())
          .allSatisfy(r -> assertThat(r.status()).isEqualTo(DeliveryStatus.DEFERRED));
      assertThat(net.sawMail()).isFalse();
    }
  }

  /** Without mailtls-mta-sts or mailtls-dane these levels fail closed (docs/design.md §1). */
  @ParameterizedTest
  @EnumSource(
      value = TlsLevel.class,
      names = {"STS_REQUIRED", "DANE_REQUIRED"})
  void levelsThatNeedAProviderFailClosed(TlsLevel level) throws Exception {
    try (Loopback net = Loopback.start(b -> b.tls(Loopback.certFor(Loopback.MX)))) {
      DeliveryReport report =
          MailtlsJakarta.send(net.transport(level), Messages.multipart(Messages.binary(1000)));
      assertThat(report.recipients())
          .hasSize(3)
          .allSatisfy(
              r -> {
                assertThat(r.status()).isEqualTo(DeliveryStatus.DEFERRED);
                assertThat(r.plan().failure().orElseThrow().type())
                    .isEqualTo(FailureType.POLICY_UNAVAILABLE);
              });
      assertThat(net.server.sessions()).isEmpty();
    }
  }

  @Test
  void anExplicitEnvelopeWins() throws Exception {
    try (Loopback net = Loopback.start(b -> b)) {
      MimeMessage m = Messages.multipart(Messages.binary(100));
      DeliveryReport report =
          MailtlsJakarta.send(
              net.transport(TlsLevel.OPPORTUNISTIC),
              m,
              Envelope.of("bounces@sender.test", "only@example.test"));
      assertThat(report.recipients())
          .singleElement()
          .satisfies(r -> assertThat(r.status()).isEqualTo(DeliveryStatus.DELIVERED));
      SmtpMessage got = net.server.awaitMessages(1, Duration.ofSeconds(10)).get(0);
      assertThat(got.mailFrom()).isEqualTo("bounces@sender.test");
      assertThat(got.recipients()).containsExactly("only@example.test");
      assertThat(got.dataAsString()).doesNotContain("hidden@");
    }
  }

  @Test
  void aFailingWriteToDefersEveryRecipientAndNothingIsAccepted() throws Exception {
    try (Loopback net = Loopback.start(b -> b)) {
      // Nothing reads the message before DATA (its descriptor comes from its structure): the
      // failure comes mid-message, which is abandoned without the final dot.
      MimeMessage m = Messages.withSource(new Messages.Failing(100_000, 1));
      DeliveryReport report = MailtlsJakarta.send(net.transport(TlsLevel.OPPORTUNISTIC), m);
      assertThat(report.recipients())
          .hasSize(1)
          .allSatisfy(
              r -> {
                assertThat(r.status()).isEqualTo(DeliveryStatus.DEFERRED);
                assertThat(r.reply().locallyGenerated()).isTrue();
                assertThat(r.reply().text())
                    .contains("content could not be read")
                    .contains("disk on fire");
              });
      assertThat(net.server.messages()).noneMatch(SmtpMessage::accepted);
    }
  }

  @Test
  void theMessageIsReadOncePerSend() throws Exception {
    try (Loopback net = Loopback.start(b -> b)) {
      // Its second reading would fail: there is none (before, a scan read it first).
      Messages.Failing source = new Messages.Failing(200_000, 2);
      MimeMessage m = Messages.withSource(source);
      DeliveryReport report = MailtlsJakarta.send(net.transport(TlsLevel.OPPORTUNISTIC), m);
      assertThat(report.result("to@example.test").status()).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(source.opens).hasValue(1);
      assertThat(net.server.messages()).singleElement().matches(SmtpMessage::accepted);
    }
  }

  @Test
  void aConnectionLostMidMessageStopsTheWriter() throws Exception {
    Messages.Generated source = new Messages.Generated(8L * 1024 * 1024);
    try (Loopback net = Loopback.start(b -> b.dropDuringMessage(100_000))) {
      DeliveryReport report =
          MailtlsJakarta.send(net.transport(TlsLevel.OPPORTUNISTIC), Messages.withSource(source));
      assertThat(report.result("to@example.test").status()).isEqualTo(DeliveryStatus.DEFERRED);
      // The write stopped with the connection: the source was not read to its end.
      assertThat(source.pulled.get()).isLessThan(source.size);
    }
  }

  /**
   * 20 MiB of attachment pass through in constant memory: the content is generated as read, the
   * server keeps only a digest, and the message writes itself into the session's encoder.
   */
  @Test
  void aTwentyMebibyteAttachmentStreams() throws Exception {
    Messages.Generated source = new Messages.Generated(20L * 1024 * 1024);
    try (Loopback net = Loopback.start(b -> b.tls(Loopback.certFor(Loopback.MX)).digestOnly())) {
      MimeMessage m = Messages.withSource(source);
      DeliveryReport report = MailtlsJakarta.send(net.transport(TlsLevel.ENFORCED), m);
      assertThat(report.result("to@example.test").status()).isEqualTo(DeliveryStatus.DELIVERED);
      SmtpMessage got = net.server.awaitMessages(1, Duration.ofSeconds(30)).get(0);

      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      long[] size = new long[1];
      try (OutputStream out =
          new DigestOutputStream(
              new OutputStream() {
                @Override
                public void write(int b) {
                  size[0]++;
                }

                @Override
                public void write(byte[] b, int off, int len) {
                  size[0] += len;
                }
              },
              sha)) {
        m.writeTo(out, new String[] {"Bcc", "Content-Length"});
      }
      assertThat(got.size()).isEqualTo(size[0]).isGreaterThan(20L * 1024 * 1024);
      assertThat(got.sha256()).isEqualTo(sha.digest());
      // The size is not known before the message is written (it is written once, straight into
      // the session), so neither SIZE= nor BDAT, which mailtls chooses by size.
      assertThat(got.chunked()).as("DATA: size unknown in advance").isFalse();
    }
  }

  @Test
  void sendSavesTheMessageLikeTransportSend() throws Exception {
    try (Loopback net = Loopback.start(b -> b)) {
      MimeMessage m = new MimeMessage(Messages.session());
      m.setFrom("a@sender.test");
      m.setRecipients(jakarta.mail.Message.RecipientType.TO, "to@example.test");
      m.setText("plain", "UTF-8");
      assertThat(m.getHeader("Message-ID")).isNull();
      MailtlsJakarta.send(net.transport(TlsLevel.OPPORTUNISTIC), m);
      String id = m.getHeader("Message-ID", null);
      assertThat(id).isNotNull();
      String data =
          new String(
              net.server.awaitMessages(1, Duration.ofSeconds(10)).get(0).data(),
              StandardCharsets.UTF_8);
      assertThat(data).contains("Message-ID: " + id).contains("MIME-Version: 1.0");
    }
  }

  @Test
  void contentCanBeUsedWithTheTransportDirectly() throws Exception {
    try (Loopback net = Loopback.start(b -> b)) {
      MimeMessage m = Messages.multipart(Messages.binary(5000));
      DeliveryReport report =
          net.transport(TlsLevel.OPPORTUNISTIC)
              .send(MailtlsJakarta.envelopeOf(m), MimeMessageContent.of(m));
      assertThat(report.recipients())
          .hasSize(3)
          .allSatisfy(r -> assertThat(r.status()).isEqualTo(DeliveryStatus.DELIVERED));
      assertThat(net.server.awaitMessages(1, Duration.ofSeconds(10)).get(0).data())
          .isEqualTo(Messages.onTheWire(Messages.written(m)));
    }
  }

  /** Every line of what the server received is at most 998 octets (RFC 5321 §4.5.3.1.6). */
  private static void assertShortLines(SmtpMessage got) {
    assertThat(got.dataAsString().split("\r\n"))
        .allSatisfy(
            line ->
                assertThat(line.getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(998));
  }

  private static MimeMessage toOneRecipient() throws Exception {
    MimeMessage m = new MimeMessage(Messages.session());
    m.setFrom("a@sender.test");
    m.setRecipients(jakarta.mail.Message.RecipientType.TO, "to@example.test");
    m.setSubject("long lines");
    return m;
  }

  /**
   * RFC 5321 §4.5.3.1.6: no line over 998 octets may go on the wire, and the transport refuses
   * content with one. A text part that keeps an encoding of its own (here 8bit, set by hand) used
   * to go out with its long line; now Jakarta Mail chooses quoted-printable or base64 for it, as it
   * already did for new parts (the other two).
   */
  @Test
  void aLongTextLineGetsATransferEncoding() throws Exception {
    try (Loopback net = Loopback.start(b -> b)) {
      MimeMessage m = toOneRecipient();
      MimeBodyPart declared = new MimeBodyPart();
      String paragraph = "Grüße, " + "sehr lang ".repeat(300) + "\n";
      declared.setText(paragraph, "UTF-8");
      declared.setHeader("Content-Transfer-Encoding", "8bit");
      MimeBodyPart ascii = new MimeBodyPart();
      ascii.setText("never wrapped: " + "word ".repeat(400) + "\n", "US-ASCII");
      MimeBodyPart html = new MimeBodyPart();
      html.setText("<p>" + "<b>x</b>".repeat(500) + "</p>", "UTF-8", "html");
      m.setContent(new MimeMultipart(declared, ascii, html));

      DeliveryReport report = MailtlsJakarta.send(net.transport(TlsLevel.OPPORTUNISTIC), m);

      assertThat(report.result("to@example.test").status())
          .as("%s", report)
          .isEqualTo(DeliveryStatus.DELIVERED);
      SmtpMessage got = net.server.awaitMessages(1, Duration.ofSeconds(10)).get(0);
      assertShortLines(got);
      MimeMessage back = new MimeMessage(Messages.session(), new ByteArrayInputStream(got.data()));
      Multipart parts = (Multipart) back.getContent();
      assertThat(parts.getCount()).isEqualTo(3);
      for (int i = 0; i < parts.getCount(); i++) {
        MimeBodyPart part = (MimeBodyPart) parts.getBodyPart(i);
        assertThat(part.getEncoding()).as("part %d", i).isIn("quoted-printable", "base64");
      }
      assertThat(((String) parts.getBodyPart(0).getContent()).replace("\r\n", "\n"))
          .isEqualTo(paragraph);
      assertThat(parts.getBodyPart(0).getContentType()).containsIgnoringCase("charset=UTF-8");
    }
  }

  /** A message parsed from a file, no encoding named (7bit implied), with a long line. */
  @Test
  void aParsedMessageWithALongLineGetsATransferEncoding() throws Exception {
    try (Loopback net = Loopback.start(b -> b)) {
      String body = "y".repeat(2000) + "\r\nshort\r\n";
      MimeMessage m =
          new MimeMessage(
              Messages.session(),
              new ByteArrayInputStream(
                  ("From: a@sender.test\r\nTo: to@example.test\r\nSubject: parsed\r\n"
                          + "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
                          + body)
                      .getBytes(StandardCharsets.US_ASCII)));

      DeliveryReport report = MailtlsJakarta.send(net.transport(TlsLevel.OPPORTUNISTIC), m);

      assertThat(report.result("to@example.test").status())
          .as("%s", report)
          .isEqualTo(DeliveryStatus.DELIVERED);
      SmtpMessage got = net.server.awaitMessages(1, Duration.ofSeconds(10)).get(0);
      assertShortLines(got);
      MimeMessage back = new MimeMessage(Messages.session(), new ByteArrayInputStream(got.data()));
      assertThat(back.getEncoding()).isIn("quoted-printable", "base64");
      assertThat((String) back.getContent()).isEqualTo(body);
    }
  }

  /** A single-part message built in code: Jakarta Mail encodes the message body itself. */
  @Test
  void aLongTextLineInASinglePartMessageGetsATransferEncoding() throws Exception {
    try (Loopback net = Loopback.start(b -> b)) {
      MimeMessage m = toOneRecipient();
      m.setText("x".repeat(5000), "US-ASCII");

      DeliveryReport report = MailtlsJakarta.send(net.transport(TlsLevel.OPPORTUNISTIC), m);

      assertThat(report.result("to@example.test").status())
          .as("%s", report)
          .isEqualTo(DeliveryStatus.DELIVERED);
      SmtpMessage got = net.server.awaitMessages(1, Duration.ofSeconds(10)).get(0);
      assertShortLines(got);
      MimeMessage back = new MimeMessage(Messages.session(), new ByteArrayInputStream(got.data()));
      assertThat(back.getEncoding()).isIn("quoted-printable", "base64");
      assertThat(((String) back.getContent()).strip()).isEqualTo("x".repeat(5000));
    }
  }

  /**
   * RFC 1847: a signed part is never re-encoded, so its long line stays, and the transport refuses
   * the message before any connection (RFC 3463 5.6.3), telling the sender to encode.
   */
  @Test
  void aLongLineUnderASignatureIsNeverReencodedAndBounces() throws Exception {
    try (Loopback net = Loopback.start(b -> b)) {
      MimeMessage m = toOneRecipient();
      MimeBodyPart signed = new MimeBodyPart();
      signed.setText("z".repeat(1200) + "\n", "US-ASCII");
      signed.setHeader("Content-Transfer-Encoding", "7bit");
      MimeBodyPart signature = new MimeBodyPart();
      signature.setText("not really a signature", "US-ASCII");
      signature.setHeader("Content-Type", "application/pgp-signature");
      MimeMultipart multipart = new MimeMultipart("signed", signed, signature);
      m.setContent(multipart);

      DeliveryReport report = MailtlsJakarta.send(net.transport(TlsLevel.OPPORTUNISTIC), m);

      RecipientResult r = report.result("to@example.test");
      assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.BOUNCED);
      assertThat(r.reply().code()).isEqualTo(554);
      assertThat(r.reply().text()).contains("quoted-printable");
      assertThat(net.server.sessions()).isEmpty();
    }
  }

  /**
   * RFC 5322 §2.1.1 and RFC 5321 §4.5.3.1.6 limit header lines too, and {@code setHeader} stores a
   * value unfolded: a {@code References} field of a long thread is one line of over 1,000 octets.
   * It is folded at its spaces (RFC 5322 §2.2.3), which changes no value, and the message goes;
   * before, every recipient bounced (5.6.3).
   */
  @Test
  void aLongHeaderFieldIsFoldedAndTheMessageGoes() throws Exception {
    try (Loopback net = Loopback.start(b -> b)) {
      MimeMessage m = toOneRecipient();
      StringBuilder refs = new StringBuilder();
      for (int i = 0; i < 40; i++) {
        refs.append(i == 0 ? "" : " ").append("<message-").append(i).append("@mail.sender.test>");
      }
      m.setHeader("References", refs.toString());
      String longComment = "first" + " word".repeat(250);
      m.addHeader("Comments", longComment);
      m.addHeader("Comments", "second, short");
      m.setText("body\n", "US-ASCII");

      DeliveryReport report = MailtlsJakarta.send(net.transport(TlsLevel.OPPORTUNISTIC), m);

      assertThat(report.result("to@example.test").status())
          .as("%s", report)
          .isEqualTo(DeliveryStatus.DELIVERED);
      SmtpMessage got = net.server.awaitMessages(1, Duration.ofSeconds(10)).get(0);
      assertShortLines(got);
      MimeMessage back = new MimeMessage(Messages.session(), new ByteArrayInputStream(got.data()));
      assertThat(MimeUtility.unfold(back.getHeader("References", null))).isEqualTo(refs.toString());
      String[] comments = back.getHeader("Comments");
      assertThat(comments).hasSize(2);
      assertThat(MimeUtility.unfold(comments[0])).isEqualTo(longComment);
      assertThat(comments[1]).isEqualTo("second, short");
    }
  }

  /** A header field with no white space to fold at cannot be sent: the reply says what to do. */
  @Test
  void aLongHeaderFieldThatCannotBeFoldedBouncesSayingSo() throws Exception {
    try (Loopback net = Loopback.start(b -> b)) {
      MimeMessage m = toOneRecipient();
      m.setHeader("X-Token", "t".repeat(1200));
      m.setText("body\n", "US-ASCII");

      DeliveryReport report = MailtlsJakarta.send(net.transport(TlsLevel.OPPORTUNISTIC), m);

      RecipientResult r = report.result("to@example.test");
      assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.BOUNCED);
      assertThat(r.reply().code()).isEqualTo(554);
      assertThat(r.reply().text()).contains("fold a long header field", "RFC 5322");
      assertThat(net.server.sessions()).isEmpty();
    }
  }
}
