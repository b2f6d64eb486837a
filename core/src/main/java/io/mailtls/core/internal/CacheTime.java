package io.mailtls.core.internal;

import java.time.Clock;
import org.jspecify.annotations.Nullable;

/**
 * The time base of mailtls's in-memory caches (delivery plans, DNS answers, DNSKEY and DS
 * responses), in milliseconds: what measures how long an entry has been kept, never what time it
 * is. Only differences between two readings mean anything.
 *
 * <p>With the system clock it is the JVM's monotonic time ({@link System#nanoTime()}): a TTL is a
 * span of time (RFC 1035 §3.2.1, RFC 2181 §8), so a wall clock that NTP or an operator steps back
 * must not keep an answer, or a plan made of answers, for longer than its TTL, nor a step forward
 * drop it early. With any other (injected) clock it is that clock's {@link Clock#millis()}, so a
 * test drives expiry by moving its clock. Wall time stays where it belongs: DNSSEC signature
 * validity and the MTA-STS policy cache, whose fetch times outlive the process, read the clock
 * itself. Immutable and thread-safe.
 */
public final class CacheTime {

  private static final long ORIGIN = System.nanoTime();

  private static final Class<?> SYSTEM_CLOCK = Clock.systemUTC().getClass();

  /** The injected clock, or null for the system clock (monotonic time). */
  private final @Nullable Clock injected;

  private CacheTime(@Nullable Clock injected) {
    this.injected = injected;
  }

  /** The time base for caches on {@code clock}: monotonic when it is the system clock. */
  public static CacheTime of(Clock clock) {
    return new CacheTime(isSystem(clock) ? null : clock);
  }

  /** Whether {@code clock} is the system clock, in any zone. */
  public static boolean isSystem(Clock clock) {
    return clock.getClass() == SYSTEM_CLOCK;
  }

  /**
   * Monotonic milliseconds since this class was loaded: never decreasing, unaffected by changes of
   * the wall clock, non-negative for the next 292 years.
   */
  public static long monotonicMillis() {
    return (System.nanoTime() - ORIGIN) / 1_000_000L;
  }

  /** Whether this is the monotonic time of the system clock. */
  public boolean monotonic() {
    return injected == null;
  }

  /** The time now, in milliseconds of this base. */
  public long millis() {
    Clock c = injected;
    return c == null ? monotonicMillis() : c.millis();
  }
}
