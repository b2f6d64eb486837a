package io.mailtls.core;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;

/**
 * Observes deliveries: paired start/end events for the whole send, each plan, each MTA-STS policy
 * lookup and TLSA lookup a plan makes, each connection, each STARTTLS and handshake, and each
 * recipient (docs/design.md §5). TLS-RPT and metrics hang off it.
 *
 * <p>Every method has an empty default. Implementations must be fast and must not throw: an
 * exception from a listener is caught and logged, and never changes a delivery (an {@code Error}
 * too, a {@link StackOverflowError} among them; not one that leaves the JVM unfit to go on, such as
 * {@link OutOfMemoryError}). Events never carry message content or credentials.
 *
 * <p>One listener per call, or one for all: a transport built with {@link
 * SecureSmtpTransport.Builder#eventListenerFactory} makes a listener for each call ({@link
 * Factory}), which sees that call's events and no other's; one built with {@link
 * SecureSmtpTransport.Builder#eventListener} gives every call the same listener, which then sees
 * the events of concurrent calls at the same time and must be thread-safe.
 *
 * <p>Pairing: every start event is followed by exactly one end event for the same subject, also
 * when the step fails or a provider throws.
 *
 * <p>Threads: the events of one call arrive one after another, never at the same time, each
 * happening-before the next, except the lookup events. They may come from several threads: the
 * recipient domains of one message are delivered at the same time (docs/design.md §1), each on its
 * own thread ({@code send()}'s caller for one of them, the transport's executor for the others), so
 * the events of different domains interleave; the transport serializes them, so a listener made for
 * one call still needs no locking for them. {@link #deliveryStart} and the {@link #recipientStart}s
 * come first, the {@link #recipientEnd}s (in envelope order) and {@link #deliveryEnd} last. A
 * plan's MTA-STS lookup and its TLSA lookups run concurrently, so {@link #mtaStsLookupStart},
 * {@link #mtaStsLookupEnd}, {@link #tlsaLookupStart} and {@link #tlsaLookupEnd} may arrive on the
 * threads that complete the lookups (the DNS resolver's, the policy fetcher's) and at the same time
 * as one another: a listener made for one call needs no locking for its other events, but what its
 * lookup events touch must be thread-safe. All of them come after the plan's {@link #planStart} and
 * before its {@link #planEnd}: each happens-before {@code planEnd}; they may arrive at the same
 * time as another domain's events. The one exception is RFC 8461 §5.1's re-check before mail under
 * an {@code enforce} policy is given up: its MTA-STS lookup (and, when the policy changed, the new
 * plan's TLSA lookups) come after the first plan's {@code planEnd}, and before the {@code planEnd}
 * of the new plan when there is one.
 */
public interface EventListener {

  /** A listener that ignores everything. */
  EventListener NONE = new EventListener() {};

  /**
   * Makes the listener of each call, as OkHttp's {@code EventListener.Factory} does, so that
   * concurrent deliveries can be told apart: every event of one {@code send()} goes to the listener
   * made for it, and to no other ({@link SecureSmtpTransport.Builder#eventListenerFactory}).
   */
  @FunctionalInterface
  interface Factory {

    /**
     * The listener for {@code call}. Called once per call, on the thread that calls {@code send},
     * {@code sendAsync} or {@code plan}, before the call's first event. Must be fast and must not
     * throw: if it throws or returns null, the call goes on without a listener (and that is
     * logged). It may return one listener for several calls, which then sees their events at the
     * same time.
     */
    EventListener create(DeliveryCall call);
  }

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
      Optional<DomainName> host,
      InetSocketAddress address,
      Optional<TlsDetails> tls,
      Optional<FailureType> failure,
      String detail) {}

  /**
   * A recipient policy failed (MTA-STS or DANE): enforced, or not ({@link
   * PolicyFailure#enforced()}: MTA-STS testing mode, {@code TLS-Required: No}, or a REQUIRETLS
   * message that raised a host a testing policy lists to PKIX). The input for TLS-RPT (RFC 8460).
   */
  default void policyFailure(PolicyFailure failure) {}

  /**
   * The MTA-STS policy source is asked for {@code policyDomain}'s policy (RFC 8461 §3, §5.1): while
   * planning, and again for the re-check before mail under an {@code enforce} policy is given up
   * (§5.1 step 3). May arrive on another thread than the plan's other events (see the class
   * comment).
   */
  default void mtaStsLookupStart(DomainName policyDomain) {}

  /**
   * The MTA-STS lookup of {@code policyDomain} ended. When the policy source threw, or its stage
   * failed or completed with no result, {@code result} is an {@link MtaStsLookup.Failed} of type
   * {@link FailureType#STS_POLICY_FETCH_ERROR} naming the exception (the plan then fails as it
   * would without a listener).
   */
  default void mtaStsLookupEnd(DomainName policyDomain, MtaStsLookup result) {}

  /**
   * The DANE provider is asked for {@code host}'s TLSA records (RFC 7672 §2.2). The lookups of a
   * plan's MX hosts run concurrently: their events may interleave, and arrive on other threads and
   * at the same time as each other (see the class comment).
   */
  default void tlsaLookupStart(MxHost host) {}

  /**
   * The TLSA lookup of {@code host} ended. When the DANE provider threw, or its stage failed or
   * completed with no result, {@code result} is a {@link TlsaLookup.Failed} naming the exception
   * (the plan then fails as it would without a listener).
   */
  default void tlsaLookupEnd(MxHost host, TlsaLookup result) {}

  /**
   * A connection attempt to {@code address} begins, before its connection is taken from the pool or
   * opened; its {@link #attemptEnd} follows, with the same host and address.
   */
  default void attemptStart(Optional<DomainName> host, InetSocketAddress address) {}

  /** One connection attempt ended (it is in the report too). */
  default void attemptEnd(Attempt attempt) {}

  default void recipientStart(EmailAddress recipient) {}

  default void recipientEnd(RecipientResult result) {}

  /**
   * A listener that passes every event to each of {@code listeners}, in order. A listener that
   * throws stops the event from reaching the ones after it; the transport isolates the composite as
   * it does any listener.
   */
  static EventListener all(EventListener... listeners) {
    List<EventListener> copy = List.of(listeners);
    return new EventListener() {
      @Override
      public void deliveryStart(Envelope envelope) {
        for (EventListener l : copy) {
          l.deliveryStart(envelope);
        }
      }

      @Override
      public void deliveryEnd(Envelope envelope, DeliveryReport report) {
        for (EventListener l : copy) {
          l.deliveryEnd(envelope, report);
        }
      }

      @Override
      public void planStart(NextHop nextHop, TlsLevel level) {
        for (EventListener l : copy) {
          l.planStart(nextHop, level);
        }
      }

      @Override
      public void planEnd(DeliveryPlan plan) {
        for (EventListener l : copy) {
          l.planEnd(plan);
        }
      }

      @Override
      public void connectStart(Optional<DomainName> host, InetSocketAddress address) {
        for (EventListener l : copy) {
          l.connectStart(host, address);
        }
      }

      @Override
      public void connectEnd(
          Optional<DomainName> host, InetSocketAddress address, Optional<FailureType> failure) {
        for (EventListener l : copy) {
          l.connectEnd(host, address, failure);
        }
      }

      @Override
      public void startTlsStart(Optional<DomainName> host, InetSocketAddress address) {
        for (EventListener l : copy) {
          l.startTlsStart(host, address);
        }
      }

      @Override
      public void startTlsEnd(
          Optional<DomainName> host, InetSocketAddress address, Optional<SmtpReply> reply) {
        for (EventListener l : copy) {
          l.startTlsEnd(host, address, reply);
        }
      }

      @Override
      public void handshakeStart(
          Optional<DomainName> host, InetSocketAddress address, TlsRequirement requirement) {
        for (EventListener l : copy) {
          l.handshakeStart(host, address, requirement);
        }
      }

      @Override
      public void handshakeEnd(
          Optional<DomainName> host,
          InetSocketAddress address,
          Optional<TlsDetails> tls,
          Optional<FailureType> failure,
          String detail) {
        for (EventListener l : copy) {
          l.handshakeEnd(host, address, tls, failure, detail);
        }
      }

      @Override
      public void policyFailure(PolicyFailure failure) {
        for (EventListener l : copy) {
          l.policyFailure(failure);
        }
      }

      @Override
      public void mtaStsLookupStart(DomainName policyDomain) {
        for (EventListener l : copy) {
          l.mtaStsLookupStart(policyDomain);
        }
      }

      @Override
      public void mtaStsLookupEnd(DomainName policyDomain, MtaStsLookup result) {
        for (EventListener l : copy) {
          l.mtaStsLookupEnd(policyDomain, result);
        }
      }

      @Override
      public void tlsaLookupStart(MxHost host) {
        for (EventListener l : copy) {
          l.tlsaLookupStart(host);
        }
      }

      @Override
      public void tlsaLookupEnd(MxHost host, TlsaLookup result) {
        for (EventListener l : copy) {
          l.tlsaLookupEnd(host, result);
        }
      }

      @Override
      public void attemptStart(Optional<DomainName> host, InetSocketAddress address) {
        for (EventListener l : copy) {
          l.attemptStart(host, address);
        }
      }

      @Override
      public void attemptEnd(Attempt attempt) {
        for (EventListener l : copy) {
          l.attemptEnd(attempt);
        }
      }

      @Override
      public void recipientStart(EmailAddress recipient) {
        for (EventListener l : copy) {
          l.recipientStart(recipient);
        }
      }

      @Override
      public void recipientEnd(RecipientResult result) {
        for (EventListener l : copy) {
          l.recipientEnd(result);
        }
      }
    };
  }
}
