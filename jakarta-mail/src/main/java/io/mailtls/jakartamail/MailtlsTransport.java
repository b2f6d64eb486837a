package io.mailtls.jakartamail;

import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DsnRequest;
import io.mailtls.core.EmailAddress;
import io.mailtls.core.Envelope;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.jakartamail.internal.DsnOptions;
import io.mailtls.jakartamail.internal.Envelopes;
import io.mailtls.jakartamail.internal.LongLines;
import io.mailtls.jakartamail.internal.ProviderSettings;
import jakarta.mail.Address;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.SendFailedException;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.URLName;
import jakarta.mail.event.TransportEvent;
import jakarta.mail.internet.AddressException;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * A Jakarta Mail {@link Transport} that delivers through mailtls's {@link SecureSmtpTransport}: the
 * recipients' MX hosts (or a relay) under the sender's TLS level, MTA-STS (RFC 8461) and DANE (RFC
 * 7672), with DNSSEC validated in process. Registered under the protocol name {@value #PROTOCOL}
 * (files {@code META-INF/javamail.providers} and {@code META-INF/services/jakarta.mail.Provider}),
 * so an unchanged Jakarta Mail program switches to it by a session property:
 *
 * <pre>{@code
 * props.setProperty("mail.transport.protocol.rfc822", "mailtls"); // Transport.send(message)
 * props.setProperty("mail.transport.protocol", "mailtls");        // session.getTransport()
 * props.setProperty("mail.mailtls.helo", "mail.example.com");     // this host's FQDN
 * Transport.send(message);
 * }</pre>
 *
 * <p>({@code Transport.send} picks the transport by the recipients' address type, {@code
 * mail.transport.protocol.rfc822}; {@code session.getTransport()} by {@code
 * mail.transport.protocol}.) The {@code mail.mailtls.*} properties are listed in {@code
 * docs/jakarta-mail.md}; {@code mail.smtp.*} properties are not read, except {@code mail.smtp.from}
 * and {@code mail.smtp.localhost} as fallbacks.
 *
 * <p><b>Life cycle.</b> {@link #connect()} builds a {@link SecureSmtpTransport} from the session's
 * properties (one per instance: a DNSSEC resolver, an MTA-STS resolver with its policy cache in
 * {@code mail.mailtls.statedir} and its refresh thread, a DANE resolver) and opens no connection:
 * connections are made per message, to each recipient domain's hosts. {@link #close()} closes it.
 * To share one transport (its caches and connections) across many sends, put a built {@link
 * SecureSmtpTransport} into the session's properties under {@code mail.mailtls.transport} (an
 * object, {@code props.put}): it is used as it is and never closed here; any other {@code
 * mail.mailtls.*} setting beside it but the envelope sender fails {@link #connect()}, since it
 * would have no effect. Connection events fire on connect and close (by {@link
 * jakarta.mail.Service}).
 *
 * <p><b>Envelope.</b> {@code MAIL FROM}: an {@code SMTPMessage}'s envelope-from (Angus Mail's
 * {@code org.eclipse.angus.mail.smtp.SMTPMessage}, or {@code com.sun.mail.smtp.SMTPMessage}), else
 * {@code mail.mailtls.from}, else {@code mail.smtp.from}, else the {@code Sender} header, else the
 * first {@code From} ({@link MailtlsJakarta#envelopeOf}); {@code <>} is the null reverse-path.
 * {@code RCPT TO}: the addresses given to {@link #sendMessage}, groups expanded. Delivery status
 * notifications (RFC 3461), as Angus Mail asks for them: an {@code SMTPMessage}'s {@code
 * setNotifyOptions} and {@code setReturnOption}, else the session's {@code mail.smtp.dsn.notify}
 * and {@code mail.smtp.dsn.ret} (checked at connect), with ORCPT; passed on where the server
 * advertises DSN ({@link io.mailtls.core.RecipientResult#dsn()}). The message is sent as it stands
 * ({@link MimeMessageContent}), {@code Bcc} left out; {@code Transport.send} has saved it.
 *
 * <p><b>Results.</b> All recipients delivered: a {@link TransportEvent#MESSAGE_DELIVERED} event.
 * Otherwise a {@code MESSAGE_PARTIALLY_DELIVERED} (some delivered) or {@code MESSAGE_NOT_DELIVERED}
 * event, then a {@link MailtlsSendFailedException}: valid-sent = delivered, valid-unsent = deferred
 * (a transient failure: try again later), invalid = bounced (a permanent failure), with the {@link
 * DeliveryReport}. An address mailtls cannot send to (not an Internet mailbox) stops the message
 * before any connection: it is invalid, the others valid-unsent. The last report is also {@link
 * #lastReport()}.
 *
 * <p><b>Authentication to a relay</b> ({@code mail.mailtls.relay.host}, {@code
 * mail.mailtls.auth=true}): the user and password of {@code connect(user, password)} or {@code
 * Transport.send(message, user, password)}, else the user of {@code mail.mailtls.user} and the
 * password from the session's {@link jakarta.mail.Authenticator}. The password is never logged and
 * not kept after the transport is built.
 *
 * <p>Not thread-safe for concurrent sends on one instance (as Jakarta Mail transports); {@link
 * #sendMessage} blocks until every recipient is decided.
 */
public class MailtlsTransport extends Transport {

  /** The protocol name to select this transport. */
  public static final String PROTOCOL = ProviderSettings.PROTOCOL;

  private @Nullable SecureSmtpTransport transport;
  private boolean owned;

  /**
   * Whether each message asks for REQUIRETLS ({@code mail.mailtls.requiretls}), read at connect.
   */
  private boolean requireTls;

  /**
   * The session's DSN defaults ({@code mail.smtp.dsn.notify}, {@code mail.smtp.dsn.ret}, RFC 3461),
   * read at connect.
   */
  private DsnOptions.Defaults dsnDefaults = DsnOptions.Defaults.NONE;

  private volatile @Nullable DeliveryReport lastReport;

  /** Called by Jakarta Mail's {@code Session.getTransport}. */
  public MailtlsTransport(Session session, @Nullable URLName urlname) {
    super(session, urlname);
  }

  /**
   * Builds the underlying transport; contacts no server. The host and port are not used: mail goes
   * to the recipients' MX hosts, or to {@code mail.mailtls.relay.host}.
   *
   * @return false when the relay needs a password that was not given (Jakarta Mail then asks the
   *     session's Authenticator and calls again)
   * @throws MessagingException naming the {@code mail.mailtls.*} property that is malformed
   */
  @Override
  protected synchronized boolean protocolConnect(
      @Nullable String host, int port, @Nullable String user, @Nullable String password)
      throws MessagingException {
    Object shared = session.getProperties().get(ProviderSettings.TRANSPORT);
    if (shared != null) {
      if (!(shared instanceof SecureSmtpTransport t)) {
        throw new MessagingException(
            ProviderSettings.TRANSPORT
                + " must hold a SecureSmtpTransport, not a "
                + shared.getClass().getName());
      }
      try {
        ProviderSettings.checkWithSharedTransport(session);
        requireTls = ProviderSettings.requireTls(session);
        dsnDefaults = DsnOptions.defaults(session);
      } catch (IllegalArgumentException e) {
        throw new MessagingException("mailtls: " + e.getMessage(), e);
      }
      transport = t;
      owned = false;
      return true;
    }
    try {
      // As Angus: a user and a password the program handed over are used without
      // mail.mailtls.auth too, but only ever with a relay (never sent to an MX host).
      boolean auth =
          ProviderSettings.auth(session)
              || (user != null && password != null && ProviderSettings.relayHost(session) != null);
      if (auth && (user == null || password == null)) {
        return false;
      }
      requireTls = ProviderSettings.requireTls(session);
      dsnDefaults = DsnOptions.defaults(session);
      transport = ProviderSettings.build(session, auth ? user : null, auth ? password : null);
      owned = true;
      return true;
    } catch (IllegalArgumentException | IllegalStateException | UncheckedIOException e) {
      throw new MessagingException("mailtls: " + e.getMessage(), e);
    }
  }

  /**
   * Delivers {@code message} to {@code addresses} and reports as described in the class comment.
   *
   * @throws MailtlsSendFailedException when a recipient was not delivered, or the message has no
   *     usable sender (none, one that is no address, or a {@code Sender} or {@code From} field that
   *     cannot be parsed), or a header line over 998 octets that cannot be folded because the
   *     message refuses changes: then every usable recipient is valid but unsent, listeners
   *     notified
   * @throws MessagingException when the message is no {@link MimeMessage}
   * @throws IllegalStateException when not connected
   */
  @Override
  public void sendMessage(Message message, Address @Nullable [] addresses)
      throws MessagingException {
    SecureSmtpTransport t = transport;
    if (t == null || !isConnected()) {
      throw new IllegalStateException("not connected");
    }
    if (!(message instanceof MimeMessage mime)) {
      throw new MessagingException(
          "mailtls sends MimeMessages only, not " + message.getClass().getName());
    }
    if (addresses == null || addresses.length == 0) {
      throw new SendFailedException("No recipient addresses");
    }
    lastReport = null;
    // Each mailbox, with the addresses (as given) that name it.
    Map<EmailAddress, List<Address>> byMailbox = new LinkedHashMap<>();
    List<Address> unusable = new ArrayList<>();
    for (Address a : addresses) {
      collect(a, byMailbox, unusable);
    }
    List<Address> rest = new ArrayList<>();
    byMailbox.values().forEach(rest::addAll);
    Optional<EmailAddress> sender;
    try {
      sender = envelopeSender(mime);
    } catch (IllegalArgumentException | MessagingException e) {
      // Not sent for the sender's sake: the usable recipients are valid but unsent, and an
      // address that is no Internet mailbox is invalid, as when the sender is good. A sender
      // field Jakarta Mail cannot parse is no sender either; the listeners hear of it too, as
      // Transport.sendMessage promises (Angus Mail's transport fires MESSAGE_NOT_DELIVERED).
      throw notSent(message, rest, unusable, "mailtls: " + e.getMessage(), e);
    }
    if (!unusable.isEmpty() || byMailbox.isEmpty()) {
      throw notSent(
          message,
          rest,
          unusable,
          "mailtls: not sent, " + unusable.size() + " address(es) mailtls cannot send to",
          null);
    }
    Optional<DsnRequest> dsn;
    try {
      // As Angus Mail's SMTPTransport: the SMTPMessage's options, else the session's (RFC 3461).
      dsn = DsnOptions.of(mime, dsnDefaults);
    } catch (MessagingException e) {
      throw notSent(message, rest, unusable, "mailtls: " + e.getMessage(), e);
    }
    Envelope envelope = new Envelope(sender, List.copyOf(byMailbox.keySet()), requireTls, dsn);
    // RFC 5322 §2.1.1: a header field set with setHeader is stored unfolded, and a line over 998
    // octets would make the transport refuse the message; folding changes no field's value.
    try {
      LongLines.foldHeaders(mime);
    } catch (MessagingException | RuntimeException e) {
      // A field that cannot be folded (a read-only message): not sent, the listeners told, as
      // for a sender field that cannot be parsed.
      throw notSent(message, rest, unusable, "mailtls: header fields could not be folded: " + e, e);
    }
    DeliveryReport report = t.send(envelope, MimeMessageContent.of(mime));
    lastReport = report;
    List<Address> sent = new ArrayList<>();
    List<Address> unsent = new ArrayList<>();
    List<Address> invalid = new ArrayList<>();
    List<String> failures = new ArrayList<>();
    for (Map.Entry<EmailAddress, List<Address>> e : byMailbox.entrySet()) {
      RecipientResult r = report.result(e.getKey());
      switch (r.status()) {
        case DELIVERED -> sent.addAll(e.getValue());
        case DEFERRED -> unsent.addAll(e.getValue());
        case BOUNCED -> invalid.addAll(e.getValue());
      }
      if (r.status() != io.mailtls.core.DeliveryStatus.DELIVERED) {
        failures.add(e.getKey() + ": " + r.status() + " " + r.reply());
      }
    }
    int type;
    if (failures.isEmpty()) {
      type = TransportEvent.MESSAGE_DELIVERED;
    } else if (sent.isEmpty()) {
      type = TransportEvent.MESSAGE_NOT_DELIVERED;
    } else {
      type = TransportEvent.MESSAGE_PARTIALLY_DELIVERED;
    }
    Address[] sentArr = sent.toArray(Address[]::new);
    Address[] unsentArr = unsent.toArray(Address[]::new);
    Address[] invalidArr = invalid.toArray(Address[]::new);
    notifyTransportListeners(type, sentArr, unsentArr, invalidArr, message);
    if (!failures.isEmpty()) {
      MailtlsSendFailedException ex =
          new MailtlsSendFailedException(
              "mailtls: "
                  + failures.size()
                  + " of "
                  + byMailbox.size()
                  + " recipient(s) not delivered: "
                  + String.join("; ", failures),
              sentArr,
              unsentArr,
              invalidArr,
              report);
      throw ex;
    }
  }

  /** The report of the last {@link #sendMessage} that reached the transport, if any. */
  public Optional<DeliveryReport> lastReport() {
    return Optional.ofNullable(lastReport);
  }

  /**
   * Closes the underlying transport (unless shared), then fires the CLOSED connection event. As
   * Angus Mail's {@code SMTPTransport.close}, does nothing when not connected: CLOSED fires once
   * per connection, never for a second close or a close before {@code connect}.
   */
  @Override
  public synchronized void close() throws MessagingException {
    SecureSmtpTransport t = transport;
    transport = null;
    boolean connected = super.isConnected();
    try {
      if (t != null && owned) {
        t.close();
      }
    } finally {
      if (connected) {
        super.close(); // Service.close fires CLOSED whether or not it was connected
      }
    }
  }

  private MailtlsSendFailedException notSent(
      Message message,
      List<Address> validUnsent,
      List<Address> invalid,
      String text,
      @Nullable Exception cause) {
    Address[] unsentArr = validUnsent.toArray(Address[]::new);
    Address[] invalidArr = invalid.toArray(Address[]::new);
    notifyTransportListeners(
        TransportEvent.MESSAGE_NOT_DELIVERED, new Address[0], unsentArr, invalidArr, message);
    // The cause goes to the constructor: MessagingException's sets it (to null, too), and a later
    // initCause would throw IllegalStateException out of sendMessage.
    return new MailtlsSendFailedException(text, cause, new Address[0], unsentArr, invalidArr, null);
  }

  private static void collect(
      Address a, Map<EmailAddress, List<Address>> byMailbox, List<Address> unusable) {
    if (!(a instanceof InternetAddress ia)) {
      unusable.add(a);
      return;
    }
    if (ia.isGroup()) {
      InternetAddress[] members;
      try {
        members = ia.getGroup(false);
      } catch (AddressException e) {
        unusable.add(a);
        return;
      }
      if (members != null) {
        for (InternetAddress m : members) {
          collect(m, byMailbox, unusable);
        }
      }
      return;
    }
    String text = ia.getAddress();
    if (text == null) {
      unusable.add(a);
      return;
    }
    try {
      byMailbox.computeIfAbsent(EmailAddress.parse(text), k -> new ArrayList<>()).add(a);
    } catch (IllegalArgumentException e) {
      unusable.add(a);
    }
  }

  /**
   * The reverse-path: SMTPMessage's envelope-from, mail.mailtls.from, mail.smtp.from, else the
   * header fields.
   *
   * @throws IllegalArgumentException when the chosen value is no usable address
   */
  private Optional<EmailAddress> envelopeSender(MimeMessage message) throws MessagingException {
    // As Angus Mail's SMTPTransport.mailFrom: an empty value is unset, the next source decides.
    Optional<Optional<EmailAddress>> own = Envelopes.smtpMessageEnvelopeFrom(message);
    if (own.isPresent()) {
      return own.get();
    }
    String explicit = Envelopes.nonBlank(ProviderSettings.text(session, ProviderSettings.FROM));
    String origin = ProviderSettings.FROM;
    if (explicit == null) {
      explicit = Envelopes.nonBlank(session.getProperty("mail.smtp.from"));
      origin = "mail.smtp.from";
    }
    if (explicit == null) {
      return Optional.of(Envelopes.sender(message));
    }
    return Envelopes.reversePath(explicit, origin);
  }
}
