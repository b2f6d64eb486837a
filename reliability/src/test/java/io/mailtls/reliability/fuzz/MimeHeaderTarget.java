package io.mailtls.reliability.fuzz;

import io.mailtls.core.ContentDescriptor;
import io.mailtls.jakartamail.internal.LongLines;
import io.mailtls.jakartamail.internal.MimeFacts;
import jakarta.mail.MessagingException;
import jakarta.mail.Part;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;

/**
 * Message header scanning in the Jakarta Mail adapter: a raw message parsed by Jakarta Mail, then
 * walked as {@code MailtlsJakarta.send} does ({@link MimeFacts#unencodedLeaves}, save, {@link
 * LongLines#encode}, save, {@link MimeFacts#describe}), then written with {@code writeTo} as the
 * transport sends it.
 *
 * <p>Jakarta Mail's own calls (parse, save, write) may fail as they like: a message they cannot
 * handle is the application's to fix. mailtls's calls may throw only what they document: {@code
 * LongLines} a {@link MessagingException}, {@code MimeFacts} nothing. Checked, differentially: a
 * description never under-declares what {@code writeTo} then writes (RFC 6152 8-bit octets, RFC
 * 6532 UTF-8 in the header, RFC 5321 §4.5.3.1.6 lines of at most 998 octets).
 */
public final class MimeHeaderTarget extends FuzzTarget {

  private static final Session SESSION = Session.getInstance(new Properties());
  private static final String[] IGNORED = {"Bcc", "Content-Length"};

  @Override
  protected List<Class<? extends Throwable>> documented() {
    return List.of(MessagingException.class);
  }

  @Override
  protected void exercise(byte[] input) throws MessagingException {
    MimeMessage message;
    try {
      message = new MimeMessage(SESSION, new ByteArrayInputStream(input));
    } catch (MessagingException | RuntimeException jakarta) {
      return;
    }
    Set<Part> chosen = MimeFacts.unencodedLeaves(message);
    if (!save(message)) {
      return;
    }
    if (LongLines.encode(message, chosen) && !save(message)) {
      return;
    }
    Optional<ContentDescriptor> description = MimeFacts.describe(message, IGNORED, chosen);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      message.writeTo(out, IGNORED);
    } catch (IOException | MessagingException | RuntimeException jakarta) {
      return;
    }
    if (description.isEmpty()) {
      return; // the transport measures the content itself
    }
    check(description.get(), out.toByteArray());
  }

  private static boolean save(MimeMessage message) {
    try {
      message.saveChanges();
      return true;
    } catch (MessagingException | RuntimeException jakarta) {
      return false;
    }
  }

  /**
   * Checks the written octets against the description, with line breaks counted as the transport
   * sends them (its {@code LineBreakEncoder}): CR LF is one line break, and a bare LF or a lone CR
   * each becomes CRLF on the wire, so a lone CR ends a line too.
   */
  private static void check(ContentDescriptor description, byte[] written) {
    boolean inHeader = true;
    int length = 0;
    int lineStart = 0;
    for (int i = 0; i < written.length; i++) {
      int b = written[i] & 0xff;
      if (b > 127 && !description.eightBit()) {
        throw new AssertionError("described as 7-bit, but octet " + i + " is " + b);
      }
      if (b > 127 && inHeader && !description.utf8Headers()) {
        throw new AssertionError(
            "described without UTF-8 headers, but header octet " + i + " is " + b);
      }
      if (b == '\r' || b == '\n') {
        if (length > 998) {
          throw new AssertionError(
              "described, but line at " + lineStart + " has " + length + " octets");
        }
        if (length == 0 && b == '\n' && i > 0 && written[i - 1] == '\r') {
          // the LF of a CR LF pair: the CR ended the line
          continue;
        }
        if (length == 0) {
          inHeader = false;
        }
        length = 0;
        lineStart = i + 1;
        continue;
      }
      length++;
    }
    if (length > 998) {
      throw new AssertionError("described, but the last line has more than 998 octets");
    }
  }
}
