package io.mailtls.core;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The sender's TLS level for a sending domain could not be determined: the application's lookup
 * (see {@link SenderPolicy#of}) failed. The transport defers the message with {@link
 * FailureType#SENDER_POLICY_UNAVAILABLE} instead of sending it at a default level, which could be
 * weaker than the level the sender configured. The cause, if any, is kept.
 */
public final class SenderPolicyException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final transient DomainName senderDomain;

  SenderPolicyException(DomainName senderDomain, String reason, @Nullable Throwable cause) {
    super(
        "sender TLS level for "
            + Objects.requireNonNull(senderDomain, "senderDomain")
            + " unknown: "
            + reason,
        cause);
    this.senderDomain = senderDomain;
  }

  /** The sending domain whose level could not be looked up. */
  public DomainName senderDomain() {
    return senderDomain;
  }
}
