package io.mailtls.core.internal.transport;

import io.mailtls.core.Timings;
import java.time.Duration;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * Measures one connection attempt's phases ({@link Timings}) on the transport's monotonic clock:
 * the attempt's start and end, the session set-up, the TLS parts of it ({@link SessionOpener} marks
 * them), and the transaction. Confined to the attempt's thread. Clock readings are compared only by
 * difference (as {@link System#nanoTime()} requires): any value, negative too, is a reading.
 */
final class AttemptTimer {

  private final LongSupplier ticker;
  private final long start;
  private long tlsNanos;
  private boolean tlsTried;
  private boolean inTls;
  private long tlsStart;
  private boolean setupEnded;
  private long setupEnd;
  private boolean dataStarted;
  private long dataStart;
  private boolean dataEnded;
  private long dataEnd;

  AttemptTimer(LongSupplier ticker) {
    this.ticker = ticker;
    this.start = ticker.getAsLong();
  }

  /** A timer whose readings nobody uses (for sessions opened outside a delivery). */
  static AttemptTimer unused() {
    return new AttemptTimer(() -> 0L);
  }

  /** STARTTLS (or the implicit-TLS handshake) begins. */
  void tlsStart() {
    tlsStart = ticker.getAsLong();
    tlsTried = true;
    inTls = true;
  }

  /** The TLS part that {@link #tlsStart()} began ended, however it ended; idempotent. */
  void tlsEnd() {
    if (inTls) {
      tlsNanos += Math.max(0, ticker.getAsLong() - tlsStart);
      inTls = false;
    }
  }

  /** The session is ready for MAIL, or its set-up failed; the first call counts. */
  void setupEnd() {
    if (!setupEnded) {
      setupEnd = ticker.getAsLong();
      setupEnded = true;
    }
  }

  /**
   * The session the transaction began on was unusable, and another is set up: the time so far, the
   * failed start included, counts as set-up.
   */
  void setupAgain() {
    setupEnded = false;
    dataStarted = false;
    dataEnded = false;
  }

  /** The transaction begins. */
  void dataStart() {
    setupEnd();
    dataStart = ticker.getAsLong();
    dataStarted = true;
  }

  /** The transaction ended. */
  void dataEnd() {
    if (dataStarted && !dataEnded) {
      dataEnd = ticker.getAsLong();
      dataEnded = true;
    }
  }

  /**
   * The attempt's timings, ending now.
   *
   * @param sessionTried whether a session was set up or tried (a pooled one counts)
   */
  Timings finish(boolean sessionTried) {
    tlsEnd();
    long end = ticker.getAsLong();
    long total = Math.max(0, end - start);
    long setup = Math.min(total, Math.max(0, (setupEnded ? setupEnd : end) - start));
    long tls = Math.min(tlsNanos, setup);
    long data =
        dataStarted
            ? Math.min(total - setup, Math.max(0, (dataEnded ? dataEnd : end) - dataStart))
            : 0;
    // The phases are disjoint parts of [start, end]; the clamps above keep their sum within the
    // total even for a clock that steps backwards (only an injected one could).
    return Timings.of(
        Optional.empty(),
        sessionTried ? Optional.of(Duration.ofNanos(setup - tls)) : Optional.empty(),
        tlsTried ? Optional.of(Duration.ofNanos(tls)) : Optional.empty(),
        dataStarted ? Optional.of(Duration.ofNanos(data)) : Optional.empty(),
        Duration.ofNanos(total));
  }
}
