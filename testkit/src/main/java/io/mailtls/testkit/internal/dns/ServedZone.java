package io.mailtls.testkit.internal.dns;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.xbill.DNS.CNAMERecord;
import org.xbill.DNS.NSRecord;
import org.xbill.DNS.Name;
import org.xbill.DNS.RRSIGRecord;
import org.xbill.DNS.RRset;
import org.xbill.DNS.Record;
import org.xbill.DNS.Type;

/**
 * One zone as served: its authoritative RRsets in canonical order (RFC 4034 §6.1), each with its
 * RRSIG and, if signed, the NSEC chain (or the NSEC3 chain, RFC 5155); plus the glue below
 * delegations to zones the server does not hold. Answers lookups as an authoritative server does
 * (RFC 1034 §4.3.2, RFC 4035 §3.1).
 *
 * <p>Immutable and thread-safe. Built by {@link ZoneCompiler}.
 */
public final class ServedZone {
  private final Name origin;
  private final boolean signed;
  private final NavigableMap<Name, Map<Integer, RRset>> nodes;
  private final Map<Name, Map<Integer, RRset>> glue;
  private final Set<Name> cuts;
  private final @Nullable Nsec3Chain nsec3;

  ServedZone(
      Name origin,
      boolean signed,
      NavigableMap<Name, Map<Integer, RRset>> nodes,
      Map<Name, Map<Integer, RRset>> glue,
      Set<Name> cuts,
      @Nullable Nsec3Chain nsec3) {
    this.origin = origin;
    this.signed = signed;
    this.nodes = nodes;
    this.glue = glue;
    this.cuts = cuts;
    this.nsec3 = nsec3;
  }

  /** The zone's NSEC3 chain, or null if it denies with NSEC (or is unsigned). */
  public @Nullable Nsec3Chain nsec3() {
    return nsec3;
  }

  /** The zone apex. */
  public Name origin() {
    return origin;
  }

  /** Whether the zone is signed. */
  public boolean signed() {
    return signed;
  }

  /** The authoritative names, in canonical order (the owners of the NSEC chain, if signed). */
  public Set<Name> names() {
    return nodes.keySet();
  }

  /** The RRset of {@code type} at {@code name}, with its signatures; null if there is none. */
  public @Nullable RRset rrset(Name name, int type) {
    Map<Integer, RRset> node = nodes.get(name);
    return node == null ? null : node.get(type);
  }

  /**
   * Looks {@code qname} up in this zone.
   *
   * @param qname a name at or below the origin
   * @param qtype the query type
   */
  public ZoneAnswer lookup(Name qname, int qtype) {
    // RFC 1034 §4.3.2 step 3b: a delegation at or above qname is a referral, except that the
    // DS RRset at a cut belongs to this (the parent) side (RFC 4035 §3.1.4.1).
    Name cut = cutAbove(qname, qtype);
    if (cut != null) {
      return referral(cut);
    }
    Map<Integer, RRset> node = nodes.get(qname);
    if (node != null) {
      return fromNode(qname, node, qtype);
    }
    Nsec3Chain chain = nsec3;
    if (chain != null) {
      return nsec3Lookup(chain, qname, qtype);
    }
    if (hasDescendants(qname)) {
      // An empty non-terminal exists but holds no data: NODATA, proved by the NSEC whose owner
      // precedes qname and whose next name is qname's descendant (RFC 4035 §3.1.3.1, RFC 7129
      // §3.2).
      return ZoneAnswer.nodata(withProofs(soa(), covering(qname)));
    }
    Name closestEncloser = closestEncloser(qname);
    Name wildcard = DnsNames.wildcardOf(closestEncloser);
    Map<Integer, RRset> wildNode = wildcard == null ? null : nodes.get(wildcard);
    if (wildNode != null) {
      return fromWildcard(qname, wildNode, qtype);
    }
    // RFC 4035 §3.1.3.2: NXDOMAIN needs the NSEC covering qname and the NSEC covering the
    // wildcard at the closest encloser (one RRset if both are the same).
    List<RRset> authority = withProofs(soa(), covering(qname));
    if (wildcard != null) {
      addProof(authority, covering(wildcard));
    }
    return ZoneAnswer.nxdomain(authority);
  }

  /**
   * A name without a node of its own, in a zone that denies with NSEC3: RFC 5155 §7.2.3 (an empty
   * non-terminal: its matching NSEC3), §7.2.6 and §7.2.5 (a wildcard answer, or NODATA, with the
   * NSEC3 covering the next closer name), §7.2.2 (NXDOMAIN: the closest encloser proof and the
   * NSEC3 covering the wildcard at the closest encloser).
   */
  private ZoneAnswer nsec3Lookup(Nsec3Chain chain, Name qname, int qtype) {
    if (hasDescendants(qname)) {
      return ZoneAnswer.nodata(withProofs(soa(), chain.matching(qname)));
    }
    Name closestEncloser = closestEncloser(qname);
    RRset nextCloser = chain.covering(Nsec3Chain.nextCloser(qname, closestEncloser));
    Name wildcard = DnsNames.wildcardOf(closestEncloser);
    Map<Integer, RRset> wildNode = wildcard == null ? null : nodes.get(wildcard);
    if (wildcard != null && wildNode != null) {
      RRset rrset = qtype == Type.ANY ? null : wildNode.get(qtype);
      RRset cname = wildNode.get(Type.CNAME);
      if (qtype == Type.ANY) {
        List<RRset> expanded = new ArrayList<>();
        for (RRset each : wildNode.values()) {
          expanded.add(expand(each, qname));
        }
        return ZoneAnswer.answer(expanded, withProofs(nextCloser));
      }
      if (rrset != null) {
        return ZoneAnswer.answer(List.of(expand(rrset, qname)), withProofs(nextCloser));
      }
      if (cname != null) {
        return ZoneAnswer.cname(
            expand(cname, qname),
            ((CNAMERecord) cname.first()).getTarget(),
            withProofs(nextCloser));
      }
      // §7.2.5: the closest encloser proof and the NSEC3 matching the wildcard.
      List<RRset> authority = withProofs(soa(), chain.matching(closestEncloser), nextCloser);
      addProof(authority, chain.matching(wildcard));
      return ZoneAnswer.nodata(authority);
    }
    List<RRset> authority = withProofs(soa(), chain.matching(closestEncloser), nextCloser);
    if (wildcard != null) {
      addProof(authority, chain.covering(wildcard));
    }
    return ZoneAnswer.nxdomain(authority);
  }

  /**
   * The NSEC3 records proving that {@code name} has no record of a type its node lacks: the NSEC3
   * matching it (RFC 5155 §7.2.3, §7.2.4), or, for an unsigned delegation an Opt-Out span leaves
   * out, the closest provable encloser proof (§7.2.4 for DS, §7.2.7 for a referral).
   */
  private List<RRset> nsec3Nodata(Nsec3Chain chain, Name name) {
    RRset matching = chain.matching(name);
    if (matching != null) {
      return withProofs(matching);
    }
    Name encloser = chain.closestProvableEncloser(name);
    return withProofs(
        chain.matching(encloser), chain.covering(Nsec3Chain.nextCloser(name, encloser)));
  }

  private ZoneAnswer fromNode(Name qname, Map<Integer, RRset> node, int qtype) {
    if (qtype == Type.ANY) {
      return ZoneAnswer.answer(new ArrayList<>(node.values()), List.of());
    }
    if (qtype == Type.RRSIG) {
      List<RRset> signedSets = signedSets(node.values());
      if (!signedSets.isEmpty()) {
        return ZoneAnswer.answer(signedSets, List.of());
      }
    } else {
      RRset rrset = node.get(qtype);
      if (rrset != null) {
        return ZoneAnswer.answer(List.of(rrset), List.of());
      }
      RRset cname = node.get(Type.CNAME);
      if (cname != null) {
        // RFC 1034 §4.3.2 step 3a: restart at the canonical name.
        return ZoneAnswer.cname(cname, ((CNAMERecord) cname.first()).getTarget(), List.of());
      }
    }
    // RFC 4035 §3.1.3.1: NODATA carries the NSEC at qname, whose bitmap lacks qtype.
    Nsec3Chain chain = nsec3;
    if (chain != null) {
      List<RRset> authority = withProofs(soa());
      for (RRset proof : nsec3Nodata(chain, qname)) {
        addProof(authority, proof);
      }
      return ZoneAnswer.nodata(authority);
    }
    return ZoneAnswer.nodata(withProofs(soa(), node.get(Type.NSEC)));
  }

  private ZoneAnswer fromWildcard(Name qname, Map<Integer, RRset> wildNode, int qtype) {
    // RFC 4035 §3.1.3.3: an answer expanded from a wildcard carries the NSEC proving that
    // qname itself does not exist.
    RRset noQname = covering(qname);
    if (qtype == Type.ANY) {
      List<RRset> expanded = new ArrayList<>();
      for (RRset rrset : wildNode.values()) {
        if (rrset.getType() != Type.NSEC) {
          expanded.add(expand(rrset, qname));
        }
      }
      return ZoneAnswer.answer(expanded, withProofs(noQname));
    }
    RRset rrset = wildNode.get(qtype);
    if (rrset != null && qtype != Type.NSEC) {
      return ZoneAnswer.answer(List.of(expand(rrset, qname)), withProofs(noQname));
    }
    RRset cname = wildNode.get(Type.CNAME);
    if (cname != null) {
      return ZoneAnswer.cname(
          expand(cname, qname), ((CNAMERecord) cname.first()).getTarget(), withProofs(noQname));
    }
    // RFC 4035 §3.1.3.4: wildcard NODATA needs the NSEC covering qname and the NSEC of the
    // matching wildcard, whose bitmap lacks qtype.
    List<RRset> authority = withProofs(soa(), noQname);
    addProof(authority, wildNode.get(Type.NSEC));
    return ZoneAnswer.nodata(authority);
  }

  private ZoneAnswer referral(Name cut) {
    // A cut is a name with an NS RRset (cutAbove).
    Map<Integer, RRset> node = Objects.requireNonNull(nodes.get(cut));
    RRset ns = Objects.requireNonNull(node.get(Type.NS));
    List<RRset> authority = new ArrayList<>();
    authority.add(ns);
    // RFC 4035 §3.1.4: a signed referral carries the DS RRset, or the NSEC proving its absence.
    RRset ds = node.get(Type.DS);
    Nsec3Chain chain = nsec3;
    if (ds != null) {
      authority.add(ds);
    } else if (chain != null) {
      authority.addAll(nsec3Nodata(chain, cut)); // RFC 5155 §7.2.7
    } else if (signed) {
      authority.add(node.get(Type.NSEC));
    }
    // RFC 1034 §4.3.2 step 3b: glue addresses for name servers inside this zone.
    List<RRset> additional = new ArrayList<>();
    for (Record r : ns.rrs(false)) {
      Name target = ((NSRecord) r).getTarget();
      for (int type : new int[] {Type.A, Type.AAAA}) {
        RRset address = glueOrData(target, type);
        if (address != null) {
          additional.add(address);
        }
      }
    }
    return ZoneAnswer.referral(authority, additional);
  }

  private @Nullable RRset glueOrData(Name name, int type) {
    Map<Integer, RRset> node = glue.get(name);
    if (node == null) {
      node = nodes.get(name);
    }
    return node == null ? null : node.get(type);
  }

  private @Nullable Name cutAbove(Name qname, int qtype) {
    if (cuts.isEmpty()) {
      return null;
    }
    // Walk from the label just below the apex down to qname itself.
    for (int strip = qname.labels() - origin.labels() - 1; strip >= 0; strip--) {
      if (strip == 0 && qtype == Type.DS) {
        break;
      }
      Name ancestor = new Name(qname, strip);
      if (cuts.contains(ancestor)) {
        return ancestor;
      }
    }
    return null;
  }

  /** Whether some authoritative name lies below {@code name} (then {@code name} exists). */
  private boolean hasDescendants(Name name) {
    // RFC 4034 §6.1: in canonical order every descendant directly follows its ancestor.
    Name next = nodes.higherKey(name);
    return next != null && DnsNames.isStrictlyBelow(next, name);
  }

  private boolean exists(Name name) {
    return nodes.containsKey(name) || hasDescendants(name);
  }

  /** The closest encloser of a non-existent name (RFC 4592 §3.3.1). */
  private Name closestEncloser(Name qname) {
    Name candidate = qname;
    while (!candidate.equals(origin)) {
      candidate = DnsNames.parent(candidate);
      if (exists(candidate)) {
        return candidate;
      }
    }
    return origin;
  }

  /** The NSEC RRset whose owner is the last authoritative name before {@code name}. */
  private @Nullable RRset covering(Name name) {
    if (!signed) {
      return null;
    }
    Map.Entry<Name, Map<Integer, RRset>> previous = nodes.lowerEntry(name);
    // The apex sorts before every name below it, so a previous entry always exists here.
    return previous == null ? null : previous.getValue().get(Type.NSEC);
  }

  private RRset soa() {
    // The compiler refuses a zone without an SOA at its apex.
    return Objects.requireNonNull(Objects.requireNonNull(nodes.get(origin)).get(Type.SOA));
  }

  private static List<RRset> withProofs(@Nullable RRset... rrsets) {
    List<RRset> list = new ArrayList<>();
    for (RRset rrset : rrsets) {
      addProof(list, rrset);
    }
    return list;
  }

  private static void addProof(List<RRset> list, @Nullable RRset rrset) {
    if (rrset != null && !list.contains(rrset)) {
      list.add(rrset);
    }
  }

  private static List<RRset> signedSets(Collection<RRset> rrsets) {
    List<RRset> result = new ArrayList<>();
    for (RRset rrset : rrsets) {
      if (rrset.sigSize() > 0) {
        result.add(rrset);
      }
    }
    return result;
  }

  /**
   * The RRset of a wildcard owner rewritten to {@code qname}; the RRSIGs keep their label count,
   * which tells a validator the answer was expanded (RFC 4035 §5.3.4).
   */
  private static RRset expand(RRset wild, Name qname) {
    RRset expanded = new RRset();
    for (Record r : wild.rrs(false)) {
      expanded.addRR(r.withName(qname));
    }
    for (RRSIGRecord sig : wild.sigs()) {
      expanded.addRR((RRSIGRecord) sig.withName(qname));
    }
    return expanded;
  }
}
