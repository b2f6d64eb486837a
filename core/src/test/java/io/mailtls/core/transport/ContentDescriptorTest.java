package io.mailtls.core.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.ContentDescriptor;
import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.EnhancedStatus;
import io.mailtls.core.Envelope;
import io.mailtls.core.MessageContent;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.TlsLevel;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.SmtpMessage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * Content that writes itself ({@link MessageContent#writeTo}) and declares its facts ({@link
 * MessageContent#descriptor()}): written once per attempt, never read before, and held to its
 * declaration.
 */
class ContentDescriptorTest {

  private static final String DOTTED =
      "From: a@sender.test\nSubject: dots\n\n.leading dot\n..two dots\r\nend";
  private static final String DOTTED_ON_THE_WIRE =
      "From: a@sender.test\r\nSubject: dots\r\n\r\n.leading dot\r\n..two dots\r\nend\r\n";

  private static MockSmtpServer start(Fixture f, UnaryOperator<MockSmtpServer.Builder> server) {
    MockSmtpServer mx =
        f.server(
            "127.0.0.2",
            b ->
                server.apply(
                    b.hostname("mx.example.test").tls(Fixture.certFor("mx.example.test"))));
    f.dns(d -> d.zone("example.test", z -> z.mailHost("example.test", 10, "mx.example.test", mx)));
    return mx;
  }

  private static DeliveryReport send(Fixture f, MessageContent content) {
    return f.transport(TlsLevel.ENFORCED)
        .send(Envelope.of("a@sender.test", "rcpt@example.test"), content);
  }

  /** Content that pushes its octets in small writes and counts how it was used. */
  static final class Pushing implements MessageContent {
    final byte[] octets;
    final Optional<ContentDescriptor> descriptor;
    final AtomicInteger opens = new AtomicInteger();
    final AtomicInteger writes = new AtomicInteger();
    final int failAfter;

    Pushing(String text, Optional<ContentDescriptor> descriptor) {
      this(text, descriptor, -1);
    }

    Pushing(String text, Optional<ContentDescriptor> descriptor, int failAfter) {
      this.octets = text.getBytes(StandardCharsets.UTF_8);
      this.descriptor = descriptor;
      this.failAfter = failAfter;
    }

    @Override
    public InputStream open() {
      opens.incrementAndGet();
      return new ByteArrayInputStream(octets);
    }

    @Override
    public void writeTo(OutputStream out) throws IOException {
      writes.incrementAndGet();
      for (int i = 0; i < octets.length; i += 7) {
        if (failAfter >= 0 && i >= failAfter) {
          throw new IOException("disk on fire");
        }
        out.write(octets, i, Math.min(7, octets.length - i));
      }
    }

    @Override
    public Optional<ContentDescriptor> descriptor() {
      return descriptor;
    }
  }

  @Test
  void declaredContentIsWrittenOnceAndNeverOpened() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = start(f, b -> b.capabilities("PIPELINING", "SIZE 100000", "8BITMIME"));
      Pushing content = new Pushing(DOTTED, Optional.of(ContentDescriptor.of(false, false)));
      DeliveryReport r = send(f, content);
      assertThat(r.allDelivered()).isTrue();
      assertThat(content.writes).hasValue(1);
      assertThat(content.opens).hasValue(0);
      SmtpMessage m = mx.messages().get(0);
      assertThat(m.dataAsString()).isEqualTo(DOTTED_ON_THE_WIRE);
      // 7-bit, size unknown: neither BODY= nor SIZE= (RFC 1870 makes SIZE optional).
      assertThat(m.mailParameters()).isEmpty();
      assertThat(m.chunked()).isFalse();
    }
  }

  @Test
  void undeclaredContentIsMeasuredByWriteToThenWrittenAgain() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = start(f, b -> b.capabilities("PIPELINING", "SIZE 100000", "8BITMIME"));
      Pushing content = new Pushing(DOTTED, Optional.empty());
      DeliveryReport r = send(f, content);
      assertThat(r.allDelivered()).isTrue();
      assertThat(content.writes).hasValue(2);
      assertThat(content.opens).hasValue(0);
      assertThat(mx.messages().get(0).mailParameters())
          .containsExactly("SIZE=" + DOTTED_ON_THE_WIRE.length());
    }
  }

  @Test
  void declaredEightBitAndUtf8HeadersAskForBothExtensions() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = start(f, b -> b.capabilities("PIPELINING", "8BITMIME", "SMTPUTF8"));
      Pushing content =
          new Pushing(
              "Subject: Grüße\r\n\r\nnaïve\r\n", Optional.of(ContentDescriptor.of(true, true)));
      assertThat(send(f, content).allDelivered()).isTrue();
      assertThat(mx.messages().get(0).mailParameters())
          .containsExactlyInAnyOrder("BODY=8BITMIME", "SMTPUTF8");
    }
  }

  @Test
  void rfc6531Section3_2DeclaredUtf8HeadersNeverGoToAServerWithoutSmtputf8() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = start(f, b -> b.capabilities("PIPELINING", "8BITMIME"));
      Pushing content =
          new Pushing(
              "Subject: Grüße\r\n\r\nnaïve\r\n", Optional.of(ContentDescriptor.of(true, true)));
      RecipientResult r = send(f, content).result("rcpt@example.test");
      assertThat(r.status()).isEqualTo(DeliveryStatus.BOUNCED);
      assertThat(r.reply().enhancedStatus()).contains(EnhancedStatus.UTF8_HEADERS_NOT_TRANSFERABLE);
      assertThat(mx.sessions().get(0).commandLines()).noneMatch(l -> l.startsWith("MAIL"));
      assertThat(content.writes).hasValue(0);
    }
  }

  @Test
  void declaredEightBitToAServerWithout8bitmimeBouncesBeforeMail() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = start(f, b -> b.capabilities("PIPELINING"));
      Pushing content =
          new Pushing(
              "Subject: x\r\n\r\nnaïve\r\n", Optional.of(ContentDescriptor.of(true, false)));
      RecipientResult r = send(f, content).result("rcpt@example.test");
      assertThat(r.status()).isEqualTo(DeliveryStatus.BOUNCED);
      assertThat(r.reply().enhancedStatus()).contains(EnhancedStatus.CONVERSION_NOT_SUPPORTED);
      assertThat(mx.sessions().get(0).commandLines()).noneMatch(l -> l.startsWith("MAIL"));
      assertThat(content.writes).hasValue(0);
    }
  }

  @Test
  void eightBitOctetsUnderASevenBitDeclarationAreNeverDelivered() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = start(f, b -> b.capabilities("PIPELINING", "8BITMIME"));
      Pushing content =
          new Pushing(
              "Subject: x\r\n\r\nnaïve\r\n", Optional.of(ContentDescriptor.of(false, false)));
      RecipientResult r = send(f, content).result("rcpt@example.test");
      assertThat(r.status()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(r.reply().text()).contains("broke its declaration").contains("8-bit");
      assertThat(mx.messages()).noneMatch(SmtpMessage::accepted);
    }
  }

  @Test
  void anOverlongLineUnderADeclarationIsNeverDelivered() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = start(f, b -> b.capabilities("PIPELINING", "8BITMIME"));
      Pushing content =
          new Pushing(
              "Subject: x\r\n\r\n" + "y".repeat(999) + "\r\n",
              Optional.of(ContentDescriptor.of(false, false)));
      RecipientResult r = send(f, content).result("rcpt@example.test");
      assertThat(r.status()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(r.reply().text()).contains("broke its declaration").contains("999");
      assertThat(mx.messages()).noneMatch(SmtpMessage::accepted);
    }
  }

  @Test
  void aWriteToFailingMidMessageDefersAsUnreadableContent() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = start(f, b -> b.capabilities("PIPELINING", "8BITMIME"));
      Pushing content =
          new Pushing(
              "Subject: x\r\n\r\n" + "line\r\n".repeat(1000),
              Optional.of(ContentDescriptor.of(false, false)),
              3000);
      RecipientResult r = send(f, content).result("rcpt@example.test");
      assertThat(r.status()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(r.reply().locallyGenerated()).isTrue();
      assertThat(r.reply().text()).contains("content could not be read").contains("disk on fire");
      assertThat(mx.messages()).noneMatch(SmtpMessage::accepted);
    }
  }

  @Test
  void aConnectionLostMidMessageIsTheConnectionsFailureNotTheContents() throws Exception {
    try (Fixture f = new Fixture()) {
      start(f, b -> b.capabilities("PIPELINING", "8BITMIME").dropDuringMessage(10_000));
      // The content swallows what the connection throws; the transport still sees the loss.
      MessageContent swallowing =
          new MessageContent() {
            @Override
            public InputStream open() {
              throw new AssertionError("never opened");
            }

            @Override
            public void writeTo(OutputStream out) {
              byte[] line = "a line of the message\r\n".getBytes(StandardCharsets.US_ASCII);
              for (int i = 0; i < 100_000; i++) {
                try {
                  out.write(line);
                } catch (IOException e) {
                  return;
                }
              }
            }

            @Override
            public Optional<ContentDescriptor> descriptor() {
              return Optional.of(ContentDescriptor.of(false, false));
            }
          };
      RecipientResult r = send(f, swallowing).result("rcpt@example.test");
      assertThat(r.status()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(r.reply().text()).contains("connection lost");
    }
  }

  @Test
  void aDeclaredLargeSizeIsSentAndChoosesBdat() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx =
          start(
              f,
              b ->
                  b.capabilities(
                      "PIPELINING",
                      "8BITMIME",
                      "SIZE 10000000",
                      "ENHANCEDSTATUSCODES",
                      "CHUNKING"));
      String text = "Subject: big\r\n\r\n" + ".dotted line stays as is\r\n".repeat(60_000);
      Pushing content =
          new Pushing(
              text,
              Optional.of(new ContentDescriptor(false, false, OptionalLong.of(text.length()))));
      assertThat(send(f, content).allDelivered()).isTrue();
      SmtpMessage m = mx.messages().get(0);
      assertThat(m.chunked()).isTrue();
      assertThat(m.mailParameters()).containsExactly("SIZE=" + text.length());
      assertThat(m.dataAsString()).isEqualTo(text);
      assertThat(content.writes).hasValue(1);
    }
  }

  /** Content written one octet per {@code write(int)} call, as Jakarta Mail writes text. */
  static final class OctetAtATime implements MessageContent {
    final byte[] octets;

    OctetAtATime(String text) {
      this.octets = text.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public InputStream open() {
      return new ByteArrayInputStream(octets);
    }

    @Override
    public void writeTo(OutputStream out) throws IOException {
      for (byte b : octets) {
        out.write(b);
      }
    }

    @Override
    public Optional<ContentDescriptor> descriptor() {
      // With its size declared, the transport chooses BDAT where CHUNKING is offered.
      return Optional.of(new ContentDescriptor(false, false, OptionalLong.of(octets.length)));
    }
  }

  @Test
  void contentWrittenOneOctetAtATimeGoesOutWholeInDataAndInBdat() throws Exception {
    // Over 1 MiB (so that BDAT is chosen where offered), many batches of small writes and not a
    // multiple of one: the last, partial batch must go out too.
    String text = "Subject: octets\r\n\r\n" + ".dotted line\r\nplain line\r\n".repeat(45_001);
    for (String chunking : new String[] {"PIPELINING", "CHUNKING"}) {
      try (Fixture f = new Fixture()) {
        MockSmtpServer mx =
            start(
                f, b -> b.capabilities("PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", chunking));
        assertThat(send(f, new OctetAtATime(text)).allDelivered()).isTrue();
        SmtpMessage m = mx.messages().get(0);
        assertThat(m.chunked()).isEqualTo(chunking.equals("CHUNKING"));
        assertThat(m.dataAsString()).isEqualTo(text);
      }
    }
  }

  @Test
  void anEightBitLastOctetWrittenAloneStillBreaksASevenBitDeclaration() throws Exception {
    // The octet that breaks the declaration is in the last, partial batch: the transport checks
    // it before it ends the data.
    String text = "Subject: x\r\n\r\n" + "line\r\n".repeat(200_000) + "\u00e9";
    for (String chunking : new String[] {"PIPELINING", "CHUNKING"}) {
      try (Fixture f = new Fixture()) {
        MockSmtpServer mx =
            start(
                f, b -> b.capabilities("PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", chunking));
        RecipientResult r = send(f, new OctetAtATime(text)).result("rcpt@example.test");
        assertThat(r.status()).isEqualTo(DeliveryStatus.DEFERRED);
        assertThat(r.reply().text()).contains("broke its declaration").contains("8-bit");
        assertThat(mx.messages()).noneMatch(SmtpMessage::accepted);
      }
    }
  }
}
