package io.mailtls.tlsrpt;

import java.time.LocalDate;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/** An {@link AggregateStore} in memory: lost when the process ends. Thread-safe. */
public final class InMemoryAggregateStore implements AggregateStore {

  private final Map<LocalDate, Map<AppliedPolicy, PolicyCounts>> days = new TreeMap<>();

  /** An empty store. */
  public InMemoryAggregateStore() {}

  @Override
  public synchronized void merge(LocalDate day, Map<AppliedPolicy, PolicyCounts> counts) {
    Objects.requireNonNull(day, "day");
    Map<AppliedPolicy, PolicyCounts> copy = Map.copyOf(counts);
    if (copy.isEmpty()) {
      return;
    }
    Map<AppliedPolicy, PolicyCounts> held = days.getOrDefault(day, Map.of());
    // Every sum first, then the writes: an overflow changes nothing.
    Map<AppliedPolicy, PolicyCounts> sums = new HashMap<>();
    copy.forEach((k, v) -> sums.put(k, held.getOrDefault(k, PolicyCounts.ZERO).plus(v)));
    days.computeIfAbsent(day, d -> new HashMap<>()).putAll(sums);
  }

  @Override
  public synchronized Map<AppliedPolicy, PolicyCounts> read(LocalDate day) {
    Objects.requireNonNull(day, "day");
    return Map.copyOf(days.getOrDefault(day, Map.of()));
  }

  @Override
  public synchronized SortedSet<LocalDate> days() {
    return new TreeSet<>(days.keySet());
  }

  @Override
  public synchronized void discard(LocalDate day) {
    days.remove(Objects.requireNonNull(day, "day"));
  }

  /** Nothing to release. */
  @Override
  public void close() {}
}
