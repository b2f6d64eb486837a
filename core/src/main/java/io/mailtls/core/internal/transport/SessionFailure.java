package io.mailtls.core.internal.transport;

import io.mailtls.core.FailureType;
import io.mailtls.core.SmtpReply;
import io.mailtls.core.internal.smtp.PeerText;
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
}
