package io.mailtls.redis;

import io.lettuce.core.RedisURI;
import io.lettuce.core.SslOptions;
import io.mailtls.core.DomainName;
import io.mailtls.mtasts.CachedPolicy;
import io.mailtls.mtasts.InMemoryPolicyStore;
import io.mailtls.mtasts.PolicyStore;
import io.mailtls.redis.internal.PolicyCodec;
import io.mailtls.redis.internal.PolicyScripts;
import io.mailtls.redis.internal.RedisLink;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An MTA-STS {@link PolicyStore} shared by every process of a fleet through Redis, so that a policy
 * one sender learned protects them all (RFC 8461 §5.1, §10.2: trust on first use for the fleet, not
 * for each process), with a bounded local layer in front (an {@link InMemoryPolicyStore}) so that
 * Redis trouble never reads as "no policy".
 *
 * <p>Layout: one string key per policy domain, {@code <prefix>:sts:<policy domain>}, holding a
 * versioned JSON value (docs/redis.md) and expiring with the policy ({@code PX} = {@code
 * expires_at} minus now, so {@code max_age} after the fetch).
 *
 * <p>Reads ({@link #get}, {@link #peek}) ask Redis first, bounded by the command timeout; the
 * answer is merged with the local layer, and the newer of the two (by fetch time, then policy id)
 * is returned and kept locally. When Redis does not answer in time, is down or holds nothing while
 * the local layer holds a policy, the local policy is returned: an outage or a Redis restarted
 * empty never makes a policy this process knew disappear. A local policy newer than Redis's (or
 * missing there) is written back in the background, so Redis is repaired once it answers again.
 * {@link #presence} says {@link Presence#UNKNOWN} when Redis does not answer and the local layer
 * holds nothing, so that the resolver does not give up the refresh of a policy the fleet still
 * holds (RFC 8461 §3.3).
 *
 * <p>Writes ({@link #put}) go to the local layer and, bounded by the command timeout, to Redis by a
 * compare-and-set Lua script that never replaces a newer entry with an older one: an entry fetched
 * later, or in the same millisecond with an id that sorts the same or later, is kept; an entry
 * fetched after the clock's now counts as older than any other, in reads too (RFC 8461 §10.2).
 * {@link #remove} deletes locally and, in Redis, only an entry not newer than the one removed.
 *
 * <p>Never throws for Redis trouble (it logs the first failure and the recovery, naming the server
 * by host and port; credentials in the URI are never logged). Every Redis call, connecting
 * included, waits at most the command timeout. Thread-safe. Owns a Lettuce client and its I/O
 * threads (two event-loop and two computation threads), released by {@link #close()}.
 */
public final class RedisPolicyStore implements PolicyStore, AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(RedisPolicyStore.class);

  /** The default key prefix. */
  public static final String DEFAULT_KEY_PREFIX = "mailtls";

  /** The default bound on every Redis call: 250 ms. */
  public static final Duration DEFAULT_COMMAND_TIMEOUT = Duration.ofMillis(250);

  /** The default longest wait between attempts to reconnect: 2 s. */
  public static final Duration DEFAULT_RECONNECT_DELAY = Duration.ofSeconds(2);

  /**
   * The most octets of a policy entry read from Redis: a policy is at most 64 KiB of text (RFC 8461
   * §3.3 sets no limit; mailtls's fetcher does), far less than this once encoded, so a larger value
   * is not one mailtls wrote and is ignored, never decoded.
   */
  static final int MAX_VALUE_OCTETS = PolicyScripts.MAX_VALUE_OCTETS;

  private final RedisLink redis;
  private final String keyPrefix;
  private final InMemoryPolicyStore local;
  private final Clock clock;

  /**
   * The most domains whose answered entry {@link #answeredNotLocal} remembers: a local layer
   * refuses entries only while it is full of pinned policies, so few are remembered at once.
   */
  static final int MAX_ANSWERED_NOT_LOCAL = 4096;

  /**
   * Guarded by itself: for each domain whose last read answered an entry that the local layer does
   * not hold, that entry's fetch time, the bound of {@link #remove}; the least recently read
   * forgotten first.
   */
  private final Map<DomainName, Instant> answeredNotLocal =
      new LinkedHashMap<>(16, 0.75f, true) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<DomainName, Instant> eldest) {
          return size() > MAX_ANSWERED_NOT_LOCAL;
        }
      };

  private RedisPolicyStore(Builder b) {
    this.keyPrefix = b.keyPrefix;
    this.clock = b.clock;
    this.local = b.local != null ? b.local : new InMemoryPolicyStore();
    this.redis = new RedisLink(b.uri, b.cluster, b.commandTimeout, b.reconnectDelay, b.sslOptions);
    redis.connectInBackground();
  }

  /** A builder for a store on the Redis at {@code uri} ({@code redis://} or {@code rediss://}). */
  public static Builder newBuilder(RedisURI uri) {
    return new Builder(uri);
  }

  /** The Redis key of a policy domain's entry: {@code <prefix>:sts:<policy domain>}. */
  public String key(DomainName policyDomain) {
    return keyPrefix + ":sts:" + policyDomain;
  }

  /** The local layer, read when Redis does not answer. */
  public InMemoryPolicyStore local() {
    return local;
  }

  @Override
  public Optional<CachedPolicy> get(DomainName policyDomain) {
    return read(policyDomain, true).entry();
  }

  @Override
  public Optional<CachedPolicy> peek(DomainName policyDomain) {
    return read(policyDomain, false).entry();
  }

  /**
   * {@link Presence#HELD} when Redis or the local layer holds the domain's policy; {@link
   * Presence#UNKNOWN} when Redis does not answer (down, slower than the command timeout, refusing
   * the credentials) and the local layer holds nothing for it, since Redis may still hold it;
   * {@link Presence#ABSENT} when Redis answered and neither holds one.
   */
  @Override
  public Presence presence(DomainName policyDomain) {
    Read read = read(policyDomain, false);
    if (read.entry().isPresent()) {
      return Presence.HELD;
    }
    return read.answered() ? Presence.ABSENT : Presence.UNKNOWN;
  }

  /** A read's entry, and whether Redis answered it. */
  private record Read(Optional<CachedPolicy> entry, boolean answered) {}

  private Read read(DomainName domain, boolean use) {
    Objects.requireNonNull(domain, "policyDomain");
    Read read = readEntry(domain, use);
    remember(domain, read.entry());
    return read;
  }

  /**
   * Remembers the fetch time of the entry a read answered when the local layer does not hold it (it
   * refused it, full of pinned policies), for {@link #remove}; forgets it otherwise.
   */
  private void remember(DomainName domain, Optional<CachedPolicy> answered) {
    synchronized (answeredNotLocal) {
      if (answered.isPresent() && !answered.equals(local.peek(domain))) {
        answeredNotLocal.put(domain, answered.get().fetchedAt());
      } else {
        answeredNotLocal.remove(domain);
      }
    }
  }

  private Read readEntry(DomainName domain, boolean use) {
    Optional<CachedPolicy> known = local.peek(domain);
    String value;
    try {
      value = redis.getBounded(key(domain), MAX_VALUE_OCTETS);
    } catch (RedisLink.Unavailable e) {
      return new Read(localRead(domain, use), false); // never "no policy" for an outage
    }
    Optional<CachedPolicy> shared = Optional.empty();
    if (value != null && value.getBytes(StandardCharsets.UTF_8).length > MAX_VALUE_OCTETS) {
      log.warn("ignoring Redis entry {}: larger than {} octets", key(domain), MAX_VALUE_OCTETS);
    } else if (value != null) {
      try {
        shared = Optional.of(PolicyCodec.decode(domain, value));
      } catch (IllegalArgumentException e) {
        // The value is not logged: only what is wrong with it.
        log.warn("ignoring unreadable Redis entry {}: {}", key(domain), e.getMessage());
      }
    }
    Instant now = clock.instant();
    if (shared.isPresent() && (known.isEmpty() || newer(shared.get(), known.get(), now))) {
      local.put(domain, shared.get());
      Optional<CachedPolicy> mine = localRead(domain, use);
      // The local layer may refuse an entry (full of pinned policies): Redis's still counts.
      return new Read(
          mine.isPresent() && !newer(shared.get(), mine.get(), now) ? mine : shared, true);
    }
    if (known.isPresent() && (shared.isEmpty() || newer(known.get(), shared.get(), now))) {
      repair(domain, known.get()); // Redis lost it (restart, eviction) or missed our write
    }
    return new Read(localRead(domain, use), true);
  }

  private Optional<CachedPolicy> localRead(DomainName domain, boolean use) {
    return use ? local.get(domain) : local.peek(domain);
  }

  /**
   * Whether {@code a} was fetched after {@code b}, in the order the Redis script uses. An entry
   * fetched after {@code now} by more than {@link CachedPolicy#CLOCK_TOLERANCE} is "ahead": written
   * by a host whose clock runs ahead of this one's, or by a clock that went back, or altered. It
   * counts as fetched one tolerance before {@code now} ({@link #aheadCountsAs}): so it never loses
   * to an entry fetched before that (a host whose clock runs behind must not roll the fleet back to
   * the policy it held before, RFC 8461 §10.2), and a fetch made since replaces it (so that no
   * date, however far ahead, keeps later fetches out). Otherwise fetch times order entries, the id
   * breaking ties; at the same time, an entry that is not ahead wins.
   */
  private static boolean newer(CachedPolicy a, CachedPolicy b, Instant now) {
    long am = a.fetchedAt().toEpochMilli();
    long bm = b.fetchedAt().toEpochMilli();
    boolean aAhead = a.fetchedAhead(now);
    boolean bAhead = b.fetchedAhead(now);
    long floor = aheadCountsAs(now);
    long ae = aAhead ? floor : am;
    long be = bAhead ? floor : bm;
    if (ae != be) {
      return ae > be;
    }
    if (aAhead != bAhead) {
      return bAhead;
    }
    return am > bm || (am == bm && a.policy().id().compareTo(b.policy().id()) > 0);
  }

  /**
   * When an entry dated ahead counts as fetched: {@link CachedPolicy#CLOCK_TOLERANCE} before {@code
   * now}, in epoch milliseconds. Later than anything this host fetched before that, earlier than a
   * fetch it has just made (a fetch ends a little before its entry is stored).
   */
  private static long aheadCountsAs(Instant now) {
    return now.minus(CachedPolicy.CLOCK_TOLERANCE).toEpochMilli();
  }

  @Override
  public void put(DomainName policyDomain, CachedPolicy entry) {
    Objects.requireNonNull(policyDomain, "policyDomain");
    Objects.requireNonNull(entry, "entry");
    Optional<CachedPolicy> known = local.peek(policyDomain);
    if (known.isEmpty() || !newer(known.get(), entry, clock.instant())) {
      local.put(policyDomain, entry);
      remember(policyDomain, Optional.of(entry));
    }
    String[] put = putArgs(policyDomain, entry);
    if (put.length == 0) {
      return; // expired already: nothing for the fleet
    }
    try {
      redis.script(PolicyScripts.PUT_IF_NEWER, new String[] {key(policyDomain)}, put);
    } catch (RedisLink.Unavailable e) {
      // Kept locally; written to Redis by the first read that finds Redis without it.
    }
  }

  private void repair(DomainName domain, CachedPolicy entry) {
    String[] put = putArgs(domain, entry);
    if (put.length > 0) {
      redis.scriptInBackground(PolicyScripts.PUT_IF_NEWER, new String[] {key(domain)}, put);
    }
  }

  /** The compare-and-set script's arguments, or none when the entry has expired. */
  private String[] putArgs(DomainName domain, CachedPolicy entry) {
    Instant now = clock.instant();
    long ttl = Duration.between(now, entry.expiresAt()).toMillis();
    if (ttl <= 0) {
      return new String[0];
    }
    return new String[] {
      PolicyCodec.encode(domain, entry),
      Long.toString(entry.fetchedAt().toEpochMilli()),
      entry.policy().id(),
      Long.toString(ttl),
      Long.toString(now.plus(CachedPolicy.CLOCK_TOLERANCE).toEpochMilli()),
      Long.toString(aheadCountsAs(now))
    };
  }

  /**
   * Removes the domain's entry locally and, in Redis, only if Redis holds nothing fetched after the
   * entry this store last answered for the domain (by a read, or stored by {@link #put}): a newer
   * policy another process stored since is kept. When the local layer refused the answered entry,
   * its fetch time is remembered for this (at most {@value #MAX_ANSWERED_NOT_LOCAL} domains, the
   * least recently read forgotten first); for a domain this store neither answered nor holds, the
   * bound is the clock's now.
   */
  @Override
  public void remove(DomainName policyDomain) {
    Objects.requireNonNull(policyDomain, "policyDomain");
    // Never delete an entry newer than the one this store answered: another process may have
    // stored one since. The local layer holds what was answered unless it refused it.
    Instant bound;
    synchronized (answeredNotLocal) {
      Instant answered = answeredNotLocal.remove(policyDomain);
      bound =
          answered != null
              ? answered
              : local.peek(policyDomain).map(CachedPolicy::fetchedAt).orElse(clock.instant());
    }
    local.remove(policyDomain);
    try {
      redis.script(
          PolicyScripts.DELETE_IF_NOT_NEWER,
          new String[] {key(policyDomain)},
          Long.toString(bound.toEpochMilli()));
    } catch (RedisLink.Unavailable e) {
      // Redis expires the key itself at expires_at (its TTL).
    }
  }

  /** Closes the connection and stops the client's threads. */
  @Override
  public void close() {
    redis.close();
  }

  @Override
  public String toString() {
    return "RedisPolicyStore{" + redis + ", prefix=" + keyPrefix + ", local=" + local + "}";
  }

  /** Configures a {@link RedisPolicyStore}. Not thread-safe. */
  public static final class Builder {
    private final RedisURI uri;
    private String keyPrefix = DEFAULT_KEY_PREFIX;
    private Duration commandTimeout = DEFAULT_COMMAND_TIMEOUT;
    private Duration reconnectDelay = DEFAULT_RECONNECT_DELAY;
    private @Nullable InMemoryPolicyStore local;
    private Clock clock = Clock.systemUTC();
    private @Nullable SslOptions sslOptions;
    private boolean cluster;

    private Builder(RedisURI uri) {
      this.uri = Objects.requireNonNull(uri, "uri");
    }

    /**
     * The key prefix, default {@value #DEFAULT_KEY_PREFIX}: 1 to 64 printable ASCII characters
     * without spaces; processes that share policies use the same one.
     */
    public Builder keyPrefix(String keyPrefix) {
      this.keyPrefix = checkedPrefix(keyPrefix);
      return this;
    }

    static String checkedPrefix(String keyPrefix) {
      Objects.requireNonNull(keyPrefix, "keyPrefix");
      if (keyPrefix.isEmpty()
          || keyPrefix.length() > 64
          || !keyPrefix.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
        throw new IllegalArgumentException(
            "keyPrefix must be 1 to 64 printable ASCII characters without spaces");
      }
      return keyPrefix;
    }

    /**
     * The longest any Redis call waits, connecting included, default 250 ms: a read for a delivery
     * never waits longer for Redis before it answers from the local layer.
     */
    public Builder commandTimeout(Duration commandTimeout) {
      this.commandTimeout = checkedTimeout(commandTimeout);
      return this;
    }

    static Duration checkedTimeout(Duration commandTimeout) {
      Objects.requireNonNull(commandTimeout, "commandTimeout");
      if (commandTimeout.isNegative() || commandTimeout.isZero()) {
        throw new IllegalArgumentException("commandTimeout must be positive");
      }
      return commandTimeout;
    }

    /** The longest wait between attempts to reconnect to Redis, default 2 s. */
    public Builder reconnectDelay(Duration reconnectDelay) {
      this.reconnectDelay = checkedReconnectDelay(reconnectDelay);
      return this;
    }

    static Duration checkedReconnectDelay(Duration reconnectDelay) {
      Objects.requireNonNull(reconnectDelay, "reconnectDelay");
      if (reconnectDelay.toMillis() < 10) {
        throw new IllegalArgumentException("reconnectDelay must be at least 10 ms");
      }
      return reconnectDelay;
    }

    /** The local layer; default a new {@link InMemoryPolicyStore} of its default size. */
    public Builder local(InMemoryPolicyStore local) {
      this.local = Objects.requireNonNull(local, "local");
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
     * nodes from that one and sends each key to the node serving its hash slot.
     */
    public Builder cluster(boolean cluster) {
      this.cluster = cluster;
      return this;
    }

    /** The clock that Redis TTLs are computed from; default the system clock. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * The store. It starts connecting in the background and does not wait: Redis need not be up yet
     * (until it is, the store works from its local layer).
     */
    public RedisPolicyStore build() {
      return new RedisPolicyStore(this);
    }
  }
}
