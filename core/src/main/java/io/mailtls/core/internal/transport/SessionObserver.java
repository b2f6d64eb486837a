package io.mailtls.core.internal.transport;

import io.mailtls.core.SmtpReply;
import io.mailtls.core.internal.smtp.EhloCapabilities;
import javax.net.ssl.X509ExtendedTrustManager;
import org.jspecify.annotations.Nullable;

/**
 * Sees what {@link SessionOpener} meets while it opens one session, for a caller that reports on it
 * rather than delivers (the STARTTLS probe). It observes and never decides: the trust manager it
 * hands back must accept exactly what the one it is given accepts. Delivery passes {@link #NONE}.
 * One instance serves one session, on the thread that opens it (the handshake calls the trust
 * manager on that thread too).
 */
interface SessionObserver {

  /** Observes nothing; the session uses the requirement's own trust manager. */
  SessionObserver NONE = new SessionObserver() {};

  /** The server's 220 greeting. */
  default void greeting(SmtpReply reply) {}

  /** The capabilities of the first EHLO (or HELO) of the session, before any STARTTLS. */
  default void capabilities(EhloCapabilities capabilities) {}

  /** The server's reply to STARTTLS, when one arrived. */
  default void startTls(SmtpReply reply) {}

  /**
   * The trust manager for the handshake, given the one the requirement calls for ({@code null}
   * means the shared unauthenticated one): that one itself, or a wrapper that delegates every
   * decision to it.
   */
  default @Nullable X509ExtendedTrustManager trustManager(
      @Nullable X509ExtendedTrustManager required) {
    return required;
  }
}
