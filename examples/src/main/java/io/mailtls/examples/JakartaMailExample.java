package io.mailtls.examples;

import io.mailtls.core.DeliveryReport;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.jakartamail.MailtlsJakarta;
import jakarta.activation.DataHandler;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import jakarta.mail.util.ByteArrayDataSource;
import java.util.Properties;

/**
 * An application that already builds {@link MimeMessage}s with Jakarta Mail hands them to mailtls
 * with one call, and gets a per-recipient report instead of an exception to parse. The envelope
 * comes from the message (Sender or From; To, Cc and Bcc), Bcc is never transmitted, and the
 * content is streamed from {@code writeTo}.
 */
public final class JakartaMailExample {

  private JakartaMailExample() {}

  /** A multipart message as applications build it: text plus an attachment, Bcc included. */
  public static MimeMessage invoice(String from, String to, String bcc, byte[] pdf)
      throws MessagingException {
    Session session = Session.getInstance(new Properties());
    MimeMessage message = new MimeMessage(session);
    message.setFrom(new InternetAddress(from));
    message.setRecipients(MimeMessage.RecipientType.TO, to);
    message.setRecipients(MimeMessage.RecipientType.BCC, bcc);
    message.setSubject("Your invoice", "UTF-8");
    MimeBodyPart text = new MimeBodyPart();
    text.setText("Please find your invoice attached.", "UTF-8");
    MimeBodyPart attachment = new MimeBodyPart();
    attachment.setDataHandler(new DataHandler(new ByteArrayDataSource(pdf, "application/pdf")));
    attachment.setFileName("invoice.pdf");
    MimeMultipart mixed = new MimeMultipart("mixed");
    mixed.addBodyPart(text);
    mixed.addBodyPart(attachment);
    message.setContent(mixed);
    return message;
  }

  /** Delivers a Jakarta Mail message through mailtls and returns the per-recipient report. */
  public static DeliveryReport send(SecureSmtpTransport transport, MimeMessage message)
      throws MessagingException {
    return MailtlsJakarta.send(transport, message);
  }
}
