package io.mailtls.testkit;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.Delayed;
import java.util.concurrent.Executors;
import java.util.concurrent.FutureTask;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * A {@link ScheduledExecutorService} on a test's clock, usually a {@link FakeClock}: nothing runs
 * by itself. A task is due when the clock reaches its time, and due tasks run when the test calls
 * {@link #runDue()}, on the test's own thread, so that a test of scheduled work (a proactive
 * refresh, a retry) decides exactly when it happens and sees its effects at once.
 *
 * <pre>{@code
 * FakeClock clock = new FakeClock();
 * ManualScheduler scheduler = new ManualScheduler(clock);
 * service.start(scheduler);              // schedules its work
 * clock.advance(Duration.ofMinutes(5));
 * scheduler.runDue();                    // runs what is due by now, here and now
 * }</pre>
 *
 * <p>Repeating tasks behave as with the JDK's scheduler: at a fixed rate the next run is due one
 * period after the last one was due, with a fixed delay one period after it ran; a run that throws
 * ends the repetition. {@link #execute} schedules a task due at once. After {@link #shutdown()}
 * nothing more can be scheduled; {@link #awaitTermination} never waits. Thread-safe: any thread may
 * schedule tasks.
 */
public final class ManualScheduler extends AbstractExecutorService
    implements ScheduledExecutorService {

  private final Clock clock;
  private final List<Task<?>> tasks = new ArrayList<>(); // guarded by this
  private long sequence; // guarded by this
  private boolean shutdown; // guarded by this

  /**
   * A scheduler on {@code clock}, which the test moves.
   *
   * @param clock the clock that says which tasks are due, usually a {@link FakeClock}
   */
  public ManualScheduler(Clock clock) {
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /** A task due at a point on the clock. */
  private final class Task<V> extends FutureTask<V> implements ScheduledFuture<V> {
    final Instant due;
    final long seq;

    Task(Callable<V> callable, Instant due, long seq) {
      super(callable);
      this.due = due;
      this.seq = seq;
    }

    @Override
    public long getDelay(TimeUnit unit) {
      return unit.convert(Duration.between(clock.instant(), due));
    }

    @Override
    public int compareTo(Delayed o) {
      return Long.compare(getDelay(TimeUnit.NANOSECONDS), o.getDelay(TimeUnit.NANOSECONDS));
    }
  }

  /**
   * Runs every task due at the clock's time, on the calling thread, earliest due first (in the
   * order they were scheduled when due at the same time). A repeating task that becomes due again
   * during this call runs again in it. A task that throws completes exceptionally; the others still
   * run.
   *
   * @return how many tasks ran
   */
  public int runDue() {
    int ran = 0;
    while (true) {
      Task<?> next;
      synchronized (this) {
        next =
            tasks.stream()
                .filter(t -> !t.isCancelled() && !t.due.isAfter(clock.instant()))
                .min(Comparator.comparing((Task<?> t) -> t.due).thenComparingLong(t -> t.seq))
                .orElse(null);
        if (next == null) {
          tasks.removeIf(Task::isCancelled);
          return ran;
        }
        tasks.remove(next);
      }
      next.run();
      ran++;
    }
  }

  /**
   * The due times of the tasks not yet run nor cancelled, earliest first.
   *
   * @return the pending due times
   */
  public synchronized List<Instant> pending() {
    return tasks.stream().filter(t -> !t.isCancelled()).map(t -> t.due).sorted().toList();
  }

  /**
   * The earliest pending due time.
   *
   * @return it, or empty if no task is pending
   */
  public Optional<Instant> nextDue() {
    List<Instant> p = pending();
    return p.isEmpty() ? Optional.empty() : Optional.of(p.get(0));
  }

  @Override
  public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
    return schedule(Executors.callable(command), delay, unit);
  }

  @Override
  public synchronized <V> ScheduledFuture<V> schedule(
      Callable<V> callable, long delay, TimeUnit unit) {
    if (shutdown) {
      throw new RejectedExecutionException("shut down");
    }
    Task<V> task = new Task<>(callable, clock.instant().plusNanos(unit.toNanos(delay)), sequence++);
    tasks.add(task);
    return task;
  }

  @Override
  public ScheduledFuture<?> scheduleAtFixedRate(
      Runnable command, long initialDelay, long period, TimeUnit unit) {
    return periodic(command, initialDelay, period, unit, true);
  }

  @Override
  public ScheduledFuture<?> scheduleWithFixedDelay(
      Runnable command, long initialDelay, long delay, TimeUnit unit) {
    return periodic(command, initialDelay, delay, unit, false);
  }

  /**
   * A repeating task: each run schedules the next one, at {@code due + period} (fixed rate) or at
   * {@code now + period} (fixed delay), until it is cancelled or the command throws, as the JDK's
   * scheduler does.
   */
  private ScheduledFuture<?> periodic(
      Runnable command, long initialDelay, long period, TimeUnit unit, boolean fixedRate) {
    if (period <= 0) {
      throw new IllegalArgumentException("period must be positive: " + period);
    }
    Repeating repeating = new Repeating(command, unit.toNanos(period), fixedRate);
    repeating.scheduleAt(clock.instant().plusNanos(unit.toNanos(initialDelay)));
    return repeating;
  }

  /** The handle of a repeating task; cancelling it cancels the pending run and all later ones. */
  private final class Repeating extends FutureTask<Void> implements ScheduledFuture<Void> {
    private final Runnable command;
    private final long periodNanos;
    private final boolean fixedRate;
    private volatile @Nullable Task<?> pending;

    Repeating(Runnable command, long periodNanos, boolean fixedRate) {
      super(command, null);
      this.command = command;
      this.periodNanos = periodNanos;
      this.fixedRate = fixedRate;
    }

    void scheduleAt(Instant due) {
      synchronized (ManualScheduler.this) {
        if (shutdown || isCancelled()) {
          return;
        }
        Task<Void> task =
            new Task<>(
                () -> {
                  command.run(); // an exception ends the repetition, as with the JDK's scheduler
                  // this task is the pending one while it runs
                  scheduleAt(
                      fixedRate
                          ? Objects.requireNonNull(pending).due.plusNanos(periodNanos)
                          : clock.instant().plusNanos(periodNanos));
                  return null;
                },
                due,
                sequence++);
        pending = task;
        tasks.add(task);
      }
    }

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
      Task<?> p = pending;
      if (p != null) {
        p.cancel(false);
      }
      return super.cancel(mayInterruptIfRunning);
    }

    @Override
    public long getDelay(TimeUnit unit) {
      Task<?> p = pending;
      return p == null ? 0 : p.getDelay(unit);
    }

    @Override
    public int compareTo(Delayed o) {
      return Long.compare(getDelay(TimeUnit.NANOSECONDS), o.getDelay(TimeUnit.NANOSECONDS));
    }
  }

  @Override
  public void execute(Runnable command) {
    // As ScheduledThreadPoolExecutor.execute: what the task throws stays in its future.
    var unused = schedule(command, 0, TimeUnit.NANOSECONDS);
  }

  @Override
  public synchronized void shutdown() {
    shutdown = true;
  }

  @Override
  public synchronized List<Runnable> shutdownNow() {
    shutdown = true;
    List<Runnable> left = new ArrayList<>(tasks);
    tasks.clear();
    return left;
  }

  @Override
  public synchronized boolean isShutdown() {
    return shutdown;
  }

  @Override
  public synchronized boolean isTerminated() {
    return shutdown && tasks.isEmpty();
  }

  @Override
  public boolean awaitTermination(long timeout, TimeUnit unit) {
    return isTerminated();
  }
}
