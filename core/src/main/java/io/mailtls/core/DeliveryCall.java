package io.mailtls.core;

import java.util.Objects;
import java.util.Optional;

/**
 * One call of a {@link SecureSmtpTransport} that an {@link EventListener.Factory} makes a listener
 * for: one {@link SecureSmtpTransport#send send} or {@link SecureSmtpTransport#sendAsync
 * sendAsync} of an envelope, or one {@link SecureSmtpTransport#plan plan} on its own. Immutable.
 *
 * @param id tells the calls of one transport apart: 1 for its first call, then increasing in the
 *     order the calls were made
 * @param envelope the envelope sent; empty for a {@code plan} on its own
 */
public record DeliveryCall(long id, Optional<Envelope> envelope) {

  public DeliveryCall {
    if (id < 1) {
      throw new IllegalArgumentException("a call id is positive: " + id);
    }
    Objects.requireNonNull(envelope, "envelope");
  }
}
