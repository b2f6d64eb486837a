package io.mailtls.testkit;

import java.util.Objects;
import java.util.Optional;

/**
 * Where a {@link MockSmtpServer} session is when it asks its {@link SmtpFaultInjector} what to do.
 *
 * <p>Immutable and thread-safe.
 *
 * @param sessionId the {@link SmtpSession#id()} of the session
 * @param step the step about to be answered
 * @param tls whether TLS is active on the connection
 * @param mailFrom the reverse-path of the transaction under way, without angle brackets (empty
 *     string for the null sender); empty outside a transaction
 * @param recipient at {@link SmtpStep#RCPT}: the forward-path being answered
 * @param transaction how many well-formed MAIL commands the session has received (the current one
 *     included, from the MAIL step on), accepted or not; 0 before the first
 */
public record SmtpFaultContext(
    int sessionId,
    SmtpStep step,
    boolean tls,
    Optional<String> mailFrom,
    Optional<String> recipient,
    int transaction) {

  /** Validates the components. */
  public SmtpFaultContext {
    Objects.requireNonNull(step, "step");
    Objects.requireNonNull(mailFrom, "mailFrom");
    Objects.requireNonNull(recipient, "recipient");
  }
}
