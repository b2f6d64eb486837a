package io.mailtls.jakartamail.internal;

import io.mailtls.core.EmailAddress;
import io.mailtls.core.Envelope;
import jakarta.mail.Address;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.internet.AddressException;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import java.lang.reflect.InvocationTargetException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Derives an SMTP envelope from a message's header fields (see {@code MailtlsJakarta#envelopeOf}).
 * Stateless and thread-safe; the message itself is not, so do not change it concurrently.
 */
public final class Envelopes {

  private static final List<String> SMTP_MESSAGE_CLASSES =
      List.of("org.eclipse.angus.mail.smtp.SMTPMessage", "com.sun.mail.smtp.SMTPMessage");

  private Envelopes() {}

  /**
   * The envelope of {@code message}: reverse-path from an {@code SMTPMessage}'s envelope-from
   * ({@link #smtpMessageEnvelopeFrom}), else {@code Sender:}, else the first {@code From:} mailbox;
   * forward-paths from {@code To:}, {@code Cc:} and {@code Bcc:}, groups expanded; an {@code
   * SMTPMessage}'s notify and return options as its DSN request (RFC 3461, {@link DsnOptions}).
   *
   * @throws MessagingException when Jakarta Mail cannot parse an address header, or the
   *     envelope-from cannot be read
   * @throws IllegalArgumentException when the message names no sender or no recipient, names a
   *     newsgroup, or holds an address mailtls cannot send to
   */
  public static Envelope of(MimeMessage message) throws MessagingException {
    Optional<Optional<EmailAddress>> own = smtpMessageEnvelopeFrom(message);
    Optional<EmailAddress> sender = own.isPresent() ? own.get() : Optional.of(sender(message));
    return new Envelope(
        sender, recipients(message), false, DsnOptions.of(message, DsnOptions.Defaults.NONE));
  }

  /**
   * The envelope of {@code message}, whose reverse-path is the envelope-from of an {@code
   * SMTPMessage} when it names one ({@link #smtpMessageEnvelopeFrom}), else {@code fallback}.
   *
   * @throws MessagingException when Jakarta Mail cannot parse an address header, or the
   *     envelope-from cannot be read
   * @throws IllegalArgumentException as {@link #of}, and when the envelope-from is unusable
   */
  public static Envelope of(MimeMessage message, Optional<EmailAddress> fallback)
      throws MessagingException {
    Optional<Optional<EmailAddress>> own = smtpMessageEnvelopeFrom(message);
    return new Envelope(
        own.orElse(fallback),
        recipients(message),
        false,
        DsnOptions.of(message, DsnOptions.Defaults.NONE));
  }

  /**
   * The envelope-from of an Angus Mail {@code SMTPMessage} (or of the older {@code
   * com.sun.mail.smtp} one), read without linking to either: empty when the message is none or
   * names none (null or blank, which Angus Mail's {@code SMTPTransport} treats as unset); else the
   * reverse-path it names, empty for {@code <>} (RFC 5321 §4.5.5: the null reverse-path).
   *
   * @throws MessagingException when the value cannot be read: it fails closed, never falling back
   *     to another sender than the one the program chose
   * @throws IllegalArgumentException when the value is no usable address
   */
  public static Optional<Optional<EmailAddress>> smtpMessageEnvelopeFrom(Message message)
      throws MessagingException {
    for (Class<?> c = message.getClass(); c != null; c = c.getSuperclass()) {
      if (SMTP_MESSAGE_CLASSES.contains(c.getName())) {
        Object v;
        try {
          v = c.getMethod("getEnvelopeFrom").invoke(message);
        } catch (InvocationTargetException e) {
          throw new MessagingException("SMTPMessage.getEnvelopeFrom failed", e);
        } catch (ReflectiveOperationException | RuntimeException e) {
          throw new MessagingException("cannot read SMTPMessage.getEnvelopeFrom: " + e, e);
        }
        String value = v instanceof String s ? nonBlank(s) : null;
        return value == null
            ? Optional.empty()
            : Optional.of(reversePath(value, "SMTPMessage.setEnvelopeFrom"));
      }
    }
    return Optional.empty();
  }

  /**
   * The reverse-path {@code value} names ({@code origin} says where it came from, for the error):
   * empty for {@code <>}, the null reverse-path (RFC 5321 §4.5.5); an address, with or without
   * angle brackets or a display name, otherwise. Text after the closing angle bracket is refused:
   * Jakarta Mail's parser drops it, while Angus Mail would send it on the MAIL command (as an ESMTP
   * parameter), so either reading would send something the caller may not have meant.
   *
   * @throws IllegalArgumentException when {@code value} is no usable address
   */
  public static Optional<EmailAddress> reversePath(String value, String origin) {
    String v = value.trim();
    if (v.equals("<>")) {
      return Optional.empty();
    }
    if (v.indexOf('<') >= 0 && !v.endsWith(">")) {
      throw new IllegalArgumentException(
          "unusable envelope sender \""
              + v
              + "\" from "
              + origin
              + ": text after the address (give the address alone, or \"<address>\")");
    }
    try {
      String address = new InternetAddress(v, true).getAddress();
      return Optional.of(EmailAddress.parse(address == null ? v : address));
    } catch (AddressException | IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "unusable envelope sender \"" + v + "\" from " + origin + ": " + e.getMessage(), e);
    }
  }

  /** {@code s}, or null when it is null or blank. */
  public static @Nullable String nonBlank(@Nullable String s) {
    return s == null || s.isBlank() ? null : s;
  }

  /**
   * The reverse-path the header fields imply: {@code Sender:}, else the first {@code From:}.
   *
   * @throws IllegalArgumentException when there is neither, or the address is unusable
   */
  public static EmailAddress sender(MimeMessage message) throws MessagingException {
    // RFC 5322 §3.6.2: Sender names the mailbox responsible for the transmission; without it the
    // (first) author is. The same rule as Python's smtplib.send_message.
    Address sender = message.getSender();
    if (sender != null) {
      return convert(sender, "Sender");
    }
    Address[] from = message.getFrom(); // From, or Sender when From is absent
    if (from == null || from.length == 0) {
      throw new IllegalArgumentException(
          "the message has neither a Sender nor a From address; " + "pass an explicit Envelope");
    }
    return convert(from[0], "From");
  }

  private static List<EmailAddress> recipients(MimeMessage message) throws MessagingException {
    Address[] all = message.getAllRecipients(); // To, Cc, Bcc and Newsgroups
    List<EmailAddress> out = new ArrayList<>();
    if (all != null) {
      for (Address a : all) {
        if (a instanceof InternetAddress ia && ia.isGroup()) {
          // RFC 5322 §3.4: a group's members are recipients; "undisclosed-recipients:;" has none.
          InternetAddress[] members = ia.getGroup(false);
          if (members != null) {
            for (InternetAddress m : members) {
              out.add(convert(m, "To/Cc/Bcc"));
            }
          }
        } else {
          out.add(convert(a, "To/Cc/Bcc"));
        }
      }
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException(
          "the message has no To, Cc or Bcc recipient; " + "pass an explicit Envelope");
    }
    return out;
  }

  private static EmailAddress convert(Address a, String field) {
    if (!(a instanceof InternetAddress ia)) {
      throw new IllegalArgumentException(
          "mailtls sends over SMTP only; the message names "
              + a
              + " ("
              + a.getType()
              + ") among its recipients; pass an explicit Envelope");
    }
    if (ia.isGroup()) {
      throw new IllegalArgumentException("a group cannot be the " + field + " address: " + ia);
    }
    String address = ia.getAddress();
    if (address == null) {
      throw new IllegalArgumentException("empty address in the " + field + " field");
    }
    try {
      return EmailAddress.parse(address);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "unusable " + field + " address \"" + address + "\": " + e.getMessage(), e);
    }
  }
}
