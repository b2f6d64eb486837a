package io.mailtls.testkit;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * What {@link MockSmtpServer} recorded about one connection: every command line, the TLS
 * negotiation (including the client's SNI and offered versions, also when the handshake failed) and
 * the messages received.
 *
 * <p>Thread-safe: a live view of a session that may still be running; each accessor returns an
 * immutable snapshot. Call {@link #awaitClosed(Duration)} (or {@link
 * MockSmtpServer#awaitSessions(int, Duration)}) before asserting on a complete record.
 */
public interface SmtpSession {

  /** The 0-based position of this connection in accept order. */
  int id();

  /** The client's address and port. */
  InetSocketAddress remoteAddress();

  /** The server's address and port. */
  InetSocketAddress localAddress();

  /** Every line received outside message data, in order. */
  List<SmtpCommand> commands();

  /** {@link #commands()} as bare lines. */
  List<String> commandLines();

  /**
   * The command lines grouped by the {@code read()} that delivered their first byte, in order: with
   * RFC 2920 pipelining, {@code [MAIL FROM:<a>, RCPT TO:<b>, DATA]} arrive as one group.
   */
  List<List<String>> commandBatches();

  /** The argument of the last EHLO or HELO. */
  Optional<String> clientName();

  /** Whether a TLS handshake completed on this connection. */
  boolean tlsNegotiated();

  /** The server name from the client's SNI extension (RFC 6066 §3), if it sent one. */
  Optional<String> sniHostName();

  /**
   * The protocol versions the ClientHello offered, e.g. {@code [TLSv1.3, TLSv1.2]}: its
   * supported_versions extension (RFC 8446 §4.2.1), or else its legacy version. Empty if no
   * ClientHello arrived.
   */
  List<String> clientHelloVersions();

  /** The negotiated protocol, e.g. {@code "TLSv1.3"}. */
  Optional<String> tlsProtocol();

  /** The negotiated cipher suite, e.g. {@code "TLS_AES_128_GCM_SHA256"}. */
  Optional<String> tlsCipherSuite();

  /** Why TLS failed on this connection (a handshake exception, an abort or the legacy fault). */
  Optional<String> tlsFailure();

  /**
   * How many plaintext bytes the client sent after the STARTTLS line and before the handshake; they
   * were discarded unread (RFC 3207 §4.2, the CVE-2011-0411 defence).
   */
  int bytesDiscardedAtStarttls();

  /** The identity that AUTH accepted. */
  Optional<String> authenticatedUser();

  /** The messages whose data arrived in full on this connection. */
  List<SmtpMessage> messages();

  /** Whether the connection has ended and the record is final. */
  boolean isClosed();

  /** Waits until the connection has ended; returns whether it did within {@code timeout}. */
  boolean awaitClosed(Duration timeout) throws InterruptedException;
}
