package io.mailtls.core.internal.transport;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;

/**
 * The transport-wide bound on simultaneous domain deliveries: a fair (first come, first served)
 * asynchronous semaphore. A delivery that finds every slot taken waits without a thread: its future
 * completes when a slot passes to it, when its wait runs out, or when the transport closes, and in
 * the last two cases with a {@link Refused} that says why, never exceptionally. Thread-safe.
 */
public final class DeliverySlots implements AutoCloseable {

  /** What {@link #acquire()} gives: a slot, or why none was given. */
  public sealed interface Grant permits Slot, Refused {}

  /** A slot held; {@link #release()} passes it on (once; later calls do nothing). */
  public static final class Slot implements Grant {
    private final DeliverySlots owner;
    private final AtomicBoolean released = new AtomicBoolean();

    private Slot(DeliverySlots owner) {
      this.owner = owner;
    }

    public void release() {
      if (released.compareAndSet(false, true)) {
        owner.release();
      }
    }
  }

  /**
   * No slot: {@code closed} when the transport closed, else the wait ran out; {@code reason} is a
   * sentence for the report.
   */
  public record Refused(boolean closed, String reason) implements Grant {}

  private static final class Waiter {
    final CompletableFuture<Grant> future = new CompletableFuture<>();
    @Nullable ScheduledFuture<?> timeout;
  }

  private final int max;
  private final Duration maxWait;
  private final ScheduledExecutorService timer;
  private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
  private int inUse;
  private boolean closed;
  private @Nullable Runnable whenDrained;

  /**
   * @param max the most slots held at once
   * @param maxWait how long a delivery may wait for a slot
   * @param timer ends waits that run out
   */
  public DeliverySlots(int max, Duration maxWait, ScheduledExecutorService timer) {
    if (max < 1) {
      throw new IllegalArgumentException("max must be positive: " + max);
    }
    this.max = max;
    this.maxWait = maxWait;
    this.timer = timer;
  }

  /**
   * A slot, now or when one frees up (in the order asked for), or a {@link Refused}. The future
   * never completes exceptionally; it completes on the thread that frees the slot, so callers run
   * their work with an {@code ...Async} stage on their own executor.
   */
  public CompletableFuture<Grant> acquire() {
    Waiter w;
    synchronized (this) {
      if (closed) {
        return CompletableFuture.completedFuture(closedRefusal());
      }
      if (inUse < max && waiters.isEmpty()) {
        inUse++;
        return CompletableFuture.completedFuture(new Slot(this));
      }
      w = new Waiter();
      try {
        w.timeout = timer.schedule(() -> expire(w), maxWait.toNanos(), TimeUnit.NANOSECONDS);
      } catch (RejectedExecutionException e) {
        // The timer is shut down: the transport is closing.
        return CompletableFuture.completedFuture(closedRefusal());
      }
      waiters.add(w);
    }
    return w.future;
  }

  /** How many slots are held now (for tests and diagnostics). */
  public synchronized int inUse() {
    return inUse;
  }

  /** How many deliveries wait for a slot now (for tests and diagnostics). */
  public synchronized int waiting() {
    return waiters.size();
  }

  private void release() {
    Waiter next;
    Runnable drained = null;
    synchronized (this) {
      next = waiters.poll();
      if (next == null) {
        inUse--;
        if (closed && inUse == 0) {
          drained = whenDrained;
          whenDrained = null;
        }
      } else {
        // The slot passes straight to the next waiter: inUse stays.
        ScheduledFuture<?> t = next.timeout;
        if (t != null) {
          t.cancel(false);
        }
      }
    }
    if (next != null) {
      next.future.complete(new Slot(this));
    } else if (drained != null) {
      drained.run();
    }
  }

  private void expire(Waiter w) {
    synchronized (this) {
      if (!waiters.remove(w)) {
        return; // granted meanwhile
      }
    }
    w.future.complete(
        new Refused(
            false,
            "no delivery slot became free within "
                + maxWait
                + " ("
                + max
                + " deliveries at once on this transport)"));
  }

  private Refused closedRefusal() {
    return new Refused(true, "the transport was closed before this delivery started");
  }

  /** Refuses every waiting delivery and every later {@link #acquire()}; held slots stay valid. */
  @Override
  public void close() {
    closeThen(() -> {});
  }

  /**
   * {@link #close()}, then runs {@code drained} once no slot is held any more: at once on this
   * thread when none is, else on the thread that releases the last one. The deliveries under way
   * still need what {@code drained} shuts down (the timer of their deadlines, the executor).
   */
  public void closeThen(Runnable drained) {
    List<Waiter> refused;
    boolean idleNow;
    synchronized (this) {
      closed = true;
      refused = new ArrayList<>(waiters);
      waiters.clear();
      idleNow = inUse == 0;
      if (!idleNow) {
        whenDrained = drained;
      }
    }
    for (Waiter w : refused) {
      ScheduledFuture<?> t = w.timeout;
      if (t != null) {
        t.cancel(false);
      }
      w.future.complete(closedRefusal());
    }
    if (idleNow) {
      drained.run();
    }
  }
}
