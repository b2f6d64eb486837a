package io.mailtls.redis;

import io.lettuce.core.RedisURI;
import io.lettuce.core.SslOptions;
import io.mailtls.redis.internal.CountFields;
import io.mailtls.redis.internal.CountScripts;
import io.mailtls.redis.internal.PendingMerges;
import io.mailtls.redis.internal.RedisLink;
import io.mailtls.tlsrpt.AggregateStore;
import io.mailtls.tlsrpt.AppliedPolicy;
import io.mailtls.tlsrpt.PolicyCounts;
import java.io.IOException;
import java.time.Duration;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedSet;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The TLS-RPT daily counts (RFC 8460 §4.1) of a fleet in one Redis, so that each policy domain's
 * report counts the sessions of every process: {@link #merge} adds a process's counts to the day's
 * hash with {@code HINCRBY}, every field of one merge in one Lua script, so concurrent merges from
 * any number of processes add up and a reader sees all of a merge or none.
 *
 * <p>Layout (docs/redis.md): {@code <prefix>:tlsrpt:v1:day:<yyyy-mm-dd>}, a hash from counter to
 * count (the fields are described by the internal {@code CountFields}: compact JSON naming the
 * policy and, for a failure detail, the detail, with the report's member names), expiring {@link
 * Builder#retention} after its last merge; {@code <prefix>:tlsrpt:v1:days}, a sorted set of the
 * days that hold counts.
 *
 * <p>Each merge is a batch with a random id, which the script records ({@code
 * <prefix>:tlsrpt:v1:merged:<id>}, kept {@link Builder#mergeMarkerRetention}) and adds nothing when
 * it finds it: a batch sent again after an answer that was lost is added once.
 *
 * <p>Redis unreachable, refusing, or slower than the command timeout: {@link #merge} keeps the
 * batch in a bounded in-memory queue ({@link Builder#maxPendingMerges}, {@link #pendingMerges()})
 * and returns normally; every later {@link #merge}, {@link #read} and {@link #days} (and {@link
 * #flushPending()}) sends what waits first. Counts made while Redis is away are therefore merged
 * when it returns, exactly once, or their loss is reported: counted ({@link #lostMerges()}),
 * logged, and, when it is the batch of the call, thrown by {@link #merge} so that {@link
 * io.mailtls.tlsrpt.TlsRptAggregator} counts a failed merge (the queue was full; a batch waited
 * longer than its marker lives; its day was reported before it arrived; the store was closed with
 * batches waiting). {@link #read} of a day for which batches still wait throws {@link IOException},
 * never an incomplete answer. {@link #readForReport}, which the reporter calls for an ended day,
 * marks the day reported ({@code <prefix>:tlsrpt:v1:reported:<day>}) in the same script that reads
 * it, and {@link #discard} marks it again: a merge for it that arrives later is refused and its
 * loss reported, never deleted unseen with the day's counts nor the start of a second report.
 *
 * <p>Reads are bounded in size in Redis, before anything is sent: a day's hash over {@link
 * Builder#maxDayFields} fields or {@link Builder#maxDayOctets} octets, or a days set over {@link
 * #MAX_DAYS} members, is refused with {@link TooLargeException}, never read whole nor in part. A
 * field that names no counter is skipped, and a policy domain with a counter that holds no count is
 * left out of the answer (logged by key, never by value).
 *
 * <p>Thread-safe. Owns a Lettuce client, released by {@link #close()}. Standalone Redis or Sentinel
 * ({@code redis-sentinel://} URI) only: the scripts use keys of several hash slots, and the days
 * script reads keys it is not given, which Redis Cluster does not allow.
 */
public final class RedisAggregateStore implements AggregateStore {

  /** The default time a day's counts are kept after its last merge: 7 days. */
  public static final Duration DEFAULT_RETENTION = Duration.ofDays(7);

  /** The default time Redis remembers that a batch of counts was merged: 1 day. */
  public static final Duration DEFAULT_MERGE_MARKER_RETENTION = Duration.ofDays(1);

  /** The default number of merges kept in memory while Redis is away: 10,000. */
  public static final int DEFAULT_MAX_PENDING_MERGES = 10_000;

  /** The default most fields of a day's hash read: 100,000. */
  public static final int DEFAULT_MAX_DAY_FIELDS = 100_000;

  /** The default most octets of a day's hash read, its fields and values together: 32 MiB. */
  public static final long DEFAULT_MAX_DAY_OCTETS = 32L * 1024 * 1024;

  /**
   * The most days {@link #days} answers: 10,000, more than 27 years of daily counts. The days set
   * holding more members than this once those whose hash expired are forgotten is refused.
   */
  public static final int MAX_DAYS = 10_000;

  private static final Logger log = LoggerFactory.getLogger(RedisAggregateStore.class);

  /**
   * What Redis holds for the TLS-RPT counts is larger than its bound (a day's hash with more than
   * {@link Builder#maxDayFields} fields or {@link Builder#maxDayOctets} octets, or a days set with
   * more than {@link #MAX_DAYS} days): it was not read, and nothing is answered from it, never a
   * part that would read as the whole. Logged when thrown, naming the key.
   */
  public static final class TooLargeException extends IOException {
    private static final long serialVersionUID = 1L;

    TooLargeException(String message) {
      super(message);
    }
  }

  private final RedisLink redis;
  private final String prefix;
  private final Duration retention;
  private final Duration commandTimeout;
  private final Duration mergeMarkerRetention;
  private final PendingMerges pending;
  private final int maxDayFields;
  private final long maxDayOctets;

  private RedisAggregateStore(Builder b) {
    this.maxDayFields = b.maxDayFields;
    this.maxDayOctets = b.maxDayOctets;
    this.prefix = b.keyPrefix + ":tlsrpt:v1:";
    this.retention = b.retention;
    this.commandTimeout = b.commandTimeout;
    this.mergeMarkerRetention = b.mergeMarkerRetention;
    this.pending = new PendingMerges(b.maxPendingMerges);
    this.redis = new RedisLink(b.uri, b.commandTimeout, b.reconnectDelay, b.sslOptions);
    redis.connectInBackground();
  }

  /** A builder for a store on the Redis at {@code uri}. */
  public static Builder newBuilder(RedisURI uri) {
    return new Builder(uri);
  }

  private String dayKey(LocalDate day) {
    return prefix + "day:" + day;
  }

  private String reportedKey(LocalDate day) {
    return prefix + "reported:" + day;
  }

  private String daysKey() {
    return prefix + "days";
  }

  /**
   * Adds {@code counts} to the day's hash in Redis. Batches kept earlier (while Redis was away) are
   * sent first, for at most the command timeout. When Redis does not answer, the counts are kept in
   * memory as one batch ({@link #pendingMerges()}) and sent again by a later call that reaches
   * Redis; this method then returns normally: the counts are not lost.
   *
   * @throws IOException when the counts are lost, and that loss is counted ({@link #lostMerges()})
   *     and logged: Redis is away and {@link Builder#maxPendingMerges} batches already wait, or the
   *     day's reports already went out (its counts were discarded)
   */
  @Override
  public void merge(LocalDate day, Map<AppliedPolicy, PolicyCounts> counts) throws IOException {
    Objects.requireNonNull(day, "day");
    Map<String, Long> fields = CountFields.fields(counts);
    if (fields.isEmpty()) {
      return;
    }
    PendingMerges.Batch batch = PendingMerges.Batch.of(day, fields);
    // One bound for the whole call, kept batches and this one together: a delivery never waits
    // longer than the command timeout on Redis, however many batches wait.
    long deadline = System.nanoTime() + commandTimeout.toNanos();
    boolean reached = drain(deadline);
    if (reached && System.nanoTime() - deadline < 0) {
      try {
        send(batch, deadline);
        return;
      } catch (RedisLink.Unavailable e) {
        // kept below
      }
    }
    if (!pending.offer(batch)) {
      String why = "Redis " + redis + " is away and " + pending.limit() + " merges already wait";
      lost(1, why);
      throw new IOException("TLS-RPT counts for " + day + " not merged and lost: " + why);
    }
  }

  /**
   * Sends {@code batch}; returns normally once Redis holds its counts (now or from an earlier
   * send).
   *
   * @throws IOException if the day was reported before: the batch is lost (counted, logged)
   */
  private void send(PendingMerges.Batch batch, long deadline)
      throws RedisLink.Unavailable, IOException {
    List<String> args = new ArrayList<>();
    args.add(batch.day().toString());
    args.add(Long.toString(batch.day().toEpochDay()));
    args.add(Long.toString(Math.max(1, retention.toSeconds())));
    args.add(Long.toString(Math.max(1, mergeMarkerRetention.toSeconds())));
    batch
        .fields()
        .forEach(
            (field, n) -> {
              args.add(field);
              args.add(Long.toString(n));
            });
    long r =
        redis.script(
            deadline,
            CountScripts.MERGE,
            new String[] {
              dayKey(batch.day()),
              daysKey(),
              prefix + "merged:" + batch.id(),
              reportedKey(batch.day())
            },
            args.toArray(String[]::new));
    if (r == 3) {
      log.warn(
          "TLS-RPT: {} or {} was not of the type mailtls writes there (written by another tool);"
              + " it was replaced, the day's counts restarting from this merge",
          dayKey(batch.day()),
          daysKey());
    } else if (r == 2) {
      // The value is not logged: it is not a count, and may be anything.
      log.warn(
          "TLS-RPT: {} held a counter that is not a count; it was replaced, restarting from this"
              + " merge",
          dayKey(batch.day()));
    }
    if (r < 0) {
      lost(1, batch.day() + " was read for its reports before these counts arrived");
      throw new IOException(
          "TLS-RPT counts for "
              + batch.day()
              + " lost: the day's reports went out (its counts were discarded) before they arrived");
    }
  }

  private void lost(int n, String why) {
    pending.lost(n);
    log.warn("TLS-RPT: {} merge(s) of counts lost: {}", n, why);
  }

  /**
   * Sends kept batches, oldest first, until none is left, Redis fails, or {@code deadline}
   * (System.nanoTime) passes; false if a call found Redis away.
   */
  private boolean drain(long deadline) {
    while (System.nanoTime() - deadline < 0) {
      PendingMerges.Batch b = pending.take();
      if (b == null) {
        return true;
      }
      if (System.nanoTime() - b.madeAt() > mergeMarkerRetention.toNanos()) {
        // Its marker may be gone: if an earlier send was applied, sending it again would count
        // it twice. Never twice: lost, and reported.
        pending.sent(b);
        lost(1, "kept longer than the merge marker retention " + mergeMarkerRetention);
        continue;
      }
      try {
        send(b, deadline);
        pending.sent(b);
      } catch (RedisLink.Unavailable e) {
        pending.putBack(b);
        return false;
      } catch (IOException e) {
        pending.sent(b); // the day was reported meanwhile: counted and logged as lost by send
      }
    }
    return true;
  }

  /**
   * Sends every batch kept while Redis was away, as the next call that reaches Redis would, without
   * a time limit other than each call's command timeout; stops at the first call Redis does not
   * answer.
   *
   * @return the number of batches still kept ({@link #pendingMerges()})
   */
  public int flushPending() {
    drain(Long.MAX_VALUE / 2 + System.nanoTime());
    return pending.size();
  }

  /** The batches of counts kept in memory while Redis is away, not yet merged. */
  public int pendingMerges() {
    return pending.size();
  }

  /**
   * How many batches of counts this store lost and reported (each logged, and thrown by {@link
   * #merge} or counted at {@link #close}): dropped because {@link Builder#maxPendingMerges} batches
   * already waited, refused because their day was reported before they arrived, or still kept when
   * the store was closed.
   */
  public long lostMerges() {
    return pending.lostCount();
  }

  @Override
  public Map<AppliedPolicy, PolicyCounts> read(LocalDate day) throws IOException {
    Objects.requireNonNull(day, "day");
    requireNothingWaiting(day);
    List<String> flat;
    try {
      flat =
          redis.evalStrings(
              CountScripts.READ,
              new String[] {dayKey(day)},
              Integer.toString(maxDayFields),
              Long.toString(maxDayOctets));
    } catch (RedisLink.Unavailable e) {
      throw new IOException(
          "TLS-RPT counts not read from Redis " + redis + ": " + e.getMessage(), e);
    }
    return counts(day, bounded(day, flat));
  }

  /**
   * The hash in a bounded read's reply ({@link CountScripts#READ}).
   *
   * @throws TooLargeException when Redis answered that the hash is over the bounds
   */
  private Map<String, String> bounded(LocalDate day, @Nullable List<String> flat)
      throws TooLargeException {
    Map<String, String> hash = new LinkedHashMap<>();
    if (flat == null || flat.isEmpty()) {
      return hash;
    }
    if (!"ok".equals(flat.get(0))) {
      String fields = flat.size() > 1 ? flat.get(1) : "?";
      String octets = flat.size() > 2 && !"-1".equals(flat.get(2)) ? flat.get(2) : "not counted";
      String why =
          dayKey(day)
              + " holds "
              + fields
              + " fields, "
              + octets
              + " octets: more than the bound of "
              + maxDayFields
              + " fields and "
              + maxDayOctets
              + " octets; not read, and no report of "
              + day
              + " is written from it";
      log.warn("TLS-RPT: {}", why);
      throw new TooLargeException("TLS-RPT counts: " + why);
    }
    for (int i = 1; i + 1 < flat.size(); i += 2) {
      hash.put(flat.get(i), flat.get(i + 1));
    }
    return hash;
  }

  /**
   * Reads the day's counts and marks the day reported, in one script: a merge for it that arrives
   * later (a batch another process kept while Redis was away) is refused and its loss reported, as
   * after {@link #discard}, instead of being added to counts that the report being written no
   * longer reads and that the discard then deletes.
   */
  @Override
  public Map<AppliedPolicy, PolicyCounts> readForReport(LocalDate day) throws IOException {
    Objects.requireNonNull(day, "day");
    requireNothingWaiting(day);
    List<String> flat;
    try {
      flat =
          redis.scriptStrings(
              CountScripts.READ_FOR_REPORT,
              new String[] {dayKey(day), reportedKey(day)},
              Long.toString(Math.max(1, retention.toSeconds())),
              Integer.toString(maxDayFields),
              Long.toString(maxDayOctets));
    } catch (RedisLink.Unavailable e) {
      throw new IOException(
          "TLS-RPT counts not read from Redis " + redis + ": " + e.getMessage(), e);
    }
    return counts(day, bounded(day, flat));
  }

  /** Never a partial answer: a report written from it would miss counts this process holds. */
  private void requireNothingWaiting(LocalDate day) throws IOException {
    flushPending();
    int waiting = pending.countFor(day);
    if (waiting > 0) {
      throw new IOException(
          "TLS-RPT counts for "
              + day
              + " incomplete: "
              + waiting
              + " merge(s) of this process wait for Redis "
              + redis);
    }
  }

  /**
   * The counts in a day's hash. A field that names no counter is skipped, and a policy domain one
   * of whose counters holds no count is left out (a report of it would state counts nobody knows,
   * RFC 8460 §4.4); each is logged, naming the key and the policy domain, never a field's value.
   * The other policy domains' reports go out as usual.
   */
  private Map<AppliedPolicy, PolicyCounts> counts(
      LocalDate day, @Nullable Map<String, String> hash) {
    if (hash == null || hash.isEmpty()) {
      return Map.of();
    }
    CountFields.Read read = CountFields.counts(hash);
    if (read.skippedFields() > 0) {
      log.warn(
          "TLS-RPT: {} holds {} field(s) that name no counter; skipped",
          dayKey(day),
          read.skippedFields());
    }
    if (!read.leftOut().isEmpty()) {
      log.warn(
          "TLS-RPT: {} holds a counter that is not a count for policy domain(s) {}; their counts"
              + " for {} are left out (no report of counts nobody knows)",
          dayKey(day),
          read.leftOut(),
          day);
    }
    return read.counts();
  }

  @Override
  public SortedSet<LocalDate> days() throws IOException {
    flushPending();
    List<String> days;
    try {
      days =
          redis.scriptStrings(
              CountScripts.DAYS,
              new String[] {daysKey()},
              prefix + "day:",
              Integer.toString(MAX_DAYS));
    } catch (RedisLink.Unavailable e) {
      throw new IOException("TLS-RPT days not read from Redis " + redis + ": " + e.getMessage(), e);
    }
    SortedSet<LocalDate> out = new TreeSet<>();
    if (days != null && !days.isEmpty() && !"ok".equals(days.get(0))) {
      String why =
          daysKey()
              + " holds "
              + (days.size() > 1 ? days.get(1) : "?")
              + " members: more than the bound of "
              + MAX_DAYS
              + "; not read";
      log.warn("TLS-RPT: {}", why);
      throw new TooLargeException("TLS-RPT days: " + why);
    }
    if (days != null) {
      for (String d : days.subList(Math.min(1, days.size()), days.size())) {
        try {
          out.add(LocalDate.parse(d));
        } catch (DateTimeParseException e) {
          // not ours: ignored
        }
      }
    }
    return out;
  }

  @Override
  public void discard(LocalDate day) throws IOException {
    Objects.requireNonNull(day, "day");
    try {
      redis.script(
          CountScripts.DISCARD,
          new String[] {dayKey(day), daysKey(), reportedKey(day)},
          day.toString(),
          Long.toString(Math.max(1, retention.toSeconds())));
    } catch (RedisLink.Unavailable e) {
      throw new IOException(
          "TLS-RPT day not discarded in Redis " + redis + ": " + e.getMessage(), e);
    }
  }

  /**
   * Sends the batches kept while Redis was away ({@link #flushPending()}), then closes the
   * connection and stops the client's threads. Batches Redis did not take are lost: counted in
   * {@link #lostMerges()} and logged.
   */
  @Override
  public void close() {
    int left = flushPending();
    if (left > 0) {
      pending.clear();
      lost(left, "the store was closed while Redis " + redis + " was away");
    }
    redis.close();
  }

  @Override
  public String toString() {
    return "RedisAggregateStore{" + redis + ", prefix=" + prefix + "}";
  }

  /** Configures a {@link RedisAggregateStore}. Not thread-safe. */
  public static final class Builder {
    private final RedisURI uri;
    private String keyPrefix = RedisPolicyStore.DEFAULT_KEY_PREFIX;
    private Duration commandTimeout = RedisPolicyStore.DEFAULT_COMMAND_TIMEOUT;
    private Duration reconnectDelay = RedisPolicyStore.DEFAULT_RECONNECT_DELAY;
    private Duration retention = DEFAULT_RETENTION;
    private int maxPendingMerges = DEFAULT_MAX_PENDING_MERGES;
    private Duration mergeMarkerRetention = DEFAULT_MERGE_MARKER_RETENTION;
    private int maxDayFields = DEFAULT_MAX_DAY_FIELDS;
    private long maxDayOctets = DEFAULT_MAX_DAY_OCTETS;
    private @Nullable SslOptions sslOptions;

    private Builder(RedisURI uri) {
      this.uri = Objects.requireNonNull(uri, "uri");
    }

    /** The key prefix, as {@link RedisPolicyStore.Builder#keyPrefix}. */
    public Builder keyPrefix(String keyPrefix) {
      this.keyPrefix = RedisPolicyStore.Builder.checkedPrefix(keyPrefix);
      return this;
    }

    /** The longest any Redis call waits, connecting included; default 250 ms. */
    public Builder commandTimeout(Duration commandTimeout) {
      this.commandTimeout = RedisPolicyStore.Builder.checkedTimeout(commandTimeout);
      return this;
    }

    /** The longest wait between attempts to reconnect; default 2 s. */
    public Builder reconnectDelay(Duration reconnectDelay) {
      this.reconnectDelay = RedisPolicyStore.Builder.checkedReconnectDelay(reconnectDelay);
      return this;
    }

    /**
     * How long a day's counts are kept after its last merge when nobody discards them; default 7
     * days (reports go out the day after, RFC 8460 §4.1).
     */
    public Builder retention(Duration retention) {
      Objects.requireNonNull(retention, "retention");
      if (retention.toSeconds() < 1) {
        throw new IllegalArgumentException("retention must be at least a second");
      }
      this.retention = retention;
      return this;
    }

    /**
     * How many batches of counts (one per {@link #merge} call) are kept in memory while Redis is
     * away, to be merged when it answers again; default {@value #DEFAULT_MAX_PENDING_MERGES}. When
     * that many wait, a further merge is lost: counted, logged and thrown. 0 keeps none (every
     * merge Redis does not take is lost).
     */
    public Builder maxPendingMerges(int maxPendingMerges) {
      if (maxPendingMerges < 0) {
        throw new IllegalArgumentException("maxPendingMerges must not be negative");
      }
      this.maxPendingMerges = maxPendingMerges;
      return this;
    }

    /**
     * How long Redis remembers each merge's random id ({@code <prefix>:tlsrpt:v1:merged:<id>},
     * about 170 bytes), so that a batch sent again after an answer that was lost is not added
     * twice; default 1 day. It is also the longest a batch is kept while Redis is away: an older
     * one is lost (counted, logged) rather than risk counting it twice.
     */
    public Builder mergeMarkerRetention(Duration mergeMarkerRetention) {
      Objects.requireNonNull(mergeMarkerRetention, "mergeMarkerRetention");
      if (mergeMarkerRetention.toSeconds() < 1) {
        throw new IllegalArgumentException("mergeMarkerRetention must be at least a second");
      }
      this.mergeMarkerRetention = mergeMarkerRetention;
      return this;
    }

    /**
     * The most fields of a day's hash that {@link #read} and {@link #readForReport} read; default
     * {@value #DEFAULT_MAX_DAY_FIELDS}. Redis checks it ({@code HLEN}) before it reads anything: a
     * larger day is refused ({@link TooLargeException}, logged), never read in part.
     */
    public Builder maxDayFields(int maxDayFields) {
      if (maxDayFields < 1) {
        throw new IllegalArgumentException("maxDayFields must be at least 1");
      }
      this.maxDayFields = maxDayFields;
      return this;
    }

    /**
     * The most octets of a day's hash, its fields and values together, that {@link #read} and
     * {@link #readForReport} take from Redis; default {@value #DEFAULT_MAX_DAY_OCTETS} (32 MiB).
     * Redis adds them up before it answers: a larger day is refused ({@link TooLargeException},
     * logged), never sent.
     */
    public Builder maxDayOctets(long maxDayOctets) {
      if (maxDayOctets < 1) {
        throw new IllegalArgumentException("maxDayOctets must be at least 1");
      }
      this.maxDayOctets = maxDayOctets;
      return this;
    }

    /**
     * The TLS options of a {@code rediss://} URI (a private CA, a client certificate), as {@link
     * RedisPolicyStore.Builder#sslOptions}; default Lettuce's (the JDK's trust store).
     */
    public Builder sslOptions(SslOptions sslOptions) {
      this.sslOptions = Objects.requireNonNull(sslOptions, "sslOptions");
      return this;
    }

    /** The store; it starts connecting in the background. */
    public RedisAggregateStore build() {
      return new RedisAggregateStore(this);
    }
  }
}
