package io.mailtls.core.internal.dns;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DnsAnswer;
import io.mailtls.core.DnsFailure;
import io.mailtls.core.DnsOutcome;
import io.mailtls.core.DnsRecord;
import io.mailtls.core.DnsRecordType;
import io.mailtls.core.DnssecState;
import io.mailtls.core.DomainName;
import java.io.IOException;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.CNAMERecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.NSEC3Record;
import org.xbill.DNS.NSECRecord;
import org.xbill.DNS.NSRecord;
import org.xbill.DNS.Name;
import org.xbill.DNS.RRSIGRecord;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

/**
 * {@link ResponseReader} on responses built with dnsjava and read back from their wire form, as the
 * resolver receives them: values dnsjava refuses to build (TTLs with the most significant bit set)
 * are written into the wire form.
 */
@SuppressWarnings("CanonicalDuration") // TTLs in seconds, as DNS zones give them
class ResponseReaderTest {

  private static final Instant NOW = Instant.parse("2025-03-01T12:00:00Z");
  private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);

  /** The wire TTLs beyond 2^31-1 that RFC 2181 §8 says to read as zero. */
  private static final List<Long> OVERFLOWING = List.of(0x8000_0000L, 0xFFFF_FFFFL);

  private static final Name MX = name("mx.example.test.");
  private static final Name ALIAS = name("alias.example.test.");
  private static final Name ZONE = name("example.test.");

  private static Name name(String s) {
    return Name.fromConstantString(s);
  }

  private static DnsAnswer read(Message response, Name qname, DnsRecordType type) {
    DomainName name = DomainName.of(qname.toString(true));
    ResponseReader.Step step =
        new ResponseReader(256, 8, CLOCK)
            .read(new DnsjavaResolver.Chase(name, type), qname, response);
    assertThat(step.requery()).isNull();
    assertThat(step.answer()).isNotNull();
    return step.answer();
  }

  /** A response header and question, QR and RD set, with {@code flags} set too. */
  private static Message response(Name qname, int qtype, int rcode, int... flags) {
    Message m = new Message();
    m.getHeader().setFlag(Flags.QR);
    m.getHeader().setFlag(Flags.RD);
    for (int f : flags) {
      m.getHeader().setFlag(f);
    }
    m.getHeader().setRcode(rcode);
    m.addRecord(Record.newRecord(qname, qtype, DClass.IN), Section.QUESTION);
    return m;
  }

  /** {@code m} as the resolver gets it: written to the wire and parsed again. */
  private static Message received(Message m) throws IOException {
    return new Message(m.toWire());
  }

  /**
   * {@code r} with the TTL field {@code ttl} in its wire form (RFC 1035 §4.1.3: after the owner
   * name, TYPE and CLASS), read back by dnsjava, which keeps it as the unsigned 32-bit value.
   */
  private static Record withWireTtl(Record r, long ttl) throws IOException {
    byte[] wire = r.toWireCanonical();
    int at = r.getName().length() + 4;
    putU32(wire, at, ttl);
    Record patched = Record.fromWire(wire, Section.ANSWER);
    assertThat(patched.getTTL()).isEqualTo(ttl);
    return patched;
  }

  /**
   * {@code sig} with the Original TTL field {@code ttl} (RFC 4034 §3.1.4), read back by dnsjava.
   */
  private static RRSIGRecord withOriginalTtl(RRSIGRecord sig, long ttl) throws IOException {
    byte[] wire = sig.toWireCanonical();
    // After the RR's owner name, TYPE, CLASS, TTL and RDLENGTH, the RDATA begins with the Type
    // Covered (2 octets), Algorithm (1) and Labels (1) fields.
    int at = sig.getName().length() + 10 + 4;
    putU32(wire, at, ttl);
    RRSIGRecord patched = (RRSIGRecord) Record.fromWire(wire, Section.ANSWER);
    assertThat(patched.getOrigTTL()).isEqualTo(ttl);
    return patched;
  }

  private static void putU32(byte[] wire, int at, long value) {
    wire[at] = (byte) (value >>> 24);
    wire[at + 1] = (byte) (value >>> 16);
    wire[at + 2] = (byte) (value >>> 8);
    wire[at + 3] = (byte) value;
  }

  private static ARecord a(Name owner, long ttl, String address) throws IOException {
    return new ARecord(owner, DClass.IN, ttl, InetAddress.getByName(address));
  }

  private static SOARecord soa(long ttl, long minimum) {
    return new SOARecord(
        ZONE,
        DClass.IN,
        ttl,
        name("ns.example.test."),
        name("hostmaster.example.test."),
        1,
        3600,
        600,
        86400,
        minimum);
  }

  // ------------------------------------------------------------ RFC 2181 §8: TTLs

  @Test
  void rfc2181Section8ATtlWithTheMostSignificantBitSetCountsAsZero() throws Exception {
    for (long ttl : OVERFLOWING) {
      Message m = response(MX, Type.A, Rcode.NOERROR, Flags.RA);
      m.addRecord(withWireTtl(a(MX, 300, "192.0.2.1"), ttl), Section.ANSWER);

      DnsAnswer answer = read(received(m), MX, DnsRecordType.A);

      assertThat(answer.outcome()).as("TTL %d", ttl).isEqualTo(DnsOutcome.DATA);
      assertThat(answer.records())
          .containsExactly(new DnsRecord.Address(InetAddress.getByName("192.0.2.1")));
      assertThat(answer.ttl()).as("TTL %d", ttl).isEqualTo(Duration.ZERO);
    }
  }

  @Test
  void rfc2181Section8TheLargestTtlIsKeptAsItIs() throws Exception {
    Message m = response(MX, Type.A, Rcode.NOERROR, Flags.RA);
    m.addRecord(withWireTtl(a(MX, 300, "192.0.2.1"), 0x7FFF_FFFFL), Section.ANSWER);

    DnsAnswer answer = read(received(m), MX, DnsRecordType.A);

    assertThat(answer.outcome()).isEqualTo(DnsOutcome.DATA);
    assertThat(answer.ttl()).isEqualTo(DnsAnswer.MAX_TTL);
  }

  /** The chain's TTL is its smallest; a CNAME whose TTL reads as zero makes it zero. */
  @Test
  void rfc2181Section8ACnameWithAnOverflowingTtlMakesTheAnswerZeroTtl() throws Exception {
    for (long ttl : OVERFLOWING) {
      Message m = response(ALIAS, Type.A, Rcode.NOERROR, Flags.RA);
      m.addRecord(withWireTtl(new CNAMERecord(ALIAS, DClass.IN, 300, MX), ttl), Section.ANSWER);
      m.addRecord(a(MX, 300, "192.0.2.1"), Section.ANSWER);

      DnsAnswer answer = read(received(m), ALIAS, DnsRecordType.A);

      assertThat(answer.outcome()).isEqualTo(DnsOutcome.DATA);
      assertThat(answer.cnameChain()).containsExactly(DomainName.of("mx.example.test"));
      assertThat(answer.ttl()).as("TTL %d", ttl).isEqualTo(Duration.ZERO);
    }
  }

  /** RFC 4035 §5.3.3: the Original TTL bounds the RRset's; one that overflows reads as zero. */
  @Test
  void rfc2181Section8ASignatureWhoseOriginalTtlOverflowsBoundsTheTtlToZero() throws Exception {
    RRSIGRecord sig =
        new RRSIGRecord(
            MX,
            DClass.IN,
            300,
            Type.A,
            13,
            300,
            NOW.plus(Duration.ofDays(30)),
            NOW.minus(Duration.ofHours(1)),
            12345,
            ZONE,
            new byte[64]);
    for (long ttl : OVERFLOWING) {
      Message m = response(MX, Type.A, Rcode.NOERROR, Flags.RA);
      m.addRecord(a(MX, 300, "192.0.2.1"), Section.ANSWER);
      m.addRecord(withOriginalTtl(sig, ttl), Section.ANSWER);

      DnsAnswer answer = read(received(m), MX, DnsRecordType.A);

      assertThat(answer.outcome()).isEqualTo(DnsOutcome.DATA);
      assertThat(answer.ttl()).as("original TTL %d", ttl).isEqualTo(Duration.ZERO);
    }
    // The same signature with a valid Original TTL leaves the RRset's TTL.
    Message m = response(MX, Type.A, Rcode.NOERROR, Flags.RA);
    m.addRecord(a(MX, 300, "192.0.2.1"), Section.ANSWER);
    m.addRecord(sig, Section.ANSWER);
    assertThat(read(received(m), MX, DnsRecordType.A).ttl()).isEqualTo(Duration.ofSeconds(300));
  }

  /**
   * RFC 2308 §5: a negative answer is kept for the smaller of the SOA's TTL and MINIMUM; either one
   * overflowing reads as zero, so the answer is not kept.
   */
  @Test
  void rfc2181Section8ANegativeAnswerWhoseSoaTtlOrMinimumOverflowsHasTtlZero() throws Exception {
    for (long ttl : OVERFLOWING) {
      Message nodata = response(MX, Type.MX, Rcode.NOERROR, Flags.RA);
      nodata.addRecord(withWireTtl(soa(300, 300), ttl), Section.AUTHORITY);
      DnsAnswer a = read(received(nodata), MX, DnsRecordType.MX);
      assertThat(a.outcome()).isEqualTo(DnsOutcome.NODATA);
      assertThat(a.ttl()).as("SOA TTL %d", ttl).isEqualTo(Duration.ZERO);

      Message nxdomain = response(MX, Type.MX, Rcode.NXDOMAIN, Flags.RA);
      nxdomain.addRecord(soa(300, ttl), Section.AUTHORITY);
      DnsAnswer n = read(received(nxdomain), MX, DnsRecordType.MX);
      assertThat(n.outcome()).isEqualTo(DnsOutcome.NXDOMAIN);
      assertThat(n.ttl()).as("SOA MINIMUM %d", ttl).isEqualTo(Duration.ZERO);
    }
  }

  // ------------------------------------------------------------ RFC 2308 §2.2: NODATA or referral

  private static final Name FAR = name("far.example.test.");

  private static NSRecord ns(Name owner, String target) {
    return new NSRecord(owner, DClass.IN, 300, name(target));
  }

  private static void assertNotAnAnswer(DnsAnswer a, String what) {
    assertThat(a.outcome()).as(what).isEqualTo(DnsOutcome.FAILURE);
    assertThat(a.failure()).as(what).contains(DnsFailure.REFUSED);
    assertThat(a.state()).as(what).isEqualTo(DnssecState.INDETERMINATE);
    assertThat(a.isNegative()).as(what).isFalse();
    assertThat(a.records()).as(what).isEmpty();
    assertThat(a.rcode()).as(what).isEqualTo(Rcode.NOERROR);
  }

  /**
   * RFC 2308 §2.2: no answer, NS records and no SOA in the authority section is a referral, not
   * NODATA, whether an authoritative-only server sends it (RA clear: it does not recurse) or a
   * recursive one passes it on (RA set). Either way the name was not resolved: a failure, never "no
   * such record", which for an MX lookup would go on to the implicit MX and end in no mail host.
   */
  @Test
  void rfc2308Section2_2AReferralIsAFailureNeverNodata() throws Exception {
    for (boolean recursionAvailable : List.of(false, true)) {
      for (DnsRecordType type : List.of(DnsRecordType.MX, DnsRecordType.A, DnsRecordType.AAAA)) {
        String what = type + (recursionAvailable ? ", RA set" : ", RA clear");
        // A delegation to far.example.test, with glue.
        Message down =
            recursionAvailable
                ? response(FAR, type.code(), Rcode.NOERROR, Flags.RA)
                : response(FAR, type.code(), Rcode.NOERROR);
        down.addRecord(ns(FAR, "ns.far.example.test."), Section.AUTHORITY);
        down.addRecord(a(name("ns.far.example.test."), 300, "192.0.2.53"), Section.ADDITIONAL);
        DnsAnswer a = read(received(down), FAR, type);
        assertNotAnAnswer(a, "referral, " + what);
        assertThat(a.reason())
            .hasValueSatisfying(r -> assertThat(r).contains("referral").contains("RFC 2308"));

        // An upward referral to the root, as a lame server sends.
        Message up =
            recursionAvailable
                ? response(FAR, type.code(), Rcode.NOERROR, Flags.RA)
                : response(FAR, type.code(), Rcode.NOERROR);
        up.addRecord(ns(Name.root, "a.root-servers.net."), Section.AUTHORITY);
        up.addRecord(ns(Name.root, "b.root-servers.net."), Section.AUTHORITY);
        assertNotAnAnswer(read(received(up), FAR, type), "upward referral, " + what);
      }
    }
  }

  /** A CNAME whose target the response answers with a referral: the target is asked for itself. */
  @Test
  void rfc2308Section2_2ACnameToAReferralAsksForTheTarget() throws Exception {
    Message m = response(ALIAS, Type.MX, Rcode.NOERROR, Flags.RA);
    m.addRecord(new CNAMERecord(ALIAS, DClass.IN, 300, FAR), Section.ANSWER);
    m.addRecord(ns(FAR, "ns.far.example.test."), Section.AUTHORITY);
    ResponseReader.Step step =
        new ResponseReader(256, 8, CLOCK)
            .read(
                new DnsjavaResolver.Chase(DomainName.of("alias.example.test"), DnsRecordType.MX),
                ALIAS,
                received(m));
    assertThat(step.answer()).isNull();
    assertThat(step.requery()).isEqualTo(FAR);
  }

  /**
   * An empty NOERROR without an SOA from a server that neither recursed (RA clear) nor speaks with
   * authority (AA clear) proves nothing about the name: a failure, never NODATA.
   */
  @Test
  void anEmptyAnswerFromAServerThatNeitherRecursesNorIsAuthoritativeIsAFailure() throws Exception {
    Message m = response(FAR, Type.MX, Rcode.NOERROR);
    assertNotAnAnswer(read(received(m), FAR, DnsRecordType.MX), "empty, AA and RA clear");
  }

  /**
   * RFC 2308 §2.2: NODATA with an SOA (types 1 and 2, the SOA with or without the zone's NS), or
   * with neither SOA nor NS (type 3), stays NODATA whoever sends it; its TTL is the SOA's (§5), or
   * zero without one.
   */
  @Test
  void rfc2308Section2_2NodataStaysNodata() throws Exception {
    // Type 1, from the zone's authoritative server (AA set, RA clear).
    Message type1 = response(MX, Type.MX, Rcode.NOERROR, Flags.AA);
    type1.addRecord(soa(300, 300), Section.AUTHORITY);
    type1.addRecord(ns(ZONE, "ns.example.test."), Section.AUTHORITY);
    // Type 2, from a recursive resolver (RA set).
    Message type2 = response(MX, Type.MX, Rcode.NOERROR, Flags.RA);
    type2.addRecord(soa(300, 300), Section.AUTHORITY);
    for (Message m : List.of(type1, type2)) {
      DnsAnswer a = read(received(m), MX, DnsRecordType.MX);
      assertThat(a.outcome()).isEqualTo(DnsOutcome.NODATA);
      assertThat(a.state()).isEqualTo(DnssecState.INSECURE);
      assertThat(a.ttl()).isEqualTo(Duration.ofSeconds(300));
    }
    // Type 3, from a recursive resolver or from the zone's authoritative server.
    for (int flag : new int[] {Flags.RA, Flags.AA}) {
      Message type3 = response(MX, Type.MX, Rcode.NOERROR, flag);
      DnsAnswer a = read(received(type3), MX, DnsRecordType.MX);
      assertThat(a.outcome()).isEqualTo(DnsOutcome.NODATA);
      assertThat(a.ttl()).isEqualTo(Duration.ZERO);
    }
  }

  /**
   * What dnsjava's validator hands on for a validated denial: the upstream's header (here an
   * authoritative one, RA clear) with AD set, the SOA and NSEC records and their signatures. NODATA
   * and NXDOMAIN stay what they are, secure.
   */
  @Test
  void aValidatedDenialIsUnaffected() throws Exception {
    SOARecord soa = soa(300, 300);
    NSECRecord nsec =
        new NSECRecord(
            MX,
            DClass.IN,
            300,
            name("\\000.mx.example.test."),
            new int[] {Type.A, Type.RRSIG, Type.NSEC});
    for (int rcode : new int[] {Rcode.NOERROR, Rcode.NXDOMAIN}) {
      Message m = response(MX, Type.MX, rcode, Flags.AA, Flags.AD);
      m.addRecord(soa, Section.AUTHORITY);
      m.addRecord(signature(soa), Section.AUTHORITY);
      m.addRecord(nsec, Section.AUTHORITY);
      m.addRecord(signature(nsec), Section.AUTHORITY);
      DnsAnswer a = read(received(m), MX, DnsRecordType.MX);
      assertThat(a.outcome())
          .isEqualTo(rcode == Rcode.NOERROR ? DnsOutcome.NODATA : DnsOutcome.NXDOMAIN);
      assertThat(a.state()).isEqualTo(DnssecState.SECURE);
      assertThat(a.ttl()).isEqualTo(Duration.ofSeconds(300));
    }
  }

  /**
   * RFC 9077 §3–§4 and RFC 4035 §5.3.3: a validated denial is kept no longer than the NSEC or NSEC3
   * records that prove it: their TTL, their signatures' Original TTL and the time left until those
   * expire, though the SOA (TTL and MINIMUM 300 s) says longer. Other authority records (the zone's
   * NS) prove nothing and do not bound it.
   */
  @Test
  void rfc9077ADenialIsKeptNoLongerThanItsNsecOrNsec3Proof() throws Exception {
    SOARecord soa = soa(300, 300);
    NSECRecord nsec =
        new NSECRecord(
            MX,
            DClass.IN,
            60,
            name("\\000.mx.example.test."),
            new int[] {Type.A, Type.RRSIG, Type.NSEC});
    NSEC3Record nsec3 =
        new NSEC3Record(
            name("b4um86eghhds6nea196smvmlo4ors995.example.test."),
            DClass.IN,
            60,
            NSEC3Record.SHA1_DIGEST_ID,
            0,
            0,
            null,
            new byte[20],
            new int[] {Type.A, Type.RRSIG});
    for (int rcode : new int[] {Rcode.NOERROR, Rcode.NXDOMAIN}) {
      String what = Rcode.string(rcode);
      for (Record proof : List.of(nsec, nsec3)) {
        String of = what + ", " + Type.string(proof.getType());
        // The proof's TTL, 60 s.
        assertThat(
                read(received(denial(rcode, soa, proof, signature(proof))), MX, DnsRecordType.MX)
                    .ttl())
            .as("%s TTL 60 s", of)
            .isEqualTo(Duration.ofSeconds(60));
        // Its signature's Original TTL, 30 s.
        assertThat(
                read(
                        received(denial(rcode, soa, proof, withOriginalTtl(signature(proof), 30))),
                        MX,
                        DnsRecordType.MX)
                    .ttl())
            .as("%s signature with Original TTL 30 s", of)
            .isEqualTo(Duration.ofSeconds(30));
        // Its signature's expiry, in 20 s.
        assertThat(
                read(
                        received(denial(rcode, soa, proof, signature(proof, NOW.plusSeconds(20)))),
                        MX,
                        DnsRecordType.MX)
                    .ttl())
            .as("%s signature expiring in 20 s", of)
            .isEqualTo(Duration.ofSeconds(20));
      }
      // The zone's NS with a lower TTL bounds nothing.
      Message withNs = denial(rcode, soa, nsec, signature(nsec));
      withNs.addRecord(
          new NSRecord(ZONE, DClass.IN, 10, name("ns.example.test.")), Section.AUTHORITY);
      assertThat(read(received(withNs), MX, DnsRecordType.MX).ttl())
          .as("%s with NS TTL 10 s", what)
          .isEqualTo(Duration.ofSeconds(60));
    }
  }

  /** A validated denial (AD set) of MX at {@link #MX}: the SOA, its signature and a proof. */
  private static Message denial(int rcode, SOARecord soa, Record proof, RRSIGRecord proofSig) {
    Message m = response(MX, Type.MX, rcode, Flags.AA, Flags.AD);
    m.addRecord(soa, Section.AUTHORITY);
    m.addRecord(signature(soa), Section.AUTHORITY);
    m.addRecord(proof, Section.AUTHORITY);
    m.addRecord(proofSig, Section.AUTHORITY);
    return m;
  }

  private static RRSIGRecord signature(Record covered) {
    return signature(covered, NOW.plus(Duration.ofDays(30)));
  }

  private static RRSIGRecord signature(Record covered, Instant expire) {
    return new RRSIGRecord(
        covered.getName(),
        DClass.IN,
        covered.getTTL(),
        covered.getType(),
        13,
        covered.getTTL(),
        expire,
        NOW.minus(Duration.ofHours(1)),
        12345,
        ZONE,
        new byte[64]);
  }
}
