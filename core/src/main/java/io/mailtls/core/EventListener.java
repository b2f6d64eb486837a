package io.mailtls.core;

import java.net.InetSocketAddress;
import java.util.Optional;

/**
 * Observes deliveries: paired start/end events for the whole send, each plan, each connection,
 * each STARTTLS and handshake, and each recipient (DESIGN §4). TLS-RPT and metrics hang off it.
 *
 * <p>Every method has an empty default. Implementations must be thread-safe and fast, and must
 * not throw: an exception from a listener is caught and logged, and never changes a delivery.
 * Events never carry message content or credentials.
 */
public interface EventListener {

  /** A listener that ignores everything. */
  EventListener NONE = new EventListener() {};

  default void deliveryStart(Envelope envelope) {}

  default void deliveryEnd(Envelope envelope, DeliveryReport report) {}

  default void planStart(NextHop nextHop, TlsLevel level) {}

  default void planEnd(DeliveryPlan plan) {}

  default void connectStart(Optional<DomainName> host, InetSocketAddress address) {}

  /** The TCP connection and greeting ended; {@code failure} is empty when the server greeted. */
  default void connectEnd(
      Optional<DomainName> host, InetSocketAddress address, Optional<FailureType> failure) {}

  default void startTlsStart(Optional<DomainName> host, InetSocketAddress address) {}

  /** The STARTTLS command's reply; absent when the connection failed before one arrived. */
  default void startTlsEnd(
      Optional<DomainName> host, InetSocketAddress address, Optional<SmtpReply> reply) {}

  default void handshakeStart(
      Optional<DomainName> host, InetSocketAddress address, TlsRequirement requirement) {}

  /** The handshake and verification ended: with the session, or with why it failed. */
  default void handshakeEnd(
      Optional<DomainName> host, InetSocketAddress address, Optional<TlsDetails> tls,
      Optional<FailureType> failure, String detail) {}

  /**
   * A recipient policy failed (MTA-STS or DANE): enforced, or only recorded in MTA-STS testing
   * mode. The input for TLS-RPT (RFC 8460).
   */
  default void policyFailure(PolicyFailure failure) {}

  /** One connection attempt ended (it is in the report too). */
  default void attemptEnd(Attempt attempt) {}

  default void recipientStart(EmailAddress recipient) {}

  default void recipientEnd(RecipientResult result) {}
}
