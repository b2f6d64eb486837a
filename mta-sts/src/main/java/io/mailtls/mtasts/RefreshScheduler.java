package io.mailtls.mtasts;

import io.mailtls.core.DomainName;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;
import java.util.function.Predicate;
import java.util.random.RandomGenerator;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Plans the proactive refresh of cached policies (RFC 8461 §3.3: "MTAs SHOULD proactively refresh
 * cached policies before they expire; a suggested refresh frequency is once per day"; §10.2: an
 * attacker who blocks one refresh should not be able to make a policy lapse).
 *
 * <p>An entry fetched at {@code f} that expires at {@code e} is refreshed at the earlier of {@code
 * f + interval} and {@code e - before} (the latter raised to half its life, {@code (f + e) / 2}, so
 * that a {@code max_age} shorter than {@code before} cannot cause a refresh storm), minus a random
 * jitter in {@code [0, jitter)} so that entries fetched together do not refresh together, but never
 * before half of the shorter of {@code interval} and its life. Entries living less than {@link
 * #MIN_LIFE} are not refreshed in the background at all. A refresh that did not renew the entry is
 * retried after {@code retryDelay} while the entry lasts.
 *
 * <p>Each domain has at most one task, registered with the entry it is for; scheduling replaces the
 * domain's previous task. An entry that will not be refreshed in the background (too short-lived,
 * or no time left for a retry) is <em>parked</em>: registered without a task, so that {@link
 * #ensureScheduled} leaves it alone until it is replaced or cancelled.
 *
 * <p>Tasks are kept only for domains the store still holds. A bounded store evicts domains without
 * telling anyone, and a refresh task lives up to {@code interval} (a day), so at the rate an ESP
 * meets new recipient domains the tasks of evicted domains would outnumber the store's bound many
 * times over, each holding its policy and a future in the scheduler's queue. So whenever the number
 * of tasks reaches twice what it was after the last sweep (at least {@link #SWEEP_FLOOR}), a sweep
 * runs on the scheduler and cancels the task of every domain the store no longer holds: tasks stay
 * within about twice the number of domains the store holds (or {@link #SWEEP_FLOOR}), whatever the
 * rate, and a sweep costs one store read per task, about one per task added. A domain the store
 * holds keeps its task, and so does one whose presence the store cannot tell ({@link
 * PolicyStore.Presence#UNKNOWN}: a shared store that does not answer may still hold it), so every
 * cached policy is still refreshed before it expires (RFC 8461 §3.3, §10.2). The sweep runs on the
 * scheduler, like the refreshes, because a store read may wait for the network (a shared store).
 *
 * <p>A cancelled task is removed from the scheduler's queue at once when the scheduler is a {@link
 * ThreadPoolExecutor} (a {@link java.util.concurrent.ScheduledThreadPoolExecutor} keeps cancelled
 * tasks queued until they are due, unless its remove-on-cancel policy is set); other schedulers
 * keep what they keep.
 *
 * <p>Delays are computed from the injected clock and handed to the injected scheduler. Thread-safe.
 */
final class RefreshScheduler implements AutoCloseable {

  /** Entries living less than this are refreshed on demand only. */
  static final Duration MIN_LIFE = Duration.ofMinutes(2);

  /** The fewest tasks at which a sweep for domains the store no longer holds runs. */
  static final int SWEEP_FLOOR = 64;

  private static final Logger log = LoggerFactory.getLogger(RefreshScheduler.class);

  private final ScheduledExecutorService scheduler;
  private final Clock clock;
  private final Duration interval;
  private final Duration before;
  private final Duration jitter;
  private final Duration retryDelay;
  private final RandomGenerator random;
  private final BiConsumer<DomainName, CachedPolicy> refresh;
  private final Predicate<DomainName> held;
  private final ConcurrentHashMap<DomainName, Task> tasks = new ConcurrentHashMap<>();
  private final AtomicBoolean sweepQueued = new AtomicBoolean();
  private volatile int sweepAt = SWEEP_FLOOR;
  private volatile boolean closed;

  /** A scheduled refresh of {@code entry}; {@code future} is set right after scheduling. */
  private static final class Task {
    final CachedPolicy entry;
    volatile @Nullable ScheduledFuture<?> future;

    Task(CachedPolicy entry) {
      this.entry = entry;
    }
  }

  /**
   * @param refresh what to run when an entry is due: given the domain and the entry it was
   *     scheduled for; must not throw
   * @param held false only when the store is known to hold no entry for a domain (a read that is
   *     not a use; a store that cannot tell counts as holding it); must not throw
   */
  RefreshScheduler(
      ScheduledExecutorService scheduler,
      Clock clock,
      Duration interval,
      Duration before,
      Duration jitter,
      Duration retryDelay,
      RandomGenerator random,
      BiConsumer<DomainName, CachedPolicy> refresh,
      Predicate<DomainName> held) {
    this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.interval = Objects.requireNonNull(interval, "interval");
    this.before = Objects.requireNonNull(before, "before");
    this.jitter = Objects.requireNonNull(jitter, "jitter");
    this.retryDelay = Objects.requireNonNull(retryDelay, "retryDelay");
    this.random = Objects.requireNonNull(random, "random");
    this.refresh = Objects.requireNonNull(refresh, "refresh");
    this.held = Objects.requireNonNull(held, "held");
  }

  /** When {@code entry} is due for refresh, jitter included; empty if it is too short-lived. */
  Optional<Instant> dueTime(CachedPolicy entry) {
    Instant fetched = entry.fetchedAt();
    Instant expires = entry.expiresAt();
    Duration life = Duration.between(fetched, expires);
    if (life.compareTo(MIN_LIFE) < 0) {
      return Optional.empty();
    }
    // The earlier of "interval after the fetch" and "before ahead of expiry"; the latter never
    // before half the entry's life, so that a max_age shorter than before is not refreshed at once.
    Instant byInterval = fetched.plus(interval);
    Instant byExpiry = expires.minus(before);
    Instant halfLife = fetched.plus(life.dividedBy(2));
    if (byExpiry.isBefore(halfLife)) {
      byExpiry = halfLife;
    }
    Instant due = byInterval.isBefore(byExpiry) ? byInterval : byExpiry;
    // Jitter moves the refresh earlier, but not before half of the shorter of interval and life.
    Instant floor = fetched.plus((interval.compareTo(life) < 0 ? interval : life).dividedBy(2));
    due = due.minusNanos(nextJitterNanos());
    return Optional.of(due.isBefore(floor) ? floor : due);
  }

  /**
   * Schedules the refresh of {@code entry}, replacing any task for {@code domain}; an entry too
   * short-lived for background refresh is parked instead.
   */
  void schedule(DomainName domain, CachedPolicy entry) {
    dueTime(entry)
        .ifPresentOrElse(
            due -> submit(domain, entry, Duration.between(clock.instant(), due)),
            () -> park(domain, entry));
  }

  /** Schedules {@code entry}'s refresh unless a task (or a parked entry) for it exists already. */
  void ensureScheduled(DomainName domain, CachedPolicy entry) {
    Task existing = tasks.get(domain);
    if (existing == null || !existing.entry.equals(entry)) {
      schedule(domain, entry);
    }
  }

  /**
   * Called when a refresh of {@code entry} did not renew it: tries again after the retry delay if
   * the entry will still be fresh then, and otherwise parks it, so that lookups until its expiry do
   * not start refreshes of their own.
   */
  void retry(DomainName domain, CachedPolicy entry) {
    Instant now = clock.instant();
    if (now.plus(retryDelay).isBefore(entry.expiresAt())) {
      submit(domain, entry, retryDelay);
    } else {
      park(domain, entry);
    }
  }

  /** When the refresh of {@code domain} is planned, for diagnostics: the entry it is for. */
  Optional<CachedPolicy> plannedEntry(DomainName domain) {
    Task task = tasks.get(domain);
    return task == null ? Optional.empty() : Optional.of(task.entry);
  }

  /** How many domains have a task (scheduled or parked), for tests and diagnostics. */
  int taskCount() {
    return tasks.size();
  }

  /** Cancels the refresh of {@code domain}, if any. */
  void cancel(DomainName domain) {
    Task old = tasks.remove(domain);
    if (old != null) {
      cancelFuture(old);
    }
  }

  /** Cancels every task; later calls schedule nothing. Does not shut the scheduler down. */
  @Override
  public void close() {
    closed = true;
    for (DomainName domain : tasks.keySet()) {
      cancel(domain);
    }
  }

  /** Records {@code entry} as handled without scheduling anything. */
  private void park(DomainName domain, CachedPolicy entry) {
    if (closed) {
      return;
    }
    Task old = tasks.put(domain, new Task(entry));
    if (old != null) {
      cancelFuture(old);
    } else {
      sweepIfGrown();
    }
  }

  private void submit(DomainName domain, CachedPolicy entry, Duration delay) {
    if (closed) {
      return;
    }
    Task task = new Task(entry);
    Task old = tasks.put(domain, task);
    if (old != null) {
      cancelFuture(old);
    }
    long nanos = delay.isNegative() ? 0 : saturatedNanos(delay);
    try {
      task.future = scheduler.schedule(() -> run(domain, task), nanos, TimeUnit.NANOSECONDS);
      if (tasks.get(domain) != task) {
        // Cancelled or replaced (a sweep, an expiry, a newer entry) before its future existed:
        // that cancel found nothing to cancel, so the future is cancelled here, not left queued.
        cancelFuture(task);
      }
    } catch (RejectedExecutionException e) {
      tasks.remove(domain, task);
      log.debug(
          "MTA-STS refresh of {} not scheduled: the scheduler refused it ({})",
          domain,
          e.toString());
    }
    if (closed) {
      cancel(domain); // close() raced with this submit
    } else if (old == null) {
      sweepIfGrown();
    }
  }

  /** Cancels {@code task}'s future, if it has one, and takes it out of the scheduler's queue. */
  private void cancelFuture(Task task) {
    ScheduledFuture<?> future = task.future;
    if (future == null) {
      return;
    }
    future.cancel(false);
    // A ScheduledThreadPoolExecutor keeps a cancelled task queued until it is due (a day away),
    // unless remove-on-cancel is set, which is the caller's to choose: remove ours ourselves.
    if (scheduler instanceof ThreadPoolExecutor pool && future instanceof Runnable queued) {
      pool.remove(queued);
    }
  }

  /**
   * After a new domain's task: queues a sweep on the scheduler once the tasks have doubled since
   * the last one (and number at least {@link #SWEEP_FLOOR}), unless one is queued already.
   */
  private void sweepIfGrown() {
    if (closed || tasks.size() < sweepAt || !sweepQueued.compareAndSet(false, true)) {
      return;
    }
    try {
      scheduler.execute(this::sweep);
    } catch (RejectedExecutionException e) {
      sweepQueued.set(false); // shut down: nothing runs any more, refreshes included
    }
  }

  /**
   * Cancels the task of every domain the store no longer holds (evicted, refused or removed): its
   * refresh would find nothing to refresh. A domain the store cannot tell about keeps its task. A
   * task replaced meanwhile is left alone, and so is one whose domain the store holds, with
   * whatever entry (RFC 8461 §3.3).
   */
  private void sweep() {
    int before = tasks.size();
    try {
      for (Map.Entry<DomainName, Task> e : tasks.entrySet()) {
        if (closed) {
          return;
        }
        if (!held.test(e.getKey()) && tasks.remove(e.getKey(), e.getValue())) {
          cancelFuture(e.getValue());
        }
      }
    } finally {
      int left = tasks.size();
      sweepAt = Math.max(SWEEP_FLOOR, left > Integer.MAX_VALUE / 2 ? Integer.MAX_VALUE : 2 * left);
      sweepQueued.set(false);
      log.debug("MTA-STS refresh tasks swept: {} before, {} left", before, left);
    }
    sweepIfGrown(); // tasks added while it ran may have reached the new mark
  }

  /**
   * Runs a due task. The task stays registered while its refresh runs, so that lookups meanwhile do
   * not schedule another; the refresh ends by replacing it ({@link #schedule}, {@link #retry}) or
   * removing it ({@link #cancel}).
   */
  private void run(DomainName domain, Task task) {
    if (closed || tasks.get(domain) != task) {
      return; // replaced or cancelled after it was started
    }
    try {
      refresh.accept(domain, task.entry);
    } catch (RuntimeException e) {
      log.error("MTA-STS refresh of {} failed unexpectedly", domain, e);
    }
  }

  private long nextJitterNanos() {
    long bound = saturatedNanos(jitter);
    if (bound <= 0) {
      return 0;
    }
    synchronized (random) { // an injected generator need not be thread-safe
      return random.nextLong(bound);
    }
  }

  private static long saturatedNanos(Duration d) {
    try {
      return d.toNanos();
    } catch (ArithmeticException e) {
      return Long.MAX_VALUE;
    }
  }
}
