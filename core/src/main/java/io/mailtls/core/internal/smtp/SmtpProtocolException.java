package io.mailtls.core.internal.smtp;

import java.io.IOException;
import java.util.Objects;

/**
 * The server broke the SMTP protocol, went silent, or went away while the client was reading a
 * reply; {@link #kind()} says which.
 *
 * <p>It is an {@link IOException} because it ends the connection: after one, the stream position is
 * unknown and nothing more may be read from it. Other I/O failures (a reset connection, a TLS
 * alert) reach the caller as the original {@link IOException}, not wrapped.
 *
 * <p>Instances are immutable once thrown; safe to publish between threads.
 */
public final class SmtpProtocolException extends IOException {

  /** What went wrong. */
  public enum Kind {
    /** A reply line is not {@code ddd}, {@code ddd SP text} or {@code ddd-text} (RFC 5321 §4.2). */
    MALFORMED_REPLY,
    /** The lines of a multiline reply carry different codes (RFC 5321 §4.2.1). */
    CODE_MISMATCH,
    /** A reply line is longer than the configured bound (RFC 5321 §4.5.3.1.5 says 512). */
    LINE_TOO_LONG,
    /** A multiline reply has more lines than the configured bound. */
    TOO_MANY_LINES,
    /** A reply has more octets in total than the configured bound. */
    REPLY_TOO_LONG,
    /** The server closed the connection before a reply was complete. */
    CONNECTION_CLOSED,
    /** No data within the socket's read timeout (RFC 5321 §4.5.3.2); the cause is kept. */
    TIMEOUT,
    /**
     * The server sent data the client did not ask for yet, e.g. plaintext after the 220 reply to
     * STARTTLS (RFC 3207 §4.2, the response-injection attack).
     */
    UNSOLICITED_INPUT
  }

  private final Kind kind;

  /** An exception of a kind, with a message that names what was seen. */
  public SmtpProtocolException(Kind kind, String message) {
    super(message);
    this.kind = Objects.requireNonNull(kind, "kind");
  }

  /** An exception of a kind, keeping the cause. */
  public SmtpProtocolException(Kind kind, String message, Throwable cause) {
    super(message, cause);
    this.kind = Objects.requireNonNull(kind, "kind");
  }

  /** What went wrong. */
  public Kind kind() {
    return kind;
  }
}
