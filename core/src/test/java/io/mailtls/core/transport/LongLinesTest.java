package io.mailtls.core.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.EnhancedStatus;
import io.mailtls.core.Envelope;
import io.mailtls.core.MessageContent;
import io.mailtls.core.TlsLevel;
import io.mailtls.testkit.MockSmtpServer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * RFC 5321 §4.5.3.1.6: a text line is at most 1000 octets with its CRLF. A message with a longer
 * line is never put on the wire: every recipient bounces at once, before any connection, with a
 * reply that says to use a transfer encoding.
 */
class LongLinesTest {

  private static byte[] messageWithALineOf(int octets) {
    return ("From: a@sender.test\r\nTo: b@one.test\r\nSubject: long\r\n\r\nbefore\r\n"
            + "y".repeat(octets)
            + "\r\nafter\r\n")
        .getBytes(StandardCharsets.US_ASCII);
  }

  private record Sent(DeliveryReport report, MockSmtpServer one, MockSmtpServer two) {}

  private static Sent send(Fixture f, byte[] message) {
    MockSmtpServer one = f.server("127.0.0.2", b -> b.hostname("mx.one.test"));
    MockSmtpServer two = f.server("127.0.0.3", b -> b.hostname("mx.two.test"));
    f.dns(
        d ->
            d.zone("one.test", z -> z.mailHost("one.test", 10, "mx.one.test", one))
                .zone("two.test", z -> z.mailHost("two.test", 10, "mx.two.test", two)));
    return new Sent(
        f.transport(TlsLevel.OPPORTUNISTIC)
            .send(
                Envelope.of("a@sender.test", "b@one.test", "c@one.test", "d@two.test"),
                MessageContent.of(message)),
        one,
        two);
  }

  @Test
  void aLineOf999OctetsIsNeverSentAndEveryRecipientBounces() throws Exception {
    try (Fixture f = new Fixture()) {
      Sent sent = send(f, messageWithALineOf(999));
      DeliveryReport report = sent.report();
      assertThat(report.recipients())
          .hasSize(3)
          .allSatisfy(
              r -> {
                assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.BOUNCED);
                assertThat(r.reply().code()).isEqualTo(554);
                assertThat(r.reply().enhancedStatus())
                    .contains(EnhancedStatus.CONVERSION_NOT_SUPPORTED);
                assertThat(r.reply().locallyGenerated()).isTrue();
                assertThat(r.reply().text())
                    .contains("999 octets")
                    .contains("quoted-printable")
                    .contains("base64");
                assertThat(r.attempts()).isEmpty();
              });
      // Not on the wire: no server even saw a connection.
      assertThat(sent.one().sessions()).isEmpty();
      assertThat(sent.two().sessions()).isEmpty();
      assertThat(report.result("b@one.test").mxHost()).isEmpty();
    }
  }

  @Test
  void aLineOf998OctetsStillGoes() throws Exception {
    try (Fixture f = new Fixture()) {
      byte[] message = messageWithALineOf(998);
      Sent sent = send(f, message);
      DeliveryReport report = sent.report();
      assertThat(report.recipients())
          .hasSize(3)
          .allSatisfy(r -> assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DELIVERED));
      for (MockSmtpServer mx : new MockSmtpServer[] {sent.one(), sent.two()}) {
        assertThat(mx.awaitMessages(1, Duration.ofSeconds(5)))
            .singleElement()
            .satisfies(m -> assertThat(m.data()).isEqualTo(message));
      }
    }
  }
}
