package io.mailtls.tlsrpt;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.mailtls.core.DnsAnswer;
import io.mailtls.core.DnsOutcome;
import io.mailtls.core.DnsRecord;
import io.mailtls.core.DnsRecordType;
import io.mailtls.core.DnsResolver;
import io.mailtls.core.DnssecState;
import io.mailtls.core.DomainName;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * Finds a policy domain's TLS-RPT record: the TXT RRset at {@code _smtp._tls.<domain>} (RFC 8460
 * §3), through mailtls's {@link DnsResolver}, read by {@link TlsRptRecord#select}.
 *
 * <p>Answers are cached for their DNS TTL (a record and the proof that there is none alike), by the
 * injected clock; a failed lookup is never cached and never read as "no reporting". Thread-safe.
 */
public final class TlsRptDiscovery {

  private final DnsResolver dns;
  private final Clock clock;
  private final @Nullable Cache<DomainName, Cached> cache;

  private record Cached(TlsRptLookup lookup, Instant expires) {}

  private TlsRptDiscovery(Builder b) {
    this.dns = Objects.requireNonNull(b.dns, "dns");
    this.clock = b.clock;
    this.cache = b.cacheSize == 0 ? null : Caffeine.newBuilder().maximumSize(b.cacheSize).build();
  }

  /** A builder; {@link Builder#dns} is required. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The owner name of {@code policyDomain}'s record: {@code _smtp._tls.<policyDomain>}.
   *
   * @throws IllegalArgumentException if that name would be longer than DNS allows
   */
  public static DomainName recordName(DomainName policyDomain) {
    Objects.requireNonNull(policyDomain, "policyDomain");
    return policyDomain.prefixed("_smtp", "_tls");
  }

  /**
   * Looks up {@code policyDomain}'s record without blocking. The future completes normally for
   * every DNS outcome (a {@link TlsRptLookup.Failed} for failures, also when the resolver's future
   * fails).
   */
  public CompletableFuture<TlsRptLookup> lookupAsync(DomainName policyDomain) {
    Objects.requireNonNull(policyDomain, "policyDomain");
    Instant now = clock.instant();
    if (cache != null) {
      Cached hit = cache.getIfPresent(policyDomain);
      if (hit != null) {
        if (now.isBefore(hit.expires())) {
          return CompletableFuture.completedFuture(withTtl(hit.lookup(), hit.expires(), now));
        }
        cache.asMap().remove(policyDomain, hit);
      }
    }
    DomainName name;
    try {
      name = recordName(policyDomain);
    } catch (IllegalArgumentException tooLong) {
      return CompletableFuture.completedFuture(
          new TlsRptLookup.NotPublished(
              "_smtp._tls." + policyDomain + " is not a valid name", Duration.ZERO));
    }
    CompletableFuture<DnsAnswer> answer;
    try {
      answer = dns.resolveAsync(name, DnsRecordType.TXT);
    } catch (RuntimeException e) {
      return CompletableFuture.completedFuture(
          new TlsRptLookup.Failed("TXT lookup of " + name + " failed: " + e));
    }
    return answer.handle(
        (a, e) -> {
          TlsRptLookup result =
              a == null
                  ? new TlsRptLookup.Failed("TXT lookup of " + name + " failed: " + e)
                  : interpret(name, a);
          Duration ttl = ttl(result);
          if (cache != null && !ttl.isNegative() && !ttl.isZero()) {
            cache.put(policyDomain, new Cached(result, now.plus(ttl)));
          }
          return result;
        });
  }

  /** As {@link #lookupAsync}, blocking until it completes. */
  public TlsRptLookup lookup(DomainName policyDomain) {
    return lookupAsync(policyDomain).join();
  }

  /** RFC 8460 §3 applied to one TXT answer. */
  static TlsRptLookup interpret(DomainName name, DnsAnswer a) {
    if (a.outcome() == DnsOutcome.FAILURE
        || a.state() == DnssecState.BOGUS
        || a.state() == DnssecState.INDETERMINATE) {
      return new TlsRptLookup.Failed(
          "TXT lookup of "
              + name
              + " failed: "
              + a.outcome()
              + " "
              + a.state()
              + a.reason().map(r -> " (" + r + ")").orElse(""));
    }
    if (a.isNegative()) {
      return new TlsRptLookup.NotPublished(
          "no TXT record at " + name + " (" + a.outcome() + ")", a.ttl());
    }
    List<String> texts = a.records(DnsRecord.Txt.class).stream().map(DnsRecord.Txt::text).toList();
    TlsRptRecord.Selection s = TlsRptRecord.select(texts);
    if (s instanceof TlsRptRecord.Found f) {
      return new TlsRptLookup.Found(f.record(), a.ttl());
    }
    return new TlsRptLookup.NotPublished(((TlsRptRecord.NotFound) s).reason(), a.ttl());
  }

  private static Duration ttl(TlsRptLookup l) {
    if (l instanceof TlsRptLookup.Found f) {
      return f.ttl();
    }
    if (l instanceof TlsRptLookup.NotPublished n) {
      return n.ttl();
    }
    return Duration.ZERO;
  }

  private static TlsRptLookup withTtl(TlsRptLookup l, Instant expires, Instant now) {
    Duration left = Duration.between(now, expires);
    if (l instanceof TlsRptLookup.Found f) {
      return new TlsRptLookup.Found(f.record(), left);
    }
    if (l instanceof TlsRptLookup.NotPublished n) {
      return new TlsRptLookup.NotPublished(n.reason(), left);
    }
    return l;
  }

  /** Builds a {@link TlsRptDiscovery}. Each setter may be called once. */
  public static final class Builder {
    private @Nullable DnsResolver dns;
    private Clock clock = Clock.systemUTC();
    private boolean clockSet;
    private long cacheSize = 10_000;
    private boolean cacheSizeSet;

    private Builder() {}

    /** The resolver (required); give it the same clock. */
    public Builder dns(DnsResolver dns) {
      if (this.dns != null) {
        throw new IllegalStateException("dns already set");
      }
      this.dns = Objects.requireNonNull(dns, "dns");
      return this;
    }

    /** The clock that ages cached answers (default: the system's UTC clock). */
    public Builder clock(Clock clock) {
      if (clockSet) {
        throw new IllegalStateException("clock already set");
      }
      this.clock = Objects.requireNonNull(clock, "clock");
      clockSet = true;
      return this;
    }

    /** How many domains' answers to keep (default 10,000); 0 turns the cache off. */
    public Builder cacheSize(long cacheSize) {
      if (cacheSizeSet) {
        throw new IllegalStateException("cacheSize already set");
      }
      if (cacheSize < 0) {
        throw new IllegalArgumentException("cacheSize must not be negative: " + cacheSize);
      }
      this.cacheSize = cacheSize;
      cacheSizeSet = true;
      return this;
    }

    /** The discovery. */
    public TlsRptDiscovery build() {
      if (dns == null) {
        throw new IllegalStateException("dns is required");
      }
      return new TlsRptDiscovery(this);
    }
  }
}
