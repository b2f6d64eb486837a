package io.mailtls.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.testkit.FakeClock;
import io.mailtls.testkit.TestDnsServer;
import io.mailtls.testkit.ValidatingResolverServer;
import java.io.IOException;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.xbill.DNS.ExtendedFlags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

/**
 * Denial of existence with NSEC3 (RFC 5155), as most TLDs and many zones serve it, against the
 * testkit's NSEC3-signed zones on loopback, in both DNSSEC modes: NXDOMAIN and NODATA proved by
 * NSEC3 are secure (§8.4–§8.6), a proof that is missing or does not verify is bogus and never
 * insecure (RFC 4035 §5.4), an Opt-Out span over an unsigned delegation is insecure (§8.9, §9.2), a
 * wildcard expansion is secure with the NSEC3 covering its next closer name (§8.8), more iterations
 * than the validator accepts make the zone's denials insecure (RFC 9276 §3.2), and the answer cache
 * keeps an NSEC3 denial no longer than its proof (RFC 9077 §3–§4).
 */
@SuppressWarnings("CanonicalDuration") // TTLs in seconds, as DNS zones give them
class Nsec3DenialTest {

  /** dnsjava's validator accepts at most 150 iterations with a 256-bit (ECDSA P-256) zone key. */
  private static final int DNSJAVA_MAX_ITERATIONS_P256 = 150;

  private static final byte[] NO_SALT = new byte[0];

  /** Real time, whole seconds: the validator reads signature validity off the system clock. */
  private final FakeClock clock = new FakeClock(Instant.now().truncatedTo(ChronoUnit.SECONDS));

  private TestDnsServer dns;
  private ValidatingResolverServer validatingResolver;

  @BeforeEach
  void start() {
    dns =
        TestDnsServer.builder()
            .clock(clock)
            .zone(
                "nsec3.test",
                z ->
                    z.nsec3(0, NO_SALT, false)
                        .mx("nsec3.test", 10, "mx.nsec3.test")
                        .a("mx.nsec3.test", "127.0.0.2")
                        .txt("deep.ent.nsec3.test", "below an empty non-terminal")
                        .a("*.wild.nsec3.test", "127.0.0.3")
                        .mx("forged.nsec3.test", 10, "mx.nsec3.test")
                        .mx("bare.nsec3.test", 10, "mx.nsec3.test"))
            .zone(
                "salted.test",
                z ->
                    z.nsec3(DNSJAVA_MAX_ITERATIONS_P256, HexFormat.of().parseHex("cafe0123"), false)
                        .a("mx.salted.test", "127.0.0.2"))
            .zone(
                "costly.test",
                z ->
                    z.nsec3(DNSJAVA_MAX_ITERATIONS_P256 + 1, NO_SALT, false)
                        .a("mx.costly.test", "127.0.0.2"))
            .zone("optout.test", z -> z.nsec3(0, NO_SALT, true).a("mx.optout.test", "127.0.0.2"))
            .zone("child.optout.test", z -> z.unsigned().a("mx.child.optout.test", "127.0.0.4"))
            .zone(
                "signedkid.optout.test",
                z -> z.nsec3(0, NO_SALT, false).a("mx.signedkid.optout.test", "127.0.0.5"))
            .zone(
                "nsec3-ttl.test",
                z ->
                    z.nsec3(0, NO_SALT, false)
                        .nsecTtl(Duration.ofSeconds(60))
                        .a("mx.nsec3-ttl.test", "127.0.0.2"))
            .zone(
                "nsec3-sig.test",
                z ->
                    z.nsec3(0, NO_SALT, false)
                        .signatureValidity(Type.NSEC3, Duration.ofSeconds(120))
                        .a("mx.nsec3-sig.test", "127.0.0.2"))
            .start();
    validatingResolver =
        ValidatingResolverServer.start(
            dns.socketAddress(),
            dns.trustAnchor(),
            Clock.systemUTC(),
            InetAddress.getLoopbackAddress());
  }

  @AfterEach
  void stop() {
    validatingResolver.close();
    dns.close();
  }

  private DnsResolver resolver(DnssecMode mode) {
    DnssecResolver.Builder b =
        DnssecResolver.builder()
            .mode(mode)
            .clock(clock)
            .queryTimeout(Duration.ofSeconds(3))
            .retries(0)
            .lookupTimeout(Duration.ofSeconds(6));
    if (mode == DnssecMode.VALIDATE) {
      b.upstream(dns.socketAddress()).trustAnchors(TrustAnchors.parse(dns.trustAnchor()));
    } else {
      b.upstream(validatingResolver.socketAddress());
    }
    return b.build();
  }

  private static DnsAnswer ask(DnsResolver r, String name, DnsRecordType type) {
    return r.resolve(DomainName.of(name), type);
  }

  /** The owners of the NSEC3 records the server sends with its answer to name/type. */
  private List<String> nsec3Owners(String name, int type) throws IOException {
    SimpleResolver raw = new SimpleResolver(dns.socketAddress());
    raw.setEDNS(0, 1232, ExtendedFlags.DO);
    raw.setTCP(true);
    Message response =
        raw.send(Message.newQuery(Record.newRecord(Name.fromString(name + "."), type, 1)));
    List<String> owners = new ArrayList<>();
    for (Record r : response.getSection(Section.AUTHORITY)) {
      if (r.getType() == Type.NSEC3 && !owners.contains(r.getName().toString())) {
        owners.add(r.getName().toString());
      }
    }
    return owners;
  }

  @ParameterizedTest
  @EnumSource(DnssecMode.class)
  void nxdomainAndNodataProvedByNsec3AreSecure(DnssecMode mode) throws IOException {
    DnsResolver r = resolver(mode);
    DnsAnswer nx = ask(r, "_25._tcp.nosuch.nsec3.test", DnsRecordType.TLSA);
    assertThat(nx.outcome()).as("%s", nx).isEqualTo(DnsOutcome.NXDOMAIN);
    assertThat(nx.state()).as("%s", nx).isEqualTo(DnssecState.SECURE);

    DnsAnswer nodata = ask(r, "mx.nsec3.test", DnsRecordType.TLSA);
    assertThat(nodata.outcome()).as("%s", nodata).isEqualTo(DnsOutcome.NODATA);
    assertThat(nodata.state()).as("%s", nodata).isEqualTo(DnssecState.SECURE);

    // An empty non-terminal: NODATA with the NSEC3 matching it (RFC 5155 §7.2.3).
    DnsAnswer ent = ask(r, "ent.nsec3.test", DnsRecordType.A);
    assertThat(ent.outcome()).as("%s", ent).isEqualTo(DnsOutcome.NODATA);
    assertThat(ent.state()).as("%s", ent).isEqualTo(DnssecState.SECURE);

    // The proofs really are NSEC3: closest encloser, next closer, wildcard (RFC 5155 §7.2.2).
    assertThat(nsec3Owners("_25._tcp.nosuch.nsec3.test", Type.TLSA)).hasSizeBetween(2, 3);
    assertThat(nsec3Owners("mx.nsec3.test", Type.TLSA)).hasSize(1);
  }

  @ParameterizedTest
  @EnumSource(DnssecMode.class)
  void aSaltedChainWithinTheIterationLimitIsSecure(DnssecMode mode) {
    DnsResolver r = resolver(mode);
    DnsAnswer nx = ask(r, "nosuch.salted.test", DnsRecordType.MX);
    DnsAnswer nodata = ask(r, "mx.salted.test", DnsRecordType.TLSA);
    assertThat(nx.outcome()).isEqualTo(DnsOutcome.NXDOMAIN);
    assertThat(nx.state()).as("%s", nx).isEqualTo(DnssecState.SECURE);
    assertThat(nodata.outcome()).isEqualTo(DnsOutcome.NODATA);
    assertThat(nodata.state()).as("%s", nodata).isEqualTo(DnssecState.SECURE);
  }

  /**
   * RFC 9276 §3.2: a validator may treat NSEC3 records with more iterations than it accepts as
   * insecure, or fail (SERVFAIL). dnsjava's limit for a zone signed with a 256-bit (ECDSA P-256)
   * key is 150, its smallest configured bucket (RFC 5155 §10.3's value for 1024-bit keys), and it
   * is not consistent beyond it: after checking the NSEC3 signatures, an NXDOMAIN is INSECURE (no
   * AD), a NODATA is BOGUS (SERVFAIL with EDE 6). mailtls reports both as they are: the NODATA is a
   * failure, never "no such record" (so a host without TLSA in such a zone is skipped, and a domain
   * with no other host deferred); data in the zone stays secure.
   */
  @ParameterizedTest
  @EnumSource(DnssecMode.class)
  void moreIterationsThanTheValidatorAcceptsMakeNxdomainInsecureAndNodataBogus(DnssecMode mode) {
    DnsResolver r = resolver(mode);
    DnsAnswer nx = ask(r, "nosuch.costly.test", DnsRecordType.MX);
    DnsAnswer nodata = ask(r, "mx.costly.test", DnsRecordType.TLSA);
    DnsAnswer data = ask(r, "mx.costly.test", DnsRecordType.A);
    assertThat(nx.outcome()).as("%s", nx).isEqualTo(DnsOutcome.NXDOMAIN);
    assertThat(nx.state()).as("%s", nx).isEqualTo(DnssecState.INSECURE);
    assertThat(nodata.outcome()).as("%s", nodata).isEqualTo(DnsOutcome.FAILURE);
    assertThat(nodata.state()).as("%s", nodata).isEqualTo(DnssecState.BOGUS);
    assertThat(nodata.reason())
        .as("%s", nodata)
        .hasValueSatisfying(t -> assertThat(t).contains("iteration"));
    assertThat(data.state()).as("%s", data).isEqualTo(DnssecState.SECURE);
  }

  @ParameterizedTest
  @EnumSource(DnssecMode.class)
  void aDenialWhoseNsec3ProofIsMissingIsBogus(DnssecMode mode) {
    dns.omitDenialProofs("bare.nsec3.test", Type.TLSA);
    dns.omitDenialProofs("_25._tcp.nothere.nsec3.test", Type.TLSA);
    DnsResolver r = resolver(mode);
    DnsAnswer nodata = ask(r, "bare.nsec3.test", DnsRecordType.TLSA);
    DnsAnswer nx = ask(r, "_25._tcp.nothere.nsec3.test", DnsRecordType.TLSA);
    for (DnsAnswer a : List.of(nodata, nx)) {
      assertThat(a.outcome()).as("%s", a).isEqualTo(DnsOutcome.FAILURE);
      assertThat(a.state()).as("%s", a).isEqualTo(DnssecState.BOGUS);
    }
  }

  @ParameterizedTest
  @EnumSource(DnssecMode.class)
  void aDenialWhoseNsec3SignatureDoesNotVerifyIsBogus(DnssecMode mode) throws IOException {
    for (String owner : nsec3Owners("forged.nsec3.test", Type.TLSA)) {
      dns.corruptSignatures(owner, Type.NSEC3);
    }
    for (String owner : nsec3Owners("_25._tcp.forged-nx.nsec3.test", Type.TLSA)) {
      dns.corruptSignatures(owner, Type.NSEC3);
    }
    DnsResolver r = resolver(mode);
    DnsAnswer nodata = ask(r, "forged.nsec3.test", DnsRecordType.TLSA);
    DnsAnswer nx = ask(r, "_25._tcp.forged-nx.nsec3.test", DnsRecordType.TLSA);
    for (DnsAnswer a : List.of(nodata, nx)) {
      assertThat(a.outcome()).as("%s", a).isEqualTo(DnsOutcome.FAILURE);
      assertThat(a.state()).as("%s", a).isEqualTo(DnssecState.BOGUS);
    }
  }

  /**
   * RFC 5155 §6, §7.2.7 and §8.9: under Opt-Out the chain skips the unsigned delegation, and the
   * closest provable encloser proof with an Opt-Out NSEC3 covering the next closer name proves it
   * insecure: its data is INSECURE, not bogus. A signed child in the same zone stays SECURE.
   */
  @ParameterizedTest
  @EnumSource(DnssecMode.class)
  void anOptOutInsecureDelegationIsInsecure(DnssecMode mode) {
    DnsResolver r = resolver(mode);
    DnsAnswer insecure = ask(r, "mx.child.optout.test", DnsRecordType.A);
    assertThat(insecure.outcome()).as("%s", insecure).isEqualTo(DnsOutcome.DATA);
    assertThat(insecure.state()).as("%s", insecure).isEqualTo(DnssecState.INSECURE);
    DnsAnswer secure = ask(r, "mx.signedkid.optout.test", DnsRecordType.A);
    assertThat(secure.state()).as("%s", secure).isEqualTo(DnssecState.SECURE);
    DnsAnswer inZone = ask(r, "mx.optout.test", DnsRecordType.A);
    assertThat(inZone.state()).as("%s", inZone).isEqualTo(DnssecState.SECURE);
    // §9.2: no AD for a closest encloser proof whose next closer name lies in an Opt-Out span, so
    // an NXDOMAIN there is INSECURE (as every NXDOMAIN below an Opt-Out TLD is).
    DnsAnswer nx = ask(r, "nosuch.optout.test", DnsRecordType.MX);
    assertThat(nx.outcome()).as("%s", nx).isEqualTo(DnsOutcome.NXDOMAIN);
    assertThat(nx.state()).as("%s", nx).isEqualTo(DnssecState.INSECURE);
  }

  /**
   * RFC 5155 §7.2.6 and §8.8: a wildcard expansion with the NSEC3 covering the next closer name.
   */
  @ParameterizedTest
  @EnumSource(DnssecMode.class)
  void aWildcardExpandedAnswerIsSecure(DnssecMode mode) {
    DnsResolver r = resolver(mode);
    DnsAnswer a = ask(r, "host.wild.nsec3.test", DnsRecordType.A);
    assertThat(a.outcome()).as("%s", a).isEqualTo(DnsOutcome.DATA);
    assertThat(a.state()).as("%s", a).isEqualTo(DnssecState.SECURE);
    assertThat(a.records()).containsExactly(new DnsRecord.Address(address("127.0.0.3")));
  }

  @ParameterizedTest
  @EnumSource(DnssecMode.class)
  void aWildcardAnswerWithoutItsNsec3ProofIsBogus(DnssecMode mode) {
    dns.omitDenialProofs("stripped.wild.nsec3.test", Type.A);
    DnsAnswer a = ask(resolver(mode), "stripped.wild.nsec3.test", DnsRecordType.A);
    assertThat(a.outcome()).as("%s", a).isEqualTo(DnsOutcome.FAILURE);
    assertThat(a.state()).as("%s", a).isEqualTo(DnssecState.BOGUS);
  }

  /**
   * RFC 9077 §3–§4 with NSEC3: a secure denial is kept no longer than the NSEC3 records proving it,
   * by their TTL and their signatures' expiry, though the SOA says 300 s.
   */
  @Test
  void rfc9077AnNsec3DenialIsKeptNoLongerThanItsProof() {
    DnsResolver r = resolver(DnssecMode.VALIDATE);
    DnsAnswer nodataSig = ask(r, "mx.nsec3-sig.test", DnsRecordType.TLSA);
    DnsAnswer nxSig = ask(r, "_25._tcp.nosuch.nsec3-sig.test", DnsRecordType.TLSA);
    assertThat(nodataSig.isSecure()).isTrue();
    assertThat(nxSig.isSecure()).isTrue();
    assertThat(nodataSig.ttl())
        .as("NODATA, NSEC3 signature expiring in 120 s")
        .isEqualTo(Duration.ofSeconds(120));
    assertThat(nxSig.ttl())
        .as("NXDOMAIN, NSEC3 signature expiring in 120 s")
        .isEqualTo(Duration.ofSeconds(120));

    DnsAnswer nodata = ask(r, "mx.nsec3-ttl.test", DnsRecordType.TLSA);
    DnsAnswer nx = ask(r, "_25._tcp.nosuch.nsec3-ttl.test", DnsRecordType.TLSA);
    assertThat(nodata.outcome()).isEqualTo(DnsOutcome.NODATA);
    assertThat(nx.outcome()).isEqualTo(DnsOutcome.NXDOMAIN);
    assertThat(nodata.isSecure()).isTrue();
    assertThat(nx.isSecure()).isTrue();
    assertThat(nodata.ttl()).as("NODATA, NSEC3 TTL 60 s").isEqualTo(Duration.ofSeconds(60));
    assertThat(nx.ttl()).as("NXDOMAIN, NSEC3 TTL 60 s").isEqualTo(Duration.ofSeconds(60));

    clock.advance(Duration.ofSeconds(59));
    ask(r, "_25._tcp.nosuch.nsec3-ttl.test", DnsRecordType.TLSA);
    assertThat(dns.queryCount("_25._tcp.nosuch.nsec3-ttl.test.", Type.TLSA)).isEqualTo(1);
    clock.advance(Duration.ofSeconds(2));
    ask(r, "_25._tcp.nosuch.nsec3-ttl.test", DnsRecordType.TLSA);
    assertThat(dns.queryCount("_25._tcp.nosuch.nsec3-ttl.test.", Type.TLSA))
        .as("asked again after the NSEC3 TTL")
        .isEqualTo(2);

    // Past the NSEC3 signatures' expiry (121 s after signing) the denial is not served from the
    // cache: validated afresh, it is bogus, never a secure "no TLSA".
    clock.advance(Duration.ofSeconds(60));
    DnsAnswer expired = ask(r, "mx.nsec3-sig.test", DnsRecordType.TLSA);
    assertThat(dns.queryCount("mx.nsec3-sig.test.", Type.TLSA)).as("asked again").isGreaterThan(1);
    assertThat(expired.outcome()).isEqualTo(DnsOutcome.FAILURE);
    assertThat(expired.state()).isEqualTo(DnssecState.BOGUS);
  }

  private static InetAddress address(String literal) {
    try {
      return InetAddress.getByName(literal);
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }
}
