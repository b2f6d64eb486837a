package io.mailtls.jakartamail;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.TlsLevel;
import io.mailtls.testkit.SmtpMessage;
import jakarta.mail.Message;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * A leaf whose type is {@code message/*} but whose content is text the application set (a
 * delivery-status part built with {@code setText}, then given its type): the save chooses
 * quoted-printable for it as for any text, and Jakarta Mail's {@code writeTo} then ignores that
 * encoding for a {@code message} type (unless {@code mail.mime.allowencodedmessages} is set) and
 * writes the text as it is (RFC 2046 §5.2 restricts the encodings of {@code message} types). The
 * octets on the wire must be {@code writeTo}'s, and their declaration must cover them.
 */
class IgnoredEncodingTest {

  private static final String STATUS =
      "Reporting-MTA: dns; mx.example.test\n"
          + "Final-Recipient: rfc822; jörg@example.test\n"
          + "Action: failed\n"
          + "Status: 5.1.1\n";

  /** A multipart/report whose status part is UTF-8 text (RFC 6533 §6.2) typed after setText. */
  private static MimeMessage report() throws Exception {
    MimeMessage m = new MimeMessage(Messages.session());
    m.setFrom("a@sender.test");
    m.setRecipients(Message.RecipientType.TO, "to@example.test");
    m.setSubject("Undeliverable");
    MimeBodyPart human = new MimeBodyPart();
    human.setText("Your message could not be delivered.\n", "us-ascii");
    MimeBodyPart status = new MimeBodyPart();
    status.setText(STATUS, "UTF-8");
    status.setHeader("Content-Type", "message/global-delivery-status");
    m.setContent(new MimeMultipart("report", human, status));
    return m;
  }

  /**
   * {@code send} writes a saved message itself where it can promise {@code writeTo}'s octets; it
   * used to quoted-printable-encode this part, which {@code writeTo} writes as it is.
   */
  @Test
  void sendPutsWriteTosOctetsOnTheWire() throws Exception {
    try (Loopback net = Loopback.start(b -> b)) {
      MimeMessage m = report();

      DeliveryReport report = MailtlsJakarta.send(net.transport(TlsLevel.OPPORTUNISTIC), m);

      assertThat(report.result("to@example.test").status())
          .as("%s", report)
          .isEqualTo(DeliveryStatus.DELIVERED);
      SmtpMessage got = net.server.awaitMessages(1, Duration.ofSeconds(10)).get(0);
      assertThat(new String(got.data(), StandardCharsets.UTF_8))
          .as("the octets writeTo writes")
          .isEqualTo(new String(Messages.onTheWire(Messages.written(m)), StandardCharsets.UTF_8));
      // 8-bit octets went out: as 8BITMIME content (RFC 6152 §3).
      assertThat(got.mailParameters()).contains("BODY=8BITMIME");
    }
  }

  /**
   * The content of a saved message must not call this part 7-bit: {@code writeTo} writes its UTF-8
   * octets as they are, and content that breaks its declaration is not sent.
   */
  @Test
  void theContentOfASavedMessageDeclaresWhatWriteToWrites() throws Exception {
    try (Loopback net = Loopback.start(b -> b)) {
      MimeMessage m = report();
      m.saveChanges();
      MimeMessageContent content = MimeMessageContent.of(m);
      Optional<Boolean> declaredEightBit = content.descriptor().map(d -> d.eightBit());

      DeliveryReport report =
          net.transport(TlsLevel.OPPORTUNISTIC).send(MailtlsJakarta.envelopeOf(m), content);

      assertThat(report.result("to@example.test").status())
          .as("%s", report)
          .isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(declaredEightBit)
          .as("declared 8-bit, or left for the transport to measure")
          .isNotEqualTo(Optional.of(false));
      SmtpMessage got = net.server.awaitMessages(1, Duration.ofSeconds(10)).get(0);
      assertThat(got.data()).isEqualTo(Messages.onTheWire(Messages.written(m)));
      assertThat(got.mailParameters()).contains("BODY=8BITMIME");
    }
  }
}
