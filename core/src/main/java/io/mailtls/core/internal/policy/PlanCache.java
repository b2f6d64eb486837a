package io.mailtls.core.internal.policy;

import io.mailtls.core.DeliveryPlan;
import io.mailtls.core.NextHop;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.internal.CacheTime;
import java.time.Clock;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
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
 *
 * <p>Bounded in size as well as in count: each plan comes with an estimate of the octets its inputs
 * hold (peers choose them: an MX RRset of hundreds of long names under a wildcard). A plan
 * estimated above {@link #MAX_PLAN_BYTES} is not kept (its domain is planned again for each
 * message, from the DNS answer cache), and the plans kept hold at most {@link #BYTES_PER_ENTRY} per
 * next hop of {@code maxEntries} together.
 */
public final class PlanCache {

  /** The largest plan kept, by {@link #put}'s estimate: an ordinary plan holds a few kilobytes. */
  public static final long MAX_PLAN_BYTES = 16 * 1024;

  /** The octets of plans the cache holds per next hop of its {@code maxEntries}, on average. */
  static final long BYTES_PER_ENTRY = 4 * 1024;

  /** How close to its expiry a plan is checked against the real time, not the coarse time. */
  static final long COARSE_MARGIN_MILLIS = 1000;

  /**
   * A plan, the millisecond of {@link CacheTime} at which it expires, and the estimate of its size.
   */
  private record Entry(DeliveryPlan plan, long expiresAtMillis, long bytes) {}

  private static final int LEVELS = TlsLevel.values().length;

  private final ConcurrentHashMap<NextHop, Entry[]> plans = new ConcurrentHashMap<>();
  private final CacheTime time;
  private final boolean systemClock;
  private final int maxEntries;
  private final long maxBytes;
  // The estimates of the plans held; changed inside the map's compute, so per key in step with it.
  private final AtomicLong bytes = new AtomicLong();

  public PlanCache(Clock clock, int maxEntries) {
    this.time = CacheTime.of(clock);
    this.systemClock = time.monotonic();
    this.maxEntries = maxEntries;
    this.maxBytes = maxEntries * BYTES_PER_ENTRY;
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
   * Keeps {@code plan}, whose inputs hold about {@code planBytes} octets, until {@code
   * expiresAtMillis}, a time of {@link #now()}'s base; nothing when that is not in the future or
   * the plan is larger than {@link #MAX_PLAN_BYTES}.
   */
  public void put(
      NextHop hop, TlsLevel level, DeliveryPlan plan, long expiresAtMillis, long planBytes) {
    if (expiresAtMillis - time.millis() <= 0
        || planBytes > MAX_PLAN_BYTES
        || planBytes > maxBytes) {
      remove(hop, level);
      return;
    }
    if ((plans.size() >= maxEntries && !plans.containsKey(hop))
        || bytes.get() + planBytes > maxBytes) {
      makeRoom(planBytes);
    }
    Entry entry = new Entry(plan, expiresAtMillis, planBytes);
    plans.compute(
        hop,
        (h, old) -> {
          Entry[] next = old == null ? new Entry[LEVELS] : old.clone();
          Entry replaced = next[index(level)];
          bytes.addAndGet(planBytes - (replaced == null ? 0 : replaced.bytes()));
          next[index(level)] = entry;
          return next;
        });
  }

  /** The estimates of the plans held, in octets (for tests). */
  long bytes() {
    return bytes.get();
  }

  /** Forgets the plan for {@code hop} under {@code level}. */
  public void remove(NextHop hop, TlsLevel level) {
    plans.computeIfPresent(
        hop,
        (h, old) -> {
          Entry gone = old[index(level)];
          if (gone == null) {
            return old;
          }
          bytes.addAndGet(-gone.bytes());
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
   * Drops every expired plan; when that frees too little, an arbitrary tenth of the rest (by count,
   * and by size, or room for a plan of {@code planBytes} when that is more). Amortised: it runs
   * once per tenth of {@code maxEntries} insertions, or of the size bound, at most.
   */
  private void makeRoom(long planBytes) {
    long now = time.millis();
    for (Map.Entry<NextHop, Entry[]> e : plans.entrySet()) {
      boolean live = false;
      for (Entry p : e.getValue()) {
        if (p != null && p.expiresAtMillis() - now > 0) {
          live = true;
          break;
        }
      }
      if (!live) {
        drop(e.getKey(), e.getValue());
      }
    }
    int target = maxEntries - Math.max(1, maxEntries / 10);
    long targetBytes = maxBytes - Math.max(maxBytes / 10, planBytes);
    for (Iterator<Map.Entry<NextHop, Entry[]>> it = plans.entrySet().iterator();
        it.hasNext() && (plans.size() > target || bytes.get() > targetBytes); ) {
      Map.Entry<NextHop, Entry[]> e = it.next();
      drop(e.getKey(), e.getValue());
    }
  }

  /** Removes {@code hop}'s plans if they are still {@code levels}, and their size with them. */
  private void drop(NextHop hop, Entry[] levels) {
    if (plans.remove(hop, levels)) {
      long freed = 0;
      for (Entry p : levels) {
        if (p != null) {
          freed += p.bytes();
        }
      }
      bytes.addAndGet(-freed);
    }
  }
}
