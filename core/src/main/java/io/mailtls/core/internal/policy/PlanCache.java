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
 *
 * <p>Of the plans for one (next hop, level), the one that started last wins, whichever ends last: a
 * plan takes a ticket from {@link #begin()} before its first lookup, and {@link #put} keeps it only
 * if no plan or {@link #remove removal} with a later ticket has reached its slot. A removal leaves
 * a mark with its ticket (a slot without a plan, which {@link #get} does not return), so a plan
 * that started before it, and so may rest on what was removed (a superseded MTA-STS policy, RFC
 * 8461 §5.1), is never stored (its own caller still has it). Marks are dropped with expired plans
 * when room is made; a plan whose ticket is no later than the newest one dropped is then refused,
 * so the eviction of a slot never lets an older plan in. Only {@code put} and {@code remove} do
 * this work; a hit costs what it did.
 */
public final class PlanCache {

  /** The largest plan kept, by {@link #put}'s estimate: an ordinary plan holds a few kilobytes. */
  public static final long MAX_PLAN_BYTES = 16 * 1024;

  /** The octets of plans the cache holds per next hop of its {@code maxEntries}, on average. */
  static final long BYTES_PER_ENTRY = 4 * 1024;

  /** How close to its expiry a plan is checked against the real time, not the coarse time. */
  static final long COARSE_MARGIN_MILLIS = 1000;

  /**
   * A plan, the millisecond of {@link CacheTime} at which it expires, the estimate of its size and
   * the {@link #begin() ticket} of the plan; or, with no plan, the mark of a removal and its ticket
   * (already expired, of size 0).
   */
  private record Entry(
      @Nullable DeliveryPlan plan, long expiresAtMillis, long bytes, long ticket) {}

  private static final int LEVELS = TlsLevel.values().length;

  private final ConcurrentHashMap<NextHop, Entry[]> plans = new ConcurrentHashMap<>();
  private final CacheTime time;
  private final boolean systemClock;
  private final int maxEntries;
  private final long maxBytes;
  // The estimates of the plans held; changed inside the map's compute, so per key in step with it.
  private final AtomicLong bytes = new AtomicLong();
  // The last ticket given out by begin().
  private final AtomicLong tickets = new AtomicLong();
  // No plan with a ticket up to this one is stored: the newest ticket of the slots evicted.
  private final AtomicLong evictedUpTo = new AtomicLong();

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

  /**
   * The unexpired plan for {@code hop} under {@code level}, or null. A removal's mark has no plan
   * and an expiry already past, so it reads as a miss here without a check of its own.
   */
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
   * A ticket for a plan about to start its lookups, for {@link #put(NextHop, TlsLevel,
   * DeliveryPlan, long, long, long)}: later than every ticket given before, and than every removal
   * made before.
   */
  public long begin() {
    return tickets.incrementAndGet();
  }

  /**
   * Keeps {@code plan}, whose inputs hold about {@code planBytes} octets, until {@code
   * expiresAtMillis}, a time of {@link #now()}'s base, as a plan that starts now: it replaces
   * whatever the slot holds unless a plan or removal that started during this call got there first.
   */
  public void put(
      NextHop hop, TlsLevel level, DeliveryPlan plan, long expiresAtMillis, long planBytes) {
    put(hop, level, plan, expiresAtMillis, planBytes, begin(), false);
  }

  /**
   * Keeps {@code plan}, whose inputs hold about {@code planBytes} octets and which took {@code
   * ticket} from {@link #begin()} before its lookups, until {@code expiresAtMillis}, a time of
   * {@link #now()}'s base. Nothing is kept when a plan or removal with a later ticket has reached
   * the slot (this plan may rest on what that one replaced), nor when a slot was evicted after the
   * ticket was taken. When the expiry is not in the future or the plan is larger than {@link
   * #MAX_PLAN_BYTES}, the plan is not kept and the slot is {@link #remove(NextHop, TlsLevel, long)
   * removed} as of {@code ticket}: an older plan that ends later must not be reused in its place.
   */
  public void put(
      NextHop hop,
      TlsLevel level,
      DeliveryPlan plan,
      long expiresAtMillis,
      long planBytes,
      long ticket) {
    put(hop, level, plan, expiresAtMillis, planBytes, ticket, true);
  }

  private void put(
      NextHop hop,
      TlsLevel level,
      DeliveryPlan plan,
      long expiresAtMillis,
      long planBytes,
      long ticket,
      boolean startedEarlier) {
    if (expiresAtMillis - time.millis() <= 0
        || planBytes > MAX_PLAN_BYTES
        || planBytes > maxBytes) {
      remove(hop, level, ticket);
      return;
    }
    store(hop, level, new Entry(plan, expiresAtMillis, planBytes, ticket), startedEarlier);
  }

  /**
   * Puts {@code entry} (a plan or a mark) in its slot, unless the slot holds a later ticket, or,
   * for a plan that {@code startedEarlier} than this call, an eviction dropped a later one.
   */
  private void store(NextHop hop, TlsLevel level, Entry entry, boolean startedEarlier) {
    if ((plans.size() >= maxEntries && !plans.containsKey(hop))
        || bytes.get() + entry.bytes() > maxBytes) {
      makeRoom(entry.bytes());
    }
    boolean fenced = startedEarlier && entry.plan() != null;
    plans.compute(
        hop,
        (h, old) -> {
          Entry replaced = old == null ? null : old[index(level)];
          if ((replaced != null && replaced.ticket() > entry.ticket())
              || (fenced && entry.ticket() <= evictedUpTo.get())) {
            return old; // started before what the slot holds, or before a slot was evicted
          }
          Entry[] next = old == null ? new Entry[LEVELS] : old.clone();
          bytes.addAndGet(entry.bytes() - (replaced == null ? 0 : replaced.bytes()));
          next[index(level)] = entry;
          return next;
        });
  }

  /** The estimates of the plans held, in octets (for tests). */
  long bytes() {
    return bytes.get();
  }

  /**
   * Forgets the plan for {@code hop} under {@code level}, and every plan for it that started before
   * this call and has not ended yet: when they end, {@link #put} does not keep them.
   */
  public void remove(NextHop hop, TlsLevel level) {
    remove(hop, level, begin());
  }

  /**
   * Forgets the plan for {@code hop} under {@code level} unless it started after {@code ticket},
   * and keeps no plan that started before {@code ticket}: the slot holds a mark of it instead.
   */
  public void remove(NextHop hop, TlsLevel level, long ticket) {
    store(hop, level, new Entry(null, time.millis(), 0, ticket), false);
  }

  /**
   * How many next hops have plans, expired ones and removals' marks included until they are
   * dropped.
   */
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
        if (p != null && p.plan() != null && p.expiresAtMillis() - now > 0) {
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

  /**
   * Removes {@code hop}'s plans and marks if they are still {@code levels}, and their size with
   * them. Their tickets are refused from then on: a slot gone forgets what started after a plan
   * that may still end, so no plan that started before the newest ticket dropped is stored.
   */
  private void drop(NextHop hop, Entry[] levels) {
    long newest = 0;
    for (Entry p : levels) {
      if (p != null) {
        newest = Math.max(newest, p.ticket());
      }
    }
    // raised before the slot goes: a put that finds the slot gone reads the new bound
    evictedUpTo.accumulateAndGet(newest, Math::max);
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
