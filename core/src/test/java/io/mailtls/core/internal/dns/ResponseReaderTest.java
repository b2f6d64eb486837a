package io.mailtls.core.internal.dns;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DnsAnswer;
import io.mailtls.core.DnsOutcome;
import io.mailtls.core.DnsRecord;
import io.mailtls.core.DnsRecordType;
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
}
