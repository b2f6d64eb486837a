package io.mailtls.jakartamail;

import jakarta.activation.DataHandler;
import jakarta.activation.DataSource;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import jakarta.mail.util.ByteArrayDataSource;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UnsupportedEncodingException;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/** Messages for the tests, built with Jakarta Mail as an application would. */
final class Messages {

  static final String TEXT =
      "Grüße aus Köln.\n.a line that starts with a dot\n..and two\n" + "€ 12,50\n";
  static final String HTML = "<p>Grüße aus <b>Köln</b>.</p>\n";
  static final String SUBJECT = "Grüße — ☃ Prüfbericht";
  static final String ATTACHMENT_NAME = "résumé.bin";

  private Messages() {}

  static Session session() {
    return Session.getInstance(new Properties());
  }

  /** Deterministic binary content. */
  static byte[] binary(int size) {
    byte[] b = new byte[size];
    new Random(42).nextBytes(b);
    return b;
  }

  /**
   * A multipart/mixed message: a text/plain + text/html alternative, a binary attachment with a
   * non-ASCII file name, a non-ASCII subject and display name, To + Cc + Bcc.
   */
  static MimeMessage multipart(byte[] attachment) throws MessagingException {
    MimeMessage m = new MimeMessage(session());
    m.setFrom(address("a@sender.test", "Zoë Ålander"));
    m.setRecipients(Message.RecipientType.TO, "to@example.test");
    m.setRecipients(Message.RecipientType.CC, "cc@example.test");
    m.setRecipients(Message.RecipientType.BCC, "hidden@example.test");
    m.setSubject(SUBJECT, "UTF-8");
    m.setSentDate(java.util.Date.from(java.time.Instant.ofEpochMilli(1_700_000_000_000L)));

    MimeBodyPart text = new MimeBodyPart();
    text.setText(TEXT, "UTF-8");
    MimeBodyPart html = new MimeBodyPart();
    html.setText(HTML, "UTF-8", "html");
    MimeMultipart alternative = new MimeMultipart("alternative", text, html);
    MimeBodyPart body = new MimeBodyPart();
    body.setContent(alternative);

    MimeBodyPart file = new MimeBodyPart();
    file.setDataHandler(
        new DataHandler(new ByteArrayDataSource(attachment, "application/octet-stream")));
    file.setFileName(ATTACHMENT_NAME);
    file.setDisposition(MimeBodyPart.ATTACHMENT);

    m.setContent(new MimeMultipart(body, file));
    return m;
  }

  /** A message whose only part comes from {@code source}, base64-encoded. */
  static MimeMessage withSource(DataSource source) throws MessagingException {
    MimeMessage m = new MimeMessage(session());
    m.setFrom("a@sender.test");
    m.setRecipients(Message.RecipientType.TO, "to@example.test");
    m.setSubject("data");
    MimeBodyPart part = new MimeBodyPart();
    part.setDataHandler(new DataHandler(source));
    // Named up front, so saveChanges() does not read the source to choose an encoding.
    part.setHeader("Content-Type", source.getContentType());
    part.setHeader("Content-Transfer-Encoding", "base64");
    part.setFileName("data.bin");
    m.setContent(new MimeMultipart(part));
    return m;
  }

  /** What {@code writeTo} makes of the message, as mailtls transmits it (without Bcc). */
  static byte[] written(MimeMessage m) throws IOException, MessagingException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    m.writeTo(out, new String[] {"Bcc", "Content-Length"});
    return out.toByteArray();
  }

  /**
   * {@code octets} with every line break as CRLF (a bare LF or lone CR becomes CRLF) and a final
   * CRLF, as SMTP DATA carries them (RFC 5321 §2.3.8, §4.1.1.4).
   */
  static byte[] onTheWire(byte[] octets) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int i = 0; i < octets.length; i++) {
      byte b = octets[i];
      if (b == '\r') {
        out.write('\r');
        out.write('\n');
        if (i + 1 < octets.length && octets[i + 1] == '\n') {
          i++;
        }
      } else if (b == '\n') {
        out.write('\r');
        out.write('\n');
      } else {
        out.write(b);
      }
    }
    byte[] r = out.toByteArray();
    if (r.length < 2 || r[r.length - 2] != '\r' || r[r.length - 1] != '\n') {
      out.write('\r');
      out.write('\n');
      r = out.toByteArray();
    }
    return r;
  }

  static InternetAddress address(String address, String name) {
    try {
      return new InternetAddress(address, name, "UTF-8");
    } catch (UnsupportedEncodingException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Generated content of {@code size} octets, never held in memory; counts the octets read from all
   * its streams.
   */
  static final class Generated implements DataSource {
    final long size;
    final AtomicLong pulled = new AtomicLong();

    Generated(long size) {
      this.size = size;
    }

    @Override
    public InputStream getInputStream() {
      return new InputStream() {
        private long pos;

        @Override
        public int read() {
          if (pos >= size) {
            return -1;
          }
          pulled.incrementAndGet();
          return octet(pos++);
        }

        @Override
        public int read(byte[] b, int off, int len) {
          if (pos >= size) {
            return -1;
          }
          int n = (int) Math.min(len, size - pos);
          for (int i = 0; i < n; i++) {
            b[off + i] = (byte) octet(pos++);
          }
          pulled.addAndGet(n);
          return n;
        }
      };
    }

    static int octet(long i) {
      return (int) ((i * 2654435761L) >>> 13) & 0xff;
    }

    @Override
    public OutputStream getOutputStream() {
      throw new UnsupportedOperationException();
    }

    @Override
    public String getContentType() {
      return "application/octet-stream";
    }

    @Override
    public String getName() {
      return "generated";
    }
  }

  /**
   * A source whose streams fail after {@code goodOctets}, from the {@code failFromOpen}-th open
   * (1-based) on; earlier opens deliver {@code goodOctets} and end normally.
   */
  static final class Failing implements DataSource {
    final int goodOctets;
    final int failFromOpen;
    final AtomicInteger opens = new AtomicInteger();

    Failing(int goodOctets, int failFromOpen) {
      this.goodOctets = goodOctets;
      this.failFromOpen = failFromOpen;
    }

    @Override
    @SuppressWarnings("InputStreamSlowMultibyteRead") // a test double: a few octets, read once
    public InputStream getInputStream() {
      boolean fail = opens.incrementAndGet() >= failFromOpen;
      return new InputStream() {
        private int pos;

        @Override
        public int read() throws IOException {
          if (pos < goodOctets) {
            return 'x' + (pos++ % 3);
          }
          if (fail) {
            throw new IOException("disk on fire");
          }
          return -1;
        }
      };
    }

    @Override
    public OutputStream getOutputStream() {
      throw new UnsupportedOperationException();
    }

    @Override
    public String getContentType() {
      return "application/octet-stream";
    }

    @Override
    public String getName() {
      return "failing";
    }
  }
}
