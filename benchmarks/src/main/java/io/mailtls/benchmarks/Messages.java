package io.mailtls.benchmarks;

import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.Properties;

/**
 * The benchmark's input, the same for every client: a ready-made RFC 5322 message of a given size
 * ({@link #rfc5322}), or a {@link MimeMessage} built through the Jakarta Mail API with the same
 * header fields and body ({@link #mime}). The body is 7-bit text in lines of 76 characters, every
 * 20th of which starts with a dot (dot-stuffing has work to do).
 */
public final class Messages {

  public static final String FROM = "sender@sender.bench.test";

  private Messages() {}

  /** The body text, CRLF line ends, about {@code size} octets. */
  static String body(int size) {
    StringBuilder sb = new StringBuilder(size + 80);
    int line = 0;
    while (sb.length() < size) {
      String prefix = line % 20 == 7 ? "." : "";
      String text =
          prefix
              + "line "
              + line
              + " of the benchmark message; the quick brown fox jumps over the lazy dog 0123456789";
      sb.append(text, 0, Math.min(text.length(), 76)).append("\r\n");
      line++;
    }
    return sb.toString();
  }

  private static String headers(String to, int n) {
    return "From: Benchmark <"
        + FROM
        + ">\r\n"
        + "To: <"
        + to
        + ">\r\n"
        + "Subject: benchmark message "
        + n
        + "\r\n"
        + "Date: Thu, 03 Dec 2026 12:00:00 +0000\r\n"
        + "Message-ID: <bench."
        + n
        + "@sender.bench.test>\r\n"
        + "MIME-Version: 1.0\r\n"
        + "Content-Type: text/plain; charset=us-ascii\r\n"
        + "Content-Transfer-Encoding: 7bit\r\n"
        + "\r\n";
  }

  /** A complete message of {@code size} octets or up to a line more, addressed to {@code to}. */
  public static byte[] rfc5322(String to, int size) {
    String h = headers(to, size);
    return (h + body(Math.max(0, size - h.length()))).getBytes(StandardCharsets.US_ASCII);
  }

  /** A Jakarta Mail session with no properties (for parsing and building messages). */
  public static Session plainSession() {
    return Session.getInstance(new Properties());
  }

  /** The message {@link #rfc5322} describes, parsed by Jakarta Mail. */
  public static MimeMessage parse(Session session, byte[] rfc5322) throws MessagingException {
    return new MimeMessage(session, new ByteArrayInputStream(rfc5322));
  }

  /** The same message built through the API, as an application builds one; not yet saved. */
  public static MimeMessage mime(Session session, String to, int size) throws MessagingException {
    MimeMessage m = new MimeMessage(session);
    m.setFrom(new InternetAddress(FROM, false));
    m.setRecipients(
        Message.RecipientType.TO, new InternetAddress[] {new InternetAddress(to, false)});
    m.setSubject("benchmark message " + size, "us-ascii");
    m.setText(body(Math.max(0, size - 300)), "us-ascii");
    return m;
  }
}
