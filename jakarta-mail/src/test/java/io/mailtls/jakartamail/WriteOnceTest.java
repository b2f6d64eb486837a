package io.mailtls.jakartamail;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.EnhancedStatus;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.TlsLevel;
import io.mailtls.testkit.SmtpMessage;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/**
 * A {@code MimeMessage} through {@link MailtlsJakarta#send}: written once per attempt, on the
 * calling thread, straight into the session, with the {@code MAIL} parameters its structure implies
 * (RFC 6152 8BITMIME, RFC 6531 SMTPUTF8), octet for octet what Angus Mail's {@code writeTo} makes.
 */
class WriteOnceTest {

  /** Counts the writes of the message, and on which thread each ran. */
  static final class CountingMessage extends MimeMessage {
    final List<Thread> writers = new CopyOnWriteArrayList<>();

    CountingMessage(Session session) {
      super(session);
    }

    @Override
    public void writeTo(OutputStream os, String[] ignoreList)
        throws IOException, MessagingException {
      writers.add(Thread.currentThread());
      super.writeTo(os, ignoreList);
    }
  }

  private static CountingMessage plain(Session session, String text) throws MessagingException {
    CountingMessage m = new CountingMessage(session);
    m.setFrom("a@sender.test");
    m.setRecipients(Message.RecipientType.TO, "to@example.test");
    m.setSubject("ten kilobytes", "us-ascii");
    m.setText(text, "us-ascii");
    return m;
  }

  private static String tenKilobytes() {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; sb.length() < 10_000; i++) {
      sb.append(i % 20 == 7 ? "." : "").append("line ").append(i).append(" of the message\r\n");
    }
    return sb.toString();
  }

  private static SmtpMessage received(Loopback net) throws InterruptedException {
    return net.server.awaitMessages(1, Duration.ofSeconds(10)).get(0);
  }

  @Test
  void aSevenBitMessageIsWrittenOnceOnTheCallersThreadWithoutBody8bitmime() throws Exception {
    try (Loopback net = Loopback.start(b -> b.tls(Loopback.certFor(Loopback.MX)))) {
      CountingMessage m = plain(Messages.session(), tenKilobytes());
      DeliveryReport report = MailtlsJakarta.send(net.transport(TlsLevel.ENFORCED), m);
      assertThat(report.allDelivered()).isTrue();
      // Once, here: no measuring pass before, no writer thread.
      assertThat(m.writers).containsExactly(Thread.currentThread());
      assertThat(WriterThreadsProbe.live()).isEmpty();
      SmtpMessage got = received(net);
      assertThat(got.tls()).isTrue();
      assertThat(got.mailParameters()).isEmpty();
      // Dot-stuffed and CRLF on the wire; the server undid the stuffing: writeTo's octets.
      assertThat(got.data()).isEqualTo(Messages.onTheWire(Messages.written(m)));
      assertThat(got.dataAsString()).contains("\r\n.line 7 of the message\r\n");
    }
  }

  @Test
  void eachAttemptWritesTheMessageOnce() throws Exception {
    try (Loopback net = Loopback.start(b -> b)) {
      CountingMessage m = plain(Messages.session(), tenKilobytes());
      var transport = net.transport(TlsLevel.OPPORTUNISTIC);
      MailtlsJakarta.send(transport, m);
      MailtlsJakarta.send(transport, m); // the same message again, on the reused connection
      assertThat(m.writers).hasSize(2).containsOnly(Thread.currentThread());
      assertThat(net.server.messages()).hasSize(2).allMatch(SmtpMessage::accepted);
    }
  }

  /** A multipart/mixed whose 8-bit text part sits inside a multipart/alternative. */
  private static MimeMessage nestedEightBit() throws MessagingException {
    MimeMessage m = new MimeMessage(Messages.session());
    m.setFrom("a@sender.test");
    m.setRecipients(Message.RecipientType.TO, "to@example.test");
    m.setSubject("nested", "us-ascii");
    MimeBodyPart text = new MimeBodyPart();
    text.setText(Messages.TEXT, "UTF-8");
    text.setHeader("Content-Transfer-Encoding", "8bit");
    MimeBodyPart html = new MimeBodyPart();
    html.setText("<p>plain</p>", "us-ascii", "html");
    MimeBodyPart alternative = new MimeBodyPart();
    alternative.setContent(new MimeMultipart("alternative", text, html));
    MimeBodyPart file = new MimeBodyPart();
    file.setContent(Messages.binary(3000), "application/octet-stream");
    m.setContent(new MimeMultipart(alternative, file));
    return m;
  }

  @Test
  void anEightBitPartDeepInTheMessageAsksForBody8bitmime() throws Exception {
    try (Loopback net = Loopback.start(b -> b)) {
      MimeMessage m = nestedEightBit();
      assertThat(MailtlsJakarta.send(net.transport(TlsLevel.OPPORTUNISTIC), m).allDelivered())
          .isTrue();
      SmtpMessage got = received(net);
      assertThat(got.mailParameters()).containsExactly("BODY=8BITMIME");
      assertThat(got.data()).isEqualTo(Messages.onTheWire(Messages.written(m)));
      assertThat(got.dataAsString()).contains("Grüße aus Köln");
    }
  }

  @Test
  void anEightBitPartToAServerWithout8bitmimeBouncesAsBefore() throws Exception {
    try (Loopback net = Loopback.start(b -> b.capabilities("PIPELINING", "SMTPUTF8"))) {
      RecipientResult r =
          MailtlsJakarta.send(net.transport(TlsLevel.OPPORTUNISTIC), nestedEightBit())
              .result("to@example.test");
      assertThat(r.status()).isEqualTo(DeliveryStatus.BOUNCED);
      assertThat(r.reply().enhancedStatus()).contains(EnhancedStatus.CONVERSION_NOT_SUPPORTED);
      assertThat(net.sawMail()).isFalse();
    }
  }

  @Test
  void utf8TextEncodedByJakartaMailIsSevenBit() throws Exception {
    try (Loopback net = Loopback.start(b -> b)) {
      // Quoted-printable text, base64 attachment, RFC 2047 subject and display name.
      MimeMessage m = Messages.multipart(Messages.binary(5000));
      assertThat(MailtlsJakarta.send(net.transport(TlsLevel.OPPORTUNISTIC), m).allDelivered())
          .isTrue();
      SmtpMessage got = received(net);
      assertThat(got.mailParameters()).isEmpty();
      assertThat(got.data()).isEqualTo(Messages.onTheWire(Messages.written(m)));
    }
  }

  @Test
  void utf8HeaderFieldsAskForSmtputf8() throws Exception {
    Properties props = new Properties();
    props.setProperty("mail.mime.allowutf8", "true");
    Session session = Session.getInstance(props);
    try (Loopback net = Loopback.start(b -> b)) {
      MimeMessage m = new MimeMessage(session);
      m.setFrom("a@sender.test");
      m.setRecipients(Message.RecipientType.TO, "to@example.test");
      m.setHeader("Subject", "Grüße aus Köln");
      m.setText("plain", "us-ascii");
      assertThat(MailtlsJakarta.send(net.transport(TlsLevel.OPPORTUNISTIC), m).allDelivered())
          .isTrue();
      SmtpMessage got = received(net);
      assertThat(got.mailParameters()).containsExactlyInAnyOrder("BODY=8BITMIME", "SMTPUTF8");
      assertThat(got.dataAsString()).contains("Subject: Grüße aus Köln\r\n");
      assertThat(got.data()).isEqualTo(Messages.onTheWire(Messages.written(m)));
    }
  }

  @Test
  void rfc6531Section3_2Utf8HeaderFieldsNeverGoToAServerWithoutSmtputf8() throws Exception {
    Properties props = new Properties();
    props.setProperty("mail.mime.allowutf8", "true");
    Session session = Session.getInstance(props);
    try (Loopback net = Loopback.start(b -> b.capabilities("PIPELINING", "8BITMIME"))) {
      MimeMessage m = new MimeMessage(session);
      m.setFrom("a@sender.test");
      m.setRecipients(Message.RecipientType.TO, "to@example.test");
      m.setHeader("Subject", "Grüße aus Köln");
      m.setText("plain", "us-ascii");
      RecipientResult r =
          MailtlsJakarta.send(net.transport(TlsLevel.OPPORTUNISTIC), m).result("to@example.test");
      assertThat(r.status()).isEqualTo(DeliveryStatus.BOUNCED);
      assertThat(r.reply().enhancedStatus()).contains(EnhancedStatus.UTF8_HEADERS_NOT_TRANSFERABLE);
      assertThat(net.sawMail()).isFalse();
    }
  }

  @Test
  void anEnclosedEightBitMessageAsksForBody8bitmime() throws Exception {
    try (Loopback net = Loopback.start(b -> b)) {
      MimeMessage inner = new MimeMessage(Messages.session());
      inner.setFrom("b@sender.test");
      inner.setSubject("forwarded", "us-ascii");
      inner.setText("Grüße", "UTF-8");
      inner.setHeader("Content-Transfer-Encoding", "8bit");
      inner.saveChanges();
      MimeBodyPart forwarded = new MimeBodyPart();
      forwarded.setContent(inner, "message/rfc822");
      MimeBodyPart note = new MimeBodyPart();
      note.setText("see below", "us-ascii");
      MimeMessage m = new MimeMessage(Messages.session());
      m.setFrom("a@sender.test");
      m.setRecipients(Message.RecipientType.TO, "to@example.test");
      m.setContent(new MimeMultipart(note, forwarded));
      assertThat(MailtlsJakarta.send(net.transport(TlsLevel.OPPORTUNISTIC), m).allDelivered())
          .isTrue();
      SmtpMessage got = received(net);
      assertThat(got.mailParameters()).containsExactly("BODY=8BITMIME");
      assertThat(got.data()).isEqualTo(Messages.onTheWire(Messages.written(m)));
    }
  }

  @Test
  void aParsedMessageIsJudgedByItsOctetsNotItsLabels() throws Exception {
    byte[] raw =
        ("From: a@sender.test\r\nTo: to@example.test\r\nSubject: labelled 7bit\r\n"
                + "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
                + "Content-Transfer-Encoding: 7bit\r\n\r\nGrüße, despite the label\r\n")
            .getBytes(StandardCharsets.UTF_8);
    try (Loopback net = Loopback.start(b -> b)) {
      MimeMessage m = new MimeMessage(Messages.session(), new ByteArrayInputStream(raw));
      assertThat(MailtlsJakarta.send(net.transport(TlsLevel.OPPORTUNISTIC), m).allDelivered())
          .isTrue();
      SmtpMessage got = received(net);
      assertThat(got.mailParameters()).containsExactly("BODY=8BITMIME");
      assertThat(got.dataAsString()).contains("Grüße, despite the label");
    }
  }

  /**
   * Two writes of a never-saved message at the same time (two recipient domains of one send): the
   * first saves it, so the second waits for it and both carry the same header fields (one
   * Message-ID), never a second save racing the first.
   */
  @Test
  void concurrentFirstWritesOfAnUnsavedMessageSaveItOnce() throws Exception {
    MimeMessage m = new MimeMessage(Messages.session());
    m.setFrom("a@sender.test");
    m.setRecipients(Message.RecipientType.TO, "to@example.test");
    m.setSubject("never saved", "us-ascii");
    m.setText(tenKilobytes(), "us-ascii");
    MimeMessageContent content = MimeMessageContent.of(m);
    CountDownLatch firstIsWriting = new CountDownLatch(1);
    CountDownLatch releaseFirst = new CountDownLatch(1);
    java.io.ByteArrayOutputStream first = new java.io.ByteArrayOutputStream();
    OutputStream held =
        new OutputStream() {
          @Override
          public void write(int b) {
            write(new byte[] {(byte) b}, 0, 1);
          }

          @Override
          public void write(byte[] b, int off, int len) {
            firstIsWriting.countDown();
            try {
              assertThat(releaseFirst.await(30, TimeUnit.SECONDS)).isTrue();
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            first.write(b, off, len);
          }
        };
    java.io.ByteArrayOutputStream second = new java.io.ByteArrayOutputStream();
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      Future<?> a =
          pool.submit(
              () -> {
                content.writeTo(held);
                return null;
              });
      assertThat(firstIsWriting.await(30, TimeUnit.SECONDS)).isTrue();
      Future<?> b =
          pool.submit(
              () -> {
                content.writeTo(second);
                return null;
              });
      // The second write waits while the first is still writing; a short wait for it to show
      // (not a speed assertion: it must not finish before the first is released at all).
      assertThat(waitsFor(b)).isTrue();
      assertThat(second.size()).isZero();
      releaseFirst.countDown();
      a.get(30, TimeUnit.SECONDS);
      b.get(30, TimeUnit.SECONDS);
    } finally {
      pool.shutdownNow();
    }
    assertThat(second.toByteArray()).isEqualTo(first.toByteArray());
    assertThat(first.toString(StandardCharsets.US_ASCII)).contains("Message-ID: ");
  }

  private static boolean waitsFor(Future<?> f) throws Exception {
    try {
      f.get(300, TimeUnit.MILLISECONDS);
      return false;
    } catch (TimeoutException e) {
      return true;
    }
  }
}
