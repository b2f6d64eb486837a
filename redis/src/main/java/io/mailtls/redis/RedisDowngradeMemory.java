package io.mailtls.redis;

import io.lettuce.core.RedisURI;
import io.lettuce.core.SslOptions;
import io.mailtls.core.DomainName;
import io.mailtls.core.DowngradeMemory;
import io.mailtls.core.DowngradeProtection;
import io.mailtls.core.TransportSecurity;
import io.mailtls.redis.internal.DowngradeScripts;
import io.mailtls.redis.internal.RedisLink;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link DowngradeMemory} shared by every process of a fleet through Redis, so that a domain one
 * sender reached over TLS (or authenticated TLS) is protected against a downgrade in all of them
 * ({@link DowngradeProtection}), with a bounded local layer ({@link DowngradeMemory#inMemory}) in
 * front.
 *
 * <p>Layout, version 1 (docs/redis.md): one hash per domain, {@code
 * <prefix>:downgrade:v1:<domain>}, the domain as {@link DomainName} prints it, with the fields
 * {@code tls} and {@code authenticated_tls}, each the epoch milliseconds (decimal digits) of the
 * last time that level was achieved. The key expires the retention after its newest time.
 *
 * <p>{@link #raise} updates the local layer at once, then runs one Lua script in Redis that takes
 * each field's maximum (an authenticated time raises {@code tls} too) and renews the expiry: raises
 * from any number of processes commute. When Redis does not answer, the raise is kept locally and
 * queued (bounded by the local size); the queued raises are written, in the background, after the
 * next call that Redis answers. A raise is an idempotent maximum, so the replay is exact.
 *
 * <p>{@link #seen} asks Redis, bounded by the command timeout, merges its record with the local one
 * ({@link Seen#merge}), keeps the merge locally and returns it; a local record newer than Redis's
 * is written back in the background. When Redis is down, slower than the command timeout or refuses
 * the credentials, {@code seen} answers from the local layer if it knows the domain, and otherwise
 * <b>throws</b> {@link RedisUnavailableException}, so that the transport defers the domain: "Redis
 * down" is never read as "nothing seen" (fail closed). A Redis that answers and holds nothing for a
 * domain the local layer does not know means nothing was seen.
 *
 * <p>Never logs credentials; log lines, exception messages and {@link #toString()} name the server
 * by host and port only. Thread-safe. Owns a Lettuce client and its I/O threads (two event-loop and
 * two computation threads), released by {@link #close()}; it starts no thread of its own.
 */
public final class RedisDowngradeMemory implements DowngradeMemory {

  private static final Logger log = LoggerFactory.getLogger(RedisDowngradeMemory.class);

  /** The default size of the local layer and of the queue of raises Redis missed: 100,000. */
  public static final int DEFAULT_LOCAL_SIZE = 100_000;

  /**
   * {@link #seen} could not ask Redis and the local layer knows nothing of the domain: the
   * transport defers the domain rather than deliver without the check. The message names the server
   * by host and port and the domain, never credentials.
   */
  public static final class RedisUnavailableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    RedisUnavailableException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private final RedisLink redis;
  private final String keyPrefix;
  private final Duration retention;
  private final int localSize;
  private final DowngradeMemory local;
  private final Set<DomainName> pending = ConcurrentHashMap.newKeySet();

  /** The most queued raises one call hands to Redis (see {@link #flushPending}). */
  static final int FLUSH_BATCH = 256;

  private final AtomicBoolean flushing = new AtomicBoolean(false);
  private final AtomicBoolean pendingFullWarned = new AtomicBoolean(false);

  private RedisDowngradeMemory(Builder b) {
    this.keyPrefix = b.keyPrefix;
    this.retention = b.retention;
    this.localSize = b.localSize;
    this.local = DowngradeMemory.inMemory(b.localSize);
    this.redis = new RedisLink(b.uri, b.cluster, b.commandTimeout, b.reconnectDelay, b.sslOptions);
    redis.connectInBackground();
  }

  /** A builder for a store on the Redis at {@code uri} ({@code redis://} or {@code rediss://}). */
  public static Builder newBuilder(RedisURI uri) {
    return new Builder(uri);
  }

  /** The Redis key of a domain's record: {@code <prefix>:downgrade:v1:<domain>}. */
  public String key(DomainName domain) {
    return keyPrefix + ":downgrade:v1:" + domain;
  }

  /** The local layer: what this process knows, read when Redis does not answer. */
  public DowngradeMemory local() {
    return local;
  }

  /** How many raises Redis missed and this store still has to write. */
  public int pendingRaises() {
    return pending.size();
  }

  /**
   * The record of {@code domain}: Redis's merged with the local layer's.
   *
   * @throws RedisUnavailableException when Redis does not answer within the command timeout and the
   *     local layer knows nothing of {@code domain}
   */
  @Override
  public Seen seen(DomainName domain) {
    Objects.requireNonNull(domain, "domain");
    String key = key(domain);
    List<String> fields;
    try {
      // Bounded: a field longer than any time is not sent (DowngradeScripts.READ). One round trip
      // with its source, as the HMGET it replaces, also on a Redis that has not seen it yet.
      fields = redis.evalStrings(DowngradeScripts.READ, new String[] {key});
    } catch (RedisLink.Unavailable e) {
      Seen known = local.seen(domain);
      if (e.wrongType()) {
        // Redis answered: the key holds another tool's value, no record of mailtls's. Read as an
        // outage, it deferred a domain no process knew, and no delivery came to raise (and so
        // replace) the key. The raise after the next delivery replaces it.
        log.warn("ignoring Redis key {}: not a hash (written by another tool?)", key);
        return known;
      }
      if (!known.equals(Seen.NOTHING)) {
        return known;
      }
      throw new RedisUnavailableException(
          "Redis "
              + redis
              + " unavailable and nothing known locally of "
              + domain
              + " (no answer within the command timeout, or refused)",
          e);
    }
    Seen shared = decode(key, fields);
    Seen known = local.seen(domain);
    Seen merged = known.merge(shared);
    keepLocally(domain, merged);
    if (!shared.merge(known).equals(shared)) {
      // Redis lacks what this process knows: restarted empty, evicted, or missed our raise.
      writeLater(domain, known);
    }
    flushPending();
    return merged;
  }

  @Override
  public void raise(DomainName domain, TransportSecurity achieved, Instant at) {
    Objects.requireNonNull(domain, "domain");
    Objects.requireNonNull(achieved, "achieved");
    Objects.requireNonNull(at, "at");
    if (achieved == TransportSecurity.PLAINTEXT) {
      return;
    }
    local.raise(domain, achieved, at);
    Seen raised = Seen.NOTHING.raise(achieved, at);
    try {
      redis.script(DowngradeScripts.RAISE, new String[] {key(domain)}, args(raised));
    } catch (RedisLink.Unavailable e) {
      queue(domain); // kept locally; written when Redis answers again
      return;
    }
    flushPending();
  }

  private void keepLocally(DomainName domain, Seen s) {
    s.tls().ifPresent(t -> local.raise(domain, TransportSecurity.TLS, t));
    s.authenticatedTls()
        .ifPresent(t -> local.raise(domain, TransportSecurity.AUTHENTICATED_TLS, t));
  }

  /**
   * The record in Redis's fields; a field that is not epoch milliseconds, or is more than {@link
   * DowngradeProtection#MAX_CLOCK_AHEAD} ahead of the wall clock (Redis's expiry, PEXPIREAT, is
   * wall-clock time too), is ignored, so that it never enters the local layer, where as the maximum
   * it would swallow every later raise.
   */
  private static Seen decode(String key, @Nullable List<String> fields) {
    Optional<Instant> tls = Optional.empty();
    Optional<Instant> authenticated = Optional.empty();
    if (fields != null && fields.size() == 2) {
      String t = fields.get(0);
      String a = fields.get(1);
      if (t != null) {
        tls = parse(key, DowngradeScripts.TLS, t);
      }
      if (a != null) {
        authenticated = parse(key, DowngradeScripts.AUTHENTICATED_TLS, a);
      }
    }
    return new Seen(tls, authenticated);
  }

  private static Optional<Instant> parse(String key, String field, String value) {
    try {
      // 1 to 15 digits, as the script keeps them: epoch milliseconds until the year 33658
      if (!value.isEmpty()
          && value.length() <= 15
          && value.chars().allMatch(c -> c >= '0' && c <= '9')) {
        Instant at = Instant.ofEpochMilli(Long.parseLong(value));
        if (!at.isAfter(Instant.now().plus(DowngradeProtection.MAX_CLOCK_AHEAD))) {
          return Optional.of(at);
        }
        log.warn(
            "ignoring field {} of Redis key {}: more than {} ahead of the clock",
            field,
            key,
            DowngradeProtection.MAX_CLOCK_AHEAD);
        return Optional.empty();
      }
    } catch (NumberFormatException e) {
      // too large: unreadable, as below
    }
    // The value is not logged: only where it is.
    log.warn("ignoring unreadable field {} of Redis key {}", field, key);
    return Optional.empty();
  }

  /** The script's arguments for {@code s}: TLS time, authenticated time, retention. */
  private String[] args(Seen s) {
    return new String[] {
      s.tls().map(t -> Long.toString(t.toEpochMilli())).orElse(""),
      s.authenticatedTls().map(t -> Long.toString(t.toEpochMilli())).orElse(""),
      Long.toString(retention.toMillis()),
      Long.toString(DowngradeProtection.MAX_CLOCK_AHEAD.toMillis())
    };
  }

  /** Writes the local record of {@code domain} to Redis without waiting; queued if that fails. */
  private void writeLater(DomainName domain, Seen s) {
    if (s.equals(Seen.NOTHING)) {
      return;
    }
    CompletableFuture<Long> unused =
        redis
            .scriptLater(DowngradeScripts.RAISE, new String[] {key(domain)}, args(s))
            .whenComplete(
                (r, e) -> {
                  if (e != null) {
                    queue(domain);
                  }
                });
  }

  private void queue(DomainName domain) {
    if (pending.size() < localSize) {
      pending.add(domain);
    } else if (pendingFullWarned.compareAndSet(false, true)) {
      log.warn(
          "Redis {} missed more than {} domains' raises; further ones are kept locally only and"
              + " written back when read",
          redis,
          localSize);
    }
  }

  /**
   * Writes up to {@link #FLUSH_BATCH} queued raises (the local records of their domains) in the
   * background. The call runs on a delivery thread, and an outage may have queued a raise for every
   * domain of the local layer: each call hands over a bounded batch, so that no delivery waits for
   * the whole backlog, and the calls that follow write the rest.
   */
  private void flushPending() {
    if (pending.isEmpty() || !flushing.compareAndSet(false, true)) {
      return;
    }
    try {
      pendingFullWarned.set(false);
      Iterator<DomainName> it = pending.iterator();
      for (int i = 0; i < FLUSH_BATCH && it.hasNext(); i++) {
        DomainName d = it.next();
        it.remove();
        writeLater(d, local.seen(d)); // forgotten locally (evicted): nothing left to write
      }
    } finally {
      flushing.set(false);
    }
  }

  /** Closes the connection and stops the client's threads. */
  @Override
  public void close() {
    redis.close();
  }

  @Override
  public String toString() {
    return "RedisDowngradeMemory{"
        + redis
        + ", prefix="
        + keyPrefix
        + ", retention="
        + retention
        + ", local="
        + local
        + "}";
  }

  /** Configures a {@link RedisDowngradeMemory}. Not thread-safe. */
  public static final class Builder {
    private final RedisURI uri;
    private String keyPrefix = RedisPolicyStore.DEFAULT_KEY_PREFIX;
    private Duration commandTimeout = RedisPolicyStore.DEFAULT_COMMAND_TIMEOUT;
    private Duration reconnectDelay = RedisPolicyStore.DEFAULT_RECONNECT_DELAY;
    private Duration retention = DowngradeProtection.DEFAULT_PERIOD;
    private int localSize = DEFAULT_LOCAL_SIZE;
    private @Nullable SslOptions sslOptions;
    private boolean cluster;

    private Builder(RedisURI uri) {
      this.uri = Objects.requireNonNull(uri, "uri");
    }

    /**
     * The key prefix, default {@value RedisPolicyStore#DEFAULT_KEY_PREFIX}: 1 to 64 printable ASCII
     * characters without spaces; processes that share the memory use the same one.
     */
    public Builder keyPrefix(String keyPrefix) {
      this.keyPrefix = RedisPolicyStore.Builder.checkedPrefix(keyPrefix);
      return this;
    }

    /**
     * The longest any Redis call waits, connecting included, default 250 ms: {@link #seen} never
     * waits longer for Redis before it answers from the local layer or throws.
     */
    public Builder commandTimeout(Duration commandTimeout) {
      this.commandTimeout = RedisPolicyStore.Builder.checkedTimeout(commandTimeout);
      return this;
    }

    /** The longest wait between attempts to reconnect to Redis, default 2 s. */
    public Builder reconnectDelay(Duration reconnectDelay) {
      this.reconnectDelay = RedisPolicyStore.Builder.checkedReconnectDelay(reconnectDelay);
      return this;
    }

    /**
     * How long Redis keeps a domain's record after its newest time, default {@link
     * DowngradeProtection#DEFAULT_PERIOD} (30 days). Set it to at least the protection's {@link
     * DowngradeProtection#period()}: a shorter retention forgets a floor that would still apply.
     *
     * @throws IllegalArgumentException if shorter than one second
     */
    public Builder retention(Duration retention) {
      Objects.requireNonNull(retention, "retention");
      if (retention.compareTo(Duration.ofSeconds(1)) < 0) {
        throw new IllegalArgumentException("retention must be at least one second: " + retention);
      }
      this.retention = retention;
      return this;
    }

    /**
     * How many domains the local layer holds, and how many domains' raises are queued while Redis
     * is away; default {@value #DEFAULT_LOCAL_SIZE}. Size it above the number of domains this
     * process sends to within the period.
     *
     * @throws IllegalArgumentException if not positive
     */
    public Builder localSize(int localSize) {
      if (localSize < 1) {
        throw new IllegalArgumentException("localSize must be positive: " + localSize);
      }
      this.localSize = localSize;
      return this;
    }

    /**
     * TLS options for a {@code rediss://} URI, e.g. the trust manager of a private CA; default
     * Lettuce's (the JDK's trust store).
     */
    public Builder sslOptions(SslOptions sslOptions) {
      this.sslOptions = Objects.requireNonNull(sslOptions, "sslOptions");
      return this;
    }

    /**
     * Whether the URI names a node of a Redis Cluster, default false (a standalone Redis, or
     * Sentinel with a {@code redis-sentinel://} URI). With true the store learns the cluster's
     * nodes from that one and sends each domain's key to the node serving its hash slot (each
     * command and script touches one key).
     */
    public Builder cluster(boolean cluster) {
      this.cluster = cluster;
      return this;
    }

    /**
     * The store. It starts connecting in the background and does not wait: Redis need not be up yet
     * (until it is, {@link RedisDowngradeMemory#seen} answers for the domains raised locally and
     * throws for the others).
     */
    public RedisDowngradeMemory build() {
      return new RedisDowngradeMemory(this);
    }
  }
}
