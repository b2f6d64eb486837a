package io.mailtls.core;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.random.RandomGenerator;
import org.jspecify.annotations.Nullable;

/**
 * Resolves a next hop into its mail exchangers (RFC 5321 §5.1, RFC 7505). Thread-safe.
 *
 * <p>The MX answer decides first: NXDOMAIN → {@link MxResolution.Kind#NO_SUCH_DOMAIN}; a lone null
 * MX → {@link MxResolution.Kind#NULL_MX}; no MX → the domain's own addresses (implicit MX) or
 * {@link MxResolution.Kind#NO_MAIL_HOST}; MX records none of which names a host (IP addresses as
 * targets) → {@link MxResolution.Kind#NO_USABLE_MX}; any failure (SERVFAIL, timeout, bogus) →
 * {@link MxResolution.Kind#TEMPORARY_FAILURE}, never "no MX". Then the A and AAAA lookups of every
 * host, up to {@link #MAX_MX_HOSTS} in preference order, run concurrently, so resolution costs two
 * dependent round trips, not one per host.
 *
 * <p>Addresses that are never a mail server are dropped from a host's addresses, with a note: the
 * unspecified address ({@code 0.0.0.0}, {@code ::}, which a connect on Linux sends to the local
 * host), multicast addresses and the IPv4 limited broadcast address {@code 255.255.255.255} (RFC
 * 1122 §3.2.1.3, RFC 4291 §2.5.2, §2.7). A host left without an address is skipped by the planner
 * like one without address records, and an implicit MX left without one stays {@link
 * MxResolution.Kind#IMPLICIT_MX} with no address, so that it is deferred, never bounced as having
 * no mail host. Loopback and private addresses are kept.
 *
 * <p>{@link #resolve} blocks and returns the resolution; {@link #resolveAsync} returns a {@link
 * CompletableFuture} (docs/design.md §5).
 *
 * <pre>{@code
 * MxResolution mx = MxResolver.builder().dns(dns).build().resolve(NextHop.parse("example.org"));
 * }</pre>
 */
public final class MxResolver {

  /**
   * The most MX hosts of one next hop that are resolved and planned: the first {@value} in
   * preference order (after the shuffle among equal preferences, RFC 5321 §5.1); the others are
   * dropped before their address (and TLSA) lookups, and {@link MxResolution#notes()} says how
   * many. An MX RRset may hold thousands of hosts (as many as fit in a 64 KB DNS response), while a
   * delivery tries a few addresses ({@code SecureSmtpTransport.Builder.maxAttemptsPerDomain},
   * default 5), as Postfix bounds the addresses it looks at ({@code smtp_mx_address_limit}). A
   * fixed bound, as the other bounds on peer input: an MTA-STS {@code enforce} policy that names
   * only hosts beyond it matches none of the hosts kept, and mail for such a domain is deferred.
   */
  public static final int MAX_MX_HOSTS = 20;

  private final DnsResolver dns;
  private final RandomGenerator random;

  /** Not public: {@link #builder()} builds resolvers; {@link TransportPolicyResolver} has one. */
  MxResolver(DnsResolver dns, RandomGenerator random) {
    this.dns = Objects.requireNonNull(dns, "dns");
    this.random = Objects.requireNonNull(random, "random");
  }

  /** A builder; {@link Builder#dns(DnsResolver)} is required. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * A builder that starts with this resolver's settings, to build one that differs in some (as
   * OkHttp's {@code newBuilder()}): each setter may be called once, overriding the setting it
   * inherited. This resolver is unchanged. Both settings are shared: the DNS resolver, and the
   * random source (a default one included), whose use both synchronise on; a resolver owns nothing
   * that needs closing.
   */
  public Builder newBuilder() {
    Builder b = new Builder();
    b.dns = dns;
    b.random = random;
    return b;
  }

  /** Resolves a next hop without blocking; the future always completes normally. */
  public CompletableFuture<MxResolution> resolveAsync(NextHop nextHop) {
    Objects.requireNonNull(nextHop, "nextHop");
    if (nextHop instanceof NextHop.AddressLiteral) {
      return CompletableFuture.completedFuture(
          new MxResolution(
              nextHop, MxResolution.Kind.ADDRESS_LITERAL, List.of(), Optional.empty(), List.of()));
    }
    DomainName domain = ((NextHop.Domain) nextHop).name();
    return dns.resolveAsync(domain, DnsRecordType.MX)
        .thenCompose(mx -> fromMxAnswer(nextHop, domain, mx))
        .toCompletableFuture();
  }

  /** Resolves a next hop, blocking until {@link #resolveAsync(NextHop)} completes. */
  public MxResolution resolve(NextHop nextHop) {
    return resolveAsync(nextHop).join();
  }

  private CompletionStage<MxResolution> fromMxAnswer(
      NextHop nextHop, DomainName domain, DnsAnswer mx) {
    List<String> notes = new ArrayList<>();
    if (!mx.cnameChain().isEmpty()) {
      // RFC 5321 §5.1: a CNAME found instead of MX is followed, and its target processed.
      notes.add(domain + " is an alias of " + mx.canonicalName());
    }
    if (mx.outcome() != DnsOutcome.FAILURE
        && (mx.state() == DnssecState.BOGUS || mx.state() == DnssecState.INDETERMINATE)) {
      // RFC 4035 §5.5: data that failed validation is never used, and a denial that failed it
      // never reads as "no MX" (RFC 7672 §2.1.1). A resolver of the caller's may hand such an
      // answer over as data; it is a failed lookup.
      notes.add("MX answer " + mx.state() + ", not used: " + mx);
      return done(nextHop, MxResolution.Kind.TEMPORARY_FAILURE, List.of(), mx, notes);
    }
    switch (mx.outcome()) {
      case FAILURE:
        notes.add("MX lookup failed: " + mx);
        return done(nextHop, MxResolution.Kind.TEMPORARY_FAILURE, List.of(), mx, notes);
      case NXDOMAIN:
        return done(nextHop, MxResolution.Kind.NO_SUCH_DOMAIN, List.of(), mx, notes);
      case NODATA:
        // RFC 5321 §5.1: the domain itself is the host, under the name the sender was given: its
        // address lookup follows the alias again, so the host keeps both names, and DANE looks
        // for TLSA at the expanded name, then the original one (RFC 7672 §2.2.2, RFC 7671 §7).
        return implicitMx(nextHop, domain, mx, notes);
      case DATA:
      default:
        break;
    }
    List<DnsRecord.Mx> records = mx.records(DnsRecord.Mx.class);
    List<DnsRecord.Mx> real = records.stream().filter(r -> !r.isNull()).toList();
    if (real.isEmpty()) {
      // RFC 7505 §3: "MX 0 ." says the domain accepts no mail.
      return done(nextHop, MxResolution.Kind.NULL_MX, List.of(), mx, notes);
    }
    if (real.size() != records.size()) {
      // RFC 7505 §3 forbids a null MX next to other MX records; the real ones are used.
      notes.add("null MX published next to other MX records; ignored");
    }
    Map<DomainName, Integer> byHost = new LinkedHashMap<>();
    for (DnsRecord.Mx r : real) {
      if (looksLikeIpAddress(r.exchange())) {
        // RFC 5321 §5.1 / RFC 1035 §3.3.9: the exchange is a domain name, never an address.
        notes.add("MX target " + r.exchange() + " is an IP address, not a host name; ignored");
        continue;
      }
      if (!r.exchange().isHostName()) {
        notes.add("MX target " + r.exchange() + " is not a host name; ignored");
        continue;
      }
      byHost.merge(r.exchange(), r.preference(), Math::min);
    }
    if (byHost.isEmpty()) {
      // RFC 5321 §5.1: "If MX records are present, but none of them are usable ... this situation
      // MUST be reported as an error", a fault of the domain's DNS data, not of the lookup.
      notes.add("no MX record names a host name: no usable MX (RFC 5321 §5.1)");
      return done(nextHop, MxResolution.Kind.NO_USABLE_MX, List.of(), mx, notes);
    }
    List<Map.Entry<DomainName, Integer>> ordered = order(byHost);
    if (ordered.size() > MAX_MX_HOSTS) {
      // Every read from the network is bounded: only the hosts that may be tried are looked up.
      notes.add(
          ordered.size()
              + " MX hosts; the first "
              + MAX_MX_HOSTS
              + " in preference order are used, "
              + (ordered.size() - MAX_MX_HOSTS)
              + " dropped (MxResolver.MAX_MX_HOSTS)");
      ordered = ordered.subList(0, MAX_MX_HOSTS);
    }
    List<CompletableFuture<MxHost>> hosts = new ArrayList<>();
    for (Map.Entry<DomainName, Integer> e : ordered) {
      hosts.add(host(e.getKey(), e.getValue(), false));
    }
    return CompletableFuture.allOf(hosts.toArray(CompletableFuture[]::new))
        .thenApply(
            v -> {
              List<MxHost> result = hosts.stream().map(CompletableFuture::join).toList();
              for (MxHost h : result) {
                notUnicast(h, notes);
                h.canonicalName()
                    .ifPresent(
                        c ->
                            notes.add(
                                "MX host "
                                    + h.name()
                                    + " is an alias of "
                                    + c
                                    + " (RFC 2181 §10.3)"));
              }
              return new MxResolution(
                  nextHop, MxResolution.Kind.MX, result, Optional.of(mx), notes);
            });
  }

  private CompletionStage<MxResolution> implicitMx(
      NextHop nextHop, DomainName domain, DnsAnswer mx, List<String> notes) {
    // RFC 5321 §5.1: no MX records → the domain itself is the only host, preference 0.
    return host(domain, 0, true)
        .thenApply(
            h -> {
              // One failed address family does not make the domain unreachable when the other
              // family
              // gave addresses (the planner notes the failure); no address and a failure defers.
              if (h.addressLookupFailed() && h.addresses().isEmpty()) {
                // HostPolicy quotes this note in the deferral's text: keep its start as it is
                notes.add("address lookup for implicit MX failed: " + h.ipv4() + "; " + h.ipv6());
                return new MxResolution(
                    nextHop,
                    MxResolution.Kind.TEMPORARY_FAILURE,
                    List.of(),
                    Optional.of(mx),
                    notes);
              }
              if (notUnicast(h, notes)) {
                // Published addresses, none a mail server's: deferred by the planner like a host
                // without a usable address, never bounced as a domain without address records.
                return new MxResolution(
                    nextHop, MxResolution.Kind.IMPLICIT_MX, List.of(h), Optional.of(mx), notes);
              }
              if (h.addresses().isEmpty()) {
                return new MxResolution(
                    nextHop, MxResolution.Kind.NO_MAIL_HOST, List.of(), Optional.of(mx), notes);
              }
              return new MxResolution(
                  nextHop, MxResolution.Kind.IMPLICIT_MX, List.of(h), Optional.of(mx), notes);
            });
  }

  private CompletableFuture<MxHost> host(DomainName name, int preference, boolean implicit) {
    CompletableFuture<DnsAnswer> a = dns.resolveAsync(name, DnsRecordType.A);
    CompletableFuture<DnsAnswer> aaaa = dns.resolveAsync(name, DnsRecordType.AAAA);
    return a.thenCombine(
        aaaa,
        (v4, v6) -> {
          List<InetAddress> addresses = new ArrayList<>();
          for (DnsAnswer answer : List.of(v4, v6)) {
            if (answer.state() == DnssecState.BOGUS
                || answer.state() == DnssecState.INDETERMINATE) {
              continue; // RFC 4035 §5.5: data that failed validation is never used
            }
            for (DnsRecord.Address r : answer.records(DnsRecord.Address.class)) {
              if (MxHost.isUnicast(r.address()) && !addresses.contains(r.address())) {
                addresses.add(r.address());
              }
            }
          }
          return new MxHost(name, preference, implicit, addresses, v4, v6);
        });
  }

  /**
   * Notes each address of {@code h}'s usable answers that was dropped as not unicast ({@link
   * MxHost#isUnicast}); returns whether {@code h} has no address left because of it.
   */
  private static boolean notUnicast(MxHost h, List<String> notes) {
    boolean dropped = false;
    for (DnsAnswer answer : List.of(h.ipv4(), h.ipv6())) {
      if (MxHost.failed(answer)) {
        continue; // never used, whatever it holds
      }
      for (DnsRecord.Address r : answer.records(DnsRecord.Address.class)) {
        if (!MxHost.isUnicast(r.address())) {
          dropped = true;
          notes.add(
              (h.implicit() ? "implicit MX " : "MX host ")
                  + h.name()
                  + ": address "
                  + r.address().getHostAddress()
                  + " not used: not a unicast address");
        }
      }
    }
    return dropped && h.addresses().isEmpty();
  }

  /** Sorts by preference and shuffles runs of equal preference (RFC 5321 §5.1). */
  private List<Map.Entry<DomainName, Integer>> order(Map<DomainName, Integer> byHost) {
    List<Map.Entry<DomainName, Integer>> list = new ArrayList<>(byHost.entrySet());
    list.sort(Map.Entry.comparingByValue());
    synchronized (random) {
      int start = 0;
      while (start < list.size()) {
        int end = start;
        while (end < list.size() && list.get(end).getValue().equals(list.get(start).getValue())) {
          end++;
        }
        for (int i = end - 1; i > start; i--) {
          int j = start + random.nextInt(i - start + 1);
          Map.Entry<DomainName, Integer> t = list.get(i);
          list.set(i, list.get(j));
          list.set(j, t);
        }
        start = end;
      }
    }
    return list;
  }

  private static boolean looksLikeIpAddress(DomainName name) {
    List<String> labels = name.labels();
    if (labels.size() != 4) {
      return false;
    }
    for (String l : labels) {
      if (l.isEmpty() || l.length() > 3 || !l.chars().allMatch(c -> c >= '0' && c <= '9')) {
        return false;
      }
    }
    return true;
  }

  private static CompletionStage<MxResolution> done(
      NextHop nextHop,
      MxResolution.Kind kind,
      List<MxHost> hosts,
      DnsAnswer mx,
      List<String> notes) {
    return CompletableFuture.completedFuture(
        new MxResolution(nextHop, kind, hosts, Optional.of(mx), notes));
  }

  /**
   * Configures an {@link MxResolver}. Each setter may be called once, also in a builder from {@link
   * MxResolver#newBuilder()}, where it overrides the inherited setting. Not thread-safe.
   */
  public static final class Builder {
    private @Nullable DnsResolver dns;
    private @Nullable RandomGenerator random;
    private final Set<String> called = new HashSet<>();

    private Builder() {}

    private void once(String setter) {
      if (!called.add(setter)) {
        throw new IllegalStateException(setter + " already set");
      }
    }

    /** The DNS resolver for the MX and address lookups (required). */
    public Builder dns(DnsResolver dns) {
      once("dns");
      this.dns = Objects.requireNonNull(dns, "dns");
      return this;
    }

    /**
     * Orders equal-preference hosts (RFC 5321 §5.1); default a new {@link Random}. Pass a seeded
     * one for deterministic tests. Access to it is synchronised.
     */
    public Builder random(RandomGenerator random) {
      once("random");
      this.random = Objects.requireNonNull(random, "random");
      return this;
    }

    /**
     * Builds the resolver.
     *
     * @throws IllegalStateException without {@link #dns}
     */
    public MxResolver build() {
      if (dns == null) {
        throw new IllegalStateException("dns is required");
      }
      return new MxResolver(dns, random != null ? random : new Random());
    }
  }
}
