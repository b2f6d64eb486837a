package io.mailtls.jakartamail;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DsnHandling;
import io.mailtls.core.DsnRequest;
import io.mailtls.core.DsnRequest.Notify;
import io.mailtls.core.RecipientResult;
import io.mailtls.testkit.MockSmtpServer;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.function.UnaryOperator;
import org.eclipse.angus.mail.smtp.SMTPMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Delivery status notifications (RFC 3461) through the provider, as Angus Mail's SMTPTransport asks
 * for them: an {@code SMTPMessage}'s notify and return options, else the session's {@code
 * mail.smtp.dsn.notify} and {@code mail.smtp.dsn.ret}, against a real server that advertises DSN.
 */
class DsnOptionsTest {

  @TempDir Path dir;

  private static Loopback dsnMx(UnaryOperator<MockSmtpServer.Builder> more) {
    return Loopback.start(b -> more.apply(b.capabilities("8BITMIME", "DSN")));
  }

  private Properties props(Loopback net) throws Exception {
    Properties p = net.providerSettings(dir);
    p.setProperty("mail.transport.protocol.rfc822", "mailtls");
    return p;
  }

  private static MimeMessage message(MimeMessage m) throws MessagingException {
    m.setFrom(new InternetAddress("alice@sender.test"));
    m.addRecipient(Message.RecipientType.TO, new InternetAddress("bob@example.test"));
    m.setSubject("hello");
    m.setText("Hello.\n", "UTF-8");
    return m;
  }

  private static List<String> envelopeLines(Loopback net) {
    return net.server.sessions().stream()
        .flatMap(s -> s.commandLines().stream())
        .filter(l -> l.startsWith("MAIL ") || l.startsWith("RCPT "))
        .toList();
  }

  @Test
  void smtpMessageNotifyAndReturnOptionsGoOnTheEnvelope() throws Exception {
    try (Loopback net = dsnMx(b -> b)) {
      Session session = Session.getInstance(props(net));
      SMTPMessage m = new SMTPMessage(session);
      message(m);
      m.setNotifyOptions(SMTPMessage.NOTIFY_SUCCESS | SMTPMessage.NOTIFY_FAILURE);
      m.setReturnOption(SMTPMessage.RETURN_HDRS);
      Transport.send(m);
      assertThat(envelopeLines(net))
          .containsExactly(
              "MAIL FROM:<alice@sender.test> RET=HDRS",
              "RCPT TO:<bob@example.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@example.test");
    }
  }

  @Test
  void smtpMessageNotifyNever() throws Exception {
    try (Loopback net = dsnMx(b -> b)) {
      Session session = Session.getInstance(props(net));
      SMTPMessage m = new SMTPMessage(session);
      message(m);
      m.setNotifyOptions(SMTPMessage.NOTIFY_NEVER);
      Transport.send(m);
      assertThat(envelopeLines(net))
          .containsExactly(
              "MAIL FROM:<alice@sender.test>",
              "RCPT TO:<bob@example.test> NOTIFY=NEVER ORCPT=rfc822;bob@example.test");
    }
  }

  @Test
  void sessionPropertiesApplyToEveryMessage() throws Exception {
    try (Loopback net = dsnMx(b -> b)) {
      Properties p = props(net);
      p.setProperty("mail.smtp.dsn.notify", "FAILURE,DELAY");
      p.setProperty("mail.smtp.dsn.ret", "FULL");
      Transport.send(message(new MimeMessage(Session.getInstance(p))));
      assertThat(envelopeLines(net))
          .containsExactly(
              "MAIL FROM:<alice@sender.test> RET=FULL",
              "RCPT TO:<bob@example.test> NOTIFY=FAILURE,DELAY ORCPT=rfc822;bob@example.test");
    }
  }

  @Test
  void theMessagesOptionsWinOverTheSessions() throws Exception {
    try (Loopback net = dsnMx(b -> b)) {
      Properties p = props(net);
      p.setProperty("mail.smtp.dsn.notify", "NEVER");
      p.setProperty("mail.smtp.dsn.ret", "FULL");
      SMTPMessage m = new SMTPMessage(Session.getInstance(p));
      message(m);
      m.setNotifyOptions(SMTPMessage.NOTIFY_DELAY);
      Transport.send(m);
      // As Angus: each option of the message, else the session's.
      assertThat(envelopeLines(net))
          .containsExactly(
              "MAIL FROM:<alice@sender.test> RET=FULL",
              "RCPT TO:<bob@example.test> NOTIFY=DELAY ORCPT=rfc822;bob@example.test");
    }
  }

  @Test
  void aServerWithoutDsnGetsTheMessageAndTheReportSaysTheRequestWasNotPassedOn() throws Exception {
    try (Loopback net = Loopback.start(b -> b.capabilities("8BITMIME"))) {
      Session session = Session.getInstance(props(net));
      SMTPMessage m = new SMTPMessage(session);
      message(m);
      m.setNotifyOptions(SMTPMessage.NOTIFY_SUCCESS);
      m.saveChanges();
      try (MailtlsTransport t = (MailtlsTransport) session.getTransport("mailtls")) {
        t.connect();
        t.sendMessage(m, m.getAllRecipients());
        RecipientResult r = t.lastReport().orElseThrow().result("bob@example.test");
        assertThat(r.status()).isEqualTo(DeliveryStatus.DELIVERED);
        // RFC 3461 §5.2.2: delivered, but no success notification will come.
        assertThat(r.dsn()).isEqualTo(DsnHandling.NOT_PASSED_ON);
      }
      assertThat(envelopeLines(net))
          .containsExactly("MAIL FROM:<alice@sender.test>", "RCPT TO:<bob@example.test>");
    }
  }

  @Test
  void envelopeOfReadsTheSmtpMessageOptions() throws Exception {
    SMTPMessage m = new SMTPMessage(Session.getInstance(new Properties()));
    message(m);
    assertThat(MailtlsJakarta.envelopeOf(m).dsn()).isEmpty();
    m.setNotifyOptions(SMTPMessage.NOTIFY_FAILURE | SMTPMessage.NOTIFY_DELAY);
    m.setReturnOption(SMTPMessage.RETURN_FULL);
    assertThat(MailtlsJakarta.envelopeOf(m).dsn())
        .contains(DsnRequest.on(Notify.FAILURE, Notify.DELAY).withRet(DsnRequest.Ret.FULL));
  }

  @Test
  void aMalformedSessionValueFailsConnect() throws Exception {
    try (Loopback net = dsnMx(b -> b)) {
      Properties p = props(net);
      p.setProperty("mail.smtp.dsn.notify", "SOMETIMES");
      try (Transport t = Session.getInstance(p).getTransport("mailtls")) {
        assertThatThrownBy(t::connect)
            .isInstanceOf(MessagingException.class)
            .hasMessageContaining("mail.smtp.dsn.notify");
      }
      p.setProperty("mail.smtp.dsn.notify", "NEVER,SUCCESS");
      try (Transport t = Session.getInstance(p).getTransport("mailtls")) {
        assertThatThrownBy(t::connect)
            .isInstanceOf(MessagingException.class)
            .hasMessageContaining("mail.smtp.dsn.notify");
      }
      p.remove("mail.smtp.dsn.notify");
      p.setProperty("mail.smtp.dsn.ret", "BODY");
      try (Transport t = Session.getInstance(p).getTransport("mailtls")) {
        assertThatThrownBy(t::connect)
            .isInstanceOf(MessagingException.class)
            .hasMessageContaining("mail.smtp.dsn.ret");
      }
    }
  }
}
