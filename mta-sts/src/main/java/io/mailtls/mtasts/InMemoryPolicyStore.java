package io.mailtls.mtasts;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Policy;
import io.mailtls.core.DomainName;
import io.mailtls.core.MtaStsMode;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The default {@link PolicyStore}: a bounded map in memory, lost when the process ends, whose
 * eviction an attacker cannot use to flush the policies that protect real recipients (RFC 8461
 * §10.2).
 *
 * <p>The threat: an attacker makes the sender look up more domains than the store holds (their own
 * subdomains, each with a freshly fetched, long-lived {@code enforce} policy), so that the policies
 * of real recipients are evicted; a DNS spoofer then strips {@code _mta-sts} for a real recipient
 * and the sender, with nothing cached, sees no policy. Two mechanisms stop it:
 *
 * <ol>
 *   <li><b>Recently used {@code enforce} policies are pinned.</b> A read with {@link #get} is a
 *       <em>use</em> (the resolver reads the store that way when a sender looks a domain up); a
 *       {@link #put} after a fetch is not, and neither is a {@link #peek}. An {@code enforce}
 *       policy read within the last {@link #recentUse()} (default seven days) is pinned: the bound
 *       never evicts it, whatever is stored after it. It leaves the store only by {@link #remove}
 *       (the resolver removes expired policies), by a {@link #put} for the same domain (the domain
 *       keeps its last use, so a refreshed or changed {@code enforce} policy stays pinned), or,
 *       once it has gone {@link #recentUse()} without a read, by being unpinned, and so evictable
 *       again. Only {@code enforce} policies are pinned because only their loss is a downgrade:
 *       without a cached {@code testing} or {@code none} policy the sender delivers exactly as with
 *       one (RFC 8461 §5), so losing one costs a fetch, not protection. This is what remains of the
 *       earlier preference for evicting {@code none} before {@code testing} before {@code enforce}.
 *       Uses outlive a restart when the store is a {@link FilePolicyStore}: it keeps each entry's
 *       last use in its file and gives it back on loading (with the package-private {@code
 *       restore}, which does not count a use now), so a policy used within {@link #recentUse()}
 *       before the restart is pinned again at once, until {@link #recentUse()} after that use.
 *   <li><b>The rest is W-TinyLFU.</b> Unpinned entries live in a Caffeine cache bounded by entry
 *       count, whose W-TinyLFU policy weighs frequency and recency: a new entry displaces an
 *       established one only when it has been used more often, so a scan of one-time domains mostly
 *       evicts itself.
 * </ol>
 *
 * <p>Why W-TinyLFU alone is not enough: it estimates frequency, and an attacker controls the
 * frequency of their own domains. Counters are 4 bits (saturating at 15) and are halved
 * periodically; from an estimate of 6 up a candidate is admitted at random, one time in 128,
 * whatever the victim's frequency (Caffeine's defence against hash flooding); and the estimates are
 * only kept once the cache is half full, so uses before that are not counted at all. In experiments
 * with Caffeine 3.2.3, a flood of 5,000 domains each looked up five times evicted all of 100
 * recently used entries read 30 times each from a cache of 1,000, and a flood of one-time domains
 * evicted all of them when they had been used before the cache was half full. The pin is not an
 * estimate: a pinned entry has weight zero, which Caffeine's size-based eviction skips, and
 * Caffeine re-checks the weight atomically before it evicts an entry.
 *
 * <p>The bound: pinned and unpinned entries together never exceed {@link #maxEntries()} once a
 * write has returned. The unpinned part is bounded by {@code maxEntries} minus the number of pinned
 * entries, adjusted whenever an entry is pinned or unpinned. When every entry is pinned, a newly
 * fetched policy is <em>refused</em>: it is dropped at once rather than evicting a pinned one (the
 * lookup that fetched it still applies it; it is only not cached). Memory is bounded by {@code
 * maxEntries}: the cache, Caffeine's frequency sketch (sized to it) and the pin index (one record
 * per pinned entry).
 *
 * <p>Thread-safe. Reads are lock-free, except the first read of an unpinned {@code enforce} entry,
 * which pins it under the store's lock; writes ({@code put}, {@code remove}) take that lock, and
 * unpin lapsed pins before they store anything. Caffeine's maintenance runs on the calling thread
 * ({@code executor(Runnable::run)}) and each write finishes it ({@code cleanUp()}) before
 * returning, so eviction is deterministic: when {@code put} returns, the bound holds and the
 * evicted entries are gone. Time for the recent-use period comes from the injected {@link Clock}.
 * Never throws for storage trouble (there is none in memory).
 */
public final class InMemoryPolicyStore implements PolicyStore {

  /** The bound used by the constructors that take none. */
  public static final int DEFAULT_MAX_ENTRIES = 10_000;

  /**
   * How long after its last read an {@code enforce} policy stays pinned, by default: a week, so
   * that a domain mailed weekly stays protected (RFC 8461 §3.2 expects {@code max_age} values of
   * weeks or more, so the policy itself usually lives longer).
   */
  public static final Duration DEFAULT_RECENT_USE = Duration.ofDays(7);

  private static final long NEVER_USED = Long.MIN_VALUE;
  private static final long RETIRED = Long.MIN_VALUE + 1;

  private final int maxEntries;
  private final Duration recentUse;
  private final long recentUseMillis;
  private final Clock clock;
  private final Cache<DomainName, Slot> cache;
  private final Policy.Eviction<DomainName, Slot> eviction;
  private final Object lock = new Object();
  // Guarded by lock: the pinned domains, by the instant their pin lapses unless read again (an
  // entry's own last read can only be later: the sweep re-checks it).
  private final TreeSet<Pin> pinsByDeadline =
      new TreeSet<>(Comparator.comparingLong(Pin::deadline).thenComparing(Pin::domain));
  private final Map<DomainName, Pin> pins = new HashMap<>();

  private record Pin(DomainName domain, long deadline) {}

  /**
   * One stored entry. {@code pinned} is fixed per instance because Caffeine evaluates the weight
   * when an entry is written; pinning and unpinning replace the slot. The last use is a lock-free
   * timestamp; a slot that has been replaced is retired, so a read that races the replacement
   * notices and takes the locked path instead of touching a slot that no longer counts.
   */
  private static final class Slot {
    final CachedPolicy entry;
    final boolean pinned;
    private final AtomicLong lastUse;

    Slot(CachedPolicy entry, boolean pinned, long lastUse) {
      this.entry = entry;
      this.pinned = pinned;
      this.lastUse = new AtomicLong(lastUse);
    }

    /** Records a use at {@code now}; false if this slot was retired (replaced meanwhile). */
    boolean touch(long now) {
      while (true) {
        long last = lastUse.get();
        if (last == RETIRED) {
          return false;
        }
        if (last >= now || lastUse.compareAndSet(last, now)) {
          return true;
        }
      }
    }

    /** Retires this slot and returns its last use. */
    long retire() {
      return lastUse.getAndSet(RETIRED);
    }

    /** Retires this slot if it was not used since {@code idleSince}; its last use, or RETIRED. */
    long retireIfIdle(long idleSince) {
      while (true) {
        long last = lastUse.get();
        if (last == RETIRED || last > idleSince) {
          return RETIRED;
        }
        if (lastUse.compareAndSet(last, RETIRED)) {
          return last;
        }
      }
    }

    long lastUse() {
      return lastUse.get();
    }
  }

  /** An entry as the store holds it, with its domain's last use (empty: never used). */
  record Stored(CachedPolicy entry, Optional<Instant> lastUse) {

    Stored {
      Objects.requireNonNull(entry, "entry");
      Objects.requireNonNull(lastUse, "lastUse");
    }
  }

  /** A store of at most {@value #DEFAULT_MAX_ENTRIES} entries. */
  public InMemoryPolicyStore() {
    this(DEFAULT_MAX_ENTRIES);
  }

  /**
   * A store of at most {@code maxEntries} entries, with the default recent-use period and the
   * system clock.
   *
   * @throws IllegalArgumentException if {@code maxEntries} is not positive
   */
  public InMemoryPolicyStore(int maxEntries) {
    this(maxEntries, DEFAULT_RECENT_USE, Clock.systemUTC());
  }

  /**
   * A store of at most {@code maxEntries} entries, in which an {@code enforce} policy read within
   * the last {@code recentUse} is never evicted.
   *
   * @param maxEntries the most entries the store holds, pinned or not
   * @param recentUse how long after its last read an {@code enforce} policy stays pinned; zero pins
   *     nothing (eviction is then W-TinyLFU alone)
   * @param clock the time of reads, for the recent-use period
   * @throws IllegalArgumentException if {@code maxEntries} is not positive or {@code recentUse} is
   *     negative
   */
  public InMemoryPolicyStore(int maxEntries, Duration recentUse, Clock clock) {
    if (maxEntries < 1) {
      throw new IllegalArgumentException("maxEntries must be positive: " + maxEntries);
    }
    Objects.requireNonNull(recentUse, "recentUse");
    if (recentUse.isNegative()) {
      throw new IllegalArgumentException("recentUse must not be negative: " + recentUse);
    }
    this.maxEntries = maxEntries;
    this.recentUse = recentUse;
    this.recentUseMillis = saturatedMillis(recentUse);
    this.clock = Objects.requireNonNull(clock, "clock");
    // W-TinyLFU bounded by entry count: each unpinned entry weighs 1, a pinned one 0, which
    // Caffeine's size-based eviction never selects (and re-checks before evicting).
    this.cache =
        Caffeine.newBuilder()
            .maximumWeight(maxEntries)
            .weigher((DomainName domain, Slot slot) -> slot.pinned ? 0 : 1)
            .executor(Runnable::run)
            .build();
    this.eviction = cache.policy().eviction().orElseThrow();
  }

  private static long saturatedMillis(Duration d) {
    try {
      return d.toMillis();
    } catch (ArithmeticException e) {
      return Long.MAX_VALUE;
    }
  }

  /** The most entries this store holds. */
  public int maxEntries() {
    return maxEntries;
  }

  /** How long after its last read an {@code enforce} policy stays pinned. */
  public Duration recentUse() {
    return recentUse;
  }

  /** How many entries the store holds now. */
  public int size() {
    cache.cleanUp();
    return cache.asMap().size();
  }

  /** How many entries are pinned now (recently used {@code enforce} policies). */
  int pinned() {
    synchronized (lock) {
      return pins.size();
    }
  }

  /**
   * The entry, counted as a use: W-TinyLFU counts the read, and a fresh or expired {@code enforce}
   * policy is pinned for {@link #recentUse()} from now.
   */
  @Override
  public Optional<CachedPolicy> get(DomainName policyDomain) {
    Objects.requireNonNull(policyDomain, "policyDomain");
    Slot slot = cache.getIfPresent(policyDomain);
    if (slot == null) {
      return Optional.empty();
    }
    long now = clock.millis();
    if (slot.touch(now) && (slot.pinned || !pinnable(slot))) {
      return Optional.of(slot.entry);
    }
    // First use of an unpinned enforce policy, or a read that raced a replacement.
    synchronized (lock) {
      Slot current = cache.policy().getIfPresentQuietly(policyDomain);
      if (current == null) {
        return Optional.of(slot.entry); // removed meanwhile; the read came first
      }
      current.touch(now); // not retired: slots are retired only under the lock
      if (!current.pinned && pinnable(current) && recentlyUsed(current.lastUse(), now)) {
        Slot pinned = new Slot(current.entry, true, current.retire());
        if (cache.asMap().replace(policyDomain, current, pinned)) {
          addPin(policyDomain, pinned.lastUse());
          // One entry less counts against the bound, and the bound is one less: nothing moves.
          resizeUnpinned();
        }
      }
      return Optional.of(current.entry);
    }
  }

  /** The entry, not counted as a use: neither W-TinyLFU nor the pins see this read. */
  @Override
  public Optional<CachedPolicy> peek(DomainName policyDomain) {
    Objects.requireNonNull(policyDomain, "policyDomain");
    Slot slot = cache.policy().getIfPresentQuietly(policyDomain);
    return slot == null ? Optional.empty() : Optional.of(slot.entry);
  }

  /**
   * Stores or replaces the entry; not a use. A new domain's entry is unpinned and may be refused
   * (dropped at once) when the store is full; a replacement keeps the domain's last use, so an
   * {@code enforce} policy for a domain in recent use is pinned (a refreshed policy, or a new id,
   * stays as protected as the one it replaces).
   */
  @Override
  public void put(DomainName policyDomain, CachedPolicy entry) {
    Objects.requireNonNull(policyDomain, "policyDomain");
    Objects.requireNonNull(entry, "entry");
    store(policyDomain, entry, NEVER_USED);
  }

  /**
   * Stores or replaces the entry as {@link #put} does, for a domain last used at {@code lastUse}, a
   * use known from elsewhere: the file a {@link FilePolicyStore} loads after a restart. This is not
   * a use: nothing is counted at now, and the pin, if any, lapses {@link #recentUse()} after {@code
   * lastUse} unless the entry is read again. The domain's last use becomes the later of the one it
   * has and {@code lastUse}; a {@code lastUse} after now (the clock went back since it was
   * recorded) counts as now. An {@code enforce} policy whose last use is then within {@link
   * #recentUse()} is pinned at once. A new domain's pinned entry takes its room from the unpinned
   * entries (when the store is full, W-TinyLFU evicts one of them); when every entry is already
   * pinned, a new domain's entry is refused, as a {@link #put} would be, so the bound holds.
   */
  void restore(DomainName policyDomain, CachedPolicy entry, Instant lastUse) {
    Objects.requireNonNull(policyDomain, "policyDomain");
    Objects.requireNonNull(entry, "entry");
    Objects.requireNonNull(lastUse, "lastUse");
    store(policyDomain, entry, millis(lastUse));
  }

  /**
   * Whether {@link #restore} with this last use would pin the entry now, room permitting: an {@code
   * enforce} policy last used within {@link #recentUse()} before now (or after it).
   */
  boolean pinsOnRestore(CachedPolicy entry, Instant lastUse) {
    long now = clock.millis();
    return isEnforce(entry) && recentlyUsed(Math.min(millis(lastUse), now), now);
  }

  /**
   * Stores or replaces the entry; the domain's last use becomes the later of its current one and
   * {@code restoredUse} (at most now), and decides the pin.
   */
  private void store(DomainName policyDomain, CachedPolicy entry, long restoredUse) {
    synchronized (lock) {
      long now = clock.millis();
      unpinLapsed(now);
      Slot old = cache.policy().getIfPresentQuietly(policyDomain);
      long lastUse = Math.max(old == null ? NEVER_USED : old.retire(), Math.min(restoredUse, now));
      boolean wasPinned = old != null && old.pinned;
      // A new domain pinned adds a pinned entry: only while one is unpinned, or the bound breaks.
      // (A put never pins a new domain: it has no use yet.)
      boolean pin =
          isEnforce(entry)
              && recentlyUsed(lastUse, now)
              && (old != null || pins.size() < maxEntries);
      if (wasPinned && !pin) {
        // The entry will count against the bound again: widen the bound first, so that its
        // return evicts nothing.
        removePin(policyDomain);
        resizeUnpinned();
      }
      cache.put(policyDomain, new Slot(entry, pin, lastUse));
      if (pin) {
        removePin(policyDomain);
        addPin(policyDomain, lastUse);
        if (!wasPinned) {
          // One entry less counts against the bound: lower it by one. For a new domain (a
          // restore), one more entry is held: the lower bound evicts an unpinned one if full.
          resizeUnpinned();
        }
      }
      cache.cleanUp();
    }
  }

  @Override
  public void remove(DomainName policyDomain) {
    Objects.requireNonNull(policyDomain, "policyDomain");
    synchronized (lock) {
      Slot old = cache.policy().getIfPresentQuietly(policyDomain);
      if (old == null) {
        return;
      }
      old.retire();
      cache.invalidate(policyDomain);
      if (old.pinned) {
        removePin(policyDomain);
        resizeUnpinned();
      }
      cache.cleanUp();
    }
  }

  /**
   * A consistent copy of every entry with its last use, ordered by domain name; reads nothing as a
   * use. (A lock-free read racing the copy may or may not be in it.)
   */
  Map<DomainName, Stored> snapshot() {
    synchronized (lock) {
      cache.cleanUp();
      Map<DomainName, Stored> copy = new LinkedHashMap<>();
      cache.asMap().entrySet().stream()
          .sorted(Map.Entry.comparingByKey())
          .forEach(e -> copy.put(e.getKey(), stored(e.getValue())));
      return copy;
    }
  }

  private static Stored stored(Slot slot) {
    long lastUse = slot.lastUse(); // never RETIRED: slots in the cache are retired under the lock
    return new Stored(
        slot.entry,
        lastUse == NEVER_USED || lastUse == RETIRED
            ? Optional.empty()
            : Optional.of(Instant.ofEpochMilli(lastUse)));
  }

  /** An instant as a last use: one too early for a {@code long} of millis is never used. */
  private static long millis(Instant lastUse) {
    long millis;
    try {
      millis = lastUse.toEpochMilli();
    } catch (ArithmeticException e) {
      return lastUse.isBefore(Instant.EPOCH) ? NEVER_USED : Long.MAX_VALUE;
    }
    return millis <= RETIRED ? NEVER_USED : millis;
  }

  // ---------------------------------------------------------------- pins (guarded by lock)

  private static boolean isEnforce(CachedPolicy entry) {
    return entry.policy().mode() == MtaStsMode.ENFORCE;
  }

  private boolean pinnable(Slot slot) {
    return recentUseMillis > 0 && isEnforce(slot.entry);
  }

  private boolean recentlyUsed(long lastUse, long now) {
    if (lastUse == NEVER_USED || lastUse == RETIRED || recentUseMillis == 0) {
      return false;
    }
    long since;
    try {
      since = Math.subtractExact(now, lastUse);
    } catch (ArithmeticException e) {
      return lastUse > now; // a restored use in the distant past is not recent
    }
    return since < recentUseMillis;
  }

  private long deadline(long lastUse) {
    return lastUse > Long.MAX_VALUE - recentUseMillis ? Long.MAX_VALUE : lastUse + recentUseMillis;
  }

  private void addPin(DomainName domain, long lastUse) {
    Pin pin = new Pin(domain, deadline(lastUse));
    pins.put(domain, pin);
    pinsByDeadline.add(pin);
  }

  private void removePin(DomainName domain) {
    Pin pin = pins.remove(domain);
    if (pin != null) {
      pinsByDeadline.remove(pin);
    }
  }

  /** Bounds the unpinned entries by what the pinned ones leave of {@link #maxEntries}. */
  private void resizeUnpinned() {
    eviction.setMaximum(Math.max(0, maxEntries - pins.size()));
  }

  private record Unpin(DomainName domain, Slot pinned, Slot unpinned) {}

  /** Unpins the entries that went {@link #recentUse} without a read; they become evictable. */
  private void unpinLapsed(long now) {
    List<Unpin> lapsed = new ArrayList<>();
    while (!pinsByDeadline.isEmpty() && pinsByDeadline.first().deadline() <= now) {
      Pin due = pinsByDeadline.pollFirst();
      pins.remove(due.domain());
      Slot slot = cache.policy().getIfPresentQuietly(due.domain());
      if (slot == null || !slot.pinned) {
        continue; // cannot happen: removals and replacements update the pins under the lock
      }
      long lastUse = slot.retireIfIdle(now - recentUseMillis);
      if (lastUse == RETIRED) {
        addPin(due.domain(), slot.lastUse()); // read since: pinned until its new deadline
      } else {
        lapsed.add(new Unpin(due.domain(), slot, new Slot(slot.entry, false, lastUse)));
      }
    }
    if (lapsed.isEmpty()) {
      return;
    }
    // Widen the bound before the entries count against it again, so that unpinning evicts
    // nothing by itself; the next write's eviction treats them like any unpinned entry.
    resizeUnpinned();
    for (Unpin u : lapsed) {
      cache.asMap().replace(u.domain(), u.pinned(), u.unpinned());
    }
  }

  @Override
  public String toString() {
    return "InMemoryPolicyStore{"
        + cache.asMap().size()
        + "/"
        + maxEntries
        + " entries, "
        + pinned()
        + " pinned, recentUse="
        + recentUse
        + "}";
  }
}
