package io.mailtls.jakartamail;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.TlsLevel;
import io.mailtls.testkit.SmtpMessage;
import jakarta.mail.Message;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.MimeMessage;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A message never saved ({@code saveChanges}) is saved by its first {@code writeTo}: what goes out
 * is what that save makes of it, and the content must be described as such.
 */
class UnsavedMessageTest {

  @TempDir Path dir;

  /**
   * A message never saved is saved by its first {@code writeTo}, which gives 8-bit text a
   * quoted-printable encoding: what goes out is 7-bit. The descriptor measured the text as it stood
   * before that save and declared it 8-bit, so the transport refuses a server without 8BITMIME (RFC
   * 6152) with a permanent 5.6.3 bounce for a message that would have gone.
   */
  @ParameterizedTest(name = "MIME-Version set by hand: {0}")
  @ValueSource(booleans = {false, true})
  void anUnsavedMessageIsNotDeclared8BitForTextItsSaveEncodes(boolean handSetMimeVersion)
      throws Exception {
    try (Loopback net = Loopback.start(b -> b.capabilities("PIPELINING", "ENHANCEDSTATUSCODES"))) {
      MimeMessage m = new MimeMessage(Messages.session());
      if (handSetMimeVersion) {
        m.setHeader("MIME-Version", "1.0"); // as mail tutorials do; the save still encodes
      }
      m.setFrom("a@sender.test");
      m.setRecipients(Message.RecipientType.TO, "to@example.test");
      m.setSubject("Grüße", "UTF-8");
      m.setText(Messages.TEXT, "UTF-8"); // 8-bit text; the save will choose quoted-printable

      DeliveryReport report =
          net.transport(TlsLevel.OPPORTUNISTIC)
              .send(MailtlsJakarta.envelopeOf(m), MimeMessageContent.of(m));

      assertThat(report.result("to@example.test").status())
          .as("%s", report.result("to@example.test"))
          .isEqualTo(DeliveryStatus.DELIVERED);
      SmtpMessage got = net.server.awaitMessages(1, Duration.ofSeconds(10)).get(0);
      assertThat(got.dataAsString()).contains("Content-Transfer-Encoding: quoted-printable");
    }
  }

  /** The same through the provider: {@code transport.sendMessage} without {@code saveChanges}. */
  @Test
  void theProviderSendsAnUnsavedMessageToAServerWithout8BitMime() throws Exception {
    try (Loopback net = Loopback.start(b -> b.capabilities("PIPELINING", "ENHANCEDSTATUSCODES"))) {
      Properties props = net.providerSettings(dir);
      props.setProperty("mail.mailtls.dane", "false");
      props.setProperty("mail.mailtls.mtasts", "false");
      Session session = Session.getInstance(props);
      MimeMessage m = new MimeMessage(session);
      m.setFrom("a@sender.test");
      m.setRecipients(Message.RecipientType.TO, "to@example.test");
      m.setSubject("Grüße", "UTF-8");
      m.setText(Messages.TEXT, "UTF-8");
      try (Transport t = session.getTransport("mailtls")) {
        t.connect();
        t.sendMessage(m, m.getAllRecipients()); // throws SendFailedException when bounced
      }
      assertThat(net.server.awaitMessages(1, Duration.ofSeconds(10))).hasSize(1);
    }
  }
}
