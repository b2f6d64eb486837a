package io.mailtls.core.internal.transport;

import io.mailtls.core.Attempt;
import io.mailtls.core.EnhancedStatus;
import io.mailtls.core.FailureType;
import io.mailtls.core.SmtpReply;
import io.mailtls.core.internal.smtp.EhloCapabilities;
import java.util.List;
import java.util.Optional;

/**
 * The session's part of RFC 6531 §3.2 for a message whose header fields carry UTF-8 (RFC 6532): a
 * client MUST NOT transmit it to a server that does not offer SMTPUTF8. Such a server fails the
 * attempt before {@code MAIL FROM}, as a server without REQUIRETLS does ({@link
 * RequireTlsSession}), and the next MX host is tried (§3.2 allows an alternate MX host, and §3.7.2
 * notes that MX hosts of one domain may differ); when no host offered SMTPUTF8, the message is
 * returned (§3.2: the client SHOULD reject it; 550 5.6.9, §3.5 and the registry of §4.2).
 *
 * <p>Envelope addresses with UTF-8 are {@link Transaction}'s, per recipient (5.6.7, §3.5).
 */
final class Utf8HeaderSession {

  private Utf8HeaderSession() {}

  /** Why {@code conn} cannot carry the message of {@code scan}, or empty when it can. */
  static Optional<SessionFailure> check(SmtpConnection conn, ContentFacts scan) {
    EhloCapabilities caps = conn.capabilities();
    if (!scan.utf8Headers() || (caps != null && caps.smtpUtf8())) {
      return Optional.empty();
    }
    String text =
        "the message has UTF-8 header fields (RFC 6532) and the server does not offer SMTPUTF8;"
            + " message not sent (RFC 6531 §3.2)";
    return Optional.of(
        new SessionFailure(
            FailureType.SMTPUTF8_UNAVAILABLE,
            text,
            SmtpReply.local(550, EnhancedStatus.UTF8_HEADERS_NOT_TRANSFERABLE, text),
            null));
  }

  /** Whether every attempt failed for lack of SMTPUTF8: then the message is returned. */
  static boolean everyAttemptLacked(List<Attempt> attempts) {
    return !attempts.isEmpty()
        && attempts.stream()
            .allMatch(a -> a.failure().orElse(null) == FailureType.SMTPUTF8_UNAVAILABLE);
  }

  /** The permanent reply when no host offered SMTPUTF8 (RFC 6531 §3.5: 5.6.9). */
  static SmtpReply bounce(List<Attempt> attempts) {
    return SmtpReply.local(
        550,
        EnhancedStatus.UTF8_HEADERS_NOT_TRANSFERABLE,
        "the message has UTF-8 header fields (RFC 6532), and none of the "
            + attempts.size()
            + " server(s) tried offered SMTPUTF8; message not sent (RFC 6531 §3.2)");
  }

  /** The transient reply when no tried host offered SMTPUTF8 but others may later. */
  static SmtpReply later(List<Attempt> attempts, boolean untried) {
    return SmtpReply.local(
        451,
        EnhancedStatus.UTF8_HEADERS_NOT_TRANSFERABLE.withStatusClass(4),
        "the message has UTF-8 header fields (RFC 6532), none of the "
            + attempts.size()
            + " server(s) tried offered SMTPUTF8, and "
            + (untried ? "the attempt limit left MX hosts untried" : "other hosts were skipped")
            + "; not sent (RFC 6531 §3.2)");
  }
}
