package io.mailtls.jakartamail;

import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.URLName;
import org.eclipse.angus.mail.smtp.SMTPTransport;
import org.jspecify.annotations.Nullable;

/**
 * Angus Mail's {@code SMTPTransport}, as the sessions of {@link AngusPolicySession} use it: the
 * same transport, except that it never sends credentials without TLS. Angus authenticates whenever
 * it is given a user and a password, from {@code mail.smtp.auth} or not ({@code Transport.connect(
 * user, password)}, {@code connect(host, port, user, password)}, {@code Transport.send(message,
 * user, password)}, a {@code mail.smtp.user} with a password the session holds); so a connection
 * made with credentials requires STARTTLS, as {@code mail.smtp.starttls.required=true} does: a
 * server that offers no STARTTLS (an opportunistic host, or one whose offer an attacker stripped)
 * gets neither {@code AUTH} nor {@code MAIL}, and {@code connect} throws a {@code
 * MessagingException}. A connection made without credentials keeps the session's setting.
 *
 * <p>The sessions name it in {@code mail.smtp.class}; Jakarta Mail finds it through this module's
 * provider registration (protocol {@value #PROTOCOL}, which is no session's default {@code smtp}).
 * Not for application use; it needs Angus Mail, which the application brings.
 */
public final class AngusPolicyTransport extends SMTPTransport {

  /**
   * The protocol name this class is registered under with Jakarta Mail, to be found by class name
   * without becoming the default {@code smtp} transport of every session.
   */
  public static final String PROTOCOL = "mailtls-angus-smtp";

  /** Called by Jakarta Mail's {@code Session}. */
  public AngusPolicyTransport(Session session, @Nullable URLName url) {
    // An smtp transport, reading mail.smtp.* properties, also when asked for by its own protocol.
    super(session, asSmtp(url));
  }

  private static @Nullable URLName asSmtp(@Nullable URLName url) {
    if (url == null || "smtp".equals(url.getProtocol())) {
      return url;
    }
    return new URLName(
        "smtp", url.getHost(), url.getPort(), url.getFile(), url.getUsername(), url.getPassword());
  }

  /**
   * Connects as Angus does, requiring STARTTLS when a user and a password are given: Angus would
   * then send {@code AUTH} whenever the server offers it, and its {@code LOGIN} and {@code PLAIN}
   * send the password merely base64-encoded (RFC 4616's security considerations: only under a layer
   * that protects it).
   */
  @Override
  protected synchronized boolean protocolConnect(
      @Nullable String host, int port, @Nullable String user, @Nullable String password)
      throws MessagingException {
    boolean required = getRequireStartTLS();
    if (user != null && password != null) {
      setRequireStartTLS(true);
    }
    try {
      return super.protocolConnect(host, port, user, password);
    } finally {
      setRequireStartTLS(required);
    }
  }
}
