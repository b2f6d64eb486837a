package io.mailtls.spring;

import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DsnRequest;
import io.mailtls.core.EmailAddress;
import io.mailtls.core.Envelope;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.jakartamail.MailtlsJakarta;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeMessage;
import java.io.InputStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import org.springframework.mail.MailException;
import org.springframework.mail.MailParseException;
import org.springframework.mail.MailPreparationException;
import org.springframework.mail.MailSendException;
import org.springframework.mail.SimpleMailMessage;
import org.springframework.mail.javamail.JavaMailSender;
import org.springframework.mail.javamail.JavaMailSenderImpl;
import org.springframework.mail.javamail.MimeMailMessage;
import org.springframework.mail.javamail.MimeMessageHelper;
import org.springframework.mail.javamail.MimeMessagePreparator;

/**
 * Spring's {@link JavaMailSender} delivering through a mailtls {@link SecureSmtpTransport}: code
 * that calls {@code mailSender.send(mimeMessage)} or {@code send(simpleMailMessage)} gets the
 * sender's TLS level, MTA-STS and DANE without a change.
 *
 * <p>Each message goes to its {@code To}, {@code Cc} and {@code Bcc} recipients from the envelope
 * {@link MailtlsJakarta#envelopeOf} derives (an Angus Mail {@code SMTPMessage}'s envelope-from,
 * else the {@code Sender}, else the first {@code From} mailbox, is the reverse-path, and its domain
 * selects the TLS level). A message that is not delivered to every recipient (deferred or failed)
 * is reported, after all messages of the call were tried, in a {@link MailSendException} whose
 * {@link MailSendException#getFailedMessages()} maps the message (the {@link SimpleMailMessage} for
 * those) to a {@link MailtlsDeliveryException} holding every recipient's result, or to the Jakarta
 * Mail or argument exception for a message that could not be sent at all. Nothing is retried here:
 * a deferred recipient is the caller's to send again.
 *
 * <p>Delivery status notifications (RFC 3461): an {@code SMTPMessage}'s notify and return options,
 * each over the sender-wide request of {@link #withDsn} (as Angus Mail's over its {@code
 * mail.smtp.dsn.*}); {@link #deliver(MimeMessage, DsnRequest)} for one message's own.
 *
 * <p>As Spring's {@code JavaMailSenderImpl}, a message without a {@code Date} gets one, and a
 * {@code Message-ID} it already has is kept through the save ({@link
 * MailtlsJakarta#sendKeepingMessageId}). As Spring Boot's sender with {@code
 * spring.mail.default-encoding}, {@link #createMimeMessage()} makes messages that carry a default
 * encoding, UTF-8 unless given: a {@link MimeMessageHelper} made on one without an encoding, and
 * the subject and text of a {@link SimpleMailMessage}, use it rather than Jakarta Mail's default
 * MIME charset, which follows the JVM's {@code file.encoding} and is US-ASCII under a POSIX locale,
 * where every other character would become '?'.
 *
 * <p>Thread-safe. {@code send} blocks the calling thread until every recipient is decided.
 */
public final class MailtlsJavaMailSender implements JavaMailSender {

  // CRLF (RFC 2046 §4.1.1) and ASCII's letters, digits and punctuation, which every charset used
  // for mail writes as the same octets as US-ASCII.
  private static final String ASCII_PROBE = "\r\n !\"#%&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~";

  private final SecureSmtpTransport transport;
  private final Session session;
  private final boolean requireTls;
  private final Charset defaultEncoding;

  /** Whether {@link #envelopeSender} replaces the reverse-path taken from the header fields. */
  private final boolean fixedSender;

  private final Optional<EmailAddress> envelopeSender;

  /** The sender-wide DSN request ({@link #withDsn}), merged with a message's own options. */
  private final Optional<DsnRequest> dsn;

  /**
   * Spring's own factory of its {@code SmartMimeMessage}, which {@link MimeMessageHelper} reads a
   * default encoding from: that class is not public, and this is its public way in. It never sends,
   * and, configured once here, is thread-safe ({@code getSession()} is synchronized).
   */
  private final JavaMailSenderImpl mimeMessages = new JavaMailSenderImpl();

  /**
   * A sender delivering through {@code transport}, which stays the caller's to close; messages are
   * UTF-8 by default.
   */
  public MailtlsJavaMailSender(SecureSmtpTransport transport) {
    this(transport, false);
  }

  /**
   * A sender delivering through {@code transport}, which stays the caller's to close; with {@code
   * requireTls}, every message asks for REQUIRETLS (RFC 8689, {@link Envelope#requireTls}).
   * Messages are UTF-8 by default.
   */
  public MailtlsJavaMailSender(SecureSmtpTransport transport, boolean requireTls) {
    this(transport, requireTls, StandardCharsets.UTF_8);
  }

  /**
   * As {@link #MailtlsJavaMailSender(SecureSmtpTransport, boolean)}, with {@code defaultEncoding}
   * for the subject and text of the messages {@link #createMimeMessage()} makes (see the class
   * description).
   *
   * @throws IllegalArgumentException when {@code defaultEncoding} cannot encode, or does not write
   *     CRLF and ASCII as themselves (UTF-16, EBCDIC): MIME text writes each line break as the
   *     octets CR LF, whatever its charset (RFC 2046 §4.1.1, RFC 2045 §2.1)
   */
  public MailtlsJavaMailSender(
      SecureSmtpTransport transport, boolean requireTls, Charset defaultEncoding) {
    this(transport, requireTls, defaultEncoding, false, Optional.empty(), Optional.empty());
  }

  private MailtlsJavaMailSender(
      SecureSmtpTransport transport,
      boolean requireTls,
      Charset defaultEncoding,
      boolean fixedSender,
      Optional<EmailAddress> envelopeSender,
      Optional<DsnRequest> dsn) {
    this.fixedSender = fixedSender;
    this.envelopeSender = envelopeSender;
    this.dsn = dsn;
    this.transport = Objects.requireNonNull(transport, "transport");
    this.defaultEncoding = Objects.requireNonNull(defaultEncoding, "defaultEncoding");
    if (!defaultEncoding.canEncode()
        || !Arrays.equals(
            ASCII_PROBE.getBytes(defaultEncoding),
            ASCII_PROBE.getBytes(StandardCharsets.US_ASCII))) {
      throw new IllegalArgumentException(
          defaultEncoding
              + " does not write CRLF and ASCII as themselves, as MIME text needs; use UTF-8");
    }
    this.session = Session.getInstance(new Properties());
    this.requireTls = requireTls;
    mimeMessages.setSession(session);
    mimeMessages.setDefaultEncoding(defaultEncoding.name());
  }

  /**
   * This sender, giving every message {@code reversePath} as its envelope sender ({@code MAIL
   * FROM}, RFC 5321 §4.1.1.2), as Angus Mail's {@code mail.smtp.from} does, instead of the {@code
   * Sender} or first {@code From} mailbox: a bounce address, say. Its domain then selects the
   * sender's TLS level. {@code <>} is the null reverse-path (RFC 5321 §4.5.5). The header fields
   * are not changed. As with Angus Mail, an {@code SMTPMessage} that names its own envelope-from
   * ({@code setEnvelopeFrom}) keeps it.
   *
   * @param reversePath a mailbox ({@code bounces@example.org}, with or without angle brackets), or
   *     {@code <>}
   * @throws IllegalArgumentException when it is no mailbox
   */
  public MailtlsJavaMailSender withEnvelopeSender(String reversePath) {
    String v = reversePath.strip();
    Optional<EmailAddress> sender;
    if (v.equals("<>")) {
      sender = Optional.empty();
    } else {
      if (v.length() > 2 && v.startsWith("<") && v.endsWith(">")) {
        v = v.substring(1, v.length() - 1);
      }
      sender = Optional.of(EmailAddress.parse(v));
    }
    return new MailtlsJavaMailSender(transport, requireTls, defaultEncoding, true, sender, dsn);
  }

  /**
   * This sender, asking for delivery status notifications (RFC 3461) for every message as {@code
   * dsn} says, as Angus Mail's {@code mail.smtp.dsn.notify} and {@code mail.smtp.dsn.ret} do: a
   * message built with {@link MimeMessageHelper} has no options of its own to set. As with Angus
   * Mail, each option an {@code SMTPMessage} sets ({@code setNotifyOptions}, {@code
   * setReturnOption}) wins over the one here; the others, {@code ORCPT} and {@code ENVID} included,
   * are this request's. A request that sets none of {@code NOTIFY}, {@code RET} and {@code ENVID}
   * asks for nothing itself: its {@code ORCPT} choice applies to the messages that ask. The
   * parameters go only to servers that advertise DSN ({@link
   * io.mailtls.core.RecipientResult#dsn()}).
   */
  public MailtlsJavaMailSender withDsn(DsnRequest dsn) {
    return new MailtlsJavaMailSender(
        transport,
        requireTls,
        defaultEncoding,
        fixedSender,
        envelopeSender,
        Optional.of(Objects.requireNonNull(dsn, "dsn")));
  }

  /** The transport this sender delivers through. */
  public SecureSmtpTransport transport() {
    return transport;
  }

  /**
   * The encoding of the messages {@link #createMimeMessage()} makes: to pass to a {@link
   * MimeMessageHelper} made on a message of another origin.
   */
  public Charset defaultEncoding() {
    return defaultEncoding;
  }

  /**
   * Delivers {@code message} and returns every recipient's result, without an exception for a
   * recipient not delivered.
   *
   * @throws MailSendException when the message cannot be read or yields no usable envelope
   */
  public DeliveryReport deliver(MimeMessage message) {
    return deliver(message, requireTls);
  }

  /**
   * As {@link #deliver(MimeMessage)}, asking for REQUIRETLS (RFC 8689) for this message when {@code
   * requireTls} is true, whatever this sender does for others.
   *
   * @throws MailSendException when the message cannot be read or yields no usable envelope
   */
  public DeliveryReport deliver(MimeMessage message, boolean requireTls) {
    return deliver(message, requireTls, Optional.empty());
  }

  /**
   * As {@link #deliver(MimeMessage)}, asking for delivery status notifications (RFC 3461) for this
   * message exactly as {@code dsn} says, {@code ENVID} included, instead of this sender's request
   * ({@link #withDsn}) and the message's own {@code SMTPMessage} options.
   *
   * @throws MailSendException when the message cannot be read or yields no usable envelope
   */
  public DeliveryReport deliver(MimeMessage message, DsnRequest dsn) {
    return deliver(message, requireTls, Optional.of(Objects.requireNonNull(dsn, "dsn")));
  }

  private DeliveryReport deliver(
      MimeMessage message, boolean requireTls, Optional<DsnRequest> ownDsn) {
    Objects.requireNonNull(message, "message");
    try {
      return send(prepared(message), requireTls, ownDsn);
    } catch (MessagingException | IllegalArgumentException e) {
      throw new MailSendException(
          "the message cannot be sent: " + e.getMessage(), e, Map.of(message, e));
    }
  }

  private DeliveryReport send(MimeMessage message, boolean requireTls, Optional<DsnRequest> ownDsn)
      throws MessagingException {
    // As Angus Mail with mail.smtp.from: an SMTPMessage's own envelope-from wins over the
    // sender-wide one.
    Envelope envelope =
        fixedSender
            ? MailtlsJakarta.envelopeOf(message, envelopeSender)
            : MailtlsJakarta.envelopeOf(message);
    envelope = envelope.requireTls(requireTls);
    Optional<DsnRequest> request = ownDsn.isPresent() ? ownDsn : merged(envelope.dsn(), dsn);
    envelope = request.isPresent() ? envelope.withDsn(request.get()) : envelope.withoutDsn();
    return MailtlsJakarta.sendKeepingMessageId(transport, message, envelope);
  }

  /**
   * The message's request ({@code SMTPMessage} options, which {@link MailtlsJakarta#envelopeOf}
   * reads: no NOTIFY or RET there means the option is not set) merged with the sender's, as Angus
   * Mail merges them with {@code mail.smtp.dsn.*}: each option the message sets, else the sender's.
   */
  private static Optional<DsnRequest> merged(
      Optional<DsnRequest> message, Optional<DsnRequest> sender) {
    if (sender.isEmpty()) {
      return message;
    }
    DsnRequest s = sender.get();
    if (message.isEmpty()) {
      boolean asks = !s.notifyOn().isEmpty() || s.ret().isPresent() || s.envelopeId().isPresent();
      return asks ? sender : Optional.empty();
    }
    DsnRequest m = message.get();
    return Optional.of(
        new DsnRequest(
            m.notifyOn().isEmpty() ? s.notifyOn() : m.notifyOn(),
            m.ret().or(s::ret),
            m.envelopeId().or(s::envelopeId),
            s.originalRecipients()));
  }

  /**
   * What Spring's {@code JavaMailSenderImpl} does before it saves a message: a {@code Date} when
   * there is none (RFC 5322 §3.6.1 requires one); a {@code Message-ID} already set is kept through
   * the save ({@link MailtlsJakarta#sendKeepingMessageId}).
   */
  @SuppressWarnings("JavaUtilDate") // Jakarta Mail's setSentDate takes a java.util.Date
  private static MimeMessage prepared(MimeMessage message) throws MessagingException {
    if (message.getSentDate() == null) {
      message.setSentDate(new Date());
    }
    return message;
  }

  /**
   * A new message that carries this sender's {@linkplain #defaultEncoding() default encoding}, as
   * Spring's {@code JavaMailSenderImpl} makes them: a {@link MimeMessageHelper} made on it without
   * an encoding uses that one.
   */
  @Override
  public MimeMessage createMimeMessage() {
    return mimeMessages.createMimeMessage();
  }

  @Override
  public MimeMessage createMimeMessage(InputStream contentStream) throws MailException {
    try {
      return new MimeMessage(session, contentStream);
    } catch (MessagingException e) {
      throw new MailParseException("cannot parse the MIME message", e);
    }
  }

  @Override
  public void send(MimeMessage... mimeMessages) throws MailException {
    sendAll(mimeMessages, mimeMessages);
  }

  /** Sends each message; a failure is reported under the key of the same index. */
  private void sendAll(MimeMessage[] mimeMessages, Object[] keys) {
    Map<Object, Exception> failed = new LinkedHashMap<>();
    for (int i = 0; i < mimeMessages.length; i++) {
      MimeMessage message = Objects.requireNonNull(mimeMessages[i], "message");
      try {
        DeliveryReport report = send(prepared(message), requireTls, Optional.empty());
        if (!report.allDelivered()) {
          failed.put(keys[i], new MailtlsDeliveryException(report));
        }
      } catch (MessagingException | RuntimeException e) {
        // Any failure of one message (a transport closed meanwhile, say) is that message's: the
        // others are still sent, and the caller learns which were not.
        failed.put(keys[i], e);
      }
    }
    if (!failed.isEmpty()) {
      throw new MailSendException(failed);
    }
  }

  @Override
  public void send(MimeMessagePreparator... mimeMessagePreparators) throws MailException {
    MimeMessage[] messages = new MimeMessage[mimeMessagePreparators.length];
    for (int i = 0; i < messages.length; i++) {
      MimeMessage m = createMimeMessage();
      try {
        mimeMessagePreparators[i].prepare(m);
      } catch (MailException e) {
        throw e;
      } catch (MessagingException e) {
        throw new MailParseException(e);
      } catch (Exception e) {
        throw new MailPreparationException(e);
      }
      messages[i] = m;
    }
    send(messages);
  }

  @Override
  public void send(SimpleMailMessage... simpleMessages) throws MailException {
    MimeMessage[] messages = new MimeMessage[simpleMessages.length];
    for (int i = 0; i < messages.length; i++) {
      // The helper inside takes the default encoding from the message, for subject and text.
      MimeMailMessage m = new MimeMailMessage(createMimeMessage());
      simpleMessages[i].copyTo(m);
      messages[i] = m.getMimeMessage();
    }
    // As Spring's JavaMailSenderImpl: a failure is keyed by the SimpleMailMessage given.
    sendAll(messages, simpleMessages);
  }

  @Override
  public String toString() {
    return "MailtlsJavaMailSender";
  }
}
