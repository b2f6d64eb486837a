package io.mailtls.core;

import java.util.Objects;
import java.util.Optional;

/**
 * One call of a {@link SecureSmtpTransport} that an {@link EventListener.Factory} makes a listener
 * for: one {@link SecureSmtpTransport#send send} or {@link SecureSmtpTransport#sendAsync sendAsync}
 * of an envelope, or one {@link SecureSmtpTransport#plan plan} on its own.
 *
 * <p>Immutable. mailtls builds it and callers read it: its constructor is not public, so that it
 * may gain components without breaking callers (docs/design.md §5).
 */
public final class DeliveryCall {

  private final long id;
  private final Optional<Envelope> envelope;

  /** Not public: built by the transport. */
  DeliveryCall(long id, Optional<Envelope> envelope) {
    if (id < 1) {
      throw new IllegalArgumentException("a call id is positive: " + id);
    }
    Objects.requireNonNull(envelope, "envelope");
    this.id = id;
    this.envelope = envelope;
  }

  /**
   * Tells the calls of one transport apart: 1 for its first call, then increasing in the order the
   * calls were made.
   */
  public long id() {
    return id;
  }

  /** The envelope sent; empty for a {@code plan} on its own. */
  public Optional<Envelope> envelope() {
    return envelope;
  }

  /** Equal when every component is. */
  @Override
  public boolean equals(Object o) {
    return o instanceof DeliveryCall other && id == other.id && envelope.equals(other.envelope);
  }

  @Override
  public int hashCode() {
    return Objects.hash(id, envelope);
  }

  /** In the form a record has: {@code DeliveryCall[id=…, …]}. */
  @Override
  public String toString() {
    return "DeliveryCall[id=" + id + ", envelope=" + envelope + "]";
  }
}
