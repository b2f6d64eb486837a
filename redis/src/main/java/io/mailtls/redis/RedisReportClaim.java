package io.mailtls.redis;

import io.lettuce.core.RedisURI;
import io.lettuce.core.SetArgs;
import io.lettuce.core.SslOptions;
import io.mailtls.redis.internal.CountScripts;
import io.mailtls.redis.internal.RedisLink;
import io.mailtls.tlsrpt.ReportClaim;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Elects one process of a fleet to write and deliver each TLS-RPT report (RFC 8460 §4.1: one report
 * per day and policy domain from the sending organisation): a claim is {@code SET
 * <prefix>:tlsrpt:v1:claim:<report key> <token> NX PX <lease>}, which one caller wins until the
 * lease lapses; {@link #release} deletes the key only while it still holds this claim's token (a
 * Lua compare-and-delete), so a process whose lease lapsed never releases another's.
 *
 * <p>Once the holder has settled the report it marks it so ({@link #markSettled}: {@code
 * <prefix>:tlsrpt:v1:settled:<report key>}, kept for {@link Builder#settledRetention}); a settled
 * report is never claimed again, and the {@link io.mailtls.tlsrpt.TlsRptReporter} of every other
 * process counts it as settled ({@link #isSettled}) when it decides whether the day's counts can be
 * discarded. So two processes flushing the same day at once send each report once, whichever of
 * them gets to which policy domain first.
 *
 * <p>Redis unreachable or slower than the command timeout: {@link #tryClaim} returns false (fail
 * closed: no report goes out twice; the reports wait until Redis answers), {@link #isSettled}
 * false, and a release that fails leaves the claim to lapse with its lease. Thread-safe. Owns a
 * Lettuce client, released by {@link #close()}.
 */
public final class RedisReportClaim implements ReportClaim, AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(RedisReportClaim.class);

  /** The default time a settled mark is kept: 8 days, longer than the counts' default 7. */
  public static final Duration DEFAULT_SETTLED_RETENTION = Duration.ofDays(8);

  private final RedisLink redis;
  private final String prefix;
  private final Duration settledRetention;
  private final String holder = UUID.randomUUID().toString();
  private final Map<String, String> tokens = new ConcurrentHashMap<>();

  private RedisReportClaim(Builder b) {
    this.prefix = b.keyPrefix + ":tlsrpt:v1:";
    this.settledRetention = b.settledRetention;
    this.redis = new RedisLink(b.uri, b.commandTimeout, b.reconnectDelay, b.sslOptions);
    redis.connectInBackground();
  }

  /** A builder for claims on the Redis at {@code uri}. */
  public static Builder newBuilder(RedisURI uri) {
    return new Builder(uri);
  }

  /**
   * Claims on the Redis at {@code uri} under {@code keyPrefix}, each Redis call bounded by {@code
   * commandTimeout}: {@code newBuilder(uri).keyPrefix(keyPrefix).commandTimeout(commandTimeout)
   * .build()}.
   */
  public static RedisReportClaim create(RedisURI uri, String keyPrefix, Duration commandTimeout) {
    return newBuilder(uri).keyPrefix(keyPrefix).commandTimeout(commandTimeout).build();
  }

  /** The Redis key of a report key's claim. */
  public String key(String reportKey) {
    return prefix + "claim:" + reportKey;
  }

  private String settledKey(String reportKey) {
    return prefix + "settled:" + reportKey;
  }

  @Override
  public boolean tryClaim(String reportKey, Duration lease) {
    Objects.requireNonNull(reportKey, "reportKey");
    Objects.requireNonNull(lease, "lease");
    long millis = Math.max(1, lease.toMillis());
    String token = holder + "/" + UUID.randomUUID();
    long reply;
    try {
      reply =
          redis.script(
              CountScripts.CLAIM,
              new String[] {key(reportKey), settledKey(reportKey)},
              token,
              Long.toString(millis));
    } catch (RedisLink.Unavailable e) {
      return false;
    }
    if (reply == 2) {
      log.warn(
          "replaced a key without expiry at {} or {}: not a claim or mark of mailtls's",
          key(reportKey),
          settledKey(reportKey));
    }
    if (reply == 1 || reply == 2) {
      tokens.put(reportKey, token);
      return true;
    }
    return false;
  }

  /**
   * Extends this caller's claim (a Lua compare-and-expire on its token): false when it holds none,
   * its lease lapsed (another may hold the key now), or Redis does not answer.
   */
  @Override
  public boolean renew(String reportKey, Duration lease) {
    Objects.requireNonNull(reportKey, "reportKey");
    Objects.requireNonNull(lease, "lease");
    String token = tokens.get(reportKey);
    if (token == null) {
      return false;
    }
    long reply;
    try {
      reply =
          redis.script(
              CountScripts.RENEW,
              new String[] {key(reportKey)},
              token,
              Long.toString(Math.max(1, lease.toMillis())));
    } catch (RedisLink.Unavailable e) {
      return false; // the claim may lapse; kept in tokens, in case it has not
    }
    if (reply != 1) {
      tokens.remove(reportKey, token);
      return false;
    }
    return true;
  }

  @Override
  public void release(String reportKey) {
    Objects.requireNonNull(reportKey, "reportKey");
    String token = tokens.remove(reportKey);
    if (token == null) {
      return;
    }
    try {
      redis.script(CountScripts.RELEASE, new String[] {key(reportKey)}, token);
    } catch (RedisLink.Unavailable e) {
      // the claim lapses with its lease
    }
  }

  /**
   * Marks the report settled for {@link Builder#settledRetention}, if this caller holds its claim.
   * When Redis does not answer the mark is missing: another process may then write the report again
   * once the claim is released or lapses.
   */
  @Override
  public void markSettled(String reportKey) {
    Objects.requireNonNull(reportKey, "reportKey");
    String token = tokens.get(reportKey);
    if (token == null) {
      return;
    }
    long millis = Math.max(1, settledRetention.toMillis());
    try {
      redis.call(c -> c.set(settledKey(reportKey), token, SetArgs.Builder.px(millis)));
    } catch (RedisLink.Unavailable e) {
      // not marked: see above
    }
  }

  @Override
  public boolean isSettled(String reportKey) {
    Objects.requireNonNull(reportKey, "reportKey");
    try {
      // mailtls's mark always has a time to live (-1: a key without one, another tool's; -2: none)
      Long ttl = redis.call(c -> c.pttl(settledKey(reportKey)));
      return ttl != null && ttl >= 0;
    } catch (RedisLink.Unavailable e) {
      return false;
    }
  }

  /** Closes the connection and stops the client's threads. */
  @Override
  public void close() {
    redis.close();
  }

  @Override
  public String toString() {
    return "RedisReportClaim{" + redis + ", prefix=" + prefix + "}";
  }

  /** Configures a {@link RedisReportClaim}. Not thread-safe. */
  public static final class Builder {
    private final RedisURI uri;
    private String keyPrefix = RedisPolicyStore.DEFAULT_KEY_PREFIX;
    private Duration commandTimeout = RedisPolicyStore.DEFAULT_COMMAND_TIMEOUT;
    private Duration reconnectDelay = RedisPolicyStore.DEFAULT_RECONNECT_DELAY;
    private Duration settledRetention = DEFAULT_SETTLED_RETENTION;
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
     * The TLS options of a {@code rediss://} URI (a private CA, a client certificate), as {@link
     * RedisPolicyStore.Builder#sslOptions}; default Lettuce's (the JDK's trust store).
     */
    public Builder sslOptions(SslOptions sslOptions) {
      this.sslOptions = Objects.requireNonNull(sslOptions, "sslOptions");
      return this;
    }

    /**
     * How long a report stays marked settled ({@link RedisReportClaim#markSettled}); default 8
     * days. Keep it longer than the counts' retention ({@link
     * RedisAggregateStore.Builder#retention}), so no report is written twice while its day's counts
     * exist.
     */
    public Builder settledRetention(Duration settledRetention) {
      Objects.requireNonNull(settledRetention, "settledRetention");
      if (settledRetention.toMillis() < 1) {
        throw new IllegalArgumentException("settledRetention must be positive");
      }
      this.settledRetention = settledRetention;
      return this;
    }

    /** The claims; they start connecting in the background. */
    public RedisReportClaim build() {
      return new RedisReportClaim(this);
    }
  }
}
