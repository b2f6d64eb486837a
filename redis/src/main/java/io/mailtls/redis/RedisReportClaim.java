package io.mailtls.redis;

import io.lettuce.core.RedisURI;
import io.lettuce.core.SetArgs;
import io.mailtls.redis.internal.CountScripts;
import io.mailtls.redis.internal.RedisLink;
import io.mailtls.tlsrpt.ReportClaim;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Elects one process of a fleet to write and deliver each TLS-RPT report (RFC 8460 §4.1: one report
 * per day and policy domain from the sending organisation): a claim is {@code SET
 * <prefix>:tlsrpt:v1:claim:<report key> <token> NX PX <lease>}, which one caller wins until the
 * lease lapses; {@link #release} deletes the key only while it still holds this claim's token (a
 * Lua compare-and-delete), so a process whose lease lapsed never releases another's.
 *
 * <p>Redis unreachable or slower than the command timeout: {@link #tryClaim} returns false (fail
 * closed: no report goes out twice; the reports wait until Redis answers), and a release that fails
 * leaves the claim to lapse with its lease. Thread-safe. Owns a Lettuce client, released by {@link
 * #close()}.
 */
public final class RedisReportClaim implements ReportClaim, AutoCloseable {

  private final RedisLink redis;
  private final String prefix;
  private final String holder = UUID.randomUUID().toString();
  private final Map<String, String> tokens = new ConcurrentHashMap<>();

  private RedisReportClaim(RedisURI uri, String keyPrefix, Duration commandTimeout) {
    this.prefix = keyPrefix + ":tlsrpt:v1:claim:";
    this.redis = new RedisLink(uri, commandTimeout, RedisPolicyStore.DEFAULT_RECONNECT_DELAY);
    redis.connectInBackground();
  }

  /**
   * Claims on the Redis at {@code uri} under {@code keyPrefix}, each Redis call bounded by {@code
   * commandTimeout}.
   */
  public static RedisReportClaim create(RedisURI uri, String keyPrefix, Duration commandTimeout) {
    Objects.requireNonNull(uri, "uri");
    return new RedisReportClaim(
        uri,
        RedisPolicyStore.Builder.checkedPrefix(keyPrefix),
        RedisPolicyStore.Builder.checkedTimeout(commandTimeout));
  }

  /** The Redis key of a report key's claim. */
  public String key(String reportKey) {
    return prefix + reportKey;
  }

  @Override
  public boolean tryClaim(String reportKey, Duration lease) {
    Objects.requireNonNull(reportKey, "reportKey");
    Objects.requireNonNull(lease, "lease");
    long millis = Math.max(1, lease.toMillis());
    String token = holder + "/" + UUID.randomUUID();
    String reply;
    try {
      reply = redis.call(c -> c.set(key(reportKey), token, SetArgs.Builder.nx().px(millis)));
    } catch (RedisLink.Unavailable e) {
      return false;
    }
    if ("OK".equals(reply)) {
      tokens.put(reportKey, token);
      return true;
    }
    return false;
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

  /** Closes the connection and stops the client's threads. */
  @Override
  public void close() {
    redis.close();
  }

  @Override
  public String toString() {
    return "RedisReportClaim{" + redis + ", prefix=" + prefix + "}";
  }
}
