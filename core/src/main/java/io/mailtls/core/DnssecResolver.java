package io.mailtls.core;

import io.mailtls.core.internal.dns.DnsjavaResolver;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;
import org.jspecify.annotations.Nullable;

/**
 * The built-in {@link DnsResolver}: dnsjava over UDP (TCP on truncation) to one or more upstream
 * recursive resolvers, with the DNSSEC state from in-process validation ({@link
 * DnssecMode#VALIDATE}) or from a trusted local resolver's AD bit ({@link DnssecMode#TRUST_AD}).
 *
 * <p>Immutable and thread-safe; build one and share it (validated DNSKEYs are cached inside). It
 * touches no dnsjava global state: no default resolver, cache or system property is set or read
 * for configuration.
 *
 * <pre>{@code
 * DnsResolver dns = DnssecResolver.builder()
 *     .upstream(new InetSocketAddress("127.0.0.1", 53))
 *     .trustAnchors(TrustAnchors.ianaRoot())
 *     .build();
 * }</pre>
 */
public final class DnssecResolver implements DnsResolver {

  private final DnsjavaResolver.Settings settings;
  private final DnsjavaResolver delegate;

  private DnssecResolver(Builder b) {
    this.settings = new DnsjavaResolver.Settings(
        List.copyOf(b.upstreams), b.mode, b.trustAnchors, b.clock, b.queryTimeout,
        b.lookupTimeout, b.retries, b.maxCnameChain, b.maxRecords, b.executor);
    this.delegate = new DnsjavaResolver(settings);
  }

  /** A builder with the defaults listed on its setters. */
  public static Builder builder() {
    return new Builder();
  }

  @Override
  public CompletionStage<DnsAnswer> resolve(DomainName name, DnsRecordType type) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(type, "type");
    return delegate.resolve(name, type);
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

  /** Configures a {@link DnssecResolver}. Each setter may be called once. Not thread-safe. */
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
    private Executor executor = ForkJoinPool.commonPool();

    private Builder() {}

    private void once(String setter) {
      if (!called.add(setter)) {
        throw new IllegalStateException(setter + " already set");
      }
    }

    /**
     * The recursive resolvers to ask, tried in order. Default in {@link DnssecMode#VALIDATE}
     * mode: the system's, as dnsjava reads them from {@code /etc/resolv.conf} (or the platform
     * equivalent). In {@link DnssecMode#TRUST_AD} mode they must be named: only a validating
     * resolver's AD bit means anything.
     */
    public Builder upstream(InetSocketAddress... resolvers) {
      return upstream(List.of(resolvers));
    }

    /** As {@link #upstream(InetSocketAddress...)}. */
    public Builder upstream(List<InetSocketAddress> resolvers) {
      once("upstream");
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

    /** Where completions run; default {@link ForkJoinPool#commonPool()}. */
    public Builder executor(Executor executor) {
      once("executor");
      this.executor = Objects.requireNonNull(executor, "executor");
      return this;
    }

    /**
     * Builds the resolver.
     *
     * @throws IllegalArgumentException for out-of-range values, for trust anchors given in
     *     {@link DnssecMode#TRUST_AD} mode, for that mode without named upstreams, or for
     *     non-loopback upstreams in that mode without {@link #allowRemoteAdTrust()}
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
      if (upstreams.isEmpty() && mode == DnssecMode.TRUST_AD) {
        throw new IllegalArgumentException("TRUST_AD trusts a resolver's AD bit, so name that"
            + " validating resolver with upstream(...): the system's resolvers may be a"
            + " forwarding stub that copies the AD bit without validating (or use VALIDATE,"
            + " which validates in process over any resolver)");
      }
      if (upstreams.isEmpty()) {
        upstreams.addAll(DnsjavaResolver.systemResolvers());
        if (upstreams.isEmpty()) {
          throw new IllegalArgumentException("no upstream resolver given and none configured");
        }
      }
      if (mode == DnssecMode.TRUST_AD) {
        if (trustAnchors != null) {
          throw new IllegalArgumentException("trust anchors are not used in TRUST_AD mode");
        }
        if (!allowRemoteAdTrust) {
          for (InetSocketAddress a : upstreams) {
            if (!a.getAddress().isLoopbackAddress()) {
              throw new IllegalArgumentException(
                  "TRUST_AD over a non-loopback resolver can be forged on the path: " + a
                      + " (use VALIDATE, or allowRemoteAdTrust() for a protected path)");
            }
          }
        }
      } else if (trustAnchors == null) {
        trustAnchors = TrustAnchors.ianaRoot();
      }
      return new DnssecResolver(this);
    }

    private static void requirePositive(String what, Duration d) {
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(what + " must be positive: " + d);
      }
    }
  }
}
