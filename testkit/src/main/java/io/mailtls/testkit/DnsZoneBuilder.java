package io.mailtls.testkit;

import io.mailtls.testkit.internal.dns.DnsNames;
import io.mailtls.testkit.internal.dns.Nsec3Params;
import io.mailtls.testkit.internal.dns.ZoneCompiler;
import io.mailtls.testkit.internal.dns.ZoneDefinition;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.Address;
import org.xbill.DNS.CNAMERecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.MXRecord;
import org.xbill.DNS.NSRecord;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.TLSARecord;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.Type;

/**
 * The contents of one zone of a {@link TestDnsServer}: its records and how it is signed. Handed to
 * the callbacks of {@link TestDnsServer.Builder#zone(String, java.util.function.Consumer)} and
 * {@link TestDnsServer#update(String, java.util.function.Consumer)}; in an update it starts with
 * the zone's current records and options.
 *
 * <p>Names are absolute (a trailing dot is optional), ASCII only (internationalized names as
 * A-labels, {@code xn--bcher-kva.test}), and must lie at or below the zone's origin. Records are of
 * class IN with a TTL of 300 s unless {@link #ttl(Duration)} says otherwise. The server adds the
 * SOA, NS, DNSKEY, NSEC (or, with {@link #nsec3}, NSEC3PARAM and NSEC3) and RRSIG records itself,
 * and the delegation (NS and DS) of any held zone below this one.
 *
 * <p>Not thread-safe: use it only inside the callback it was handed to.
 */
public final class DnsZoneBuilder {
  /** Types the server generates, so a caller may not add them. */
  private static final Set<Integer> GENERATED =
      Set.of(Type.SOA, Type.DNSKEY, Type.RRSIG, Type.NSEC, Type.NSEC3, Type.NSEC3PARAM, Type.OPT);

  /** RFC 1035 §3.3: a character-string holds at most 255 octets. */
  private static final int MAX_CHARACTER_STRING = 255;

  private final Name origin;
  private final List<Record> records;
  private boolean signed;
  private boolean wrongDs;
  private boolean expiredSignatures;
  private @Nullable Duration nsecTtl;
  private final Map<Integer, Duration> signatureValidity;
  private @Nullable Nsec3Params nsec3;
  private long ttl = ZoneCompiler.TTL;

  DnsZoneBuilder(ZoneDefinition base) {
    this.origin = base.origin();
    this.records = new ArrayList<>(base.records());
    this.signed = base.signed();
    this.wrongDs = base.wrongDs();
    this.expiredSignatures = base.expiredSignatures();
    this.nsecTtl = base.nsecTtl();
    this.signatureValidity = new HashMap<>(base.signatureValidity());
    this.nsec3 = base.nsec3();
  }

  /** The zone's origin (apex). */
  public Name origin() {
    return origin;
  }

  /** Sets the TTL of the records added after this call (default 300 s). */
  public DnsZoneBuilder ttl(Duration ttl) {
    Objects.requireNonNull(ttl, "ttl");
    if (ttl.isNegative() || ttl.toSeconds() > 0x7FFFFFFFL) {
      throw new IllegalArgumentException("TTL out of range (RFC 2181 §8): " + ttl);
    }
    this.ttl = ttl.toSeconds();
    return this;
  }

  /** Adds an A record; {@code address} is an IPv4 literal such as {@code "127.0.0.2"}. */
  public DnsZoneBuilder a(String name, String address) {
    return add(new ARecord(owner(name), DClass.IN, ttl, literal(address, Address.IPv4)));
  }

  /** Adds an AAAA record; {@code address} is an IPv6 literal such as {@code "::1"}. */
  public DnsZoneBuilder aaaa(String name, String address) {
    return add(new AAAARecord(owner(name), DClass.IN, ttl, literal(address, Address.IPv6)));
  }

  /** Adds an MX record (RFC 5321 §5.1). */
  public DnsZoneBuilder mx(String name, int preference, String exchange) {
    checkU16("MX preference", preference);
    return add(new MXRecord(owner(name), DClass.IN, ttl, preference, DnsNames.parse(exchange)));
  }

  /**
   * Wires a {@link MockSmtpServer} into DNS: an MX record {@code domain → host} with {@code
   * preference}, and {@code host}'s A (or AAAA) record pointing at the server's address. The host
   * name must lie in this zone; the server's port is the client's business (all servers of one test
   * usually share a port on different loopback addresses).
   */
  public DnsZoneBuilder mailHost(
      String domain, int preference, String host, MockSmtpServer server) {
    mx(domain, preference, host);
    String address = server.address().getHostAddress();
    return server.address() instanceof java.net.Inet6Address
        ? aaaa(host, address)
        : a(host, address);
  }

  /** Adds the null MX {@code 0 .} (RFC 7505 §3): the domain accepts no mail. */
  public DnsZoneBuilder nullMx(String name) {
    return add(new MXRecord(owner(name), DClass.IN, ttl, 0, Name.root));
  }

  /**
   * Adds one TXT record made of the given character-strings (a consumer concatenates them, as RFC
   * 8461 §3.1 does); each at most 255 characters.
   */
  public DnsZoneBuilder txt(String name, String... strings) {
    Objects.requireNonNull(strings, "strings");
    if (strings.length == 0) {
      throw new IllegalArgumentException("a TXT record needs at least one string");
    }
    for (String s : strings) {
      Objects.requireNonNull(s, "TXT string");
      if (s.length() > MAX_CHARACTER_STRING) {
        throw new IllegalArgumentException(
            "TXT string longer than 255 characters (RFC 1035 §3.3.14); split it: " + s);
      }
    }
    return add(new TXTRecord(owner(name), DClass.IN, ttl, Arrays.asList(strings)));
  }

  /** Adds a CNAME; the name may hold nothing else (RFC 2181 §10.1). */
  public DnsZoneBuilder cname(String name, String target) {
    return add(new CNAMERecord(owner(name), DClass.IN, ttl, DnsNames.parse(target)));
  }

  /**
   * Adds a TLSA record (RFC 6698 §2.1), e.g. {@code tlsa("_25._tcp.mx1.example.test", 3, 1, 1,
   * sha256OfSpki)}.
   */
  public DnsZoneBuilder tlsa(
      String name, int usage, int selector, int matchingType, byte[] associationData) {
    checkU8("TLSA usage", usage);
    checkU8("TLSA selector", selector);
    checkU8("TLSA matching type", matchingType);
    Objects.requireNonNull(associationData, "associationData");
    return add(
        new TLSARecord(
            owner(name), DClass.IN, ttl, usage, selector, matchingType, associationData.clone()));
  }

  /**
   * Adds a TLSA record for a certificate, computing its association data (RFC 6698 §2.1): {@code
   * tlsaFor("_25._tcp.mx1.example.test", 3, 1, 1, leaf)} publishes DANE-EE SPKI SHA2-256 of the
   * leaf, {@code (…, 2, 0, 1, issuingCa)} DANE-TA of a CA certificate, {@code (…, 2, 0, 0, root)} a
   * full trust anchor. {@link Tlsa#smtpOwner(String)} gives the owner name for an MX host, and
   * {@link Tlsa#wrongData(int)} data that matches nothing.
   *
   * @param selector 0 (the certificate) or 1 (its SubjectPublicKeyInfo)
   * @param matchingType 0 (full), 1 (SHA2-256) or 2 (SHA2-512)
   */
  public DnsZoneBuilder tlsaFor(
      String name, int usage, int selector, int matchingType, X509Certificate certificate) {
    Objects.requireNonNull(certificate, "certificate");
    return tlsa(
        name,
        usage,
        selector,
        matchingType,
        Tlsa.associationData(certificate, selector, matchingType));
  }

  /** As {@link #tlsaFor(String, int, int, int, X509Certificate)}, for a test PKI certificate. */
  public DnsZoneBuilder tlsaFor(
      String name, int usage, int selector, int matchingType, TestPki.Certified certified) {
    Objects.requireNonNull(certified, "certified");
    return tlsaFor(name, usage, selector, matchingType, certified.certificate());
  }

  /**
   * Adds an NS record below the apex: a delegation to a zone this server does not hold, answered
   * with a referral. (Held zones are delegated automatically.)
   */
  public DnsZoneBuilder ns(String name, String target) {
    Name owner = owner(name);
    if (owner.equals(origin)) {
      throw new IllegalArgumentException("the apex NS RRset is generated; delegate below it");
    }
    return add(new NSRecord(owner, DClass.IN, ttl, DnsNames.parse(target)));
  }

  /**
   * Adds any record of class IN at or below the origin, except the types the server generates (SOA,
   * DNSKEY, RRSIG, NSEC, NSEC3, NSEC3PARAM). A wildcard owner ({@code *.example.test}) is expanded
   * as RFC 4592 describes.
   */
  public DnsZoneBuilder record(Record record) {
    Objects.requireNonNull(record, "record");
    if (record.getDClass() != DClass.IN) {
      throw new IllegalArgumentException("only class IN is served: " + record);
    }
    if (GENERATED.contains(record.getType())) {
      throw new IllegalArgumentException(
          Type.string(record.getType()) + " records are generated by the server: " + record);
    }
    if (record.getType() == Type.DS && record.getName().equals(origin)) {
      throw new IllegalArgumentException(
          "a zone's DS belongs to its parent (RFC 4035 §2.4); see wrongDs(): " + record);
    }
    checkInZone(record.getName());
    return add(record);
  }

  /** Removes every record of {@code type} at {@code name} ({@link Type#ANY}: every type). */
  public DnsZoneBuilder remove(String name, int type) {
    Name owner = owner(name);
    records.removeIf(r -> r.getName().equals(owner) && (type == Type.ANY || r.getType() == type));
    return this;
  }

  /**
   * Serves the zone unsigned: no DNSKEY, RRSIG or NSEC, and no DS in the parent, whose NSEC at the
   * delegation then proves the delegation insecure (RFC 4035 §5.2).
   */
  public DnsZoneBuilder unsigned() {
    return unsigned(true);
  }

  /** Serves the zone unsigned ({@code true}) or signed ({@code false}, the default). */
  public DnsZoneBuilder unsigned(boolean unsigned) {
    this.signed = !unsigned;
    return this;
  }

  /** Makes the parent publish a DS that matches no key of this zone: the zone is bogus. */
  public DnsZoneBuilder wrongDs() {
    return wrongDs(true);
  }

  /** Switches the mismatching parent DS on or off. */
  public DnsZoneBuilder wrongDs(boolean wrongDs) {
    this.wrongDs = wrongDs;
    return this;
  }

  /**
   * Signs every RRset of this zone with an expired signature (inception now - 30 d, expiration now
   * - 1 d): the zone is bogus (RFC 4035 §5.3.1).
   */
  public DnsZoneBuilder expiredSignatures() {
    return expiredSignatures(true);
  }

  /** Switches the expired signatures on or off. */
  public DnsZoneBuilder expiredSignatures(boolean expired) {
    this.expiredSignatures = expired;
    return this;
  }

  /**
   * Denies existence with NSEC3 (RFC 5155) instead of NSEC: an NSEC3PARAM record at the apex and a
   * signed chain of NSEC3 records (SHA-1, the only hash algorithm defined) over the hashed owner
   * names, empty non-terminals included (§7.1), and denials that carry the closest encloser proof
   * (§7.2.1): NXDOMAIN with the NSEC3 matching the closest encloser and those covering the next
   * closer name and the wildcard (§7.2.2), NODATA with the matching NSEC3 (§7.2.3, §7.2.4),
   * wildcard answers with the NSEC3 covering the next closer name (§7.2.6), and referrals to
   * unsigned delegations with the matching NSEC3 or, under Opt-Out, the closest provable encloser
   * proof (§7.2.7). RFC 9276 §3.1 recommends {@code nsec3(0, new byte[0], false)}: no extra
   * iterations, no salt; a validator may treat a zone with more iterations as insecure (§3.2).
   * {@link #nsecTtl} sets the NSEC3 records' TTL. The default is NSEC.
   *
   * @param iterations additional hash iterations, 0..65535 (RFC 5155 §3.1.3)
   * @param salt the salt, at most 255 octets; empty for none
   * @param optOut whether every NSEC3 record has the Opt-Out flag (RFC 5155 §6): unsigned
   *     delegations (NS without DS) are left out of the chain, and a denial covered by an Opt-Out
   *     span proves no more than that no signed name exists there (§9.2)
   * @throws IllegalArgumentException if {@code iterations} or the salt's length is out of range
   */
  public DnsZoneBuilder nsec3(int iterations, byte[] salt, boolean optOut) {
    Objects.requireNonNull(salt, "salt");
    this.nsec3 = new Nsec3Params(iterations, salt, optOut);
    return this;
  }

  /** Denies existence with NSEC (the default) again, after {@link #nsec3}. */
  public DnsZoneBuilder nsec() {
    this.nsec3 = null;
    return this;
  }

  /**
   * Gives this zone's NSEC (or NSEC3) records the TTL {@code ttl} instead of the server's
   * {@linkplain TestDnsServer.Builder#generatedTtl generated TTL}, which is also the SOA's TTL and
   * MINIMUM. RFC 4035 §2.3 and RFC 9077 §3 want the NSEC TTL to be the smaller of those two; a
   * lower one serves a denial whose proof may be kept for less time than its SOA says (RFC 9077
   * §4).
   *
   * @throws IllegalArgumentException if {@code ttl} is negative or over 2^31 - 1 s (RFC 2181 §8)
   */
  public DnsZoneBuilder nsecTtl(Duration ttl) {
    Objects.requireNonNull(ttl, "ttl");
    if (ttl.isNegative() || ttl.toSeconds() > 0x7FFFFFFFL) {
      throw new IllegalArgumentException("TTL out of range (RFC 2181 §8): " + ttl);
    }
    this.nsecTtl = ttl;
    return this;
  }

  /**
   * Signs this zone's RRsets of {@code type} with signatures that expire {@code validity} after the
   * signing time instead of 30 days after it (they still begin an hour before it): e.g. {@code
   * signatureValidity(Type.NSEC, Duration.ofMinutes(2))} serves denials whose proof expires long
   * before the SOA's signature does, or {@code signatureValidity(Type.TLSA, …)} data whose
   * signature expires before its TTL runs out (RFC 4035 §5.3.3). {@link #expiredSignatures()}
   * overrides it. A later call for the same type replaces the earlier.
   *
   * @throws IllegalArgumentException if {@code type} is not a valid type or is RRSIG (signatures
   *     are not signed), or {@code validity} is not positive or reaches 2^31 s (RFC 4034 §3.1.5)
   */
  public DnsZoneBuilder signatureValidity(int type, Duration validity) {
    Objects.requireNonNull(validity, "validity");
    Type.check(type);
    if (type == Type.RRSIG) {
      throw new IllegalArgumentException("RRSIG records are not signed (RFC 4035 §2.2)");
    }
    if (validity.isNegative() || validity.isZero() || validity.toSeconds() > 0x7FFFFFFFL) {
      throw new IllegalArgumentException(
          "signature validity must be positive and below 2^31 s (RFC 4034 §3.1.5): " + validity);
    }
    signatureValidity.put(type, validity);
    return this;
  }

  /** The definition this builder describes, with the given SOA serial. */
  ZoneDefinition definition(long serial) {
    return new ZoneDefinition(
        origin,
        records,
        signed,
        wrongDs,
        expiredSignatures,
        serial,
        nsecTtl,
        signatureValidity,
        nsec3);
  }

  private DnsZoneBuilder add(Record record) {
    records.add(record);
    return this;
  }

  private Name owner(String name) {
    Name owner = DnsNames.parse(name);
    checkInZone(owner);
    return owner;
  }

  private void checkInZone(Name name) {
    if (!name.subdomain(origin)) {
      throw new IllegalArgumentException(name + " is not in zone " + origin);
    }
  }

  private static InetAddress literal(String address, int family) {
    Objects.requireNonNull(address, "address");
    try {
      // Address.getByAddress parses literals only: no name is ever resolved here.
      return Address.getByAddress(address, family);
    } catch (UnknownHostException e) {
      String kind = family == Address.IPv4 ? "IPv4" : "IPv6";
      throw new IllegalArgumentException("not an " + kind + " address literal: " + address, e);
    }
  }

  private static void checkU8(String what, int value) {
    if (value < 0 || value > 0xFF) {
      throw new IllegalArgumentException(what + " out of range 0..255: " + value);
    }
  }

  private static void checkU16(String what, int value) {
    if (value < 0 || value > 0xFFFF) {
      throw new IllegalArgumentException(what + " out of range 0..65535: " + value);
    }
  }
}
