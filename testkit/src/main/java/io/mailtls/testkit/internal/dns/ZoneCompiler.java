package io.mailtls.testkit.internal.dns;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import org.xbill.DNS.DClass;
import org.xbill.DNS.NSEC3Record;
import org.xbill.DNS.NSECRecord;
import org.xbill.DNS.NSRecord;
import org.xbill.DNS.Name;
import org.xbill.DNS.NameTooLongException;
import org.xbill.DNS.RRset;
import org.xbill.DNS.Record;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Type;

/**
 * Turns zone definitions into served zones: adds each zone's SOA, NS and DNSKEY, the delegation (NS
 * and DS) of every held child zone in its nearest held parent, the NSEC chain (or the NSEC3PARAM
 * and NSEC3 chain, RFC 5155), and signs every authoritative RRset.
 *
 * <p>Stateless and thread-safe.
 */
public final class ZoneCompiler {
  /**
   * The default TTL of every generated record (SOA, NS, DS, DNSKEY, NSEC), of the negative answers
   * (the SOA minimum, RFC 2308 §5) and of the caller's records.
   */
  public static final long TTL = 300;

  /**
   * The name server named by every NS RRset. It lies under {@code invalid.} (RFC 6761 §6.4), so it
   * needs no glue and never shadows a caller's name; clients reach the server by address.
   */
  public static final Name NAME_SERVER = Name.fromConstantString("ns.mailtls-testkit.invalid.");

  private static final Duration INCEPTION_SLACK = Duration.ofHours(1);
  private static final Duration VALIDITY = Duration.ofDays(30);
  private static final Duration EXPIRED_INCEPTION = Duration.ofDays(30);
  private static final Duration EXPIRED_EXPIRATION = Duration.ofDays(1);

  private ZoneCompiler() {}

  /**
   * Compiles and signs every zone.
   *
   * @param definitions the zones; must include the root
   * @param keys the zone keys
   * @param now the signing time (signatures run from now - 1 h to now + 30 d, or as a zone's
   *     signature validity says)
   * @param ttl the TTL, in seconds, of the records made here (SOA, NS, DS, and NSEC unless a zone
   *     sets its own) and the SOA minimum, the negative-caching TTL (RFC 2308 §5); the DNSKEY's is
   *     the key ring's
   * @throws IllegalArgumentException if a record lies in another held zone or breaks the CNAME
   *     rules of RFC 2181 §10.1
   */
  public static ZoneSet compile(
      Collection<ZoneDefinition> definitions, KeyRing keys, Instant now, long ttl) {
    Map<Name, ZoneDefinition> byOrigin = new HashMap<>();
    for (ZoneDefinition definition : definitions) {
      if (byOrigin.put(definition.origin(), definition) != null) {
        throw new IllegalArgumentException("zone " + definition.origin() + " defined twice");
      }
    }
    Map<Name, List<ZoneDefinition>> children = new HashMap<>();
    for (ZoneDefinition definition : definitions) {
      if (!definition.origin().equals(Name.root)) {
        Name parent = heldZoneOf(DnsNames.parent(definition.origin()), byOrigin);
        children.computeIfAbsent(parent, p -> new ArrayList<>()).add(definition);
      }
    }
    Map<Name, ServedZone> served = new HashMap<>();
    for (ZoneDefinition definition : definitions) {
      List<ZoneDefinition> delegated =
          children.getOrDefault(definition.origin(), Collections.emptyList());
      served.put(definition.origin(), compileZone(definition, delegated, byOrigin, keys, now, ttl));
    }
    return new ZoneSet(served);
  }

  /** The apex of the most specific held zone enclosing {@code name}. */
  private static Name heldZoneOf(Name name, Map<Name, ZoneDefinition> byOrigin) {
    Name candidate = name;
    while (!byOrigin.containsKey(candidate)) {
      if (candidate.equals(Name.root)) {
        throw new IllegalArgumentException("no root zone among the definitions");
      }
      candidate = DnsNames.parent(candidate);
    }
    return candidate;
  }

  private static ServedZone compileZone(
      ZoneDefinition zone,
      List<ZoneDefinition> delegated,
      Map<Name, ZoneDefinition> byOrigin,
      KeyRing keys,
      Instant now,
      long ttl) {
    Name origin = zone.origin();
    NavigableMap<Name, Map<Integer, RRset>> all = new TreeMap<>();

    for (Record r : zone.records()) {
      Name holder = heldZoneOf(r.getName(), byOrigin);
      if (!holder.equals(origin)) {
        throw new IllegalArgumentException(
            r.getName() + " lies in zone " + holder + ", not in " + origin + ": add it there");
      }
      add(all, r);
    }

    // RFC 1035 §4.3.4 / RFC 4035 §2.1: the apex holds SOA, NS and (if signed) DNSKEY.
    add(all, soa(origin, zone.serial(), ttl));
    add(all, new NSRecord(origin, DClass.IN, ttl, NAME_SERVER));
    if (zone.signed()) {
      add(all, keys.key(origin).dnskey());
    }

    // The delegation of each held child: NS, and a DS per signed child (RFC 4035 §2.4).
    for (ZoneDefinition child : delegated) {
      add(all, new NSRecord(child.origin(), DClass.IN, ttl, NAME_SERVER));
      if (child.wrongDs()) {
        add(all, keys.decoy(child.origin()).ds(ttl));
      } else if (child.signed()) {
        add(all, keys.key(child.origin()).ds(ttl));
      }
    }

    checkCnames(all);

    Set<Name> cuts = new HashSet<>();
    for (Map.Entry<Name, Map<Integer, RRset>> e : all.entrySet()) {
      if (!e.getKey().equals(origin) && e.getValue().containsKey(Type.NS)) {
        cuts.add(e.getKey());
      }
    }

    // Names below a cut, and non-delegation data at a cut, are not authoritative here: they
    // are glue at most, and are left out of the NSEC chain (RFC 4035 §2.3, RFC 4034 §4.1.1).
    NavigableMap<Name, Map<Integer, RRset>> nodes = new TreeMap<>();
    Map<Name, Map<Integer, RRset>> glue = new HashMap<>();
    for (Map.Entry<Name, Map<Integer, RRset>> e : all.entrySet()) {
      Name name = e.getKey();
      if (isBelowCut(name, origin, cuts)) {
        glue.put(name, e.getValue());
      } else if (cuts.contains(name)) {
        Map<Integer, RRset> delegation = new TreeMap<>();
        Map<Integer, RRset> occluded = new TreeMap<>();
        for (RRset rrset : e.getValue().values()) {
          int type = rrset.getType();
          (type == Type.NS || type == Type.DS ? delegation : occluded).put(type, rrset);
        }
        nodes.put(name, delegation);
        if (!occluded.isEmpty()) {
          glue.put(name, occluded);
        }
      } else {
        nodes.put(name, e.getValue());
      }
    }

    Nsec3Chain nsec3Chain = null;
    if (zone.signed()) {
      Duration nsecTtl = zone.nsecTtl();
      long denialTtl = nsecTtl == null ? ttl : nsecTtl.toSeconds();
      Nsec3Params nsec3 = zone.nsec3();
      NavigableMap<String, RRset> nsec3s = null;
      if (nsec3 == null) {
        addNsecChain(nodes, origin, denialTtl);
      } else {
        // RFC 5155 §4: the NSEC3PARAM at the apex, signed with the apex's other RRsets.
        RRset param = new RRset();
        param.addRR(nsec3.record(origin, ttl));
        Objects.requireNonNull(nodes.get(origin)).put(Type.NSEC3PARAM, param);
        nsec3s = nsec3Chain(nodes, origin, cuts, nsec3, denialTtl);
      }
      ZoneKey key = keys.key(origin);
      signAll(nodes, cuts, key, zone.expiredSignatures(), zone.signatureValidity(), now);
      if (nsec3 != null && nsec3s != null) {
        signNsec3(nsec3s, key, zone.expiredSignatures(), zone.signatureValidity(), now);
        nsec3Chain = new Nsec3Chain(origin, nsec3, nsec3s);
      }
    }
    return new ServedZone(
        origin,
        zone.signed(),
        freeze(nodes),
        Map.copyOf(freezeEach(glue)),
        Set.copyOf(cuts),
        nsec3Chain);
  }

  private static SOARecord soa(Name origin, long serial, long ttl) {
    Name mailbox;
    try {
      mailbox = Name.concatenate(Name.fromConstantString("hostmaster"), origin);
    } catch (NameTooLongException e) {
      mailbox = origin;
    }
    // RFC 1912 §2.2 style timers; the minimum is the negative TTL (RFC 2308 §5).
    return new SOARecord(
        origin, DClass.IN, ttl, NAME_SERVER, mailbox, serial, 3600, 900, 604800, ttl);
  }

  private static void add(Map<Name, Map<Integer, RRset>> all, Record r) {
    RRset rrset =
        all.computeIfAbsent(r.getName(), n -> new TreeMap<>())
            .computeIfAbsent(r.getType(), t -> new RRset());
    // RFC 2181 §5: an RRset holds no duplicate records (and signing requires that, RFC 4034
    // §6.3).
    if (!rrset.rrs(false).contains(r)) {
      rrset.addRR(r);
    }
  }

  /** RFC 2181 §10.1: a CNAME is alone at its name and there is only one. */
  private static void checkCnames(Map<Name, Map<Integer, RRset>> all) {
    for (Map.Entry<Name, Map<Integer, RRset>> e : all.entrySet()) {
      RRset cname = e.getValue().get(Type.CNAME);
      if (cname == null) {
        continue;
      }
      if (cname.size() > 1) {
        throw new IllegalArgumentException("more than one CNAME at " + e.getKey());
      }
      if (e.getValue().size() > 1) {
        List<String> others = new ArrayList<>();
        for (int type : e.getValue().keySet()) {
          if (type != Type.CNAME) {
            others.add(Type.string(type));
          }
        }
        throw new IllegalArgumentException(
            "CNAME at " + e.getKey() + " cannot coexist with " + others + " (RFC 2181 §10.1)");
      }
    }
  }

  private static boolean isBelowCut(Name name, Name origin, Set<Name> cuts) {
    for (int strip = 1; strip < name.labels() - origin.labels(); strip++) {
      if (cuts.contains(new Name(name, strip))) {
        return true;
      }
    }
    return false;
  }

  /**
   * RFC 4034 §4.1 and RFC 4035 §2.3: one NSEC per authoritative name, in canonical order, the last
   * pointing back to the apex; the bitmap lists the types present plus NSEC and RRSIG (at a
   * delegation: NS, DS if any, NSEC, RRSIG). Each has the TTL {@code nsecTtl}.
   */
  private static void addNsecChain(
      NavigableMap<Name, Map<Integer, RRset>> nodes, Name origin, long nsecTtl) {
    List<Name> names = new ArrayList<>(nodes.keySet());
    for (int i = 0; i < names.size(); i++) {
      Name owner = names.get(i);
      Name next = i + 1 < names.size() ? names.get(i + 1) : origin;
      Map<Integer, RRset> node = Objects.requireNonNull(nodes.get(owner)); // one of its keys
      int[] types = new int[node.size() + 2];
      int n = 0;
      for (int type : node.keySet()) {
        types[n++] = type;
      }
      types[n++] = Type.NSEC;
      types[n] = Type.RRSIG;
      RRset nsec = new RRset();
      // RFC 4035 §2.3: the NSEC TTL is the SOA minimum (the default); a zone may set another.
      nsec.addRR(new NSECRecord(owner, DClass.IN, nsecTtl, next, types));
      node.put(Type.NSEC, nsec);
    }
  }

  /**
   * RFC 5155 §7.1: one NSEC3 per authoritative name and per empty non-terminal, owned by the
   * base32hex hash of the name below the apex, in hash order, each naming the next hash and the
   * last the first; the bitmap lists the types at the original name, RRSIG if any of them is
   * signed, never NSEC3 itself (an empty non-terminal's bitmap is empty). With Opt-Out every record
   * has the flag and unsigned delegations (NS without DS) are left out (§6, §7.1). Each has the TTL
   * {@code nsecTtl}.
   */
  private static NavigableMap<String, RRset> nsec3Chain(
      NavigableMap<Name, Map<Integer, RRset>> nodes,
      Name origin,
      Set<Name> cuts,
      Nsec3Params params,
      long nsecTtl) {
    NavigableMap<String, Name> byHash = new TreeMap<>();
    Map<Name, int[]> bitmaps = new HashMap<>();
    for (Map.Entry<Name, Map<Integer, RRset>> e : nodes.entrySet()) {
      Name name = e.getKey();
      Map<Integer, RRset> node = e.getValue();
      boolean cut = cuts.contains(name);
      if (params.optOut() && cut && !node.containsKey(Type.DS)) {
        continue; // RFC 5155 §6: an unsigned delegation may be covered by an Opt-Out span
      }
      List<Integer> types = new ArrayList<>(node.keySet());
      if (!cut || node.containsKey(Type.DS)) {
        types.add(Type.RRSIG); // every RRset here is signed, but the NS of a delegation
      }
      bitmaps.put(name, types.stream().mapToInt(Integer::intValue).toArray());
      byHash.put(Nsec3Chain.hash(name, params), name);
      // RFC 5155 §7.1: every empty non-terminal between the name and the apex has an NSEC3 too.
      for (Name ancestor = name; !ancestor.equals(origin); ) {
        ancestor = DnsNames.parent(ancestor);
        if (!nodes.containsKey(ancestor) && !bitmaps.containsKey(ancestor)) {
          bitmaps.put(ancestor, new int[0]);
          byHash.put(Nsec3Chain.hash(ancestor, params), ancestor);
        }
      }
    }
    if (byHash.size() != bitmaps.size()) {
      throw new IllegalStateException("NSEC3 hash collision in zone " + origin);
    }
    List<String> hashes = new ArrayList<>(byHash.keySet());
    int flags = params.optOut() ? NSEC3Record.Flags.OPT_OUT : 0;
    NavigableMap<String, RRset> chain = new TreeMap<>();
    for (int i = 0; i < hashes.size(); i++) {
      String hash = hashes.get(i);
      String next = hashes.get((i + 1) % hashes.size());
      Name original = Objects.requireNonNull(byHash.get(hash));
      RRset rrset = new RRset();
      rrset.addRR(
          new NSEC3Record(
              Nsec3Chain.owner(hash, origin),
              DClass.IN,
              nsecTtl,
              NSEC3Record.SHA1_DIGEST_ID,
              flags,
              params.iterations(),
              params.saltOrNull(),
              Nsec3Chain.nextField(next),
              Objects.requireNonNull(bitmaps.get(original))));
      chain.put(hash, rrset);
    }
    return chain;
  }

  /** Signs each NSEC3 RRset of the chain in place, as {@link #signAll} signs the rest. */
  private static void signNsec3(
      NavigableMap<String, RRset> chain,
      ZoneKey key,
      boolean expired,
      Map<Integer, Duration> validity,
      Instant now) {
    Instant inception = expired ? now.minus(EXPIRED_INCEPTION) : now.minus(INCEPTION_SLACK);
    Instant expiration =
        expired
            ? now.minus(EXPIRED_EXPIRATION)
            : now.plus(validity.getOrDefault(Type.NSEC3, VALIDITY));
    for (Map.Entry<String, RRset> e : chain.entrySet()) {
      RRset signed = new RRset(e.getValue());
      signed.addRR(key.sign(e.getValue(), inception, expiration));
      e.setValue(signed);
    }
  }

  /**
   * Signs every authoritative RRset except the NS RRset at a cut (RFC 4035 §2.2): from one hour
   * before {@code now} to {@code now} plus the type's validity (30 days unless {@code validity}
   * says otherwise), or with signatures that expired a day ago.
   */
  private static void signAll(
      NavigableMap<Name, Map<Integer, RRset>> nodes,
      Set<Name> cuts,
      ZoneKey key,
      boolean expired,
      Map<Integer, Duration> validity,
      Instant now) {
    Instant inception = expired ? now.minus(EXPIRED_INCEPTION) : now.minus(INCEPTION_SLACK);
    for (Map.Entry<Name, Map<Integer, RRset>> e : nodes.entrySet()) {
      boolean cut = cuts.contains(e.getKey());
      for (Map.Entry<Integer, RRset> typed : e.getValue().entrySet()) {
        if (cut && typed.getKey() == Type.NS) {
          continue;
        }
        RRset rrset = typed.getValue();
        Instant expiration =
            expired
                ? now.minus(EXPIRED_EXPIRATION)
                : now.plus(validity.getOrDefault(typed.getKey(), VALIDITY));
        RRset signed = new RRset(rrset);
        signed.addRR(key.sign(rrset, inception, expiration));
        typed.setValue(signed);
      }
    }
  }

  private static NavigableMap<Name, Map<Integer, RRset>> freeze(
      NavigableMap<Name, Map<Integer, RRset>> nodes) {
    NavigableMap<Name, Map<Integer, RRset>> frozen = new TreeMap<>();
    for (Map.Entry<Name, Map<Integer, RRset>> e : nodes.entrySet()) {
      frozen.put(e.getKey(), Collections.unmodifiableMap(new TreeMap<>(e.getValue())));
    }
    return Collections.unmodifiableNavigableMap(frozen);
  }

  private static Map<Name, Map<Integer, RRset>> freezeEach(Map<Name, Map<Integer, RRset>> glue) {
    Map<Name, Map<Integer, RRset>> frozen = new HashMap<>();
    for (Map.Entry<Name, Map<Integer, RRset>> e : glue.entrySet()) {
      frozen.put(e.getKey(), Collections.unmodifiableMap(new TreeMap<>(e.getValue())));
    }
    return frozen;
  }
}
