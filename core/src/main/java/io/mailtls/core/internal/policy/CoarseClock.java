package io.mailtls.core.internal.policy;

import io.mailtls.core.internal.CacheTime;

/**
 * The monotonic time of {@link CacheTime#monotonicMillis()} as one shared daemon thread read it, at
 * most {@link #TICK_MILLIS} ago while the thread keeps up: what lets a plan-cache hit check expiry
 * without a clock read of its own (on a virtual machine's clock source a read costs several map
 * lookups). The thread ({@code mailtls-coarse-clock}) starts with the first {@link #millis()} and
 * stops after {@link #IDLE_TICKS} ticks in which nobody asked; the next call starts it again.
 *
 * <p>Staleness: {@link #millis()} lags the monotonic time by the tick plus however late the thread
 * runs (a stall of the JVM, a starved machine). Callers that must not act on a stale time compare
 * with a margin ({@link PlanCache} uses {@link PlanCache#COARSE_MARGIN_MILLIS}) and read the real
 * clock inside it.
 */
final class CoarseClock {

  /** How often the thread reads the clock. */
  static final long TICK_MILLIS = 10;

  /** Ticks without a caller after which the thread stops (one second). */
  static final int IDLE_TICKS = 100;

  private static final Object LOCK = new Object();
  private static volatile long now = CacheTime.monotonicMillis();
  private static volatile boolean running;
  private static volatile boolean asked;

  private CoarseClock() {}

  /**
   * The coarse time, or {@link Long#MIN_VALUE} when the thread is not running (it is started, and
   * the caller reads the real clock this time).
   */
  static long millis() {
    if (!running) {
      start();
      return Long.MIN_VALUE;
    }
    if (!asked) {
      asked = true; // written once per tick at most: no contention between readers
    }
    return now;
  }

  /** Whether the thread is running (for tests). */
  static boolean running() {
    return running;
  }

  private static void start() {
    synchronized (LOCK) {
      if (running) {
        return;
      }
      now = CacheTime.monotonicMillis();
      asked = true;
      running = true;
      Thread t = new Thread(CoarseClock::tick, "mailtls-coarse-clock");
      t.setDaemon(true);
      try {
        t.start();
      } catch (RuntimeException | Error e) {
        running = false; // no thread, no coarse time: callers read the real clock
      }
    }
  }

  private static void tick() {
    int idle = 0;
    try {
      while (true) {
        Thread.sleep(TICK_MILLIS);
        now = CacheTime.monotonicMillis();
        if (asked) {
          asked = false;
          idle = 0;
        } else if (++idle >= IDLE_TICKS) {
          synchronized (LOCK) {
            if (!asked) {
              running = false;
              return;
            }
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      // However the thread ends, the coarse time stops being offered.
      running = false;
    }
  }
}
