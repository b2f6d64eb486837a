package io.mailtls.core.internal.dns;

import io.mailtls.core.DnsAnswer;
import io.mailtls.core.DnsFailure;
import io.mailtls.core.DnsRecordType;
import io.mailtls.core.DnssecMode;
import io.mailtls.core.DnssecState;
import io.mailtls.core.DomainName;
import io.mailtls.core.TrustAnchors;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.DClass;
import org.xbill.DNS.ExtendedFlags;
import org.xbill.DNS.ExtendedResolver;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.ResolverConfig;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.dnssec.ValidatingResolver;

/**
 * The dnsjava-backed engine behind {@code DnssecResolver}: sends queries, follows CNAME chains and
 * turns responses into {@link DnsAnswer}s. Thread-safe.
 */
public final class DnsjavaResolver {

  private static final Logger log = LoggerFactory.getLogger(DnsjavaResolver.class);

  /** EDNS payload size we advertise: the DNS Flag Day 2020 value, avoids IP fragmentation. */
  static final int EDNS_PAYLOAD = 1232;

  /**
   * The most DNSKEY and DS responses kept below the validator, each counted as 2 KiB of wire format
   * (8 MiB in all). The ones that save round trips are the few zones above many others (the root,
   * the TLDs), which a frequency-based cache keeps; the zones' own keys stay validated in the
   * validator's key cache.
   */
  static final int MAX_KEY_RESPONSES = 4_096;

  /** Immutable settings, validated by the public builder. */
  public record Settings(
      List<InetSocketAddress> upstreams,
      DnssecMode mode,
      @Nullable TrustAnchors trustAnchors,
      Clock clock,
      Duration queryTimeout,
      Duration lookupTimeout,
      int retries,
      int maxCnameChain,
      int maxRecords,
      Executor executor,
      int keyCacheSize) {}

  private final Settings settings;
  private final Resolver head;
  private final Resolver resolver;
  private final ResponseReader reader;

  /** The upstream's DNSKEY and DS responses, below the validator; null unless validating. */
  private final @Nullable KeyResponseCache keyResponses;

  public DnsjavaResolver(Settings settings) {
    this.settings = settings;
    this.head = headResolver(settings);
    if (settings.mode() == DnssecMode.VALIDATE) {
      // The constructor reads System.getProperties() for a trust-anchor file; mailtls never sets
      // that property, drops what it loaded and loads the anchors explicitly below
      // (docs/design.md §5: no JVM globals).
      // Identical concurrent queries, the validator's DNSKEY and DS queries among them, go
      // upstream once; DNSKEY and DS responses are kept for their TTL below the validator, which
      // otherwise asks for the chain from the trust anchor down again for every new zone.
      KeyResponseCache keys =
          new KeyResponseCache(
              new CoalescingResolver(head),
              settings.clock(),
              Math.min(settings.keyCacheSize(), MAX_KEY_RESPONSES),
              settings.keyCacheSize());
      this.keyResponses = keys;
      // A secure answer lasts no longer than the chain of trust of the keys that validated it.
      this.reader =
          new ResponseReader(
              settings.maxRecords(),
              settings.maxCnameChain(),
              settings.clock(),
              keys::chainSecondsLeft);
      ValidatingResolver validating = new ValidatingResolver(keyResponses, settings.clock());
      // The validator's constructor sets EDNS on the resolvers below it with dnsjava's default
      // payload (1280): set the one advertised here again, keeping its DO bit.
      head.setEDNS(0, EDNS_PAYLOAD, ExtendedFlags.DO);
      // The constructor also loaded the file of the JVM-wide trust-anchor property, if set, and
      // loadTrustAnchors below adds to that store: only the given anchors are to be trusted.
      validating.getTrustAnchors().clear();
      validating.setAddReasonToAdditional(true);
      try {
        // Properties of this validator only (never System properties): its cache of validated
        // DNSKEYs holds one entry per zone, 1,000 by default; sized so that many recipient
        // zones do not evict each other and the chain from the root is not validated again.
        Properties keyCache = new Properties();
        keyCache.setProperty(
            "dnsjava.dnssec.keycache.max_size", Integer.toString(settings.keyCacheSize()));
        validating.init(keyCache);
        // Without the revoked keys an RFC 5011 file still lists (RFC 5011 §2.1).
        String anchors =
            AnchorParser.forValidator(
                Objects.requireNonNull(settings.trustAnchors(), "VALIDATE without trust anchors")
                    .text());
        validating.loadTrustAnchors(
            new ByteArrayInputStream(anchors.getBytes(StandardCharsets.UTF_8)));
      } catch (IOException e) {
        throw new UncheckedIOException("trust anchors rejected by the validator", e);
      }
      this.resolver = validating;
    } else {
      // RFC 6840 §5.7 / RFC 3225: ask for DNSSEC so that a validating resolver reports AD.
      head.setEDNS(0, EDNS_PAYLOAD, ExtendedFlags.DO);
      this.resolver = new CoalescingResolver(head);
      this.keyResponses = null;
      this.reader =
          new ResponseReader(settings.maxRecords(), settings.maxCnameChain(), settings.clock());
    }
  }

  /** The system's configured name servers, as dnsjava reads them (never mutated). */
  public static List<InetSocketAddress> systemResolvers() {
    return ResolverConfig.getCurrentConfig().servers();
  }

  private static Resolver headResolver(Settings s) {
    List<Resolver> simple = new ArrayList<>();
    for (InetSocketAddress a : s.upstreams()) {
      SimpleResolver r = new SimpleResolver(a);
      r.setTimeout(s.queryTimeout());
      // RFC 7766 §5: a truncated UDP answer is retried over TCP (SimpleResolver does it).
      r.setIgnoreTruncation(false);
      r.setEDNS(0, EDNS_PAYLOAD, 0);
      simple.add(r);
    }
    ExtendedResolver ext = new ExtendedResolver(simple);
    ext.setLoadBalance(false);
    ext.setRetries(s.retries() + 1);
    // setRetries counts attempts per server. The ExtendedResolver's own bound is the lookup
    // bound (enforced again around the whole chase), so that after the last attempt the query's
    // own SocketTimeoutException surfaces rather than a generic IOException.
    ext.setTimeout(s.lookupTimeout());
    return ext;
  }

  /** Resolves {@code type} at {@code name}; always completes normally within the lookup bound. */
  public CompletableFuture<DnsAnswer> resolveAsync(DomainName name, DnsRecordType type) {
    Name qname;
    try {
      qname = Name.fromString(name.toFqdn());
    } catch (TextParseException e) {
      throw new IllegalArgumentException("not a DNS name: " + name, e);
    }
    Chase chase = new Chase(name, type);
    return step(chase, qname)
        .toCompletableFuture()
        .orTimeout(settings.lookupTimeout().toMillis(), TimeUnit.MILLISECONDS)
        .exceptionally(e -> reader.fromException(name, type, e));
  }

  private CompletionStage<DnsAnswer> step(Chase chase, Name qname) {
    Message query = Message.newQuery(Record.newRecord(qname, chase.type.code(), DClass.IN));
    if (settings.mode() == DnssecMode.TRUST_AD) {
      query.getHeader().setFlag(Flags.AD);
    }
    return resolver
        .sendAsync(query, settings.executor())
        .thenCompose(
            response -> {
              ResponseReader.Step result = reader.read(chase, qname, response);
              DnsAnswer answer = result.answer();
              if (answer != null) { // else a requery
                if (answer.state() == DnssecState.BOGUS && settings.mode() == DnssecMode.VALIDATE) {
                  forgetKeys(qname);
                  return confirmBogus(chase, qname, answer);
                }
                return CompletableFuture.completedFuture(answer);
              }
              if (log.isDebugEnabled()) {
                log.debug(
                    "{} {}: CNAME chain incomplete, asking for {}",
                    chase.type,
                    chase.name,
                    result.requery());
              }
              return step(chase, Objects.requireNonNull(result.requery()));
            });
  }

  /**
   * A lookup of {@code qname} was found bogus: the key responses kept for its chain may be the
   * cause (corrupted, spoofed, or signatures expired while kept), so the next lookup fetches them
   * again rather than failing on them until their TTL ends.
   */
  private void forgetKeys(Name qname) {
    KeyResponseCache keys = keyResponses;
    if (keys != null) {
      keys.forget(qname);
    }
  }

  /**
   * dnsjava's validator also reports "bogus" when the upstream itself failed (SERVFAIL, REFUSED):
   * it cannot validate a response it did not get. Ask the upstream once more without validation (CD
   * set, RFC 4035 §3.2.2): if it does not answer NOERROR or NXDOMAIN, the failure is the upstream's
   * and the state is indeterminate, not bogus. Only reached on the failure path.
   */
  private CompletionStage<DnsAnswer> confirmBogus(Chase chase, Name qname, DnsAnswer bogus) {
    Message probe = Message.newQuery(Record.newRecord(qname, chase.type.code(), DClass.IN));
    probe.getHeader().setFlag(Flags.CD);
    return head.sendAsync(probe, settings.executor())
        .handle(
            (raw, error) -> {
              if (error != null) {
                return reader.fromException(chase.name, chase.type, error);
              }
              int rcode = raw.getRcode();
              if (rcode == Rcode.NOERROR || rcode == Rcode.NXDOMAIN) {
                return bogus;
              }
              return DnsAnswer.failed(
                  chase.name,
                  chase.type,
                  DnssecState.INDETERMINATE,
                  rcode == Rcode.SERVFAIL ? DnsFailure.SERVFAIL : DnsFailure.REFUSED,
                  rcode,
                  "upstream answered " + Rcode.string(rcode));
            });
  }

  /** Mutable state of one lookup's CNAME chase; confined to one lookup's callback chain. */
  static final class Chase {
    final DomainName name;
    final DnsRecordType type;
    final List<DomainName> chain = new ArrayList<>();
    DnssecState state = DnssecState.SECURE;

    /** The smallest TTL, in seconds, of the RRsets used so far (the CNAMEs, then the data). */
    long ttlSeconds = Long.MAX_VALUE;

    Chase(DomainName name, DnsRecordType type) {
      this.name = name;
      this.type = type;
    }
  }

  /** For tests and diagnostics. */
  public Settings settings() {
    return settings;
  }
}
