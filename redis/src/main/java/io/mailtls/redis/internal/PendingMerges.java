package io.mailtls.redis.internal;

import java.time.LocalDate;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/**
 * The batches of TLS-RPT counts a process made while Redis was away, oldest first, at most {@code
 * limit} of them (a batch taken out to be sent and put back does not count against the limit
 * twice). Each batch has a random id that the merge script records in Redis, so a batch sent again
 * after an answer that was lost is added once. Thread-safe.
 */
public final class PendingMerges {

  /**
   * One merge: its id, its UTC day, its field/increment pairs, and when it was made ({@link
   * System#nanoTime}), before its first send.
   */
  public record Batch(String id, LocalDate day, Map<String, Long> fields, long madeAt) {

    public Batch {
      fields = Map.copyOf(fields);
    }

    /** A batch with a new random id, made now. */
    public static Batch of(LocalDate day, Map<String, Long> fields) {
      return new Batch(UUID.randomUUID().toString(), day, fields, System.nanoTime());
    }
  }

  private final int limit;
  private final Deque<Batch> queue = new ArrayDeque<>();
  private final List<Batch> sending = new ArrayList<>();
  private long lost;

  public PendingMerges(int limit) {
    this.limit = limit;
  }

  public int limit() {
    return limit;
  }

  /** Keeps {@code b} at the end; false (nothing kept) when {@code limit} batches already wait. */
  public synchronized boolean offer(Batch b) {
    if (queue.size() >= limit) {
      return false;
    }
    queue.addLast(b);
    return true;
  }

  /**
   * The oldest batch, taken out to be sent ({@link #sent} or {@link #putBack} follows), or null.
   */
  public synchronized @Nullable Batch take() {
    Batch b = queue.pollFirst();
    if (b != null) {
      sending.add(b);
    }
    return b;
  }

  /** A batch {@link #take} gave is done with: Redis took it, or it is lost. */
  public synchronized void sent(Batch b) {
    sending.remove(b);
  }

  /** Puts back at the front a batch {@link #take} gave and Redis did not take. */
  public synchronized void putBack(Batch b) {
    sending.remove(b);
    queue.addFirst(b);
  }

  public synchronized int size() {
    return queue.size();
  }

  /** How many kept batches are for {@code day}, those being sent included. */
  public synchronized int countFor(LocalDate day) {
    int n = 0;
    for (Batch b : sending) {
      if (b.day().equals(day)) {
        n++;
      }
    }
    for (Batch b : queue) {
      if (b.day().equals(day)) {
        n++;
      }
    }
    return n;
  }

  public synchronized void clear() {
    queue.clear();
  }

  public synchronized void lost(int n) {
    lost += n;
  }

  public synchronized long lostCount() {
    return lost;
  }
}
