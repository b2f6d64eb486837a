package io.mailtls.core.internal.policy;

import io.mailtls.core.DeliveryPlan;
import io.mailtls.core.NextHop;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.internal.CacheTime;
import java.time.Clock;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * Plans by (next hop, sender level), each until its own expiry, at most {@code maxEntries} next
 * hops. Expiry is in {@link CacheTime}: with the system clock, monotonic time, so a wall clock
 * stepped back never keeps a plan beyond the TTLs of its inputs. A hit costs one {@link
 * ConcurrentHashMap#get}, an array read and a time check: no key is allocated (the levels of one
 * next hop share an array indexed by {@link TlsLevel#ordinal()}). Thread-safe: arrays are never
 * changed once published, only replaced.
 *
 * <p>With the system clock, a hit whose plan expires more than {@link #COARSE_MARGIN_MILLIS} from
 * now checks expiry against {@link CoarseClock} (the monotonic time as one shared thread reads it
 * every {@value CoarseClock#TICK_MILLIS} ms) instead of reading the time; within the margin, and
 * with any other (injected) clock, it reads the time, so expiry is exact there. A plan is therefore
 * used after its expiry only when the coarse time lags the monotonic time by more than the margin,
 * that is when the clock thread has been stalled for more than a second, and then by at most the
 * stall less the margin.
 */
public final class PlanCache {

  /** How close to its expiry a plan is checked against the real time, not the coarse time. */
  static final long COARSE_MARGIN_MILLIS = 1000;

  /** A plan and the millisecond of {@link CacheTime} at which it expires. */
  private record Entry(DeliveryPlan plan, long expiresAtMillis) {}

  private static final int LEVELS = TlsLevel.values().length;

  private final ConcurrentHashMap<NextHop, Entry[]> plans = new ConcurrentHashMap<>();
  private final CacheTime time;
  private final boolean systemClock;
  private final int maxEntries;

  public PlanCache(Clock clock, int maxEntries) {
    this.time = CacheTime.of(clock);
    this.systemClock = time.monotonic();
    this.maxEntries = maxEntries;
  }

  /** A level's slot: in memory only, never stored, so the ordinal may change between releases. */
  @SuppressWarnings("EnumOrdinal")
  private static int index(TlsLevel level) {
    return level.ordinal();
  }

  /** The unexpired plan for {@code hop} under {@code level}, or null. */
  public @Nullable DeliveryPlan get(NextHop hop, TlsLevel level) {
    Entry[] levels = plans.get(hop);
    if (levels == null) {
      return null;
    }
    Entry e = levels[index(level)];
    if (e == null) {
      return null;
    }
    long expires = e.expiresAtMillis();
    // Long.MIN_VALUE (no coarse time) overflows to a negative difference (expiries are never
    // negative in monotonic time): the time is read
    if (systemClock && expires - CoarseClock.millis() > COARSE_MARGIN_MILLIS) {
      return e.plan();
    }
    if (time.millis() - expires >= 0) {
      return null;
    }
    return e.plan();
  }

  /**
   * The time now in the cache's base ({@link CacheTime}), in milliseconds: when a plan's inputs
   * start to be looked up. Only a span added to it means anything to {@link #put}.
   */
  public long now() {
    return time.millis();
  }

  /**
   * Keeps {@code plan} until {@code expiresAtMillis}, a time of {@link #now()}'s base (nothing when
   * that is not in the future).
   */
  public void put(NextHop hop, TlsLevel level, DeliveryPlan plan, long expiresAtMillis) {
    if (expiresAtMillis - time.millis() <= 0) {
      remove(hop, level);
      return;
    }
    if (plans.size() >= maxEntries && !plans.containsKey(hop)) {
      makeRoom();
    }
    Entry entry = new Entry(plan, expiresAtMillis);
    plans.compute(
        hop,
        (h, old) -> {
          Entry[] next = old == null ? new Entry[LEVELS] : old.clone();
          next[index(level)] = entry;
          return next;
        });
  }

  /** Forgets the plan for {@code hop} under {@code level}. */
  public void remove(NextHop hop, TlsLevel level) {
    plans.computeIfPresent(
        hop,
        (h, old) -> {
          if (old[index(level)] == null) {
            return old;
          }
          Entry[] next = old.clone();
          next[index(level)] = null;
          for (Entry e : next) {
            if (e != null) {
              return next;
            }
          }
          return null;
        });
  }

  /** How many next hops have plans (expired ones included until they are dropped). */
  public int size() {
    return plans.size();
  }

  /**
   * Drops every expired plan; when that frees too little, an arbitrary tenth of the rest.
   * Amortised: it runs once per tenth of {@code maxEntries} insertions at most.
   */
  private void makeRoom() {
    long now = time.millis();
    for (Iterator<Map.Entry<NextHop, Entry[]>> it = plans.entrySet().iterator(); it.hasNext(); ) {
      boolean live = false;
      for (Entry e : it.next().getValue()) {
        if (e != null && e.expiresAtMillis() - now > 0) {
          live = true;
          break;
        }
      }
      if (!live) {
        it.remove();
      }
    }
    int target = maxEntries - Math.max(1, maxEntries / 10);
    for (Iterator<NextHop> it = plans.keySet().iterator();
        it.hasNext() && plans.size() > target; ) {
      it.next();
      it.remove();
    }
  }
}
