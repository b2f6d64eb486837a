package io.mailtls.core.internal.transport;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.Socket;
import java.time.Duration;
import java.util.Iterator;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * The time bounds of one connection's blocking socket operations (the connect, each reply, each
 * write, the TLS handshake). Each operation runs between {@link #start} and {@link
 * Deadline#close()}; when its limit passes first, the TCP socket is closed, which ends the
 * operation with an exception that the caller reports as a timeout (RFC 5321 §4.5.3.2: a peer that
 * drips one octet at a time must not hold a reply, a handshake or a write open indefinitely).
 *
 * <p>Why not a timer task per operation: a session makes a dozen blocking operations per message,
 * and a timer task scheduled into an empty timer queue wakes the timer thread (a futex wake and a
 * context switch each), about a tenth of the CPU of a delivery on a new connection. Here the
 * connections of one {@link Group} (a transport's, or a probe's) share one scheduled check.
 * Starting an operation writes its due time, and schedules nothing while the check is due no later
 * than that. The check, when it runs, closes the socket of every connection whose running operation
 * is overdue and schedules itself again for the earliest due time of the others; with no operation
 * running it ends, and the next {@link #start} schedules it again. An operation due before the
 * scheduled check (a shorter limit after a longer one) moves the check earlier. So every operation
 * is still cut at its own due time, to the timer's precision.
 *
 * <p>The socket closed is the TCP socket the watch was made for, also under TLS: closing it ends a
 * blocked connect, read, write or handshake on it and on the TLS layer above it without waiting for
 * the TLS layer's own locks.
 *
 * <p>Thread-safety: one thread runs a connection's operations ({@link #start}, {@link
 * Deadline#fired}, {@link Deadline#close}), one at a time; the checks run on the watchdog; {@link
 * #close} may be called from any thread.
 */
final class SocketWatch implements AutoCloseable {

  private final Group group;
  private final Socket socket;

  /** The operation running, or the last one (then ended); null before the first. */
  private volatile @Nullable Deadline current;

  private SocketWatch(Group group, Socket socket) {
    this.group = group;
    this.socket = socket;
  }

  /**
   * A watch for {@code socket}, in the group of {@code watchdog} when it is a {@link Watchdog}, or
   * in a group of its own on any other executor.
   */
  static SocketWatch of(ScheduledExecutorService watchdog, Socket socket) {
    Group g = watchdog instanceof Watchdog w ? w.sockets() : new Group(watchdog, System::nanoTime);
    return g.watch(socket);
  }

  /**
   * Starts the clock of one operation, which must end (with {@link Deadline#close()}) before the
   * next starts.
   *
   * @throws RejectedExecutionException if the watchdog is shut down: the operation is then not
   *     started, since nothing would bound it
   */
  Deadline start(Duration limit) {
    if (group.watchdog.isShutdown()) {
      // No check would ever cut this operation short (one still scheduled was cancelled): it
      // is refused rather than left unbounded.
      throw new RejectedExecutionException("the timer of this connection's time bounds stopped");
    }
    Deadline previous = current;
    assert previous == null || !previous.running() : "operations on one connection overlap";
    Deadline op = new Deadline(group.ticker.getAsLong() + limit.toNanos());
    current = op;
    try {
      group.due(op.due);
    } catch (RuntimeException e) {
      op.close();
      throw e;
    }
    return op;
  }

  /** The connection is closed: it is no longer watched. */
  @Override
  public void close() {
    group.watches.remove(this);
  }

  /**
   * The connections that share one scheduled check: those of one transport or probe. Thread-safe.
   */
  static final class Group {
    private final ScheduledExecutorService watchdog;
    private final LongSupplier ticker;
    private final Object lock = new Object();
    private final Set<SocketWatch> watches = ConcurrentHashMap.newKeySet();

    /** The scheduled check, null when none is. Written under {@link #lock}. */
    private volatile @Nullable Check scheduled;

    Group(ScheduledExecutorService watchdog, LongSupplier ticker) {
      this.watchdog = watchdog;
      this.ticker = ticker;
    }

    SocketWatch watch(Socket socket) {
      SocketWatch w = new SocketWatch(this, socket);
      watches.add(w);
      return w;
    }

    /**
     * Closes the socket of every connection watched, ending whatever operation runs on it: for a
     * timer that stopped, whose checks no longer run.
     */
    void closeAll() {
      for (Iterator<SocketWatch> i = watches.iterator(); i.hasNext(); ) {
        SocketWatch w = i.next();
        i.remove();
        Deadline op = w.current;
        if (op != null) {
          op.fire(w.socket); // an operation under way reports a timeout
        }
        try {
          w.socket.close();
        } catch (IOException ignored) {
          // closing
        }
      }
    }

    /** Connections watched (for tests). */
    int watched() {
      return watches.size();
    }

    /** Whether a check is scheduled (for tests). */
    boolean checkScheduled() {
      return scheduled != null;
    }

    /** An operation due at {@code due} has started (its watch's current is written). */
    private void due(long due) {
      // The operation was published before scheduled is read here, and a check clears scheduled
      // before it reads the operations (all volatile): either this sees no check scheduled, or the
      // check sees the operation.
      Check c = scheduled;
      if (c == null || due - c.at < 0) {
        schedule(due);
      }
    }

    private void schedule(long at) {
      synchronized (lock) {
        Check c = scheduled;
        if (c != null && at - c.at >= 0) {
          return; // another operation scheduled one in time
        }
        Check next = new Check(at);
        next.future =
            watchdog.schedule(next, Math.max(0, at - ticker.getAsLong()), TimeUnit.NANOSECONDS);
        if (c != null) {
          c.future.cancel(false);
        }
        scheduled = next;
      }
    }

    private final class Check implements Runnable {
      final long at;

      @SuppressWarnings("NullAway.Init") // set right after construction, under the lock
      ScheduledFuture<?> future;

      Check(long at) {
        this.at = at;
      }

      @Override
      public void run() {
        synchronized (lock) {
          if (scheduled == this) {
            scheduled = null;
          }
        }
        long now = ticker.getAsLong();
        long next = 0;
        boolean waiting = false;
        for (SocketWatch w : watches) {
          Deadline op = w.current;
          if (op == null || !op.running()) {
            continue;
          }
          if (now - op.due >= 0) {
            op.fire(w.socket);
          } else if (!waiting || op.due - next < 0) {
            next = op.due;
            waiting = true;
          }
        }
        if (waiting) {
          schedule(next);
        }
      }
    }
  }

  /**
   * The time bound of one operation: {@link #fired()} tells whether it was cut short. One operation
   * per instance.
   */
  static final class Deadline implements AutoCloseable {

    private static final int RUNNING = 0;
    private static final int DONE = 1;
    private static final int FIRED = 2;
    private static final VarHandle STATE;

    static {
      try {
        STATE = MethodHandles.lookup().findVarHandle(Deadline.class, "state", int.class);
      } catch (ReflectiveOperationException e) {
        throw new ExceptionInInitializerError(e);
      }
    }

    final long due;
    private volatile int state = RUNNING;

    private Deadline(long due) {
      this.due = due;
    }

    boolean running() {
      return state == RUNNING;
    }

    private void fire(Socket socket) {
      // Only an operation still running is cut short: one that just finished keeps its socket.
      if (STATE.compareAndSet(this, RUNNING, FIRED)) {
        try {
          socket.close();
        } catch (IOException ignored) {
          // the blocked operation fails now, which is the point
        }
      }
    }

    /** Whether the deadline cut the operation short. */
    boolean fired() {
      return state == FIRED;
    }

    /** Ends the operation's clock; after this the deadline can no longer fire. */
    @Override
    public void close() {
      STATE.compareAndSet(this, RUNNING, DONE);
    }
  }
}
