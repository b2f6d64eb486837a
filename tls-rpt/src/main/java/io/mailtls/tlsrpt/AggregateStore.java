package io.mailtls.tlsrpt;

import java.io.Closeable;
import java.io.IOException;
import java.time.LocalDate;
import java.util.Map;
import java.util.SortedSet;

/**
 * Where the daily counts live (RFC 8460 §4.1: one report per UTC day and policy domain). The write
 * is one atomic "merge these counts": a store adds them to what it holds, all or nothing, so that
 * several senders (or several threads) can merge into one store without losing a count, and a store
 * shared by a fleet can implement it as one atomic operation on its side.
 *
 * <p>Implementations are thread-safe. {@link InMemoryAggregateStore} keeps the counts in memory;
 * {@link FileAggregateStore} in an append-only log that survives a crash.
 */
public interface AggregateStore extends Closeable {

  /**
   * Adds {@code counts} to those held for {@code day}, atomically: a concurrent {@link #read} sees
   * all of them or none.
   *
   * @throws IOException if the counts could not be kept (then none of them were)
   */
  void merge(LocalDate day, Map<AppliedPolicy, PolicyCounts> counts) throws IOException;

  /** The counts held for {@code day}; empty when there are none. */
  Map<AppliedPolicy, PolicyCounts> read(LocalDate day) throws IOException;

  /**
   * The counts of {@code day}, a day that has ended, read to write its reports: a store shared by
   * processes takes no more counts for the day from here on (a merge that arrives later is refused,
   * and its loss reported, where a later {@link #discard} would have deleted it unseen). By default
   * {@link #read}: in one process, counts of an ended day only come in before it is read.
   */
  default Map<AppliedPolicy, PolicyCounts> readForReport(LocalDate day) throws IOException {
    return read(day);
  }

  /** The days that hold counts, oldest first. */
  SortedSet<LocalDate> days() throws IOException;

  /** Forgets {@code day}'s counts (once its reports are delivered). */
  void discard(LocalDate day) throws IOException;
}
