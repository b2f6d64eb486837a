package io.mailtls.testkit;

import io.mailtls.testkit.internal.dns.DnsNames;
import io.mailtls.testkit.internal.dns.DnsSocketServer;
import io.mailtls.testkit.internal.dns.FaultTable;
import io.mailtls.testkit.internal.dns.FaultTable.Fault;
import io.mailtls.testkit.internal.dns.KeyRing;
import io.mailtls.testkit.internal.dns.QueryRecorder;
import io.mailtls.testkit.internal.dns.Responder;
import io.mailtls.testkit.internal.dns.ZoneCompiler;
import io.mailtls.testkit.internal.dns.ZoneDefinition;
import io.mailtls.testkit.internal.dns.ZoneSet;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.xbill.DNS.DNSKEYRecord;
import org.xbill.DNS.DSRecord;
import org.xbill.DNS.Name;
import org.xbill.DNS.Type;

/**
 * An authoritative DNS server for tests, on real loopback UDP and TCP sockets (one ephemeral port
 * for both), serving zones built in code and signed with DNSSEC (ECDSA P-256, algorithm 13) under
 * its own root key. A validating stub such as dnsjava's {@code ValidatingResolver}, pointed at this
 * one server and given {@link #trustAnchor()}, validates the full chain {@code .} → {@code test.} →
 * your zone.
 *
 * <pre>{@code
 * try (TestDnsServer dns = TestDnsServer.builder()
 *     .zone("example.test", z -> z
 *         .mx("example.test", 10, "mx1.example.test")
 *         .a("mx1.example.test", "127.0.0.2"))
 *     .start()) {
 *   ValidatingResolver resolver =
 *       new ValidatingResolver(new SimpleResolver(dns.socketAddress()), clock);
 *   resolver.loadTrustAnchors(dns.trustAnchorStream());
 *   ...
 *   dns.servfail("example.test", Type.MX);   // switch misbehaviour on at run time
 * }
 * }</pre>
 *
 * <p>What it serves: the zones {@code .} and {@code test.} always exist; every held zone is
 * delegated from its nearest held parent (NS, and DS unless unsigned), so deeper zones such as
 * {@code sub.example.test} chain up too. Answers follow RFC 1034 §4.3.2 and RFC 4035 §3.1: AA set,
 * RRSIGs only for queries with the EDNS DO bit, NSEC proofs for NODATA, empty non-terminals,
 * NXDOMAIN and wildcard answers, DS from the parent side of a cut, referrals for delegations (made
 * with {@link DnsZoneBuilder#ns}) to zones it does not hold. CNAMEs are followed through the held
 * zones, as a recursive resolver would, so that a stub gets the whole chain. UDP answers that do
 * not fit the requester's EDNS size (at least 512 bytes) are truncated with TC set; TCP takes
 * several length-prefixed queries per connection. Malformed queries get FORMERR or no answer. Every
 * NS RRset names {@code ns.mailtls-testkit.invalid.}: clients reach the server by address.
 *
 * <p>Signatures are made at {@link Builder#build()}, at every {@link #update} and at {@link
 * #resign()}, valid from one hour before to 30 days after the configured clock's time (or as long
 * as a zone's {@link DnsZoneBuilder#signatureValidity} says).
 *
 * <p>Thread-safe: zone updates, fault switches and the query log may be used from any thread while
 * queries are answered. Server threads are daemon threads; {@link #close()} frees the ports and
 * waits for them.
 */
public final class TestDnsServer implements AutoCloseable {
  private static final Name TEST_TLD = Name.fromConstantString("test.");

  private final Clock clock;
  private final InetAddress address;
  private final int requestedPort;
  private final Duration latency;
  private final long generatedTtl;
  private final KeyRing keys;
  private final FaultTable faults = new FaultTable();
  private final QueryRecorder queryLog = new QueryRecorder();
  private final DSRecord trustAnchor;
  private final Responder responder;

  private final Object lock = new Object();
  // Guarded by lock; replaced (never mutated) on every change.
  private Map<Name, ZoneDefinition> definitions;
  private volatile ZoneSet zones;
  // Guarded by lock.
  private @Nullable DnsSocketServer sockets;
  private boolean closed;

  private TestDnsServer(Builder builder) {
    this.clock = builder.clock;
    this.address = builder.address;
    this.requestedPort = builder.port;
    this.latency = builder.latency;
    this.generatedTtl = builder.generatedTtl.toSeconds();
    this.keys = new KeyRing(generatedTtl, builder.revokedRootKey ? Set.of(Name.root) : Set.of());
    Map<Name, ZoneDefinition> initial = new LinkedHashMap<>();
    initial.put(Name.root, ZoneDefinition.empty(Name.root));
    initial.put(TEST_TLD, ZoneDefinition.empty(TEST_TLD));
    initial.putAll(builder.zones);
    this.definitions = Map.copyOf(initial);
    this.zones = ZoneCompiler.compile(definitions.values(), keys, clock.instant(), generatedTtl);
    this.trustAnchor = keys.key(Name.root).ds(generatedTtl);
    this.responder = new Responder(() -> zones, faults, queryLog, clock);
  }

  /** A builder for a server holding the zones {@code .} and {@code test.}, both signed. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Binds the UDP and TCP sockets (same address and port) and starts answering.
   *
   * @return this server
   * @throws IllegalStateException if already started or closed
   * @throws UncheckedIOException if the sockets cannot be bound
   */
  public TestDnsServer start() {
    synchronized (lock) {
      if (closed) {
        throw new IllegalStateException("server already closed");
      }
      if (sockets != null) {
        throw new IllegalStateException("server already started on " + sockets.localAddress());
      }
      try {
        sockets = DnsSocketServer.start(address, requestedPort, responder, latency.toNanos());
      } catch (IOException e) {
        throw new UncheckedIOException(
            "cannot bind UDP and TCP on " + address.getHostAddress() + ":" + requestedPort, e);
      }
      return this;
    }
  }

  /**
   * The address and port to send queries to.
   *
   * @throws IllegalStateException if not started
   */
  public InetSocketAddress socketAddress() {
    synchronized (lock) {
      if (sockets == null) {
        throw new IllegalStateException("server not started");
      }
      return sockets.localAddress();
    }
  }

  /** The loopback address the server binds to. */
  public InetAddress address() {
    return address;
  }

  /**
   * The port, the same for UDP and TCP.
   *
   * @throws IllegalStateException if not started
   */
  public int port() {
    return socketAddress().getPort();
  }

  /** The clock that dates signatures and query log entries. */
  public Clock clock() {
    return clock;
  }

  /**
   * The trust anchor: the DS record of the root key in zone-file syntax (one line), as {@code
   * ValidatingResolver.loadTrustAnchors} accepts it. Stable for the server's life.
   */
  public String trustAnchor() {
    return trustAnchor.toString() + "\n";
  }

  /** {@link #trustAnchor()} as a fresh stream of UTF-8 bytes. */
  public InputStream trustAnchorStream() {
    return new ByteArrayInputStream(trustAnchor().getBytes(StandardCharsets.UTF_8));
  }

  /** The trust anchor as a record: the DS of the root key (SHA-256 digest). */
  public DSRecord trustAnchorRecord() {
    return trustAnchor;
  }

  /**
   * The root key as a DNSKEY record, the other form a trust anchor takes (RFC 4033 §2): with flags
   * 385 under {@link Builder#revokedRootKey()}.
   */
  public DNSKEYRecord trustAnchorKey() {
    return keys.key(Name.root).dnskey();
  }

  // ---------------------------------------------------------------- faults

  /**
   * Serves every RRSIG over the RRsets owned by {@code name}, of any type, with one signature byte
   * flipped: a validator finds them bogus.
   */
  public void corruptSignatures(String name) {
    faults.add(Fault.CORRUPT_SIGNATURES, DnsNames.parse(name), FaultTable.ANY_TYPE);
  }

  /**
   * Serves the RRSIG over the RRset {@code name}/{@code type} with one signature byte flipped,
   * wherever that RRset appears (answer, CNAME chain, or proof): a validator finds it bogus.
   */
  public void corruptSignatures(String name, int type) {
    faults.add(Fault.CORRUPT_SIGNATURES, DnsNames.parse(name), checkType(type));
  }

  /**
   * Answers queries for {@code name}/{@code type} without the NSEC or NSEC3 records of the
   * authority section: a denial (NXDOMAIN, NODATA) without its proof (RFC 4035 §3.1.3, RFC 5155
   * §7.2), or a wildcard answer without the proof that the name itself does not exist; a validator
   * finds it bogus.
   */
  public void omitDenialProofs(String name, int type) {
    faults.add(Fault.OMIT_DENIAL, DnsNames.parse(name), checkType(type));
  }

  /** Answers queries for {@code name}, any type, with rcode SERVFAIL. */
  public void servfail(String name) {
    faults.add(Fault.SERVFAIL, DnsNames.parse(name), FaultTable.ANY_TYPE);
  }

  /** Answers queries for {@code name}/{@code type} with rcode SERVFAIL. */
  public void servfail(String name, int type) {
    faults.add(Fault.SERVFAIL, DnsNames.parse(name), checkType(type));
  }

  /** Never answers queries for {@code name}, any type: the client times out. */
  public void drop(String name) {
    faults.add(Fault.DROP, DnsNames.parse(name), FaultTable.ANY_TYPE);
  }

  /**
   * Never answers queries for {@code name}/{@code type} (over UDP or TCP): the client times out.
   */
  public void drop(String name, int type) {
    faults.add(Fault.DROP, DnsNames.parse(name), checkType(type));
  }

  /**
   * Answers UDP queries for {@code name}, any type, with TC set and empty sections; TCP queries get
   * the full answer.
   */
  public void truncate(String name) {
    faults.add(Fault.TRUNCATE, DnsNames.parse(name), FaultTable.ANY_TYPE);
  }

  /**
   * Answers UDP queries for {@code name}/{@code type} with TC set and empty sections (RFC 7766 §5:
   * the client retries over TCP); TCP queries get the full answer.
   */
  public void truncate(String name, int type) {
    faults.add(Fault.TRUNCATE, DnsNames.parse(name), checkType(type));
  }

  /** Switches every fault off. Zone options such as wrongDs() are zone data, not faults. */
  public void clearFaults() {
    faults.clear();
  }

  // ---------------------------------------------------------------- zone edits

  /**
   * Changes a held zone and re-signs every zone with the clock's current time. The callback gets
   * the zone's current records and options; its SOA serial goes up by one.
   *
   * @param zone the zone's origin, e.g. {@code "example.test"}
   * @throws IllegalArgumentException if the server holds no such zone, or the edit is invalid (the
   *     server then keeps serving the previous data)
   */
  public void update(String zone, Consumer<DnsZoneBuilder> edit) {
    Name origin = DnsNames.parse(zone);
    Objects.requireNonNull(edit, "edit");
    synchronized (lock) {
      ZoneDefinition current = definitions.get(origin);
      if (current == null) {
        throw new IllegalArgumentException(
            "no zone " + origin + " on this server; held: " + definitions.keySet());
      }
      DnsZoneBuilder builder = new DnsZoneBuilder(current);
      edit.accept(builder);
      Map<Name, ZoneDefinition> next = new LinkedHashMap<>(definitions);
      next.put(origin, builder.definition(current.serial() + 1));
      install(Map.copyOf(next));
    }
  }

  /**
   * Removes the records of {@code type} ({@link Type#ANY}: of every type) that were added at {@code
   * name}, in the held zone that holds the name, and re-signs.
   */
  public void removeRecords(String name, int type) {
    Name owner = DnsNames.parse(name);
    if (type != Type.ANY) {
      checkType(type);
    }
    synchronized (lock) {
      Name origin = zones.enclosing(owner).origin();
      update(origin.toString(), z -> z.remove(owner.toString(), type));
    }
  }

  /**
   * Signs every zone again with the clock's current time: call it after advancing a test clock past
   * the signatures' 30-day validity.
   */
  public void resign() {
    synchronized (lock) {
      install(definitions);
    }
  }

  private void install(Map<Name, ZoneDefinition> next) {
    ZoneSet compiled = ZoneCompiler.compile(next.values(), keys, clock.instant(), generatedTtl);
    definitions = next;
    zones = compiled;
  }

  // ---------------------------------------------------------------- query log

  /** Every query received so far (up to the last 100,000), oldest first. */
  public List<DnsQuery> queries() {
    return queryLog.snapshot();
  }

  /** How many queries for {@code name} and {@code type} were received. */
  public int queryCount(String name, int type) {
    return queryLog.count(DnsNames.parse(name), type);
  }

  /**
   * How many queries were received since the server was built: every well-formed query, also past
   * the log's 100,000 entries, and not reset by {@link #clearQueryLog()}.
   */
  public long totalQueryCount() {
    return queryLog.total();
  }

  /** Empties the query log. */
  public void clearQueryLog() {
    queryLog.clear();
  }

  /** Stops answering, frees the ports and waits for the server threads. Idempotent. */
  @Override
  public void close() {
    synchronized (lock) {
      closed = true;
      if (sockets != null) {
        sockets.close();
      }
    }
  }

  @Override
  public String toString() {
    synchronized (lock) {
      String where = sockets == null ? "not started" : sockets.localAddress().toString();
      return "TestDnsServer{" + where + ", zones=" + definitions.keySet() + "}";
    }
  }

  private static int checkType(int type) {
    Type.check(type);
    if (type == Type.ANY) {
      throw new IllegalArgumentException("give no type to match every type, not ANY");
    }
    return type;
  }

  /**
   * Configures a {@link TestDnsServer}. Each setter may be called once; each zone may be defined
   * once. Not thread-safe.
   */
  public static final class Builder {
    private final Set<String> called = new HashSet<>();
    private final Map<Name, ZoneDefinition> zones = new LinkedHashMap<>();
    private Clock clock = Clock.systemUTC();
    private InetAddress address = defaultAddress();
    private int port;
    private Duration latency = Duration.ZERO;
    private Duration generatedTtl = Duration.ofSeconds(ZoneCompiler.TTL);
    private boolean revokedRootKey;
    private boolean built;

    private Builder() {}

    /**
     * The clock that dates signatures (valid from its time - 1 h to + 30 d) and the query log.
     * Default: {@link Clock#systemUTC()}.
     */
    public Builder clock(Clock clock) {
      once("clock");
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * The loopback address to bind, e.g. any address in 127.0.0.0/8. Default: 127.0.0.1.
     *
     * @throws IllegalArgumentException if the address is not a loopback address
     */
    public Builder address(InetAddress address) {
      once("address");
      Objects.requireNonNull(address, "address");
      if (!address.isLoopbackAddress()) {
        throw new IllegalArgumentException(
            "a test DNS server binds loopback addresses only: " + address.getHostAddress());
      }
      this.address = address;
      return this;
    }

    /** A fixed port for both UDP and TCP. Default: 0, an ephemeral port free for both. */
    public Builder port(int port) {
      once("port");
      if (port < 0 || port > 0xFFFF) {
        throw new IllegalArgumentException("port out of range 0..65535: " + port);
      }
      this.port = port;
      return this;
    }

    /**
     * Holds every response back for {@code latency} before sending it, as a server one round trip
     * of that length away would: for measuring how a client behaves at a distance. Concurrent UDP
     * queries are delayed side by side, not one after another; a TCP connection answers its queries
     * in order, each after the delay. Queries are logged when they arrive. Default: {@link
     * Duration#ZERO}, no delay.
     *
     * @throws IllegalArgumentException if {@code latency} is negative
     */
    public Builder latency(Duration latency) {
      once("latency");
      Objects.requireNonNull(latency, "latency");
      if (latency.isNegative()) {
        throw new IllegalArgumentException("latency must not be negative: " + latency);
      }
      this.latency = latency;
      return this;
    }

    /**
     * The TTL of the records the server makes itself (SOA, NS, DS, DNSKEY and NSEC) and of its
     * negative answers (the SOA minimum, RFC 2308 §5; an NSEC record's TTL is the same, RFC 4035
     * §2.3, unless its zone's {@link DnsZoneBuilder#nsecTtl} says otherwise). Default: 300 s. A
     * zone's own records have the TTL {@link DnsZoneBuilder#ttl} gives them; set both to keep every
     * answer, positive or negative, cached as long.
     *
     * @throws IllegalArgumentException if {@code ttl} is negative or over 2^31 - 1 s (RFC 2181 §8)
     */
    public Builder generatedTtl(Duration ttl) {
      once("generatedTtl");
      Objects.requireNonNull(ttl, "ttl");
      if (ttl.isNegative() || ttl.toSeconds() > 0x7FFFFFFFL) {
        throw new IllegalArgumentException("TTL out of range (RFC 2181 §8): " + ttl);
      }
      this.generatedTtl = ttl;
      return this;
    }

    /**
     * Publishes the root key with the REVOKE flag (DNSKEY flags 385, RFC 5011 §2.1) and signs the
     * root with it all the same: what an attacker holding a key its owner revoked serves. {@link
     * TestDnsServer#trustAnchor()} is then the DS of that key (DS digests cover the flags), {@link
     * TestDnsServer#trustAnchorKey()} the revoked DNSKEY.
     */
    public Builder revokedRootKey() {
      once("revokedRootKey");
      this.revokedRootKey = true;
      return this;
    }

    /**
     * Defines a zone, signed unless the callback says {@link DnsZoneBuilder#unsigned()}. The zones
     * {@code .} and {@code test.} exist anyway; defining one of them adds to it.
     *
     * @param origin the zone apex, e.g. {@code "example.test"} (ASCII; IDNs as A-labels)
     * @throws IllegalArgumentException if the zone was already defined
     */
    public Builder zone(String origin, Consumer<DnsZoneBuilder> contents) {
      Name name = DnsNames.parse(origin);
      Objects.requireNonNull(contents, "contents");
      if (zones.containsKey(name)) {
        throw new IllegalArgumentException("zone " + name + " already defined");
      }
      DnsZoneBuilder zone = new DnsZoneBuilder(ZoneDefinition.empty(name));
      contents.accept(zone);
      zones.put(name, zone.definition(1));
      return this;
    }

    /** Defines an empty signed zone (only its SOA, NS and DNSKEY). */
    public Builder zone(String origin) {
      return zone(origin, z -> {});
    }

    /**
     * Generates the keys, signs the zones and returns the server, not yet listening.
     *
     * @throws IllegalArgumentException if a record lies in another held zone, or a CNAME shares its
     *     name with other data (RFC 2181 §10.1)
     * @throws IllegalStateException if called twice
     */
    public TestDnsServer build() {
      if (built) {
        throw new IllegalStateException("build() already called");
      }
      built = true;
      return new TestDnsServer(this);
    }

    /** {@link #build()}, then {@link TestDnsServer#start()}. */
    public TestDnsServer start() {
      return build().start();
    }

    private void once(String setter) {
      if (!called.add(setter)) {
        throw new IllegalStateException(setter + "() already called");
      }
    }

    private static InetAddress defaultAddress() {
      try {
        return InetAddress.getByAddress(new byte[] {127, 0, 0, 1});
      } catch (UnknownHostException e) {
        throw new AssertionError("a four-byte address is always valid", e);
      }
    }
  }
}
