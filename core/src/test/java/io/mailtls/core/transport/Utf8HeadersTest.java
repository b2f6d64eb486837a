package io.mailtls.core.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.ContentDescriptor;
import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.EnhancedStatus;
import io.mailtls.core.Envelope;
import io.mailtls.core.FailureType;
import io.mailtls.core.MessageContent;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.TlsLevel;
import io.mailtls.testkit.MockSmtpServer;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * RFC 6531 §3.2: a message with UTF-8 header fields (RFC 6532) never goes to a server that does not
 * offer SMTPUTF8 (the next MX host is tried; none left: 550 5.6.9, §3.5); §3.4: to one that does,
 * MAIL carries the SMTPUTF8 parameter. UTF-8 in the body alone needs only 8BITMIME (RFC 6152).
 */
class Utf8HeadersTest {

  private static final String UTF8_SUBJECT =
      "From: a@sender.test\r\nSubject: café\r\n\r\nplain body\r\n";

  /** UTF-8 only after the empty line, in a line that looks like a header field. */
  private static final String UTF8_BODY = "From: a@sender.test\nSubject: plain\n\nSubject: naïve\n";

  private static final EnhancedStatus X_6_9 = EnhancedStatus.UTF8_HEADERS_NOT_TRANSFERABLE;

  private static MockSmtpServer withoutSmtputf8(Fixture f, String ip, String host) {
    return f.server(ip, b -> b.hostname(host).capabilities("PIPELINING", "8BITMIME"));
  }

  private static void oneMx(Fixture f, MockSmtpServer mx) {
    f.dns(d -> d.zone("example.test", z -> z.mailHost("example.test", 10, "mx.example.test", mx)));
  }

  private static DeliveryReport send(Fixture f, MessageContent content) {
    return f.transport(TlsLevel.OPPORTUNISTIC)
        .send(Envelope.of("a@sender.test", "rcpt@example.test"), content);
  }

  private static MessageContent bytes(String content) {
    return MessageContent.of(content.getBytes(StandardCharsets.UTF_8));
  }

  private static MessageContent declared(String content, ContentDescriptor descriptor) {
    byte[] octets = content.getBytes(StandardCharsets.UTF_8);
    return new MessageContent() {
      @Override
      public InputStream open() {
        return new ByteArrayInputStream(octets);
      }

      @Override
      public Optional<ContentDescriptor> descriptor() {
        return Optional.of(descriptor);
      }
    };
  }

  private static void noMailCommand(MockSmtpServer mx) {
    assertThat(mx.messages()).isEmpty();
    assertThat(mx.sessions())
        .allSatisfy(s -> assertThat(s.commandLines()).noneMatch(l -> l.startsWith("MAIL")));
  }

  @Test
  void rfc6531Section3_2Utf8SubjectIsNeverSentToAServerWithoutSmtputf8() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = withoutSmtputf8(f, "127.0.0.2", "mx.example.test");
      oneMx(f, mx);
      RecipientResult r = send(f, bytes(UTF8_SUBJECT)).result("rcpt@example.test");
      noMailCommand(mx);
      assertThat(r.status()).isEqualTo(DeliveryStatus.BOUNCED);
      assertThat(r.reply().code()).isEqualTo(550);
      assertThat(r.reply().enhancedStatus()).contains(X_6_9);
      assertThat(r.reply().text()).contains("SMTPUTF8").contains("RFC 6531");
      assertThat(r.attempts()).hasSize(1);
      assertThat(r.attempts().get(0).failure()).contains(FailureType.SMTPUTF8_UNAVAILABLE);
    }
  }

  @Test
  void rfc6531Section3_2TheNextMxHostThatOffersSmtputf8TakesTheMessage() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer lacking = withoutSmtputf8(f, "127.0.0.2", "mx1.example.test");
      MockSmtpServer offering = f.server("127.0.0.3", b -> b.hostname("mx2.example.test"));
      f.dns(
          d ->
              d.zone(
                  "example.test",
                  z ->
                      z.mailHost("example.test", 10, "mx1.example.test", lacking)
                          .mailHost("example.test", 20, "mx2.example.test", offering)));
      RecipientResult r = send(f, bytes(UTF8_SUBJECT)).result("rcpt@example.test");
      assertThat(r.status()).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(r.mxHost().orElseThrow().toString()).isEqualTo("mx2.example.test");
      assertThat(r.attempts()).hasSize(2);
      assertThat(r.attempts().get(0).failure()).contains(FailureType.SMTPUTF8_UNAVAILABLE);
      noMailCommand(lacking);
      // RFC 6531 §3.4: the parameter goes with MAIL; RFC 6152 §3: so does BODY=8BITMIME.
      assertThat(offering.messages()).hasSize(1);
      assertThat(offering.messages().get(0).mailParameters()).contains("SMTPUTF8", "BODY=8BITMIME");
    }
  }

  @Test
  void rfc6531Section3_2NoHostOfferingSmtputf8AndOneUnreachableDefers() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer lacking = withoutSmtputf8(f, "127.0.0.2", "mx1.example.test");
      f.dns(
          d ->
              d.zone(
                  "example.test",
                  z ->
                      z.mailHost("example.test", 10, "mx1.example.test", lacking)
                          // mx2 has an address where nothing listens on the shared port: it may
                          // offer SMTPUTF8 once it answers.
                          .mx("example.test", 20, "mx2.example.test")
                          .a("mx2.example.test", "127.0.0.5")));
      RecipientResult r = send(f, bytes(UTF8_SUBJECT)).result("rcpt@example.test");
      assertThat(r.status()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(r.attempts()).hasSize(2);
      assertThat(r.attempts().get(0).failure()).contains(FailureType.SMTPUTF8_UNAVAILABLE);
      assertThat(r.attempts().get(1).failure()).contains(FailureType.CONNECTION_FAILED);
      noMailCommand(lacking);
    }
  }

  @Test
  void rfc6531Section3_4Utf8SubjectAsksForSmtputf8WhereOffered() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = f.server("127.0.0.2", b -> b.hostname("mx.example.test"));
      oneMx(f, mx);
      DeliveryReport r = send(f, bytes(UTF8_SUBJECT));
      assertThat(r.allDelivered()).isTrue();
      assertThat(mx.messages().get(0).mailParameters()).contains("SMTPUTF8", "BODY=8BITMIME");
    }
  }

  @Test
  void rfc6152Utf8OnlyInTheBodyGoesAs8bitmimeWithoutSmtputf8() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = withoutSmtputf8(f, "127.0.0.2", "mx.example.test");
      oneMx(f, mx);
      DeliveryReport r = send(f, bytes(UTF8_BODY));
      assertThat(r.allDelivered()).isTrue();
      assertThat(mx.messages().get(0).mailParameters())
          .contains("BODY=8BITMIME")
          .doesNotContain("SMTPUTF8");
    }
  }

  @Test
  void rfc6531Section3_4Utf8OnlyInTheBodyAsksForNoSmtputf8EvenWhereOffered() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = f.server("127.0.0.2", b -> b.hostname("mx.example.test"));
      oneMx(f, mx);
      assertThat(send(f, bytes(UTF8_BODY)).allDelivered()).isTrue();
      // §3.4: a client that knows the message needs none of the extension SHOULD NOT ask for it.
      assertThat(mx.messages().get(0).mailParameters()).doesNotContain("SMTPUTF8");
    }
  }

  @Test
  void utf8HeadersUnderADeclarationWithoutThemAreAbandonedBeforeTheEndOfData() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = withoutSmtputf8(f, "127.0.0.2", "mx.example.test");
      oneMx(f, mx);
      RecipientResult r =
          send(f, declared(UTF8_SUBJECT, ContentDescriptor.of(true, false)))
              .result("rcpt@example.test");
      assertThat(mx.messages()).isEmpty();
      assertThat(r.status()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(r.reply().text()).contains("UTF-8 in header fields declared ASCII");
    }
  }
}
