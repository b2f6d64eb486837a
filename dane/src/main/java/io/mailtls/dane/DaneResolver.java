package io.mailtls.dane;

import io.mailtls.core.DaneProvider;
import io.mailtls.core.DnsAnswer;
import io.mailtls.core.DnsOutcome;
import io.mailtls.core.DnsRecord;
import io.mailtls.core.DnsRecordType;
import io.mailtls.core.DnsResolver;
import io.mailtls.core.DnssecState;
import io.mailtls.core.DomainName;
import io.mailtls.core.MxHost;
import io.mailtls.core.MxResolution;
import io.mailtls.core.NextHop;
import io.mailtls.core.TlsRequirement;
import io.mailtls.core.TlsaLookup;
import io.mailtls.dane.internal.TlsaData;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import javax.net.ssl.X509ExtendedTrustManager;
import org.jspecify.annotations.Nullable;

/**
 * The DANE provider (RFC 7672): finds the TLSA records of each MX host and makes the trust managers
 * that authenticate against them. Build one per application and share it: it is immutable and
 * thread-safe, and keeps no cache (the {@link DnsResolver} may).
 *
 * <pre>{@code
 * DaneResolver dane = DaneResolver.builder().dns(dns).build();
 * SecureSmtpTransport transport = SecureSmtpTransport.builder().dns(dns).dane(dane)
 *     .mtaSts(mtaSts).heloName("mail.example.com").build();
 * }</pre>
 *
 * <p>{@code mailtls-standard}'s {@code StandardTransport.builder(stateDirectory)} wires it (with
 * MTA-STS) in one call. {@link #lookupAsync} does not block (docs/design.md §5); {@link
 * #newBuilder()} derives a provider with some settings changed.
 *
 * <h2>Discovery (RFC 7672 §2.1-§2.2, RFC 7671 §7), following Postfix</h2>
 *
 * <ol>
 *   <li>A failed lookup of DNS data that decides DANE (the MX answer, the address answers, the TLSA
 *       answer: SERVFAIL, timeout, bogus or indeterminate) makes the host unusable: {@link
 *       TlsaLookup.Failed}, never "no DANE" (RFC 7672 §2.1.1). When only one address family failed
 *       and the other resolved, the failed family is dropped, as Postfix drops it: its addresses
 *       are not used (they were never collected), DANE is decided by the other answer, and the note
 *       says so.
 *   <li>The host's address records must be DNSSEC-secure, else no TLSA query is sent and the host
 *       has {@link TlsaLookup.None no DANE} (RFC 7672 §2.2). When the A and AAAA answers differ
 *       (one secure, one insecure, both with addresses), Postfix decides per address: DANE for the
 *       addresses from the secure answer, none for the others. A {@link TlsaLookup} speaks for
 *       every address of a host, so this provider takes the stricter side: TLSA is looked up
 *       because some addresses are secure, and then DANE applies to all of them (the note says so).
 *       When only insecure answers carry addresses, DANE does not apply.
 *   <li>When the host name is an alias and the whole CNAME chain to the addresses is secure, TLSA
 *       is looked up at {@code _25._tcp.}<i>fully expanded name</i> first, then, if none is found
 *       there (secure or insecure denial, or insecure records), at {@code _25._tcp.}<i>original
 *       name</i>; names in the middle of the chain are never used (RFC 7671 §7, RFC 7672 §2.2.3). A
 *       failure at the expanded name fails the host; the original is not tried. When the chain has
 *       an insecure link the expanded name's records are ignored; if the first link (the CNAME at
 *       the host name) is itself secure, the host's own zone is signed and TLSA at the original
 *       name still applies (Postfix checks this with a CNAME query); otherwise there is no DANE.
 *   <li>A CNAME at {@code _25._tcp.<host>} is followed by the DNS layer; it moves where the records
 *       are found, not the TLSA base domain.
 *   <li>The port is the one connected to (RFC 6698 §3, RFC 7672 §2.2): 25 for MX hosts, also when
 *       the transport's {@code port(...)} points port-25 traffic at a test server; {@code PORT} for
 *       a policy-map relay with an explicit port ({@code relay=HOST:PORT}, {@link
 *       #lookupAsync(MxHost, MxResolution, int)}), whose records are at {@code _PORT._tcp.HOST}, as
 *       Postfix looks them up for a relayhost {@code [gw]:2525}. {@code _25._tcp} above stands for
 *       that port.
 *   <li>The TLSA answer: secure with at least one usable record (RFC 7672 §3.1) → {@link
 *       TlsaLookup.Usable}; secure, none usable → {@link TlsaLookup.Unusable} (TLS mandatory,
 *       unauthenticated); insecure, NXDOMAIN or NODATA → {@link TlsaLookup.None}.
 * </ol>
 *
 * <h2>Reference identifiers (RFC 7672 §3.2.2), for DANE-TA</h2>
 *
 * The TLSA base domain; the original MX host name when the base domain is its expansion (RFC 7671
 * §7, as mox does); and, only when the MX answer was DNSSEC-secure, the next-hop domain and its
 * CNAME expansion. When the MX answer is insecure but the host's addresses and TLSA records are
 * secure, DANE still applies (RFC 7672 §2.2.1, Postfix's default {@code
 * smtp_tls_dane_insecure_mx_policy = dane}) with the host's names only, and the requirement says
 * {@code mxSecure = false}: the peer is then "trusted", not "verified", since the MX host name
 * itself could have been forged.
 */
public final class DaneResolver implements DaneProvider {

  /** The SMTP port, whose TLSA records MX hosts are looked up at (RFC 7672 §2.2). */
  private static final int SMTP_PORT = 25;

  private final DnsResolver dns;
  private final Clock clock;

  private DaneResolver(Builder b) {
    this.dns = Objects.requireNonNull(b.dns, "dns"); // build() checked it
    this.clock = b.clock;
  }

  /** A builder; {@link Builder#dns(DnsResolver)} is required. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * A builder that starts with this provider's settings, to build one that differs in some (as
   * OkHttp's {@code newBuilder()}): each setter may be called once, overriding the setting it
   * inherited. This provider is unchanged. Both settings are shared, the DNS resolver and the
   * clock; a provider owns nothing that needs closing.
   */
  public Builder newBuilder() {
    Builder b = new Builder();
    b.dns = dns;
    b.clock = clock;
    return b;
  }

  /**
   * Discovers the TLSA records of {@code host} (RFC 7672 §2.2), reached through {@code mx}, at port
   * 25 ({@code _25._tcp}), without blocking. The future always completes normally; an unexpected
   * error becomes {@link TlsaLookup.Failed}.
   */
  @Override
  public CompletableFuture<TlsaLookup> lookupAsync(MxHost host, MxResolution mx) {
    return lookupAsync(host, mx, SMTP_PORT);
  }

  /**
   * Discovers the TLSA records of {@code host} for a connection to {@code port} ({@code
   * _PORT._tcp}, RFC 6698 §3), as {@link #lookupAsync(MxHost, MxResolution)} does for port 25: for
   * a policy-map relay with an explicit port ({@code relay=HOST:PORT}), as Postfix looks up {@code
   * _2525._tcp.gw} for a relayhost {@code [gw]:2525}.
   *
   * @throws IllegalArgumentException if {@code port} is not in 1..65535
   */
  @Override
  public CompletableFuture<TlsaLookup> lookupAsync(MxHost host, MxResolution mx, int port) {
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(mx, "mx");
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port out of range: " + port);
    }
    CompletionStage<TlsaLookup> stage;
    try {
      Discovery discovery = new Discovery(host, mx, port);
      stage = discovery.start().thenApply(discovery::withTtl);
    } catch (RuntimeException e) {
      stage = CompletableFuture.failedFuture(e);
    }
    return stage
        .exceptionally(
            e ->
                (TlsaLookup)
                    new TlsaLookup.Failed(host.name(), "TLSA discovery failed unexpectedly: " + e))
        .toCompletableFuture();
  }

  /** A new {@link DaneTrustManager} for one connection, checking dates at this clock. */
  @Override
  public X509ExtendedTrustManager trustManager(TlsRequirement.Dane requirement) {
    return new DaneTrustManager(requirement, clock);
  }

  @Override
  public String toString() {
    return "DaneResolver{" + dns + "}";
  }

  /** One host's discovery; confined to the callbacks of one {@link #lookupAsync} call. */
  private final class Discovery {
    private final MxHost host;
    private final MxResolution mx;

    /** The port connected to, whose TLSA records apply: {@code _port._tcp} (RFC 6698 §3). */
    private final int port;

    private final List<String> notes = new ArrayList<>();

    /**
     * The smallest TTL of the answers this discovery asked for (CNAME, TLSA); the MX and address
     * answers it read are the plan's own inputs, whose TTLs the planner counts itself.
     */
    private Duration ttl = DnsAnswer.MAX_TTL;

    Discovery(MxHost host, MxResolution mx, int port) {
      this.host = host;
      this.mx = mx;
      this.port = port;
    }

    CompletionStage<TlsaLookup> start() {
      DomainName name = host.name();
      if (mx.nextHop() instanceof NextHop.AddressLiteral) {
        return done(new TlsaLookup.None(name, "an address literal has no TLSA base domain"));
      }
      Optional<DnsAnswer> mxAnswer = mx.mxAnswer();
      if (mxAnswer.isPresent() && failed(mxAnswer.get())) {
        // RFC 7672 §2.1.1: bogus or indeterminate MX data never reads as "no DANE".
        return done(new TlsaLookup.Failed(name, "MX lookup failed: " + mxAnswer.get()));
      }
      // RFC 7672 §2.1.1: failed address data is unusable. When one family failed and the other
      // resolved, the host is used over the family that resolved, as Postfix does (the failed
      // family contributes no address); when every family failed, so does the host.
      List<DnsAnswer> failedFamilies = new ArrayList<>();
      List<DnsAnswer> secure = new ArrayList<>();
      List<DnsAnswer> insecure = new ArrayList<>();
      for (DnsAnswer a : List.of(host.ipv4(), host.ipv6())) {
        if (failed(a)) {
          failedFamilies.add(a);
        } else if (a.outcome() == DnsOutcome.DATA) {
          (a.isSecure() ? secure : insecure).add(a);
        }
      }
      if (!failedFamilies.isEmpty() && secure.isEmpty() && insecure.isEmpty()) {
        return done(
            new TlsaLookup.Failed(
                name,
                "address lookup failed: "
                    + String.join(
                        "; ",
                        failedFamilies.stream()
                            .map(a -> a.type() + " lookup failed (" + a + ")")
                            .toList())
                    + (failedFamilies.size() < 2 ? "; no address of the other family" : "")));
      }
      for (DnsAnswer a : failedFamilies) {
        notes.add(
            a.type()
                + " lookup failed ("
                + a
                + "): those addresses are not used; DANE "
                + "is decided by the "
                + (secure.isEmpty() ? insecure : secure).get(0).type()
                + " answer alone");
      }
      if (secure.isEmpty() && insecure.isEmpty()) {
        return done(new TlsaLookup.None(name, "no address records"));
      }
      if (secure.isEmpty()) {
        return insecureAddresses(insecure);
      }
      if (!insecure.isEmpty()) {
        notes.add(
            secure.get(0).type()
                + " answer SECURE but "
                + insecure.get(0).type()
                + " answer "
                + insecure.get(0).state()
                + ": DANE applies to every address of the "
                + "host (stricter than Postfix's per-address choice)");
      }
      DnsAnswer addresses = secure.get(0);
      if (addresses.cnameChain().isEmpty()) {
        return tlsa(List.of(name), 0);
      }
      // RFC 7671 §7 / RFC 7672 §2.2.3: a secure alias: the expanded name first, then the
      // original; the names in between are never TLSA base domains.
      DomainName expanded = addresses.canonicalName();
      notes.add(name + " is a secure alias of " + expanded);
      return tlsa(List.of(expanded, name), 0);
    }

    /**
     * RFC 7672 §2.2: insecure addresses mean no DANE and no TLSA query; except, as Postfix and RFC
     * 7672's author have it, when the host name is an alias whose own CNAME is secure: the host's
     * zone is signed, so its TLSA records (at the original name only) still count.
     */
    private CompletionStage<TlsaLookup> insecureAddresses(List<DnsAnswer> insecure) {
      DomainName name = host.name();
      String why =
          (notes.isEmpty() ? "" : String.join("; ", notes) + "; ")
              + "address records of "
              + name
              + " are "
              + insecure.get(0).state()
              + ": no TLSA lookup (RFC 7672 §2.2)";
      if (host.canonicalName().isEmpty()) {
        return done(new TlsaLookup.None(name, why));
      }
      return dns.resolveAsync(name, DnsRecordType.CNAME)
          .thenCompose(
              cname -> {
                used(cname);
                if (failed(cname)) {
                  return done(
                      new TlsaLookup.Failed(
                          name, "cannot tell whether the alias " + name + " is secure: " + cname));
                }
                if (cname.outcome() != DnsOutcome.DATA) {
                  // The name was an alias for the address lookups and is not now: DNS changed under
                  // us.
                  return done(
                      new TlsaLookup.Failed(
                          name,
                          name
                              + " is no longer an alias ("
                              + cname
                              + "); DNS data changed during the lookup"));
                }
                if (!cname.isSecure()) {
                  return done(new TlsaLookup.None(name, why + "; the alias itself is insecure"));
                }
                notes.add(
                    name
                        + " is a secure alias into insecure data ("
                        + host.canonicalName().get()
                        + "): TLSA at the original name only");
                return tlsa(List.of(name), 0);
              });
    }

    /** Looks up TLSA at {@code candidates[index]}, falling back to the next one (RFC 7671 §7). */
    private CompletionStage<TlsaLookup> tlsa(List<DomainName> candidates, int index) {
      DomainName base = candidates.get(index);
      boolean last = index == candidates.size() - 1;
      DomainName owner;
      String service = "_" + port;
      try {
        owner = base.prefixed(service, "_tcp");
      } catch (IllegalArgumentException e) {
        String why = service + "._tcp." + base + " is too long to exist (RFC 1035 §2.3.4)";
        return last ? done(none(why)) : next(why, candidates, index);
      }
      return dns.resolveAsync(owner, DnsRecordType.TLSA)
          .thenCompose(
              answer -> {
                used(answer);
                if (failed(answer)) {
                  // RFC 7672 §2.1.1: a failed TLSA lookup is never "no DANE"; Postfix does not try
                  // the
                  // original name after a failure at the expanded one either.
                  return done(new TlsaLookup.Failed(host.name(), "TLSA lookup failed: " + answer));
                }
                if (answer.outcome() == DnsOutcome.DATA && answer.isSecure()) {
                  return done(classify(base, owner, answer));
                }
                String why =
                    answer.outcome() == DnsOutcome.DATA
                        ? "TLSA records at " + owner + " are " + answer.state() + " (RFC 7672 §2.2)"
                        : "no TLSA records at "
                            + owner
                            + " ("
                            + answer.outcome()
                            + ", "
                            + answer.state()
                            + ")";
                return last ? done(none(why)) : next(why, candidates, index);
              });
    }

    private void used(DnsAnswer answer) {
      if (answer.ttl().compareTo(ttl) < 0) {
        ttl = answer.ttl();
      }
    }

    /**
     * {@code result} with the TTL of the answers it was decided from ({@link TlsaLookup#ttl()}); a
     * failure is never reused and has none.
     */
    TlsaLookup withTtl(TlsaLookup result) {
      Optional<Duration> t = Optional.of(ttl);
      if (result instanceof TlsaLookup.Usable u) {
        return new TlsaLookup.Usable(u.host(), u.requirement(), u.note(), t);
      } else if (result instanceof TlsaLookup.Unusable u) {
        return new TlsaLookup.Unusable(u.host(), u.records(), u.reasons(), t);
      } else if (result instanceof TlsaLookup.None n) {
        return new TlsaLookup.None(n.host(), n.reason(), t);
      }
      return result;
    }

    private CompletionStage<TlsaLookup> next(String why, List<DomainName> candidates, int index) {
      notes.add(why + "; trying " + candidates.get(index + 1));
      return tlsa(candidates, index + 1);
    }

    private TlsaLookup none(String why) {
      notes.add(why);
      return new TlsaLookup.None(host.name(), String.join("; ", notes));
    }

    /** RFC 7672 §2.2 and §3.1: a secure TLSA RRset, usable or not. */
    private TlsaLookup classify(DomainName base, DomainName owner, DnsAnswer answer) {
      List<DnsRecord.Tlsa> records = answer.records(DnsRecord.Tlsa.class);
      List<DnsRecord.Tlsa> usable = new ArrayList<>();
      List<String> reasons = new ArrayList<>();
      for (DnsRecord.Tlsa r : records) {
        Optional<String> why = TlsaUsability.whyUnusable(r);
        if (why.isPresent()) {
          reasons.add(TlsaData.describe(r) + ": " + why.get());
        } else {
          usable.add(r);
        }
      }
      if (usable.isEmpty()) {
        return new TlsaLookup.Unusable(host.name(), records, reasons);
      }
      boolean mxSecure = mx.mxState() == DnssecState.SECURE;
      List<DomainName> references = referenceNames(base, mxSecure);
      notes.add(
          usable.size()
              + " usable TLSA record(s) at "
              + owner
              + (answer.cnameChain().isEmpty() ? "" : " via CNAME " + answer.cnameChain())
              + "; TLSA base domain and SNI "
              + base
              + " (RFC 7672 §8.1)");
      if (!reasons.isEmpty()) {
        notes.add("unusable records ignored: " + reasons);
      }
      if (!mxSecure) {
        notes.add(
            "MX answer "
                + mx.mxState()
                + ": DANE applies with the MX host's names as the "
                + "only reference identifiers; the peer can be TRUSTED, not VERIFIED (RFC 7672 "
                + "§2.2.1)");
      }
      notes.add("reference identifiers " + references + " (RFC 7672 §3.2.2)");
      return new TlsaLookup.Usable(
          host.name(),
          new TlsRequirement.Dane(usable, base, references, mxSecure),
          String.join("; ", notes));
    }

    /**
     * RFC 7672 §3.2.2: the TLSA base domain; the original MX host name when the base domain is its
     * expansion (RFC 7671 §7); with a secure MX answer also the next-hop domain and its CNAME
     * expansion.
     */
    private List<DomainName> referenceNames(DomainName base, boolean mxSecure) {
      Set<DomainName> names = new LinkedHashSet<>();
      names.add(base);
      names.add(host.name());
      if (mxSecure && mx.nextHop() instanceof NextHop.Domain d) {
        names.add(d.name());
        mx.mxAnswer()
            .filter(a -> !a.cnameChain().isEmpty())
            .ifPresent(a -> names.add(a.canonicalName()));
      }
      return List.copyOf(names);
    }
  }

  /** A lookup that established nothing, or whose data is bogus or indeterminate. */
  private static boolean failed(DnsAnswer a) {
    return !a.isSuccess()
        || a.state() == DnssecState.BOGUS
        || a.state() == DnssecState.INDETERMINATE;
  }

  private static CompletionStage<TlsaLookup> done(TlsaLookup lookup) {
    return CompletableFuture.completedFuture(lookup);
  }

  /**
   * Configures a {@link DaneResolver}. Each setter may be called once, also in a builder from
   * {@link DaneResolver#newBuilder()}, where it overrides the inherited setting. Not thread-safe.
   */
  public static final class Builder {
    private final Set<String> called = new HashSet<>();
    private @Nullable DnsResolver dns;
    private Clock clock = Clock.systemUTC();

    private Builder() {}

    private void once(String setter) {
      if (!called.add(setter)) {
        throw new IllegalStateException(setter + " already set");
      }
    }

    /**
     * The resolver TLSA (and, for aliased hosts, CNAME) lookups go through: required, and best the
     * transport's own. It must report DNSSEC states truthfully, as {@link
     * io.mailtls.core.DnssecResolver} does; DANE is only as good as that.
     */
    public Builder dns(DnsResolver dns) {
      once("dns");
      this.dns = Objects.requireNonNull(dns, "dns");
      return this;
    }

    /** The clock DANE-TA validity dates are checked at. Default: {@link Clock#systemUTC()}. */
    public Builder clock(Clock clock) {
      once("clock");
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Builds the provider.
     *
     * @throws IllegalStateException if no DNS resolver was given
     */
    public DaneResolver build() {
      if (dns == null) {
        throw new IllegalStateException("dns(DnsResolver) is required");
      }
      return new DaneResolver(this);
    }
  }
}
