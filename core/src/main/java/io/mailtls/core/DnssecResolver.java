package io.mailtls.core;

import io.mailtls.core.internal.dns.AnswerCache;
import io.mailtls.core.internal.dns.DnsExecutor;
import io.mailtls.core.internal.dns.DnsjavaResolver;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.jspecify.annotations.Nullable;

/**
 * The built-in {@link DnsResolver}: dnsjava over UDP (TCP on truncation) to one or more upstream
 * recursive resolvers, with the DNSSEC state from in-process validation ({@link
 * DnssecMode#VALIDATE}) or from a trusted local resolver's AD bit ({@link DnssecMode#TRUST_AD}).
 *
 * <p>Answers are cached with their DNSSEC state, each for its {@link DnsAnswer#ttl()} (negative
 * answers for the negative TTL of RFC 2308 §5, bounded by their NSEC or NSEC3 proof, RFC 9077 §4; a
 * secure answer no longer than the DNSKEY and DS RRsets of its chain of trust, RFC 4035 §5.3.3), at
 * most {@link Builder#maxCacheTtl} and as the {@linkplain Builder#clock clock} tells time, in a
 * cache of {@link Builder#cacheSize} entries; failures, bogus answers among them, are remembered
 * only as failures and only for {@link Builder#failureCacheTtl} (RFC 2308 §7, RFC 9520 §3.2), so a
 * cache never turns a bogus answer into a secure or insecure one (RFC 4035 §4.7). Concurrent
 * identical lookups share one resolution. The validator's cache of validated DNSKEYs is sized with
 * the answer cache, so that many zones do not evict each other (docs/design.md, "DNS caching").
 *
 * <p>Immutable and thread-safe; build one and share it, so that its caches are shared. It touches
 * no dnsjava global state: no default resolver, cache or system property is set or read for
 * configuration. {@link #resolve} blocks and returns the answer, {@link #resolveAsync} returns a
 * {@link CompletableFuture} (docs/design.md §5); {@link #newBuilder()} derives a resolver with some
 * settings changed.
 *
 * <pre>{@code
 * DnsResolver dns = DnssecResolver.builder()
 *     .upstream(new InetSocketAddress("127.0.0.1", 53))
 *     .trustAnchors(TrustAnchors.ianaRoot())
 *     .build();
 * }</pre>
 */
public final class DnssecResolver implements DnsResolver {

  /** The answer cache's default size, see {@link Builder#cacheSize}. */
  public static final int DEFAULT_CACHE_SIZE = 100_000;

  private final DnsjavaResolver.Settings settings;
  private final AnswerCache cache;

  /** The settings as the builder was given them, defaults not filled in, for newBuilder(). */
  private final Builder given;

  private DnssecResolver(
      Builder b, List<InetSocketAddress> upstreams, @Nullable TrustAnchors anchors) {
    this.given = new Builder(b);
    this.settings =
        new DnsjavaResolver.Settings(
            List.copyOf(upstreams),
            b.mode,
            anchors,
            b.clock,
            b.queryTimeout,
            b.lookupTimeout,
            b.retries,
            b.maxCnameChain,
            b.maxRecords,
            b.executor,
            keyCacheSize(b.cacheSize));
    DnsjavaResolver delegate = new DnsjavaResolver(settings);
    this.cache =
        new AnswerCache(
            delegate::resolveAsync, b.clock, b.cacheSize, b.maxCacheTtl, b.failureCacheTtl);
  }

  /**
   * The validator's key cache holds one entry per zone (its validated DNSKEYs, or the proof that it
   * is unsigned): a quarter of the answer cache (each zone has several answers: MX, A, AAAA, TLSA,
   * TXT), and never fewer than dnsjava's default of 1,000.
   */
  private static int keyCacheSize(int cacheSize) {
    return Math.max(1000, cacheSize / 4);
  }

  /** A builder with the defaults listed on its setters. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * A builder that starts with every setting of this resolver, to build one that differs in some
   * (as OkHttp's {@code newBuilder()}): each setter may be called once, overriding the setting it
   * inherited. This resolver is unchanged.
   *
   * <p>Settings left to their defaults stay defaults: without named upstreams the derived resolver
   * asks the system's resolvers as they are configured when it is built, and without named trust
   * anchors it validates from the IANA root. Trust anchors named for this resolver are not carried
   * into {@link DnssecMode#TRUST_AD} mode, which uses none. Shared with this resolver: the
   * executor, the clock and the trust anchors. Made anew: the dnsjava resolvers, the validator with
   * its cache of validated keys, and the answer cache (it starts empty); a resolver owns nothing
   * that needs closing.
   */
  public Builder newBuilder() {
    return new Builder(given);
  }

  @Override
  public CompletableFuture<DnsAnswer> resolveAsync(DomainName name, DnsRecordType type) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(type, "type");
    return cache.resolveAsync(name, type);
  }

  /** The validation mode. */
  public DnssecMode mode() {
    return settings.mode();
  }

  /** The upstream resolvers, in the order they are tried. */
  public List<InetSocketAddress> upstreams() {
    return settings.upstreams();
  }

  @Override
  public String toString() {
    return "DnssecResolver{" + settings.mode() + " via " + settings.upstreams() + "}";
  }

  /**
   * Configures a {@link DnssecResolver}. Each setter may be called once, also in a builder from
   * {@link DnssecResolver#newBuilder()}, where it overrides the inherited setting. Not thread-safe.
   */
  public static final class Builder {
    private final Set<String> called = new HashSet<>();
    private final List<InetSocketAddress> upstreams = new ArrayList<>();
    private DnssecMode mode = DnssecMode.VALIDATE;
    private @Nullable TrustAnchors trustAnchors;
    private boolean allowRemoteAdTrust;
    private Clock clock = Clock.systemUTC();
    private Duration queryTimeout = Duration.ofSeconds(5);
    private Duration lookupTimeout = Duration.ofSeconds(30);
    private int retries = 1;
    private int maxCnameChain = 8;
    private int maxRecords = 256;
    private Executor executor = DnsExecutor.shared();
    private int cacheSize = DEFAULT_CACHE_SIZE;
    private Duration maxCacheTtl = Duration.ofDays(1);
    private Duration failureCacheTtl = Duration.ofSeconds(1);

    /** Whether {@link #trustAnchors} came from the resolver this builder was derived from. */
    private boolean anchorsInherited;

    private Builder() {}

    /** A builder with {@code from}'s settings, none of them set in this builder yet. */
    private Builder(Builder from) {
      this.upstreams.addAll(from.upstreams);
      this.mode = from.mode;
      this.trustAnchors = from.trustAnchors;
      this.anchorsInherited = from.trustAnchors != null;
      this.allowRemoteAdTrust = from.allowRemoteAdTrust;
      this.clock = from.clock;
      this.queryTimeout = from.queryTimeout;
      this.lookupTimeout = from.lookupTimeout;
      this.retries = from.retries;
      this.maxCnameChain = from.maxCnameChain;
      this.maxRecords = from.maxRecords;
      this.executor = from.executor;
      this.cacheSize = from.cacheSize;
      this.maxCacheTtl = from.maxCacheTtl;
      this.failureCacheTtl = from.failureCacheTtl;
    }

    private void once(String setter) {
      if (!called.add(setter)) {
        throw new IllegalStateException(setter + " already set");
      }
    }

    /**
     * The recursive resolvers to ask, tried in order. Default in {@link DnssecMode#VALIDATE} mode:
     * the system's, as dnsjava reads them from {@code /etc/resolv.conf} (or the platform
     * equivalent). In {@link DnssecMode#TRUST_AD} mode they must be named: only a validating
     * resolver's AD bit means anything.
     */
    public Builder upstream(InetSocketAddress... resolvers) {
      return upstream(List.of(resolvers));
    }

    /** As {@link #upstream(InetSocketAddress...)}. */
    public Builder upstream(List<InetSocketAddress> resolvers) {
      once("upstream");
      upstreams.clear();
      for (InetSocketAddress a : resolvers) {
        Objects.requireNonNull(a, "upstream resolver");
        if (a.isUnresolved()) {
          throw new IllegalArgumentException("upstream resolver must be an IP address: " + a);
        }
        upstreams.add(a);
      }
      return this;
    }

    /** Validate in process from these anchors (the default mode). Default anchors: IANA root. */
    public Builder trustAnchors(TrustAnchors anchors) {
      once("trustAnchors");
      this.trustAnchors = Objects.requireNonNull(anchors, "anchors");
      this.anchorsInherited = false;
      return this;
    }

    /** Selects the DNSSEC mode; default {@link DnssecMode#VALIDATE}. */
    public Builder mode(DnssecMode mode) {
      once("mode");
      this.mode = Objects.requireNonNull(mode, "mode");
      return this;
    }

    /**
     * Accepts {@link DnssecMode#TRUST_AD} over non-loopback upstreams. Only for a validating
     * resolver reached over a path nobody can tamper with (e.g. IPsec); see {@link DnssecMode}.
     */
    public Builder allowRemoteAdTrust() {
      once("allowRemoteAdTrust");
      this.allowRemoteAdTrust = true;
      return this;
    }

    /** The clock for signature validity; default the system UTC clock. */
    public Builder clock(Clock clock) {
      once("clock");
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** Time allowed for one query to one upstream; default 5 s. */
    public Builder queryTimeout(Duration timeout) {
      once("queryTimeout");
      this.queryTimeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    /**
     * Time allowed for a whole lookup: retries, CNAME chasing and the validator's DNSKEY/DS
     * queries; default 30 s.
     */
    public Builder lookupTimeout(Duration timeout) {
      once("lookupTimeout");
      this.lookupTimeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    /** How many times a query is retried per upstream after a timeout; default 1. */
    public Builder retries(int retries) {
      once("retries");
      this.retries = retries;
      return this;
    }

    /** The longest CNAME chain followed (RFC 1034 §3.6.2); default 8. */
    public Builder maxCnameChain(int max) {
      once("maxCnameChain");
      this.maxCnameChain = max;
      return this;
    }

    /** The most answer records accepted in one response; more is {@link DnsFailure#TOO_LARGE}. */
    public Builder maxRecords(int max) {
      once("maxRecords");
      this.maxRecords = max;
      return this;
    }

    /**
     * Where completions and DNSSEC validation steps run; default one pool shared by the JVM's
     * resolvers, of daemon threads named {@code mailtls-dns-N}, at least two, idle ones ending
     * after 30 s (not the JDK's common pool: on two CPUs or fewer its parallelism is 1, and the
     * validator's steps would each start a thread). The futures of {@link #resolveAsync} complete
     * on it: a dependent stage that blocks should name an executor of its own.
     */
    public Builder executor(Executor executor) {
      once("executor");
      this.executor = Objects.requireNonNull(executor, "executor");
      return this;
    }

    /**
     * The most answers the answer cache holds (the least recently and frequently used go first);
     * default {@value DnssecResolver#DEFAULT_CACHE_SIZE}, about 10,000 recipient domains' MX, A,
     * AAAA, TLSA and MTA-STS TXT answers. 0 turns the cache off: every lookup asks the upstream
     * again (concurrent identical lookups still share one resolution). The validator's key cache
     * holds a quarter as many zones, at least 1,000. An answer larger than a kilobyte (a huge RRset
     * a peer serves) counts as one entry per started kilobyte, so the cache never holds more than
     * about {@code entries} kilobytes of answers.
     */
    public Builder cacheSize(int entries) {
      once("cacheSize");
      this.cacheSize = entries;
      return this;
    }

    /**
     * The longest an answer is cached, whatever its TTL, and the longest {@link DnsAnswer#ttl()} a
     * lookup reports, cached or not; default one day (RFC 8767 §4 suggests a cap of 7 days; RFC
     * 2308 §5 and BIND use 3 hours for negative answers, which their SOA MINIMUM usually bounds far
     * lower).
     */
    public Builder maxCacheTtl(Duration ttl) {
      once("maxCacheTtl");
      this.maxCacheTtl = Objects.requireNonNull(ttl, "ttl");
      return this;
    }

    /**
     * How long a failed lookup (SERVFAIL, timeout, refused, bogus) is remembered as that failure,
     * so that a failing domain is not asked again for every message; default 1 s, the least RFC
     * 9520 §3.2 asks of a resolver; at most 5 minutes (RFC 2308 §7.1); zero remembers none. A
     * remembered failure is handed back as the failure it was, never as data.
     */
    public Builder failureCacheTtl(Duration ttl) {
      once("failureCacheTtl");
      this.failureCacheTtl = Objects.requireNonNull(ttl, "ttl");
      return this;
    }

    /**
     * Builds the resolver.
     *
     * @throws IllegalArgumentException for out-of-range values (a negative cache size, a failure
     *     cache TTL over 5 minutes), for trust anchors given in {@link DnssecMode#TRUST_AD} mode,
     *     for that mode without named upstreams, or for non-loopback upstreams in that mode without
     *     {@link #allowRemoteAdTrust()}
     */
    public DnssecResolver build() {
      requirePositive("queryTimeout", queryTimeout);
      requirePositive("lookupTimeout", lookupTimeout);
      if (retries < 0 || retries > 10) {
        throw new IllegalArgumentException("retries must be 0..10: " + retries);
      }
      if (maxCnameChain < 0 || maxCnameChain > 32) {
        throw new IllegalArgumentException("maxCnameChain must be 0..32: " + maxCnameChain);
      }
      if (maxRecords < 1) {
        throw new IllegalArgumentException("maxRecords must be positive: " + maxRecords);
      }
      if (cacheSize < 0) {
        throw new IllegalArgumentException("cacheSize must not be negative: " + cacheSize);
      }
      requirePositive("maxCacheTtl", maxCacheTtl);
      if (failureCacheTtl.isNegative()
          || failureCacheTtl.compareTo(AnswerCache.MAX_FAILURE_TTL) > 0) {
        throw new IllegalArgumentException(
            "failureCacheTtl must be 0..5 minutes: " + failureCacheTtl);
      }
      @Nullable TrustAnchors anchors = trustAnchors;
      if (mode == DnssecMode.TRUST_AD && anchorsInherited) {
        anchors = null; // a derived builder: anchors named for VALIDATE mode are not given here
      }
      if (upstreams.isEmpty() && mode == DnssecMode.TRUST_AD) {
        throw new IllegalArgumentException(
            "TRUST_AD trusts a resolver's AD bit, so name that"
                + " validating resolver with upstream(...): the system's resolvers may be a"
                + " forwarding stub that copies the AD bit without validating (or use VALIDATE,"
                + " which validates in process over any resolver)");
      }
      List<InetSocketAddress> servers = upstreams;
      if (servers.isEmpty()) {
        servers = DnsjavaResolver.systemResolvers();
        if (servers.isEmpty()) {
          throw new IllegalArgumentException("no upstream resolver given and none configured");
        }
      }
      if (mode == DnssecMode.TRUST_AD) {
        if (anchors != null) {
          throw new IllegalArgumentException("trust anchors are not used in TRUST_AD mode");
        }
        if (!allowRemoteAdTrust) {
          for (InetSocketAddress a : servers) {
            if (!a.getAddress().isLoopbackAddress()) {
              throw new IllegalArgumentException(
                  "TRUST_AD over a non-loopback resolver can be forged on the path: "
                      + a
                      + " (use VALIDATE, or allowRemoteAdTrust() for a protected path)");
            }
          }
        }
      } else if (anchors == null) {
        anchors = TrustAnchors.ianaRoot();
      }
      return new DnssecResolver(this, servers, anchors);
    }

    private static void requirePositive(String what, Duration d) {
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(what + " must be positive: " + d);
      }
    }
  }
}
