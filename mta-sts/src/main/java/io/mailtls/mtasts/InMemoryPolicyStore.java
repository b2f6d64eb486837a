package io.mailtls.mtasts;

import io.mailtls.core.DomainName;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The default {@link PolicyStore}: a bounded map in memory, lost when the process ends.
 *
 * <p>Eviction: when a new domain would take the store past {@link #maxEntries()}, the least
 * protective entry goes, never the one just stored: mode {@code none} before {@code testing}
 * before {@code enforce}, and within a mode the entry that <em>expires soonest</em> (ties broken by
 * domain name). An attacker cannot flush enforce policies with floods of their own long-lived
 * non-enforcing ones, and among equals the policy with the least life left goes (RFC 8461 §10.2
 * asks for policies to live as long as practical). Order of use plays no part, so reads need no
 * bookkeeping.
 *
 * <p>Thread-safe: reads are lock-free; writes take one lock to keep the map and the expiry order
 * consistent. Never throws for storage trouble (there is none in memory).
 */
public final class InMemoryPolicyStore implements PolicyStore {

  /** The bound used by the no-argument constructor. */
  public static final int DEFAULT_MAX_ENTRIES = 10_000;

  /**
   * Eviction order: policies that protect least go first (mode none, then testing, then
   * enforce), soonest expiry first within a mode. An attacker who makes the sender look up many
   * domains of their own with long-lived non-enforcing policies cannot flush the enforce policies
   * that stand between a victim domain and a downgrade (RFC 8461 §10.2).
   */
  private static final Comparator<Slot> BY_EXPIRY =
      Comparator.comparing((Slot s) -> s.entry().policy().mode() == io.mailtls.core.MtaStsMode.ENFORCE
              ? 2 : s.entry().policy().mode() == io.mailtls.core.MtaStsMode.TESTING ? 1 : 0)
          .thenComparing((Slot s) -> s.entry().expiresAt()).thenComparing(Slot::domain);

  private final int maxEntries;
  private final ConcurrentHashMap<DomainName, CachedPolicy> entries = new ConcurrentHashMap<>();
  private final Object lock = new Object();
  // Guarded by lock: the same (domain, entry) pairs as entries, ordered by expiry.
  private final TreeSet<Slot> byExpiry = new TreeSet<>(BY_EXPIRY);

  private record Slot(DomainName domain, CachedPolicy entry) {}

  /** A store of at most {@value #DEFAULT_MAX_ENTRIES} entries. */
  public InMemoryPolicyStore() {
    this(DEFAULT_MAX_ENTRIES);
  }

  /**
   * A store of at most {@code maxEntries} entries.
   *
   * @throws IllegalArgumentException if {@code maxEntries} is not positive
   */
  public InMemoryPolicyStore(int maxEntries) {
    if (maxEntries < 1) {
      throw new IllegalArgumentException("maxEntries must be positive: " + maxEntries);
    }
    this.maxEntries = maxEntries;
  }

  /** The most entries this store holds. */
  public int maxEntries() {
    return maxEntries;
  }

  /** How many entries the store holds now. */
  public int size() {
    return entries.size();
  }

  @Override
  public Optional<CachedPolicy> get(DomainName policyDomain) {
    Objects.requireNonNull(policyDomain, "policyDomain");
    return Optional.ofNullable(entries.get(policyDomain));
  }

  @Override
  public void put(DomainName policyDomain, CachedPolicy entry) {
    Objects.requireNonNull(policyDomain, "policyDomain");
    Objects.requireNonNull(entry, "entry");
    synchronized (lock) {
      putLocked(policyDomain, entry);
    }
  }

  @Override
  public void remove(DomainName policyDomain) {
    Objects.requireNonNull(policyDomain, "policyDomain");
    synchronized (lock) {
      CachedPolicy old = entries.remove(policyDomain);
      if (old != null) {
        byExpiry.remove(new Slot(policyDomain, old));
      }
    }
  }

  /** A consistent copy of every entry, ordered by domain name. */
  Map<DomainName, CachedPolicy> snapshot() {
    synchronized (lock) {
      Map<DomainName, CachedPolicy> copy = new LinkedHashMap<>();
      entries.keySet().stream().sorted()
          .forEach(d -> copy.put(d, entries.get(d)));
      return copy;
    }
  }

  private void putLocked(DomainName policyDomain, CachedPolicy entry) {
    CachedPolicy old = entries.put(policyDomain, entry);
    if (old != null) {
      byExpiry.remove(new Slot(policyDomain, old));
    }
    byExpiry.add(new Slot(policyDomain, entry));
    if (entries.size() <= maxEntries) {
      return;
    }
    // Bounded: evict the least protective entry that expires soonest, never the one just stored.
    for (Slot victim : byExpiry) {
      if (!victim.domain().equals(policyDomain)) {
        byExpiry.remove(victim);
        entries.remove(victim.domain());
        return;
      }
    }
    throw new AssertionError("a store over its bound of " + maxEntries + " holds only "
        + policyDomain);
  }

  @Override
  public String toString() {
    return "InMemoryPolicyStore{" + entries.size() + "/" + maxEntries + " entries}";
  }
}
