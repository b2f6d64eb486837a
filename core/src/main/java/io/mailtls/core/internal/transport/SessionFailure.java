package io.mailtls.core.internal.transport;

import io.mailtls.core.FailureType;
import io.mailtls.core.SmtpReply;
import io.mailtls.core.internal.smtp.PeerText;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * A session-level failure: the connection cannot carry the transaction (connect, greeting,
 * STARTTLS, handshake, a lost connection, a protocol violation). Recipients not yet decided move on
 * to the next MX. Internal control flow, never seen by users: they get a report.
 *
 * <p>The message often carries peer input (reply text, certificate subjects, exception messages);
 * it is {@linkplain PeerText#clean cleaned} here, once, so it can go into a local reply, an
 * attempt's detail or an event without further care.
 */
final class SessionFailure extends Exception {

  private final FailureType type;
  private final @Nullable SmtpReply reply;
  private Optional<String> announcedName = Optional.empty();
  private Optional<InetSocketAddress> localAddress = Optional.empty();
  private Optional<FailureType> plaintextReason = Optional.empty();
  private boolean inTlsNegotiation;

  SessionFailure(
      FailureType type,
      @Nullable String message,
      @Nullable SmtpReply reply,
      @Nullable Throwable cause) {
    super(PeerText.clean(message), cause);
    this.type = type;
    this.reply = reply;
  }

  SessionFailure(FailureType type, String message) {
    this(type, message, null, null);
  }

  /** The cleaned message: never null. */
  @Override
  public String getMessage() {
    return Objects.requireNonNull(super.getMessage());
  }

  FailureType type() {
    return type;
  }

  Optional<SmtpReply> reply() {
    return Optional.ofNullable(reply);
  }

  /**
   * Keeps what {@code c} knew of its peer (for the attempt's record once {@code c} is closed),
   * unless this failure knows it already; returns this failure.
   */
  SessionFailure seenOn(SmtpConnection c) {
    if (announcedName.isEmpty()) {
      announcedName = c.announcedName();
    }
    if (localAddress.isEmpty()) {
      localAddress = c.localAddress();
    }
    if (plaintextReason.isEmpty()) {
      plaintextReason = c.plaintextReason();
    }
    return this;
  }

  /** The same, taken from another failure of the same session. */
  SessionFailure seenAs(SessionFailure other) {
    if (announcedName.isEmpty()) {
      announcedName = other.announcedName;
    }
    if (localAddress.isEmpty()) {
      localAddress = other.localAddress;
    }
    if (plaintextReason.isEmpty()) {
      plaintextReason = other.plaintextReason;
    }
    return this;
  }

  /**
   * Records that the session had no TLS for {@code reason} when it ended (see {@link
   * SmtpConnection#plaintextReason()}), unless known already; returns this failure.
   */
  SessionFailure plaintextReason(FailureType reason) {
    if (plaintextReason.isEmpty()) {
      plaintextReason = Optional.of(reason);
    }
    return this;
  }

  /** Why the session had no TLS when it ended, if it was allowed to go on without. */
  Optional<FailureType> plaintextReason() {
    return plaintextReason;
  }

  /**
   * Records that this failure ended a TLS negotiation the server had offered (the STARTTLS command,
   * the handshake after its 220, or the EHLO over TLS): a failure to negotiate a TLS-enabled
   * connection (RFC 8460 §4.4), whatever its type; returns this failure.
   */
  SessionFailure inTlsNegotiation() {
    inTlsNegotiation = true;
    return this;
  }

  /** Whether this failure ended a TLS negotiation ({@link #inTlsNegotiation()}). */
  boolean endedTlsNegotiation() {
    return inTlsNegotiation;
  }

  /** The name the server announced, if the session got that far ({@link #seenOn}). */
  Optional<String> announcedName() {
    return announcedName;
  }

  /** The connection's local address, if it connected ({@link #seenOn}). */
  Optional<InetSocketAddress> localAddress() {
    return localAddress;
  }
}
