package io.mailtls.core.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.EmailAddress;
import io.mailtls.core.EnhancedStatus;
import io.mailtls.core.Envelope;
import io.mailtls.core.MessageContent;
import io.mailtls.core.TlsLevel;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.SmtpMessage;
import io.mailtls.testkit.SmtpSession;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/** ESMTP extensions: RFC 2920, 1870, 6152, 6531, 3030, and RFC 5321 §4.5.2 transparency. */
class ExtensionsTest {

  private static MockSmtpServer start(Fixture f, UnaryOperator<MockSmtpServer.Builder> server) {
    MockSmtpServer mx = f.server("127.0.0.2", b -> server.apply(b.hostname("mx.example.test")));
    f.dns(d -> d.zone("example.test", z -> z.mailHost("example.test", 10, "mx.example.test", mx)));
    return mx;
  }

  private static DeliveryReport send(Fixture f, byte[] content, String... rcpts) {
    return f.transport(TlsLevel.OPPORTUNISTIC)
        .send(Envelope.of("a@sender.test", rcpts), MessageContent.of(content));
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void rfc2920PipeliningSendsMailRcptsAndDataInOneFlush() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = start(f, b -> b.capabilities("PIPELINING", "8BITMIME"));
      send(f, ascii(Fixture.MESSAGE), "a@example.test", "b@example.test");
      SmtpSession s = mx.sessions().get(0);
      assertThat(s.commandBatches())
          .anySatisfy(
              batch ->
                  assertThat(batch)
                      .containsExactly(
                          "MAIL FROM:<a@sender.test>",
                          "RCPT TO:<a@example.test>",
                          "RCPT TO:<b@example.test>",
                          "DATA"));
    }
  }

  @Test
  void rfc2920WithoutPipeliningEachCommandWaitsForItsReply() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = start(f, b -> b.capabilities("8BITMIME"));
      send(f, ascii(Fixture.MESSAGE), "a@example.test", "b@example.test");
      SmtpSession s = mx.sessions().get(0);
      assertThat(s.commandBatches())
          .noneSatisfy(batch -> assertThat(batch.size()).isGreaterThan(1));
      assertThat(mx.messages()).hasSize(1);
    }
  }

  @Test
  void rfc1870MessageOverTheSizeLimitBouncesWithoutMail() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = start(f, b -> b.capabilities("PIPELINING", "SIZE 100", "8BITMIME"));
      DeliveryReport r =
          send(f, ascii(Fixture.MESSAGE + "x".repeat(200) + "\r\n"), "a@example.test");
      assertThat(r.result("a@example.test").status()).isEqualTo(DeliveryStatus.BOUNCED);
      assertThat(r.result("a@example.test").reply().enhancedStatus())
          .contains(EnhancedStatus.MESSAGE_TOO_BIG);
      assertThat(mx.sessions().get(0).commandLines()).noneMatch(l -> l.startsWith("MAIL"));
    }
  }

  @Test
  void rfc1870SizeIsDeclared() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = start(f, b -> b.capabilities("SIZE 100000", "8BITMIME"));
      send(f, ascii(Fixture.MESSAGE), "a@example.test");
      assertThat(mx.messages().get(0).mailParameters())
          .contains("SIZE=" + ascii(Fixture.MESSAGE).length);
    }
  }

  @Test
  void rfc6152EightBitContentToAServerWithout8bitmimeBounces() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = start(f, b -> b.capabilities("PIPELINING"));
      DeliveryReport r = send(f, ascii("Subject: cafe\r\n\r\nnaïve\r\n"), "a@example.test");
      assertThat(r.result("a@example.test").status()).isEqualTo(DeliveryStatus.BOUNCED);
      assertThat(r.result("a@example.test").reply().enhancedStatus())
          .contains(EnhancedStatus.CONVERSION_NOT_SUPPORTED);
      assertThat(mx.sessions().get(0).commandLines()).noneMatch(l -> l.startsWith("MAIL"));
    }
  }

  @Test
  void rfc6152EightBitContentIsDeclared() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = start(f, b -> b.capabilities("8BITMIME"));
      send(f, ascii("Subject: cafe\r\n\r\nnaïve\r\n"), "a@example.test");
      assertThat(mx.messages().get(0).mailParameters()).contains("BODY=8BITMIME");
    }
  }

  @Test
  void rfc6531Utf8AddressToAServerWithoutSmtputf8BouncesThatRecipientOnly() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = start(f, b -> b.capabilities("PIPELINING", "8BITMIME"));
      DeliveryReport r =
          f.transport(TlsLevel.OPPORTUNISTIC)
              .send(
                  new Envelope(
                      Optional.of(EmailAddress.parse("a@sender.test")),
                      List.of(
                          EmailAddress.parse("josé@example.test"),
                          EmailAddress.parse("jose@example.test"))),
                  MessageContent.of(ascii(Fixture.MESSAGE)));
      assertThat(r.result("josé@example.test").status()).isEqualTo(DeliveryStatus.BOUNCED);
      assertThat(r.result("josé@example.test").reply().enhancedStatus())
          .contains(EnhancedStatus.NON_ASCII_ADDRESS_NOT_PERMITTED);
      assertThat(r.result("jose@example.test").status()).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(mx.messages().get(0).recipients()).containsExactly("jose@example.test");
    }
  }

  @Test
  void rfc6531Utf8AddressUsesSmtputf8WhenOffered() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = start(f, b -> b.capabilities("8BITMIME", "SMTPUTF8"));
      DeliveryReport r = send(f, ascii(Fixture.MESSAGE), "josé@example.test");
      assertThat(r.allDelivered()).isTrue();
      assertThat(mx.messages().get(0).mailParameters()).contains("SMTPUTF8");
      assertThat(mx.messages().get(0).recipients()).containsExactly("josé@example.test");
    }
  }

  @Test
  void rfc5321Section4_5_2DotStuffingAndCrlfAreByteExactAtTheServer() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = start(f, b -> b.capabilities("PIPELINING", "8BITMIME"));
      String input = "Subject: dots\n\n.leading dot\n..two dots\n.\nbare LF\nCRLF\r\nend";
      DeliveryReport r = send(f, ascii(input), "a@example.test");
      assertThat(r.allDelivered()).isTrue();
      SmtpMessage m = mx.messages().get(0);
      // After the server un-stuffs: CRLF everywhere, the original dots, a final CRLF added.
      assertThat(m.dataAsString())
          .isEqualTo(
              "Subject: dots\r\n\r\n.leading dot\r\n..two dots\r\n.\r\nbare LF\r\nCRLF\r\nend\r\n");
    }
  }

  @Test
  void rfc3030LargeMessagesUseBdatWhenChunkingAndStatusCodesAreOffered() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx =
          start(
              f, b -> b.capabilities("PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", "CHUNKING"));
      String body = "Subject: big\r\n\r\n" + ".dotted line stays as is\r\n".repeat(60_000);
      DeliveryReport r = send(f, ascii(body), "a@example.test");
      assertThat(r.allDelivered()).isTrue();
      SmtpMessage m = mx.messages().get(0);
      assertThat(m.chunked()).isTrue();
      assertThat(m.data()).isEqualTo(ascii(body));
    }
  }
}
