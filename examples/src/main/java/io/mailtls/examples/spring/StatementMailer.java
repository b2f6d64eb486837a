package io.mailtls.examples.spring;

import jakarta.mail.MessagingException;
import jakarta.mail.internet.MimeMessage;
import org.springframework.mail.javamail.JavaMailSender;
import org.springframework.mail.javamail.MimeMessageHelper;
import org.springframework.stereotype.Service;

/**
 * Ordinary Spring mail code: it builds a message with {@link MimeMessageHelper} and calls {@link
 * JavaMailSender#send(MimeMessage)}. With the starter present the message goes out under the sender
 * domain's TLS level, MTA-STS and DANE; a recipient that does not get it makes {@code send} throw
 * Spring's {@code MailSendException}.
 */
@Service
public class StatementMailer {

  private final JavaMailSender mailSender;

  /** The application's mail sender, injected by Spring. */
  public StatementMailer(JavaMailSender mailSender) {
    this.mailSender = mailSender;
  }

  /** Sends a monthly statement notice from {@code from} to {@code to}. */
  public void sendStatement(String from, String to, String month) throws MessagingException {
    MimeMessage message = mailSender.createMimeMessage();
    MimeMessageHelper helper = new MimeMessageHelper(message, "UTF-8");
    helper.setFrom(from);
    helper.setTo(to);
    helper.setSubject("Your statement for " + month);
    helper.setText("Your statement for " + month + " is ready in online banking.");
    mailSender.send(message);
  }
}
