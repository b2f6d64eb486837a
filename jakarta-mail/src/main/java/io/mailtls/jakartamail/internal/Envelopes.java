package io.mailtls.jakartamail.internal;

import io.mailtls.core.EmailAddress;
import io.mailtls.core.Envelope;
import jakarta.mail.Address;
import jakarta.mail.MessagingException;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Derives an SMTP envelope from a message's header fields (see {@code MailtlsJakarta#envelopeOf}).
 * Stateless and thread-safe; the message itself is not, so do not change it concurrently.
 */
public final class Envelopes {

  private Envelopes() {}

  /**
   * The envelope of {@code message}: reverse-path from {@code Sender:}, else the first {@code
   * From:} mailbox; forward-paths from {@code To:}, {@code Cc:} and {@code Bcc:}, groups expanded.
   *
   * @throws MessagingException when Jakarta Mail cannot parse an address header
   * @throws IllegalArgumentException when the message names no sender or no recipient, names a
   *     newsgroup, or holds an address mailtls cannot send to
   */
  public static Envelope of(MimeMessage message) throws MessagingException {
    return new Envelope(Optional.of(sender(message)), recipients(message));
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
