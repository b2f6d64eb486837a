package io.mailtls.testkit;

import java.time.Duration;
import java.util.Objects;

/**
 * How a {@link MockSmtpServer} breaks off the content of a message (DATA, or BDAT chunks) once
 * {@link #afterOctets()} octets of it have arrived: chosen per transaction by {@link
 * SmtpFaultInjector#contentFault}.
 *
 * <pre>{@code
 * SmtpContentFault.reset(4096)                             // TCP reset mid-content
 * SmtpContentFault.closeNotify(4096)                       // TLS close_notify alert mid-content
 * SmtpContentFault.closeWithoutCloseNotify(4096)           // FIN with no close_notify
 * SmtpContentFault.stopReading(4096, Duration.ofSeconds(3)) // stop reading, then go on
 * }</pre>
 *
 * <p>Immutable and thread-safe.
 *
 * @param kind what the server does
 * @param afterOctets content octets (DATA octets as sent, or BDAT chunk octets) read before it
 * @param duration for {@link Kind#STOP_READING}: how long the server reads nothing; zero otherwise
 */
public record SmtpContentFault(Kind kind, long afterOctets, Duration duration) {

  /** The kinds of content fault. */
  public enum Kind {
    /** A crash: no reply, no TLS close_notify, a TCP reset (SO_LINGER 0). */
    RESET,
    /**
     * Under TLS, the server sends the close_notify alert (RFC 8446 §6.1) and a TCP FIN in the
     * middle of the client's content, then reads and discards whatever comes until the client
     * leaves; in plaintext, the FIN alone.
     */
    CLOSE_NOTIFY,
    /**
     * A TCP FIN in the middle of the content without any TLS alert (a truncation, RFC 8446 §6.1:
     * the TLS layer never said it was done), then whatever comes is read and discarded until the
     * client leaves.
     */
    CLOSE_WITHOUT_CLOSE_NOTIFY,
    /**
     * The server reads nothing for {@link #duration()} while the client writes (once the socket
     * buffers fill, the client's writes block: RFC 5321 §4.5.3.2.5), then reads on as normal. A
     * client that gave up meanwhile is seen as gone when reading resumes.
     */
    STOP_READING
  }

  /** Validates the components. */
  public SmtpContentFault {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(duration, "duration");
    if (afterOctets < 0) {
      throw new IllegalArgumentException("afterOctets must be >= 0: " + afterOctets);
    }
    if (duration.isNegative() || (kind == Kind.STOP_READING) == duration.isZero()) {
      throw new IllegalArgumentException(
          "a positive duration for STOP_READING, and only for it: " + kind + " " + duration);
    }
  }

  /** {@link Kind#RESET} after {@code afterOctets} octets of content. */
  public static SmtpContentFault reset(long afterOctets) {
    return new SmtpContentFault(Kind.RESET, afterOctets, Duration.ZERO);
  }

  /** {@link Kind#CLOSE_NOTIFY} after {@code afterOctets} octets of content. */
  public static SmtpContentFault closeNotify(long afterOctets) {
    return new SmtpContentFault(Kind.CLOSE_NOTIFY, afterOctets, Duration.ZERO);
  }

  /** {@link Kind#CLOSE_WITHOUT_CLOSE_NOTIFY} after {@code afterOctets} octets of content. */
  public static SmtpContentFault closeWithoutCloseNotify(long afterOctets) {
    return new SmtpContentFault(Kind.CLOSE_WITHOUT_CLOSE_NOTIFY, afterOctets, Duration.ZERO);
  }

  /** {@link Kind#STOP_READING} for {@code duration} after {@code afterOctets} octets of content. */
  public static SmtpContentFault stopReading(long afterOctets, Duration duration) {
    return new SmtpContentFault(Kind.STOP_READING, afterOctets, duration);
  }
}
