package io.mailtls.testkit;

import java.time.Duration;
import java.util.Optional;

/**
 * Decides at run time, step by step, how a {@link MockSmtpServer} misbehaves: for faults chosen at
 * random or from what the client sent (the transaction's sender, the recipient), which a fixed
 * script ({@link MockSmtpServer.Builder#on}) cannot express. Set with {@link
 * MockSmtpServer.Builder#faultInjector}; without one, the server follows its script.
 *
 * <p>Called on the session's own thread, so from many threads at once: implementations must be
 * thread-safe. An exception thrown here ends the session as a crash would (no reply).
 */
@FunctionalInterface
public interface SmtpFaultInjector {

  /**
   * The action at {@code context.step()}, or empty to follow the script. At {@link
   * SmtpStep#TLS_HANDSHAKE} only the actions that step allows count; any other is ignored.
   */
  Optional<SmtpAction> at(SmtpFaultContext context);

  /**
   * For a message about to be read ({@code context.step()} is {@link SmtpStep#DATA} or {@link
   * SmtpStep#BDAT}): drop the connection (TCP reset, no reply) once this many octets of its content
   * have arrived, or -1 (the default) for no drop. Overrides {@link
   * MockSmtpServer.Builder#dropDuringMessage} for the transaction when not -1.
   */
  default long dropAfterContentOctets(SmtpFaultContext context) {
    return -1;
  }

  /**
   * For a message about to be read: how long to pause after each read of its content, as a slow
   * reader does (the client's writes block once the socket buffers fill); zero (the default) for
   * none.
   */
  default Duration contentReadPause(SmtpFaultContext context) {
    return Duration.ZERO;
  }

  /**
   * For a message about to be read: the most content octets taken in one read, or 0 (the default)
   * for as many as have arrived. With {@link #contentReadPause} it makes a reader of a set pace, as
   * a tarpit or a throttled link is: this many octets, then the pause, and again (once the socket
   * buffers fill, the client's writes take as long as that pace allows).
   */
  default int contentReadSize(SmtpFaultContext context) {
    return 0;
  }

  /**
   * For a message about to be read: how the server breaks off its content part way (a reset, a TLS
   * close_notify or a close without one, or a stop in reading), or empty (the default) for none. A
   * drop set by {@link #dropAfterContentOctets} at an earlier octet comes first.
   */
  default Optional<SmtpContentFault> contentFault(SmtpFaultContext context) {
    return Optional.empty();
  }
}
