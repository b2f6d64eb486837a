package io.mailtls.core.internal.transport;

import java.io.IOException;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An overall time bound on one blocking socket operation: when it runs out, the socket is closed,
 * which ends the operation with an exception that the caller reports as a timeout. {@code
 * SO_TIMEOUT} alone bounds each read, so a peer that drips one byte per timeout could hold a reply,
 * a handshake or a write open for weeks. Thread-safe; one operation per instance.
 */
final class Deadline implements AutoCloseable {

  private static final int RUNNING = 0;
  private static final int DONE = 1;
  private static final int FIRED = 2;

  private final Socket socket;
  private final AtomicInteger state = new AtomicInteger(RUNNING);
  private final ScheduledFuture<?> alarm;

  private Deadline(ScheduledExecutorService watchdog, Socket socket, Duration limit) {
    this.socket = socket;
    this.alarm = watchdog.schedule(this::fire, limit.toNanos(), TimeUnit.NANOSECONDS);
  }

  /** Starts the clock for one operation on {@code socket}. */
  static Deadline start(ScheduledExecutorService watchdog, Socket socket, Duration limit) {
    return new Deadline(watchdog, socket, limit);
  }

  private void fire() {
    // Only an operation still running is cut short: one that just finished keeps its socket.
    if (state.compareAndSet(RUNNING, FIRED)) {
      try {
        socket.close();
      } catch (IOException ignored) {
        // the blocked operation fails now, which is the point
      }
    }
  }

  /** Whether the deadline cut the operation short. */
  boolean fired() {
    return state.get() == FIRED;
  }

  /** Ends the operation's clock; after this the deadline can no longer fire. */
  @Override
  public void close() {
    state.compareAndSet(RUNNING, DONE);
    alarm.cancel(false);
  }
}
