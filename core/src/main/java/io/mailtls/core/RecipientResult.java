package io.mailtls.core;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The outcome for one recipient. Immutable.
 *
 * @param recipient the recipient
 * @param status delivered, deferred or bounced
 * @param reply the SMTP reply that decided (locally generated when no server said anything: see
 *     {@link SmtpReply})
 * @param attempt the connection attempt that decided, if one did (MX host, address, TLS details,
 *     authentication)
 * @param plan the delivery plan for the recipient's domain: the decision record
 * @param attempts every connection attempt made for the recipient's domain, in order
 */
public record RecipientResult(
    EmailAddress recipient,
    DeliveryStatus status,
    SmtpReply reply,
    Optional<Attempt> attempt,
    DeliveryPlan plan,
    List<Attempt> attempts) {

  public RecipientResult {
    Objects.requireNonNull(recipient, "recipient");
    Objects.requireNonNull(status, "status");
    Objects.requireNonNull(reply, "reply");
    Objects.requireNonNull(attempt, "attempt");
    Objects.requireNonNull(plan, "plan");
    attempts = List.copyOf(attempts);
  }

  /** The TLS session of the deciding attempt, if it used TLS. */
  public Optional<TlsDetails> tls() {
    return attempt.flatMap(Attempt::tls);
  }

  /** How the peer of the deciding attempt was authenticated. */
  public Optional<Authentication> authentication() {
    return attempt.flatMap(Attempt::authentication);
  }

  /** The MX host of the deciding attempt. */
  public Optional<DomainName> mxHost() {
    return attempt.flatMap(Attempt::host);
  }

  @Override
  public String toString() {
    return recipient + ": " + status + " " + reply
        + attempt.map(a -> " via " + a).orElse("");
  }
}
