package io.mailtls.testkit.internal.dns;

import io.mailtls.testkit.DnsQuery;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import org.xbill.DNS.Name;

/**
 * The log of received queries, bounded: past {@link #CAPACITY} entries the oldest are dropped.
 *
 * <p>Thread-safe.
 */
public final class QueryRecorder {
  /** How many queries are kept. */
  public static final int CAPACITY = 100_000;

  private final Deque<DnsQuery> queries = new ArrayDeque<>();
  private long total;

  /** Appends one query. */
  public synchronized void record(DnsQuery query) {
    total++;
    if (queries.size() == CAPACITY) {
      queries.removeFirst();
    }
    queries.addLast(query);
  }

  /** A snapshot of the log, oldest first. */
  public synchronized List<DnsQuery> snapshot() {
    return List.copyOf(queries);
  }

  /** How many logged queries asked for {@code name} (in any letter case) and {@code type}. */
  public synchronized int count(Name name, int type) {
    String wanted = name.toString();
    int n = 0;
    for (DnsQuery q : queries) {
      // RFC 4343 §3: names compare case-insensitively (ASCII only, as equalsIgnoreCase does).
      if (q.type() == type && q.name().equalsIgnoreCase(wanted)) {
        n++;
      }
    }
    return n;
  }

  /** How many queries were recorded in all: not bounded by the capacity, not reset by clear. */
  public synchronized long total() {
    return total;
  }

  /** Empties the log. */
  public synchronized void clear() {
    queries.clear();
  }
}
