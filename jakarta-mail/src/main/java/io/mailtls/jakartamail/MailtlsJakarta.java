package io.mailtls.jakartamail;

import io.mailtls.core.DeliveryReport;
import io.mailtls.core.EmailAddress;
import io.mailtls.core.Envelope;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.jakartamail.internal.Envelopes;
import io.mailtls.jakartamail.internal.LongLines;
import io.mailtls.jakartamail.internal.MimeFacts;
import io.mailtls.jakartamail.internal.TextOctets;
import jakarta.mail.MessagingException;
import jakarta.mail.Part;
import jakarta.mail.internet.MimeMessage;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Sends Jakarta Mail messages through {@link SecureSmtpTransport}: one call instead of {@code
 * Transport.send}, with mailtls's TLS levels, MTA-STS, DANE and per-recipient report.
 *
 * <pre>{@code
 * MimeMessage m = new MimeMessage(Session.getInstance(new Properties()));
 * m.setFrom("alice@bank.example.com");
 * m.setRecipients(Message.RecipientType.TO, "bob@example.org");
 * m.setSubject("Statement", "UTF-8");
 * m.setText("Attached.", "UTF-8");
 * DeliveryReport report = MailtlsJakarta.send(transport, m);
 * }</pre>
 *
 * <p>The envelope comes from the message (see {@link #envelopeOf}) or is given; the content is
 * {@link MimeMessageContent}: written by {@code writeTo} straight into the session, once per
 * attempt, Bcc left out. Delivery failures are in the report, never exceptions; the exceptions are
 * Jakarta Mail's own, for a message that cannot be read, and {@link IllegalArgumentException} for
 * one that yields no usable envelope.
 *
 * <p>Thread-safe (stateless). {@code send} blocks the calling thread until every recipient is
 * decided, and writes the message on that thread (no thread of its own).
 */
public final class MailtlsJakarta {

  private MailtlsJakarta() {}

  /**
   * Saves and delivers {@code message} to every {@code To}, {@code Cc} and {@code Bcc} recipient,
   * from the envelope sender {@link #envelopeOf} derives.
   *
   * @throws MessagingException when the message's headers cannot be parsed or saved
   * @throws IllegalArgumentException when the message yields no usable envelope
   */
  public static DeliveryReport send(SecureSmtpTransport transport, MimeMessage message)
      throws MessagingException {
    Objects.requireNonNull(transport, "transport");
    Objects.requireNonNull(message, "message");
    return send(transport, message, envelopeOf(message));
  }

  /**
   * Saves and delivers {@code message} under an explicit envelope, e.g. a bounce address as
   * reverse-path or recipients other than the header fields name. Header fields are sent as they
   * are, except {@code Bcc}, which is never transmitted.
   *
   * <p>Like {@code Transport.send}, this calls {@link MimeMessage#saveChanges()} first, which
   * brings {@code MIME-Version}, {@code Content-Type}, {@code Content-Transfer-Encoding} and a new
   * {@code Message-ID} up to date. A part with a line over 998 octets (RFC 5321 §4.5.3.1.6) that
   * keeps an encoding of its own (7bit, 8bit, binary, or none, as in a parsed message) gets one
   * Jakarta Mail chooses instead, quoted-printable or base64, so that it can be sent; parts under
   * {@code multipart/signed} or {@code multipart/encrypted} are never changed. To send a message
   * exactly as it stands (one parsed from a file, say), call {@code transport.send(envelope,
   * MimeMessageContent.of(message))} instead: a line over 998 octets then bounces it (RFC 3463
   * 5.6.3), before any connection.
   *
   * @throws MessagingException when the message cannot be saved
   */
  public static DeliveryReport send(
      SecureSmtpTransport transport, MimeMessage message, Envelope envelope)
      throws MessagingException {
    Objects.requireNonNull(transport, "transport");
    Objects.requireNonNull(message, "message");
    Objects.requireNonNull(envelope, "envelope");
    return save(transport, message, envelope, null);
  }

  /**
   * As {@link #send(SecureSmtpTransport, MimeMessage)}, but a {@code Message-ID} the message
   * already has is kept through the save, as Spring's {@code JavaMailSenderImpl} keeps it: for
   * callers that set their own (for threading, or to match bounces) and expect it on the wire.
   * Without one, the save gives the message a new one, as {@code send} does.
   *
   * @throws MessagingException when the message's headers cannot be parsed or saved
   * @throws IllegalArgumentException when the message yields no usable envelope
   */
  public static DeliveryReport sendKeepingMessageId(
      SecureSmtpTransport transport, MimeMessage message) throws MessagingException {
    return sendKeepingMessageId(transport, message, envelopeOf(message));
  }

  /**
   * As {@link #send(SecureSmtpTransport, MimeMessage, Envelope)}, keeping a {@code Message-ID} the
   * message already has, as {@link #sendKeepingMessageId(SecureSmtpTransport, MimeMessage)} does:
   * e.g. {@code envelopeOf(message).requireTls(true)} for REQUIRETLS (RFC 8689).
   *
   * @throws MessagingException when the message's headers cannot be parsed or saved
   */
  public static DeliveryReport sendKeepingMessageId(
      SecureSmtpTransport transport, MimeMessage message, Envelope envelope)
      throws MessagingException {
    Objects.requireNonNull(transport, "transport");
    Objects.requireNonNull(message, "message");
    Objects.requireNonNull(envelope, "envelope");
    return save(transport, message, envelope, message.getMessageID());
  }

  /** Saves and sends; {@code messageId}, when given, is put back after each save. */
  private static DeliveryReport save(
      SecureSmtpTransport transport,
      MimeMessage message,
      Envelope envelope,
      @Nullable String messageId)
      throws MessagingException {
    // The leaves that get an encoding in this save, chosen by Jakarta Mail's rule after reading
    // the content: those made 7bit need no second reading for 8BITMIME or line length
    // (MimeFacts).
    Set<Part> chosen = MimeFacts.unencodedLeaves(message);
    // Text leaves get that encoding here, by the save's own rule, from the text encoded in one
    // call: the save would otherwise write each of them one octet at a time to choose it.
    for (Part leaf : chosen) {
      TextOctets.chooseEncoding(leaf);
    }
    saveChanges(message, messageId);
    // RFC 5321 §4.5.3.1.6: lines of at most 998 octets. Parts that keep a 7bit/8bit encoding
    // with longer lines get one Jakarta Mail chooses (quoted-printable or base64) instead.
    if (LongLines.encode(message, chosen)) {
      saveChanges(message, messageId);
    }
    // RFC 5322 §2.1.1: header lines too; a field set with setHeader is stored unfolded.
    LongLines.foldHeaders(message);
    return transport.send(envelope, MimeMessageContent.saved(message, chosen));
  }

  private static void saveChanges(MimeMessage message, @Nullable String messageId)
      throws MessagingException {
    message.saveChanges(); // Jakarta Mail's updateMessageID() always makes a new Message-ID
    if (messageId != null) {
      message.setHeader("Message-ID", messageId);
    }
  }

  /**
   * The envelope the message implies.
   *
   * <ul>
   *   <li>Reverse-path ({@code MAIL FROM}): the envelope-from of an Angus Mail {@code SMTPMessage}
   *       ({@code setEnvelopeFrom}; also the older {@code com.sun.mail.smtp} class, read without
   *       linking to either) when it names one, {@code <>} being the null reverse-path (RFC 5321
   *       §4.5.5), as Angus Mail's transport takes it; else the {@code Sender} mailbox when present
   *       (RFC 5322 §3.6.2: the agent responsible for the transmission), else the first {@code
   *       From} mailbox. Its domain selects the sender's TLS level. Unlike Angus Mail, the
   *       session's {@code mail.smtp.from} plays no part (see {@link #envelopeOf(MimeMessage,
   *       Optional)}), and {@code Return-Path} is never read (RFC 5321 §4.4: the receiving side
   *       writes it).
   *   <li>Forward-paths ({@code RCPT TO}): {@link MimeMessage#getAllRecipients()}, i.e. {@code To},
   *       {@code Cc} and {@code Bcc} in that order, members of groups included, duplicates removed.
   *       {@code Resent-*} fields are not consulted.
   * </ul>
   *
   * @throws MessagingException when Jakarta Mail cannot parse an address header, or an {@code
   *     SMTPMessage}'s envelope-from cannot be read
   * @throws IllegalArgumentException when there is no sender or no recipient, a recipient is a
   *     newsgroup, or an address is not a mailbox mailtls can use ({@link
   *     io.mailtls.core.EmailAddress#parse})
   */
  public static Envelope envelopeOf(MimeMessage message) throws MessagingException {
    return Envelopes.of(Objects.requireNonNull(message, "message"));
  }

  /**
   * As {@link #envelopeOf(MimeMessage)}, with {@code envelopeFrom} as the reverse-path unless the
   * message is an {@code SMTPMessage} that names its own: what Angus Mail does with {@code
   * mail.smtp.from}, a sender-wide bounce address that one message can override. Empty is the null
   * reverse-path.
   *
   * @throws MessagingException as {@link #envelopeOf(MimeMessage)}
   * @throws IllegalArgumentException as {@link #envelopeOf(MimeMessage)}
   */
  public static Envelope envelopeOf(MimeMessage message, Optional<EmailAddress> envelopeFrom)
      throws MessagingException {
    return Envelopes.of(
        Objects.requireNonNull(message, "message"),
        Objects.requireNonNull(envelopeFrom, "envelopeFrom"));
  }
}
