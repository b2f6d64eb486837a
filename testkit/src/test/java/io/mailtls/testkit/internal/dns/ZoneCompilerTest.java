package io.mailtls.testkit.internal.dns;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.DNSSEC;
import org.xbill.DNS.DSRecord;
import org.xbill.DNS.MXRecord;
import org.xbill.DNS.NSEC3Record;
import org.xbill.DNS.NSECRecord;
import org.xbill.DNS.NSRecord;
import org.xbill.DNS.Name;
import org.xbill.DNS.RRSIGRecord;
import org.xbill.DNS.RRset;
import org.xbill.DNS.Record;
import org.xbill.DNS.Type;
import org.xbill.DNS.utils.base32;

/** The served form of zones: NSEC chain, delegations and lookups (RFC 4034, RFC 4035). */
class ZoneCompilerTest {
  private static final Instant NOW = Instant.parse("2031-01-01T00:00:00Z");
  private static final Name ROOT = Name.root;
  private static final Name TEST = name("test.");
  private static final Name EXAMPLE = name("example.test.");

  private final KeyRing keys = new KeyRing(300);

  @Test
  void nsecChainIsInCanonicalOrderAndWrapsToTheApex() {
    ServedZone zone =
        compile(
                zone(
                    EXAMPLE,
                    a("z.example.test."),
                    a("a.example.test."),
                    a("*.example.test."),
                    a("b.a.example.test."),
                    a("_25._tcp.a.example.test.")))
            .zone(EXAMPLE);

    // RFC 4034 §6.1: sort by labels right to left; a name's descendants follow it.
    assertThat(zone.names())
        .containsExactly(
            name("example.test."),
            name("*.example.test."),
            name("a.example.test."),
            name("_25._tcp.a.example.test."),
            name("b.a.example.test."),
            name("z.example.test."));
    List<Name> owners = new ArrayList<>(zone.names());
    for (int i = 0; i < owners.size(); i++) {
      NSECRecord nsec = (NSECRecord) zone.rrset(owners.get(i), Type.NSEC).first();
      Name expectedNext = i + 1 < owners.size() ? owners.get(i + 1) : EXAMPLE;
      assertThat(nsec.getNext()).isEqualTo(expectedNext);
      assertThat(nsec.hasType(Type.NSEC)).isTrue();
      assertThat(nsec.hasType(Type.RRSIG)).isTrue();
    }
  }

  @Test
  void everyAuthoritativeRrsetIsSignedAndVerifies() throws Exception {
    ServedZone zone = compile(zone(EXAMPLE, a("www.example.test."))).zone(EXAMPLE);

    for (Name owner : zone.names()) {
      for (int type : new int[] {Type.SOA, Type.NS, Type.DNSKEY, Type.A, Type.NSEC}) {
        RRset rrset = zone.rrset(owner, type);
        if (rrset == null) {
          continue;
        }
        assertThat(rrset.sigs()).as("%s/%s", owner, Type.string(type)).hasSize(1);
        RRSIGRecord sig = rrset.sigs().get(0);
        DNSSEC.verify(rrset, sig, keys.key(EXAMPLE).dnskey(), NOW);
        assertThat(sig.getTimeSigned()).isEqualTo(NOW.minusSeconds(3600));
        assertThat(sig.getExpire()).isEqualTo(NOW.plusSeconds(30L * 24 * 3600));
      }
    }
  }

  @Test
  void delegationOfAHeldChildHasUnsignedNsSignedDsAndATrimmedBitmap() {
    ZoneSet set = compile(zone(EXAMPLE), zone(name("sub.example.test.")));
    ServedZone parent = set.zone(EXAMPLE);
    Name cut = name("sub.example.test.");

    RRset ns = parent.rrset(cut, Type.NS);
    RRset ds = parent.rrset(cut, Type.DS);
    NSECRecord nsec = (NSECRecord) parent.rrset(cut, Type.NSEC).first();

    // RFC 4035 §2.2: the delegation NS RRset is not signed; the DS RRset is.
    assertThat(ns.sigs()).isEmpty();
    assertThat(ds.sigs()).hasSize(1);
    assertThat(((DSRecord) ds.first()).getFootprint())
        .isEqualTo(keys.key(cut).dnskey().getFootprint());
    // RFC 4035 §2.3: at a delegation the bitmap holds NS, DS, NSEC and RRSIG only.
    assertThat(nsec.getTypes()).containsExactlyInAnyOrder(Type.NS, Type.DS, Type.NSEC, Type.RRSIG);
    // And the child is delegated from the nearest held parent, not from test.
    assertThat(set.zone(TEST).names()).doesNotContain(cut);
  }

  @Test
  void unsignedChildGetsNoDsAndUnsignedZoneNoDnssecRecords() {
    ZoneDefinition unsigned =
        new ZoneDefinition(name("u.example.test."), List.of(), false, false, false, 1);
    ZoneSet set = compile(zone(EXAMPLE), unsigned);
    Name cut = name("u.example.test.");

    NSECRecord nsec = (NSECRecord) set.zone(EXAMPLE).rrset(cut, Type.NSEC).first();

    // RFC 4035 §5.2: NS bit without DS bit proves the delegation insecure.
    assertThat(nsec.getTypes()).containsExactlyInAnyOrder(Type.NS, Type.NSEC, Type.RRSIG);
    ServedZone child = set.zone(cut);
    assertThat(child.signed()).isFalse();
    assertThat(child.rrset(cut, Type.DNSKEY)).isNull();
    assertThat(child.rrset(cut, Type.NSEC)).isNull();
    assertThat(child.rrset(cut, Type.SOA).sigs()).isEmpty();
  }

  @Test
  void wrongDsMatchesNoKeyOfTheChild() {
    Name child = name("w.example.test.");
    ZoneSet set =
        compile(zone(EXAMPLE), new ZoneDefinition(child, List.of(), true, true, false, 1));

    DSRecord ds = (DSRecord) set.zone(EXAMPLE).rrset(child, Type.DS).first();

    assertThat(ds.getFootprint()).isNotEqualTo(keys.key(child).dnskey().getFootprint());
    assertThat(set.zone(child).rrset(child, Type.DNSKEY).first())
        .isEqualTo(keys.key(child).dnskey());
  }

  @Test
  void expiredSignaturesLieInThePast() {
    ServedZone zone =
        compile(new ZoneDefinition(EXAMPLE, List.of(), true, false, true, 1)).zone(EXAMPLE);

    RRSIGRecord sig = zone.rrset(EXAMPLE, Type.SOA).sigs().get(0);

    assertThat(sig.getExpire()).isBefore(NOW);
    assertThat(sig.getTimeSigned()).isBefore(sig.getExpire());
  }

  @Test
  void namesBelowAForeignDelegationAreGlueOutsideTheChain() {
    Name cut = name("far.example.test.");
    Name glue = name("ns.far.example.test.");
    ServedZone zone =
        compile(
                zone(
                    EXAMPLE,
                    new NSRecord(cut, DClass.IN, 300, glue),
                    a("ns.far.example.test."),
                    a("deep.ns.far.example.test.")))
            .zone(EXAMPLE);

    assertThat(zone.names()).contains(cut).doesNotContain(glue);

    ZoneAnswer referral = zone.lookup(name("www.far.example.test."), Type.A);

    assertThat(referral.kind()).isEqualTo(ZoneAnswer.Kind.REFERRAL);
    assertThat(referral.authority()).extracting(RRset::getType).containsExactly(Type.NS, Type.NSEC);
    assertThat(referral.additional()).extracting(RRset::getName).containsExactly(glue);
    // DS at the cut is answered by the parent itself (RFC 4035 §3.1.4.1): NODATA.
    assertThat(zone.lookup(cut, Type.DS).kind()).isEqualTo(ZoneAnswer.Kind.NODATA);
  }

  @Test
  void lookupsProveWhatTheyDeny() {
    ServedZone zone =
        compile(zone(EXAMPLE, a("mx1.example.test."), a("_25._tcp.mx1.example.test.")))
            .zone(EXAMPLE);

    ZoneAnswer nodata = zone.lookup(name("mx1.example.test."), Type.MX);
    ZoneAnswer ent = zone.lookup(name("_tcp.mx1.example.test."), Type.TLSA);
    ZoneAnswer nx = zone.lookup(name("zz.example.test."), Type.A);

    assertThat(nodata.kind()).isEqualTo(ZoneAnswer.Kind.NODATA);
    assertThat(nsecOwners(nodata)).containsExactly(name("mx1.example.test."));
    assertThat(ent.kind()).isEqualTo(ZoneAnswer.Kind.NODATA);
    assertThat(nsecOwners(ent)).containsExactly(name("mx1.example.test."));
    // The covering NSEC of zz and of *.example.test are different here: both are present.
    assertThat(nx.kind()).isEqualTo(ZoneAnswer.Kind.NXDOMAIN);
    assertThat(nsecOwners(nx))
        .containsExactly(name("_25._tcp.mx1.example.test."), name("example.test."));
  }

  @Test
  void nxdomainProofsAreDeduplicated() {
    ServedZone zone = compile(zone(EXAMPLE)).zone(EXAMPLE);

    ZoneAnswer nx = zone.lookup(name("nope.example.test."), Type.A);

    // The apex NSEC (next = apex) covers both the name and the wildcard.
    assertThat(nsecOwners(nx)).containsExactly(EXAMPLE);
  }

  @Test
  void dsOfAZoneApexIsSelectedFromTheParent() {
    ZoneSet set = compile(zone(EXAMPLE));

    assertThat(set.select(EXAMPLE, Type.DS).origin()).isEqualTo(TEST);
    assertThat(set.select(EXAMPLE, Type.DNSKEY).origin()).isEqualTo(EXAMPLE);
    assertThat(set.select(ROOT, Type.DS).origin()).isEqualTo(ROOT);
    assertThat(set.select(name("a.b.example.test."), Type.DS).origin()).isEqualTo(EXAMPLE);
  }

  @Test
  void wildcardExpansionKeepsTheSignatureLabelCount() {
    ServedZone zone =
        compile(zone(EXAMPLE, new MXRecord(name("*.example.test."), DClass.IN, 300, 10, EXAMPLE)))
            .zone(EXAMPLE);

    ZoneAnswer answer = zone.lookup(name("a.b.example.test."), Type.MX);

    assertThat(answer.kind()).isEqualTo(ZoneAnswer.Kind.ANSWER);
    RRset mx = answer.answer().get(0);
    assertThat(mx.getName()).isEqualTo(name("a.b.example.test."));
    assertThat(mx.sigs().get(0).getLabels()).isEqualTo(2); // RFC 4035 §5.3.4
    assertThat(nsecOwners(answer)).isNotEmpty();
  }

  // ------------------------------------------------------------------ NSEC3 (RFC 5155)

  @Test
  void nsec3ChainCoversEveryNameAndEmptyNonTerminalInHashOrderAndWraps() {
    Nsec3Params params = new Nsec3Params(0, new byte[0], false);
    ServedZone zone =
        compile(nsec3Zone(EXAMPLE, params, a("a.example.test."), a("_25._tcp.a.example.test.")))
            .zone(EXAMPLE);

    // RFC 5155 §4: NSEC3PARAM at the apex, signed; no NSEC anywhere.
    RRset param = zone.rrset(EXAMPLE, Type.NSEC3PARAM);
    assertThat(param).isNotNull();
    assertThat(param.sigs()).hasSize(1);
    for (Name n : zone.names()) {
      assertThat(zone.rrset(n, Type.NSEC)).isNull();
    }
    Nsec3Chain chain = zone.nsec3();
    assertThat(chain).isNotNull();
    // §7.1: the apex, a, _25._tcp.a and the empty non-terminal _tcp.a.
    List<NSEC3Record> records = new ArrayList<>();
    for (RRset rrset : chain.rrsets()) {
      assertThat(rrset.sigs()).hasSize(1);
      records.add((NSEC3Record) rrset.first());
    }
    assertThat(records).hasSize(4);
    for (String n : List.of("example.test.", "a.example.test.", "_tcp.a.example.test.")) {
      assertThat(chain.matching(name(n))).as(n).isNotNull();
    }
    NSEC3Record ent = (NSEC3Record) chain.matching(name("_tcp.a.example.test.")).first();
    assertThat(ent.getTypes()).isEmpty();
    NSEC3Record apex = (NSEC3Record) chain.matching(EXAMPLE).first();
    assertThat(apex.hasType(Type.NSEC3PARAM)).isTrue();
    assertThat(apex.hasType(Type.RRSIG)).isTrue();
    assertThat(apex.hasType(Type.NSEC3)).isFalse();
    // Each names the next hash; the last the first.
    for (int i = 0; i < records.size(); i++) {
      NSEC3Record next = records.get((i + 1) % records.size());
      assertThat(records.get(i).getNext())
          .isEqualTo(
              new base32(base32.Alphabet.BASE32HEX, false, false)
                  .fromString(next.getName().getLabelString(0)));
      assertThat(records.get(i).getFlags()).isZero();
    }
  }

  @Test
  void nsec3NxdomainCarriesTheClosestEncloserProofAndTheWildcardCover() {
    Nsec3Params params = new Nsec3Params(0, new byte[0], false);
    ServedZone zone = compile(nsec3Zone(EXAMPLE, params, a("a.example.test."))).zone(EXAMPLE);
    Nsec3Chain chain = zone.nsec3();

    ZoneAnswer nx = zone.lookup(name("x.y.a.example.test."), Type.A);

    assertThat(nx.kind()).isEqualTo(ZoneAnswer.Kind.NXDOMAIN);
    // RFC 5155 §7.2.2: matching a (the closest encloser), covering y.a (next closer) and *.a.
    assertThat(nx.authority())
        .contains(chain.matching(name("a.example.test.")))
        .contains(chain.covering(name("y.a.example.test.")))
        .contains(chain.covering(name("*.a.example.test.")));
    assertThat(nsecOwners(nx)).isEmpty();
  }

  @Test
  void nsec3OptOutLeavesUnsignedDelegationsOutAndProvesThemByTheirEncloser() {
    Nsec3Params params = new Nsec3Params(0, new byte[0], true);
    ServedZone zone =
        compile(
                nsec3Zone(
                    EXAMPLE,
                    params,
                    new NSRecord(name("child.example.test."), DClass.IN, 300, EXAMPLE)))
            .zone(EXAMPLE);
    Nsec3Chain chain = zone.nsec3();
    assertThat(chain.matching(name("child.example.test."))).isNull();
    for (RRset rrset : chain.rrsets()) {
      assertThat(((NSEC3Record) rrset.first()).getFlags()).isEqualTo(NSEC3Record.Flags.OPT_OUT);
    }

    // RFC 5155 §7.2.7: the referral carries the closest provable encloser proof.
    ZoneAnswer referral = zone.lookup(name("www.child.example.test."), Type.A);
    assertThat(referral.kind()).isEqualTo(ZoneAnswer.Kind.REFERRAL);
    assertThat(referral.authority())
        .contains(chain.matching(EXAMPLE))
        .contains(chain.covering(name("child.example.test.")));
  }

  // ------------------------------------------------------------------ helpers

  private static ZoneDefinition nsec3Zone(Name origin, Nsec3Params params, Record... records) {
    return new ZoneDefinition(
        origin, List.of(records), true, false, false, 1, null, Map.of(), params);
  }

  private ZoneSet compile(ZoneDefinition... zones) {
    List<ZoneDefinition> all = new ArrayList<>();
    all.add(ZoneDefinition.empty(ROOT));
    all.add(ZoneDefinition.empty(TEST));
    all.addAll(List.of(zones));
    return ZoneCompiler.compile(all, keys, NOW, ZoneCompiler.TTL);
  }

  private static ZoneDefinition zone(Name origin, Record... records) {
    return new ZoneDefinition(origin, List.of(records), true, false, false, 1);
  }

  private static Record a(String owner) {
    return new ARecord(name(owner), DClass.IN, 300, new byte[] {127, 0, 0, 1});
  }

  private static List<Name> nsecOwners(ZoneAnswer answer) {
    List<Name> owners = new ArrayList<>();
    for (RRset rrset : answer.authority()) {
      if (rrset.getType() == Type.NSEC) {
        owners.add(rrset.getName());
      }
    }
    return owners;
  }

  private static Name name(String text) {
    return Name.fromConstantString(text);
  }
}
