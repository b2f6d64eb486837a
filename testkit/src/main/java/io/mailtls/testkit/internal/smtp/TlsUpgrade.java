package io.mailtls.testkit.internal.smtp;

import io.mailtls.testkit.SmtpAction;
import io.mailtls.testkit.SmtpStep;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Objects;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;

/**
 * The server side of a TLS handshake on a connection, after STARTTLS (RFC 3207 §4) or at connect
 * (RFC 8314 §3.3).
 *
 * <p>The server reads the ClientHello record itself first, so the SNI name and offered versions are
 * recorded even when the handshake then fails or is sabotaged; it then applies the {@link
 * SmtpStep#TLS_HANDSHAKE} action and, normally, hands the record to JSSE through {@code
 * SSLSocketFactory.createSocket(Socket, InputStream consumed, boolean)}, which layers a server-mode
 * socket over the connection. With a TLS 1.0/1.1-only configuration that the JVM refuses to run,
 * {@link LegacyTlsResponder} answers instead.
 *
 * <p>Thread-safe: stateless.
 */
final class TlsUpgrade {

  /** How long the legacy emulation waits for the client's reaction to its ServerHello. */
  private static final Duration LEGACY_WAIT = Duration.ofSeconds(2);

  private static final Duration POLL = Duration.ofMillis(50);

  private TlsUpgrade() {}

  private static boolean allowedAtHandshake(SmtpAction action) {
    switch (action.kind()) {
      case PROCEED:
      case DISCONNECT:
      case HANG:
      case RAW:
        return action.trailingBytes().length == 0 && !action.disconnectsAfter();
      default:
        return false;
    }
  }

  /**
   * Runs the handshake on {@code c}. Returns {@code true} when the connection now speaks TLS;
   * otherwise the failure has been recorded and the session must end.
   */
  static boolean run(Connection c) throws IOException {
    ServerConfig config = c.config;
    byte[] first;
    try {
      first = ClientHello.readRecord(c.raw.getInputStream());
    } catch (SocketTimeoutException e) {
      c.record.tlsFailure("no ClientHello within " + config.idleTimeout());
      return false;
    } catch (IOException e) {
      c.record.tlsFailure("no ClientHello: " + e.getMessage());
      return false;
    }
    if (first == null) {
      c.record.tlsFailure("the client closed the connection instead of sending a ClientHello");
      return false;
    }
    ClientHello hello = ClientHello.parse(first);
    if (hello == null) {
      c.record.tlsFailure("the first TLS record is not a ClientHello");
      return false;
    }
    c.record.clientHello(hello);

    SmtpAction action = c.action(SmtpStep.TLS_HANDSHAKE, null);
    if (!allowedAtHandshake(action)) {
      action = SmtpAction.proceed(); // an injector's action this step cannot carry out
    }
    if (!action.delay().isZero() && !c.pause(action.delay(), false)) {
      c.record.tlsFailure("the server closed while stalling the handshake");
      return false;
    }
    switch (action.kind()) {
      case PROCEED:
        break;
      case DISCONNECT:
        c.record.tlsFailure("handshake aborted by the script after the ClientHello");
        return false;
      case HANG:
        c.record.tlsFailure("handshake left hanging by the script after the ClientHello");
        waitForClientToLeave(c);
        return false;
      case RAW:
        c.writeRaw(action.payload());
        c.record.tlsFailure("raw bytes sent by the script instead of a ServerHello");
        return false;
      default:
        throw new IllegalStateException(action + " cannot happen at " + SmtpStep.TLS_HANDSHAKE);
    }

    if (config.legacyTlsVersion() > 0) {
      c.record.tlsFailure(
          LegacyTlsResponder.respond(c.raw, hello, config.legacyTlsVersion(), LEGACY_WAIT));
      return false;
    }

    SSLSocket ssl =
        (SSLSocket)
            Objects.requireNonNull(config.sslContext(), "TLS is served only with tls(...)")
                .getSocketFactory()
                .createSocket(c.raw, new ByteArrayInputStream(first), true);
    if (!config.tlsProtocols().isEmpty()) {
      ssl.setEnabledProtocols(config.tlsProtocols().toArray(new String[0]));
    }
    if (!config.tlsCipherSuites().isEmpty()) {
      ssl.setEnabledCipherSuites(config.tlsCipherSuites().toArray(new String[0]));
    }
    try {
      ssl.startHandshake();
    } catch (IOException e) {
      c.record.tlsFailure(e.toString());
      return false;
    }
    SSLSession session = ssl.getSession();
    c.record.tlsNegotiated(session.getProtocol(), session.getCipherSuite());
    c.switchToTls(ssl);
    return true;
  }

  /** Reads and drops whatever arrives until the client closes or the server does. */
  private static void waitForClientToLeave(Connection c) throws IOException {
    InputStream in = c.raw.getInputStream();
    c.raw.setSoTimeout((int) POLL.toMillis());
    byte[] sink = new byte[4096];
    while (!c.server.isClosed()) {
      try {
        if (in.read(sink) < 0) {
          return;
        }
      } catch (SocketTimeoutException e) {
        // Still there; keep hanging.
      }
    }
  }
}
