package io.mailtls.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.testkit.FakeClock;
import io.mailtls.testkit.TestDnsServer;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.Message;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

/**
 * How long {@link DnssecResolver} keeps a validated answer, against the testkit's signed zones on
 * loopback: a wildcard expansion no longer than the NSEC or NSEC3 proving that the asked name does
 * not exist (RFC 4035 §5.3.4, RFC 5155 §8.8), data no longer than its RRSIG's Original TTL and
 * expiration (RFC 4035 §5.3.3), and TTLs of zero or of 2^31 - 1 s (RFC 2181 §8). DANE and MTA-STS
 * decide on these answers: one kept too long keeps a removed TLSA record trusted.
 */
@SuppressWarnings("CanonicalDuration") // TTLs in seconds, as DNS zones give them
class DnsAnswerLifetimeTest {

  private static final byte[] NO_SALT = new byte[0];

  /** Real time, whole seconds: the validator reads signature validity off the system clock. */
  private final FakeClock clock = new FakeClock(Instant.now().truncatedTo(ChronoUnit.SECONDS));

  private TestDnsServer dns;

  @BeforeEach
  void start() {
    dns =
        TestDnsServer.builder()
            .clock(clock)
            // The zones' keys last a week: an answer lasts no longer than the keys that validated
            // it (DnssecChainLifetimeTest), and here only what each test sets is to bound it.
            .generatedTtl(Duration.ofDays(7))
            .zone(
                "wild-ttl.test",
                z ->
                    z.nsecTtl(Duration.ofSeconds(60))
                        .a("mx.wild-ttl.test", "127.0.0.2")
                        .a("*.hosts.wild-ttl.test", "127.0.0.3"))
            .zone(
                "wild-sig.test",
                z ->
                    z.signatureValidity(Type.NSEC, Duration.ofSeconds(120))
                        .a("mx.wild-sig.test", "127.0.0.2")
                        .a("*.hosts.wild-sig.test", "127.0.0.3"))
            .zone(
                "wild3-ttl.test",
                z ->
                    z.nsec3(0, NO_SALT, false)
                        .nsecTtl(Duration.ofSeconds(60))
                        .a("mx.wild3-ttl.test", "127.0.0.2")
                        .a("*.hosts.wild3-ttl.test", "127.0.0.3"))
            .zone(
                "wild3-sig.test",
                z ->
                    z.nsec3(0, NO_SALT, false)
                        .signatureValidity(Type.NSEC3, Duration.ofSeconds(120))
                        .a("mx.wild3-sig.test", "127.0.0.2")
                        .a("*.hosts.wild3-sig.test", "127.0.0.3"))
            .zone(
                "sig.test",
                z ->
                    z.signatureValidity(Type.TLSA, Duration.ofSeconds(120))
                        .a("mx.sig.test", "127.0.0.2")
                        .tlsa("_25._tcp.mx.sig.test", 3, 1, 1, new byte[32]))
            .zone(
                "ttl-raised.test",
                z ->
                    z.a("mx.ttl-raised.test", "127.0.0.2")
                        .tlsa("_25._tcp.mx.ttl-raised.test", 3, 1, 1, new byte[32]))
            .zone(
                "ttl.test",
                z ->
                    z.ttl(Duration.ZERO)
                        .mx("ttl.test", 10, "mx.ttl.test")
                        .a("mx.ttl.test", "127.0.0.2")
                        .ttl(Duration.ofSeconds(0x7FFFFFFFL))
                        .a("huge.ttl.test", "127.0.0.4"))
            .start();
  }

  @AfterEach
  void stop() {
    dns.close();
  }

  private DnsResolver resolver() {
    return DnssecResolver.builder()
        .upstream(dns.socketAddress())
        .trustAnchors(TrustAnchors.parse(dns.trustAnchor()))
        .clock(clock)
        .queryTimeout(Duration.ofSeconds(3))
        .retries(0)
        .build();
  }

  private static DnsAnswer ask(DnsResolver r, String name, DnsRecordType type) {
    return r.resolve(DomainName.of(name), type);
  }

  /**
   * RFC 4035 §5.3.4 and RFC 5155 §8.8: a wildcard expansion is validated only with the NSEC (or
   * NSEC3) proving that the asked name does not exist; kept past that proof's TTL, the answer would
   * still read as secure when the name may exist by now, with other data (RFC 9077 §3 gives the
   * proof its lifetime). The data RRset has 300 s.
   */
  @Test
  void aWildcardExpansionIsKeptNoLongerThanItsProofsTtl() {
    DnsResolver r = resolver();
    for (String zone : new String[] {"wild-ttl.test", "wild3-ttl.test"}) {
      String name = "host.hosts." + zone;
      DnsAnswer a = ask(r, name, DnsRecordType.A);
      assertThat(a.outcome()).as("%s", a).isEqualTo(DnsOutcome.DATA);
      assertThat(a.isSecure()).as("%s", a).isTrue();
      assertThat(a.ttl())
          .as("wildcard expansion in %s, proof TTL 60 s", zone)
          .isEqualTo(Duration.ofSeconds(60));
    }

    clock.advance(Duration.ofSeconds(59));
    ask(r, "host.hosts.wild3-ttl.test", DnsRecordType.A);
    assertThat(dns.queryCount("host.hosts.wild3-ttl.test.", Type.A)).isEqualTo(1);
    clock.advance(Duration.ofSeconds(2));
    DnsAnswer again = ask(r, "host.hosts.wild3-ttl.test", DnsRecordType.A);
    assertThat(dns.queryCount("host.hosts.wild3-ttl.test.", Type.A))
        .as("asked again after the NSEC3 proof's TTL")
        .isEqualTo(2);
    assertThat(again.isSecure()).isTrue();
  }

  /**
   * RFC 4035 §5.3.3 for the proof of a wildcard expansion: its signature expires after 120 s (RFC
   * 4034 §3.1.5), the data's own after 30 days. Past it, the answer cannot be validated again, so
   * it is not served from the cache as secure.
   */
  @Test
  void aWildcardExpansionIsKeptNoLongerThanItsProofsSignature() {
    DnsResolver r = resolver();
    for (String zone : new String[] {"wild-sig.test", "wild3-sig.test"}) {
      DnsAnswer a = ask(r, "host.hosts." + zone, DnsRecordType.A);
      assertThat(a.isSecure()).as("%s", a).isTrue();
      assertThat(a.ttl())
          .as("wildcard expansion in %s, proof signature expiring in 120 s", zone)
          .isEqualTo(Duration.ofSeconds(120));
    }
    clock.advance(Duration.ofSeconds(121));
    DnsAnswer expired = ask(r, "host.hosts.wild-sig.test", DnsRecordType.A);
    assertThat(dns.queryCount("host.hosts.wild-sig.test.", Type.A))
        .as("asked again")
        .isGreaterThan(1);
    assertThat(expired.isSecure()).as("%s", expired).isFalse();
  }

  /**
   * RFC 4035 §5.3.3: a TLSA RRset with TTL 300 s whose signature expires in 120 s is kept 120 s;
   * then it is asked for again and, its signature expired, no longer secure.
   */
  @Test
  void dataIsKeptNoLongerThanItsSignature() {
    DnsResolver r = resolver();
    DnsAnswer tlsa = ask(r, "_25._tcp.mx.sig.test", DnsRecordType.TLSA);
    assertThat(tlsa.outcome()).as("%s", tlsa).isEqualTo(DnsOutcome.DATA);
    assertThat(tlsa.isSecure()).isTrue();
    assertThat(tlsa.ttl()).isEqualTo(Duration.ofSeconds(120));
    clock.advance(Duration.ofSeconds(119));
    assertThat(ask(r, "_25._tcp.mx.sig.test", DnsRecordType.TLSA).isSecure()).isTrue();
    assertThat(dns.queryCount("_25._tcp.mx.sig.test.", Type.TLSA)).isEqualTo(1);
    clock.advance(Duration.ofSeconds(2));
    DnsAnswer expired = ask(r, "_25._tcp.mx.sig.test", DnsRecordType.TLSA);
    assertThat(dns.queryCount("_25._tcp.mx.sig.test.", Type.TLSA))
        .as("asked again")
        .isGreaterThan(1);
    assertThat(expired.state()).as("%s", expired).isEqualTo(DnssecState.BOGUS);
  }

  /**
   * A TTL of zero: the answer is used once and never served from the cache (RFC 1035 §3.2.1); every
   * lookup asks again, and each is a usable secure answer.
   */
  @Test
  void aZeroTtlAnswerIsUsedButNeverKept() {
    DnsResolver r = resolver();
    for (int i = 1; i <= 3; i++) {
      DnsAnswer mx = ask(r, "ttl.test", DnsRecordType.MX);
      assertThat(mx.outcome()).as("%s", mx).isEqualTo(DnsOutcome.DATA);
      assertThat(mx.isSecure()).isTrue();
      assertThat(mx.ttl()).isEqualTo(Duration.ZERO);
      assertThat(dns.queryCount("ttl.test.", Type.MX)).isEqualTo(i);
    }
  }

  /**
   * RFC 2181 §8: the largest TTL, 2^31 - 1 s (about 68 years), is kept no longer than the cache's
   * cap of a day. (A TTL with the top bit set, read as zero, is {@code MalformedDnsResponseTest}'s:
   * dnsjava builds no such record for a zone.)
   */
  @Test
  void theLargestTtlIsKeptADayAtMost() {
    DnsResolver r = resolver();
    DnsAnswer huge = ask(r, "huge.ttl.test", DnsRecordType.A);
    assertThat(huge.isSecure()).isTrue();
    clock.advance(Duration.ofDays(1).minusSeconds(1));
    assertThat(ask(r, "huge.ttl.test", DnsRecordType.A).ttl())
        .isLessThanOrEqualTo(Duration.ofSeconds(1));
    assertThat(dns.queryCount("huge.ttl.test.", Type.A)).isEqualTo(1);
    clock.advance(Duration.ofSeconds(2));
    ask(r, "huge.ttl.test", DnsRecordType.A);
    assertThat(dns.queryCount("huge.ttl.test.", Type.A)).as("asked again after a day").isEqualTo(2);
  }

  /**
   * The cap holds for the answer that was looked up as for the one served from the cache: both
   * report at most {@code maxCacheTtl} (here an hour), so that no caller (a TLSA or MTA-STS result,
   * a plan) keeps the first answer longer than the cache would keep it.
   */
  @Test
  void theFirstAnswerReportsTheCappedTtlAsTheCachedOneDoes() {
    DnsResolver r =
        DnssecResolver.builder()
            .upstream(dns.socketAddress())
            .trustAnchors(TrustAnchors.parse(dns.trustAnchor()))
            .clock(clock)
            .queryTimeout(Duration.ofSeconds(3))
            .retries(0)
            .maxCacheTtl(Duration.ofHours(1))
            .build();
    DnsAnswer first = ask(r, "huge.ttl.test", DnsRecordType.A);
    assertThat(first.isSecure()).as("%s", first).isTrue();
    assertThat(first.ttl()).as("the looked-up answer's TTL").isEqualTo(Duration.ofHours(1));
    DnsAnswer cached = ask(r, "huge.ttl.test", DnsRecordType.A);
    assertThat(dns.queryCount("huge.ttl.test.", Type.A)).isEqualTo(1);
    assertThat(cached.ttl()).as("the cached answer's TTL").isEqualTo(Duration.ofHours(1));
    DnsAnswer uncached =
        ask(
            DnssecResolver.builder()
                .upstream(dns.socketAddress())
                .trustAnchors(TrustAnchors.parse(dns.trustAnchor()))
                .clock(clock)
                .cacheSize(0)
                .build(),
            "huge.ttl.test",
            DnsRecordType.A);
    assertThat(uncached.ttl())
        .as("without a cache, the default cap of a day")
        .isEqualTo(Duration.ofDays(1));
  }

  /**
   * RFC 4035 §5.3.3: a validated RRset's TTL is no more than its RRSIG's Original TTL (RFC 4034
   * §3.1.4). The TTL fields are not signed, so an on-path forwarder raises those of the signed TLSA
   * RRset and of its RRSIG from 300 s to a day and the answer still validates; dnsjava's validator
   * does not reset it, and kept for a day, a TLSA record its owner removed would stay trusted long
   * after.
   */
  @Test
  void dataIsKeptNoLongerThanItsSignaturesOriginalTtl() throws Exception {
    try (TtlRaisingForwarder forwarder =
        new TtlRaisingForwarder(dns.socketAddress(), Type.TLSA, 86_400)) {
      DnsResolver r =
          DnssecResolver.builder()
              .upstream(forwarder.address())
              .trustAnchors(TrustAnchors.parse(dns.trustAnchor()))
              .clock(clock)
              .queryTimeout(Duration.ofSeconds(3))
              .retries(0)
              .build();
      DnsAnswer tlsa = ask(r, "_25._tcp.mx.ttl-raised.test", DnsRecordType.TLSA);
      assertThat(tlsa.outcome()).as("%s", tlsa).isEqualTo(DnsOutcome.DATA);
      assertThat(tlsa.isSecure()).as("%s", tlsa).isTrue();
      assertThat(forwarder.raised.get()).as("the forwarder raised a TTL").isPositive();
      assertThat(tlsa.ttl()).as("the RRSIG's Original TTL").isEqualTo(Duration.ofSeconds(300));
      clock.advance(Duration.ofSeconds(301));
      ask(r, "_25._tcp.mx.ttl-raised.test", DnsRecordType.TLSA);
      assertThat(dns.queryCount("_25._tcp.mx.ttl-raised.test.", Type.TLSA))
          .as("asked again after the Original TTL")
          .isEqualTo(2);
    }
  }

  /**
   * A UDP forwarder on loopback that passes queries to {@code upstream} and raises the TTL field of
   * every answer record of one type and of the RRSIGs covering it in the replies (RFC 4034
   * §3.1.8.1: the signature covers the Original TTL, not these); all else is left as it is.
   */
  private static final class TtlRaisingForwarder implements AutoCloseable {
    private final DatagramSocket socket;
    private final Thread thread;
    final AtomicInteger raised = new AtomicInteger();

    TtlRaisingForwarder(InetSocketAddress upstream, int type, long ttl) throws Exception {
      socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      thread =
          new Thread(
              () -> {
                byte[] buf = new byte[65_535];
                while (!socket.isClosed()) {
                  try (DatagramSocket out = new DatagramSocket()) {
                    DatagramPacket p = new DatagramPacket(buf, buf.length);
                    socket.receive(p);
                    byte[] query = Arrays.copyOf(p.getData(), p.getLength());
                    out.setSoTimeout(3_000);
                    out.send(new DatagramPacket(query, query.length, upstream));
                    byte[] rbuf = new byte[65_535];
                    DatagramPacket reply = new DatagramPacket(rbuf, rbuf.length);
                    out.receive(reply);
                    Message m = new Message(Arrays.copyOf(reply.getData(), reply.getLength()));
                    for (Record rr : List.copyOf(m.getSection(Section.ANSWER))) {
                      if (rr.getRRsetType() == type) {
                        m.removeRecord(rr, Section.ANSWER);
                        m.addRecord(
                            Record.newRecord(
                                rr.getName(),
                                rr.getType(),
                                rr.getDClass(),
                                ttl,
                                rr.rdataToWireCanonical()),
                            Section.ANSWER);
                        raised.incrementAndGet();
                      }
                    }
                    byte[] wire = m.toWire();
                    socket.send(new DatagramPacket(wire, wire.length, p.getSocketAddress()));
                  } catch (Exception e) {
                    if (socket.isClosed()) {
                      return;
                    }
                  }
                }
              },
              "ttl-raising-forwarder");
      thread.setDaemon(true);
      thread.start();
    }

    InetSocketAddress address() {
      return (InetSocketAddress) socket.getLocalSocketAddress();
    }

    @Override
    public void close() {
      socket.close();
    }
  }
}
