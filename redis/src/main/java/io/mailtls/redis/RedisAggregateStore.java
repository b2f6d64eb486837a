package io.mailtls.redis;

import io.lettuce.core.RedisURI;
import io.mailtls.redis.internal.CountFields;
import io.mailtls.redis.internal.CountScripts;
import io.mailtls.redis.internal.RedisLink;
import io.mailtls.tlsrpt.AggregateStore;
import io.mailtls.tlsrpt.AppliedPolicy;
import io.mailtls.tlsrpt.PolicyCounts;
import java.io.IOException;
import java.time.Duration;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedSet;
import java.util.TreeSet;

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
 * <p>Redis unreachable or slower than the command timeout: {@link #merge} throws {@link
 * IOException} and none of the counts were added (the script never ran, or ran whole: a timeout
 * after Redis received it may still add them, once). {@link io.mailtls.tlsrpt.TlsRptAggregator}
 * counts such a merge as failed and logs it: counts made while Redis is away are lost and that loss
 * is reported, not kept to be merged later. Reads throw {@link IOException} likewise.
 *
 * <p>Thread-safe. Owns a Lettuce client, released by {@link #close()}. Standalone Redis or Sentinel
 * ({@code redis-sentinel://} URI) only: the scripts use keys of several hash slots, and the days
 * script reads keys it is not given, which Redis Cluster does not allow.
 */
public final class RedisAggregateStore implements AggregateStore {

  /** The default time a day's counts are kept after its last merge: 7 days. */
  public static final Duration DEFAULT_RETENTION = Duration.ofDays(7);

  private final RedisLink redis;
  private final String prefix;
  private final Duration retention;

  private RedisAggregateStore(Builder b) {
    this.prefix = b.keyPrefix + ":tlsrpt:v1:";
    this.retention = b.retention;
    this.redis = new RedisLink(b.uri, b.commandTimeout, b.reconnectDelay);
    redis.connectInBackground();
  }

  /** A builder for a store on the Redis at {@code uri}. */
  public static Builder newBuilder(RedisURI uri) {
    return new Builder(uri);
  }

  private String dayKey(LocalDate day) {
    return prefix + "day:" + day;
  }

  private String daysKey() {
    return prefix + "days";
  }

  @Override
  public void merge(LocalDate day, Map<AppliedPolicy, PolicyCounts> counts) throws IOException {
    Objects.requireNonNull(day, "day");
    Map<String, Long> fields = CountFields.fields(counts);
    if (fields.isEmpty()) {
      return;
    }
    List<String> args = new ArrayList<>();
    args.add(day.toString());
    args.add(Long.toString(day.toEpochDay()));
    args.add(Long.toString(Math.max(1, retention.toSeconds())));
    fields.forEach(
        (field, n) -> {
          args.add(field);
          args.add(Long.toString(n));
        });
    try {
      redis.script(
          CountScripts.MERGE, new String[] {dayKey(day), daysKey()}, args.toArray(String[]::new));
    } catch (RedisLink.Unavailable e) {
      throw new IOException(
          "TLS-RPT counts not merged into Redis " + redis + ": " + e.getMessage(), e);
    }
  }

  @Override
  public Map<AppliedPolicy, PolicyCounts> read(LocalDate day) throws IOException {
    Objects.requireNonNull(day, "day");
    Map<String, String> hash;
    try {
      hash = redis.call(c -> c.hgetall(dayKey(day)));
    } catch (RedisLink.Unavailable e) {
      throw new IOException(
          "TLS-RPT counts not read from Redis " + redis + ": " + e.getMessage(), e);
    }
    if (hash == null || hash.isEmpty()) {
      return Map.of();
    }
    try {
      return CountFields.counts(hash);
    } catch (IllegalArgumentException e) {
      throw new IOException(
          "unreadable TLS-RPT counts at " + dayKey(day) + ": " + e.getMessage(), e);
    }
  }

  @Override
  public SortedSet<LocalDate> days() throws IOException {
    List<String> days;
    try {
      days = redis.scriptStrings(CountScripts.DAYS, new String[] {daysKey()}, prefix + "day:");
    } catch (RedisLink.Unavailable e) {
      throw new IOException("TLS-RPT days not read from Redis " + redis + ": " + e.getMessage(), e);
    }
    SortedSet<LocalDate> out = new TreeSet<>();
    if (days != null) {
      for (String d : days) {
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
      redis.script(CountScripts.DISCARD, new String[] {dayKey(day), daysKey()}, day.toString());
    } catch (RedisLink.Unavailable e) {
      throw new IOException(
          "TLS-RPT day not discarded in Redis " + redis + ": " + e.getMessage(), e);
    }
  }

  /** Closes the connection and stops the client's threads. */
  @Override
  public void close() {
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

    /** The store; it starts connecting in the background. */
    public RedisAggregateStore build() {
      return new RedisAggregateStore(this);
    }
  }
}
