package io.mailtls.core.internal.dns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailtls.core.DnsAnswer;
import io.mailtls.core.DnsOutcome;
import io.mailtls.core.DnsRecordType;
import io.mailtls.core.DnssecResolver;
import io.mailtls.core.DnssecState;
import io.mailtls.core.DomainName;
import io.mailtls.core.TrustAnchors;
import io.mailtls.testkit.FakeClock;
import io.mailtls.testkit.TestDnsServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.DClass;
import org.xbill.DNS.DNSKEYRecord;
import org.xbill.DNS.ExtendedFlags;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.RRSIGRecord;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;
import org.xbill.DNS.dnssec.ValidatingResolver;

/**
 * {@link KeyResponseCache}, the DNSKEY and DS responses kept below dnsjava's validator, against the
 * testkit's signed zones on loopback (real signatures, queries counted at the server): a second
 * zone under the same parent asks no key above it again, keys are asked again after their TTL by
 * the injected clock, a badly signed response kept below the validator is bogus for every lookup
 * that uses it, and failures (SERVFAIL, timeouts) are never kept.
 */
@SuppressWarnings("CanonicalDuration") // TTLs in seconds, as DNS zones give them
class KeyResponseCacheTest {

  /**
   * Starts at the real time: the testkit signs with the clock's time, and dnsjava's validator keeps
   * validated keys by the system clock.
   */
  private final FakeClock clock = new FakeClock(Instant.now());

  private TestDnsServer dns;
  private ExecutorService executor;

  @BeforeEach
  void start() {
    // Every record, DNSKEY and DS included, has the testkit's TTL of 300 s; so has the SOA, whose
    // MINIMUM is 300 s too.
    dns =
        TestDnsServer.builder()
            .clock(clock)
            .zone("a.test", z -> z.mx("a.test", 10, "mx.a.test").a("mx.a.test", "127.0.0.2"))
            .zone("b.test", z -> z.mx("b.test", 10, "mx.b.test").a("mx.b.test", "127.0.0.3"))
            .zone("c.test", z -> z.mx("c.test", 10, "mx.c.test").a("mx.c.test", "127.0.0.4"))
            .start();
    executor = Executors.newFixedThreadPool(2);
  }

  @AfterEach
  void stop() throws InterruptedException {
    dns.close();
    executor.shutdownNow();
    assertThat(executor.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
  }

  private DnssecResolver resolver() {
    return DnssecResolver.builder()
        .upstream(dns.socketAddress())
        .trustAnchors(TrustAnchors.parse(dns.trustAnchor()))
        .clock(clock)
        .queryTimeout(Duration.ofSeconds(3))
        .retries(0)
        .build();
  }

  private static DnsAnswer ask(DnssecResolver r, String name, DnsRecordType type) {
    return r.resolve(DomainName.of(name), type);
  }

  private int keysAbove() {
    return dns.queryCount(".", Type.DNSKEY)
        + dns.queryCount("test.", Type.DS)
        + dns.queryCount("test.", Type.DNSKEY);
  }

  // ------------------------------------------------------------ through DnssecResolver

  @Test
  void aSecondZoneUnderTheSameParentAsksNoKeyAboveItAgain() {
    DnssecResolver r = resolver();
    assertThat(ask(r, "a.test", DnsRecordType.MX).isSecure()).isTrue();
    assertThat(dns.queryCount(".", Type.DNSKEY)).isEqualTo(1);
    assertThat(dns.queryCount("test.", Type.DS)).isEqualTo(1);
    assertThat(dns.queryCount("test.", Type.DNSKEY)).isEqualTo(1);

    // dnsjava's validator walks from the trust anchor for b.test and c.test as it did for a.test;
    // the responses above them come from the cache, and it validates them again.
    assertThat(ask(r, "b.test", DnsRecordType.MX).isSecure()).isTrue();
    assertThat(ask(r, "mx.c.test", DnsRecordType.A).isSecure()).isTrue();
    assertThat(keysAbove()).isEqualTo(3);
    assertThat(dns.queryCount("b.test.", Type.DS)).isEqualTo(1);
    assertThat(dns.queryCount("b.test.", Type.DNSKEY)).isEqualTo(1);
    assertThat(dns.queryCount("c.test.", Type.DS)).isEqualTo(1);
    assertThat(dns.queryCount("c.test.", Type.DNSKEY)).isEqualTo(1);
  }

  @Test
  void afterTheirTtlTheKeysAboveAreAskedForAgain() {
    DnssecResolver r = resolver();
    assertThat(ask(r, "a.test", DnsRecordType.MX).isSecure()).isTrue();
    clock.advance(Duration.ofSeconds(299));
    assertThat(ask(r, "b.test", DnsRecordType.MX).isSecure()).isTrue();
    assertThat(keysAbove()).isEqualTo(3);

    clock.advance(Duration.ofSeconds(2)); // 301 s after they were fetched
    assertThat(ask(r, "c.test", DnsRecordType.MX).isSecure()).isTrue();
    assertThat(dns.queryCount(".", Type.DNSKEY)).isEqualTo(2);
    assertThat(dns.queryCount("test.", Type.DS)).isEqualTo(2);
    assertThat(dns.queryCount("test.", Type.DNSKEY)).isEqualTo(2);
  }

  @Test
  void aBogusLookupDropsTheKeptChainSoThatARepairedZoneValidatesAgain() {
    DnssecResolver r = resolver();
    assertThat(ask(r, "a.test", DnsRecordType.MX).isSecure()).isTrue();
    dns.corruptSignatures("test.", Type.DNSKEY);
    // test.'s DNSKEY response is kept from a.test's lookup, undamaged: b.test validates with it.
    assertThat(ask(r, "b.test", DnsRecordType.MX).isSecure()).isTrue();
    assertThat(dns.queryCount("test.", Type.DNSKEY)).isEqualTo(1);

    clock.advance(Duration.ofSeconds(301)); // the kept responses expire; the wire is damaged now
    DnsAnswer bogus = ask(r, "c.test", DnsRecordType.MX);
    assertThat(bogus.state()).isEqualTo(DnssecState.BOGUS);
    assertThat(bogus.outcome()).isEqualTo(DnsOutcome.FAILURE);
    assertThat(dns.queryCount("test.", Type.DNSKEY)).isEqualTo(2);

    dns.clearFaults();
    clock.advance(Duration.ofSeconds(2)); // past the answer cache's failure TTL (1 s)
    // The damaged response was kept for 300 s, but the bogus lookup dropped it: asked again.
    assertThat(ask(r, "c.test", DnsRecordType.MX).isSecure()).isTrue();
    assertThat(dns.queryCount("test.", Type.DNSKEY)).isEqualTo(3);
  }

  /**
   * RFC 4035 §5.3.3: an RRset is kept no longer than its signatures are valid. A DNSKEY response
   * whose RRSIG expires within its TTL (300 s here) is kept only until the signature expires: kept
   * longer, the validator would check the expired signature of the kept copy and find the next new
   * zone below it bogus, although the zone has been signed again upstream and validates.
   */
  @Test
  void aKeyResponseIsKeptNoLongerThanItsSignaturesAreValid() {
    dns.close();
    dns =
        TestDnsServer.builder()
            .clock(clock)
            .zone("test", z -> z.signatureValidity(Type.DNSKEY, Duration.ofSeconds(60)))
            .zone("a.test", z -> z.mx("a.test", 10, "mx.a.test").a("mx.a.test", "127.0.0.2"))
            .zone("b.test", z -> z.mx("b.test", 10, "mx.b.test").a("mx.b.test", "127.0.0.3"))
            .start();
    DnssecResolver r = resolver();
    assertThat(ask(r, "a.test", DnsRecordType.MX).isSecure()).isTrue();
    assertThat(dns.queryCount("test.", Type.DNSKEY)).isEqualTo(1);

    // 61 s on, test.'s kept DNSKEY signature has expired (its TTL has 239 s left); upstream the
    // zones are signed again, as a signer refreshes signatures before they expire.
    clock.advance(Duration.ofSeconds(61));
    dns.resign();
    DnsAnswer b = ask(r, "b.test", DnsRecordType.MX);
    assertThat(b.state()).as("%s", b).isEqualTo(DnssecState.SECURE);
    assertThat(b.outcome()).isEqualTo(DnsOutcome.DATA);
    assertThat(dns.queryCount("test.", Type.DNSKEY)).as("asked again").isEqualTo(2);
  }

  @Test
  void aServfailForAKeyIsNotKept() {
    DnssecResolver r = resolver();
    dns.servfail("a.test", Type.DNSKEY);
    DnsAnswer failed = ask(r, "a.test", DnsRecordType.MX);
    assertThat(failed.isSuccess()).isFalse();
    assertThat(failed.isSecure()).isFalse();
    int asked = dns.queryCount("a.test.", Type.DNSKEY);
    assertThat(asked).isPositive();

    dns.clearFaults();
    clock.advance(Duration.ofSeconds(2)); // past the answer cache's failure TTL
    assertThat(ask(r, "a.test", DnsRecordType.MX).isSecure()).isTrue();
    assertThat(dns.queryCount("a.test.", Type.DNSKEY)).isEqualTo(asked + 1);
  }

  // ------------------------------------------------------------ the cache on its own

  private SimpleResolver wire() {
    SimpleResolver s = new SimpleResolver(dns.socketAddress());
    s.setTimeout(Duration.ofMillis(500));
    return s;
  }

  private ValidatingResolver validating(KeyResponseCache keys) throws Exception {
    ValidatingResolver v = new ValidatingResolver(keys, clock);
    v.init(new Properties());
    v.loadTrustAnchors(dns.trustAnchorStream());
    return v;
  }

  private Message send(org.xbill.DNS.Resolver r, String name, int type) throws Exception {
    Message q = Message.newQuery(Record.newRecord(Name.fromString(name), type, DClass.IN));
    return r.sendAsync(q, executor).toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private Message sendCd(org.xbill.DNS.Resolver r, String name, int type) throws Exception {
    Message q = Message.newQuery(Record.newRecord(Name.fromString(name), type, DClass.IN));
    q.getHeader().setFlag(Flags.CD);
    return r.sendAsync(q, executor).toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static boolean secure(Message m) {
    return m.getRcode() == Rcode.NOERROR && m.getHeader().getFlag(Flags.AD);
  }

  @Test
  void aBadlySignedKeyResponseKeptBelowTheValidatorIsBogusForEveryLookupThatUsesIt()
      throws Exception {
    KeyResponseCache keys = new KeyResponseCache(wire(), clock, 100);
    ValidatingResolver v = validating(keys);
    dns.corruptSignatures("a.test", Type.DNSKEY);
    List<String[]> lookups =
        List.of(
            new String[] {"a.test.", "MX"},
            new String[] {"mx.a.test.", "A"},
            new String[] {"a.test.", "MX"},
            new String[] {"nosuch.a.test.", "A"});
    for (String[] l : lookups) {
      Message m = send(v, l[0], Type.value(l[1]));
      assertThat(m.getHeader().getFlag(Flags.AD)).as("%s %s", l[0], l[1]).isFalse();
      assertThat(m.getRcode()).as("%s %s", l[0], l[1]).isEqualTo(Rcode.SERVFAIL);
    }
    // Every lookup validated the same kept response and found it bogus.
    assertThat(dns.queryCount("a.test.", Type.DNSKEY)).isEqualTo(1);

    // Repaired on the wire, the kept damaged copy still fails (this layer has no forget hook):
    // nothing kept below the validator ever turns secure.
    dns.clearFaults();
    assertThat(send(v, "mx.a.test.", Type.A).getRcode()).isEqualTo(Rcode.SERVFAIL);
    assertThat(dns.queryCount("a.test.", Type.DNSKEY)).isEqualTo(1);
    // forget() drops it, and the zone validates from the wire again.
    keys.forget(Name.fromString("mx.a.test."));
    assertThat(secure(send(v, "mx.a.test.", Type.A))).isTrue();
    assertThat(dns.queryCount("a.test.", Type.DNSKEY)).isEqualTo(2);
  }

  @Test
  void aHitIsACopyWithTheQueryIdAndTtlsLoweredByItsAge() throws Exception {
    KeyResponseCache keys = new KeyResponseCache(wire(), clock, 100);
    Message first = sendCd(keys, "test.", Type.DNSKEY);
    assertThat(first.getSection(Section.ANSWER)).allMatch(rec -> rec.getTTL() == 300);
    clock.advance(Duration.ofSeconds(100));
    Message q = Message.newQuery(Record.newRecord(Name.fromString("test."), Type.DNSKEY, 1));
    q.getHeader().setFlag(Flags.CD);
    Message hit = keys.sendAsync(q, executor).toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertThat(dns.queryCount("test.", Type.DNSKEY)).isEqualTo(1);
    assertThat(hit.getHeader().getID()).isEqualTo(q.getHeader().getID());
    assertThat(hit.getSection(Section.ANSWER))
        .hasSameSizeAs(first.getSection(Section.ANSWER))
        .allMatch(rec -> rec.getTTL() == 200);
    assertThat(hit.getSection(Section.ANSWER).stream().map(Record::rdataToString))
        .containsExactlyElementsOf(
            first.getSection(Section.ANSWER).stream().map(Record::rdataToString).toList());
    // Changing the copy does not change what is kept.
    hit.removeAllRecords(Section.ANSWER);
    assertThat(sendCd(keys, "test.", Type.DNSKEY).getSection(Section.ANSWER)).isNotEmpty();

    clock.advance(Duration.ofSeconds(200)); // 300 s: expired
    assertThat(sendCd(keys, "test.", Type.DNSKEY).getSection(Section.ANSWER))
        .allMatch(rec -> rec.getTTL() == 300);
    assertThat(dns.queryCount("test.", Type.DNSKEY)).isEqualTo(2);
  }

  /**
   * A chain's end is not moved by a kept response handed on again. The TTL fields are not signed
   * (RFC 4034 §3.1.8.1): an on-path forwarder raised the DNSKEY RRset's to an hour, and its RRSIG's
   * Original TTL, 300 s, bounds how long it is kept and how long the zone's chain lasts (RFC 4035
   * §5.3.3). The aged copy handed on 200 s later still carries that Original TTL, which ageing
   * cannot lower: read afresh, it would end the chain 300 s after the hit, 200 s past the end the
   * response itself has.
   */
  @Test
  void aKeptResponseHandedOnAgainEndsTheChainNoLaterThanItself() throws Exception {
    KeyResponseCache keys = new KeyResponseCache(new TtlRaising(wire(), 3600), clock, 100);
    assertThat(signedKeys(keys).getSection(Section.ANSWER))
        .as("the keys with their signature, the raised TTLs handed on lowered to the chain's")
        .anyMatch(rec -> rec instanceof RRSIGRecord sig && sig.getOrigTTL() == 300)
        .allMatch(rec -> rec.getTTL() == 300);
    assertThat(keys.chainSecondsLeft(Name.fromString("test."))).isEqualTo(300);

    clock.advance(Duration.ofSeconds(200));
    signedKeys(keys);
    assertThat(dns.queryCount("test.", Type.DNSKEY)).as("served from what was kept").isEqualTo(1);
    assertThat(keys.chainSecondsLeft(Name.fromString("test.")))
        .as("the chain of test.'s keys, 200 s into the 300 s its response was kept for")
        .isEqualTo(100);
  }

  /** {@code test.}'s DNSKEY RRset with its RRSIG (DO set, RFC 3225), as the validator asks. */
  private Message signedKeys(org.xbill.DNS.Resolver r) throws Exception {
    Message q = Message.newQuery(Record.newRecord(Name.fromString("test."), Type.DNSKEY, 1));
    q.getHeader().setFlag(Flags.CD);
    q.addRecord(new OPTRecord(1232, 0, 0, ExtendedFlags.DO), Section.ADDITIONAL);
    return r.sendAsync(q, executor).toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** An on-path forwarder that raises every record's TTL field, signatures' included, to one. */
  private static final class TtlRaising extends ForwardingResolver {
    private final long ttl;

    TtlRaising(org.xbill.DNS.Resolver upstream, long ttl) {
      super(upstream);
      this.ttl = ttl;
    }

    @Override
    public java.util.concurrent.CompletionStage<Message> sendAsync(
        Message query, java.util.concurrent.Executor executor) {
      return upstream
          .sendAsync(query, executor)
          .thenApply(
              response -> {
                Message raised = response.clone();
                for (int section : new int[] {Section.ANSWER, Section.AUTHORITY}) {
                  List<Record> records = raised.getSection(section);
                  raised.removeAllRecords(section);
                  for (Record r : records) {
                    raised.addRecord(KeyResponseCache.withTtl(r, ttl), section);
                  }
                }
                return raised;
              });
    }
  }

  @Test
  void aNegativeAnswerIsKeptForTheSoaMinimum() throws Exception {
    KeyResponseCache keys = new KeyResponseCache(wire(), clock, 100);
    // mx.a.test is no zone cut: NODATA for its DS; nosuch.a.test does not exist: NXDOMAIN.
    assertThat(sendCd(keys, "mx.a.test.", Type.DS).getRcode()).isEqualTo(Rcode.NOERROR);
    assertThat(sendCd(keys, "nosuch.a.test.", Type.DS).getRcode()).isEqualTo(Rcode.NXDOMAIN);
    clock.advance(Duration.ofSeconds(299));
    assertThat(sendCd(keys, "mx.a.test.", Type.DS).getSection(Section.ANSWER)).isEmpty();
    assertThat(sendCd(keys, "nosuch.a.test.", Type.DS).getRcode()).isEqualTo(Rcode.NXDOMAIN);
    assertThat(dns.queryCount("mx.a.test.", Type.DS)).isEqualTo(1);
    assertThat(dns.queryCount("nosuch.a.test.", Type.DS)).isEqualTo(1);
    clock.advance(Duration.ofSeconds(2));
    sendCd(keys, "mx.a.test.", Type.DS);
    sendCd(keys, "nosuch.a.test.", Type.DS);
    assertThat(dns.queryCount("mx.a.test.", Type.DS)).isEqualTo(2);
    assertThat(dns.queryCount("nosuch.a.test.", Type.DS)).isEqualTo(2);
  }

  @Test
  void servfailsTimeoutsAndOtherTypesAreNeverKept() throws Exception {
    KeyResponseCache keys = new KeyResponseCache(wire(), clock, 100);
    dns.servfail("a.test", Type.DNSKEY);
    assertThat(sendCd(keys, "a.test.", Type.DNSKEY).getRcode()).isEqualTo(Rcode.SERVFAIL);
    assertThat(sendCd(keys, "a.test.", Type.DNSKEY).getRcode()).isEqualTo(Rcode.SERVFAIL);
    assertThat(dns.queryCount("a.test.", Type.DNSKEY)).isEqualTo(2);

    dns.clearFaults();
    dns.drop("b.test", Type.DNSKEY);
    assertThatThrownBy(() -> sendCd(keys, "b.test.", Type.DNSKEY))
        .isInstanceOf(ExecutionException.class);
    dns.clearFaults();
    assertThat(sendCd(keys, "b.test.", Type.DNSKEY).getSection(Section.ANSWER)).isNotEmpty();

    sendCd(keys, "a.test.", Type.MX);
    sendCd(keys, "a.test.", Type.MX);
    assertThat(dns.queryCount("a.test.", Type.MX)).isEqualTo(2);
    // Kept: b.test.'s answered DNSKEY only.
    assertThat(keys.size()).isEqualTo(1);
  }

  // ------------------------------------------------------------ RFC 2181 §8: TTLs

  /** Answers each UDP query on loopback with what {@code reply} makes of it. */
  private static final class RawUdpPeer implements AutoCloseable {
    private final DatagramSocket socket;

    RawUdpPeer(Function<Message, Message> reply) throws IOException {
      socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      Thread thread =
          new Thread(
              () -> {
                byte[] buf = new byte[4096];
                while (!socket.isClosed()) {
                  try {
                    DatagramPacket p = new DatagramPacket(buf, buf.length);
                    socket.receive(p);
                    Message query = new Message(Arrays.copyOf(p.getData(), p.getLength()));
                    byte[] out = reply.apply(query).toWire();
                    socket.send(new DatagramPacket(out, out.length, p.getSocketAddress()));
                  } catch (IOException e) {
                    return;
                  }
                }
              });
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

  /**
   * {@code r} with the TTL field {@code ttl} in its wire form (RFC 1035 §4.1.3), read back by
   * dnsjava, which keeps it as the unsigned 32-bit value it is on the wire.
   */
  private static Record withWireTtl(Record r, long ttl) {
    byte[] wire = r.toWireCanonical();
    int at = r.getName().length() + 4; // after the owner name, TYPE and CLASS
    wire[at] = (byte) (ttl >>> 24);
    wire[at + 1] = (byte) (ttl >>> 16);
    wire[at + 2] = (byte) (ttl >>> 8);
    wire[at + 3] = (byte) ttl;
    try {
      return Record.fromWire(wire, Section.ANSWER);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * RFC 2181 §8: a TTL with the most significant bit set is zero. A DNSKEY answer with such a TTL,
   * a DS NODATA whose SOA has such a TTL or MINIMUM (RFC 2308 §5), are not kept; the same responses
   * with the largest valid TTL are. The DNSKEY answer reaches the validator with a TTL of zero.
   */
  @Test
  void rfc2181Section8AResponseWithAnOverflowingTtlIsNeverKept() throws Exception {
    for (long overflowing : List.of(0x8000_0000L, 0xFFFF_FFFFL)) {
      List<String> asked = new CopyOnWriteArrayList<>();
      Function<Message, Message> reply =
          query -> {
            Record question = query.getQuestion();
            String qname = question.getName().toString();
            asked.add(qname + " " + Type.string(question.getType()));
            Message r = new Message(query.getHeader().getID());
            r.getHeader().setFlag(Flags.QR);
            r.getHeader().setFlag(Flags.AA);
            r.addRecord(question, Section.QUESTION);
            Name zone = question.getName();
            if (question.getType() == Type.DNSKEY) {
              long ttl = qname.startsWith("kept") ? 0x7FFF_FFFFL : overflowing;
              r.addRecord(
                  withWireTtl(
                      new DNSKEYRecord(zone, DClass.IN, 300, 257, 3, 13, new byte[64]), ttl),
                  Section.ANSWER);
            } else {
              long soaTtl = qname.startsWith("ttl") ? overflowing : 300;
              long minimum = qname.startsWith("minimum") ? overflowing : 300;
              r.addRecord(
                  withWireTtl(
                      new SOARecord(
                          zone,
                          DClass.IN,
                          300,
                          Name.fromConstantString("ns.test."),
                          Name.fromConstantString("hostmaster.test."),
                          1,
                          3600,
                          600,
                          86400,
                          minimum),
                      soaTtl),
                  Section.AUTHORITY);
            }
            return r;
          };
      try (RawUdpPeer peer = new RawUdpPeer(reply)) {
        SimpleResolver upstream = new SimpleResolver(peer.address());
        upstream.setTimeout(Duration.ofSeconds(2));
        KeyResponseCache keys = new KeyResponseCache(upstream, clock, 100);
        List<String[]> questions =
            List.of(
                new String[] {"overflow.test.", "DNSKEY"},
                new String[] {"ttl.test.", "DS"},
                new String[] {"minimum.test.", "DS"},
                new String[] {"kept.test.", "DNSKEY"},
                new String[] {"kept.test.", "DS"});
        for (int round = 0; round < 2; round++) {
          for (String[] q : questions) {
            Message m = sendCd(keys, q[0], Type.value(q[1]));
            assertThat(m.getRcode()).isEqualTo(Rcode.NOERROR);
          }
        }
        // Handed on with the TTL RFC 2181 §8 reads it as, zero: the keys last no longer than
        // that (dnsjava's validator, which reads the field unsigned, would keep them 15 minutes).
        assertThat(
                sendCd(keys, "overflow.test.", Type.DNSKEY)
                    .getSection(Section.ANSWER)
                    .get(0)
                    .getTTL())
            .as("TTL %d handed on", overflowing)
            .isZero();
        assertThat(asked)
            .as("TTL %d", overflowing)
            .containsExactlyInAnyOrder(
                "overflow.test. DNSKEY",
                "overflow.test. DNSKEY",
                "overflow.test. DNSKEY",
                "ttl.test. DS",
                "ttl.test. DS",
                "minimum.test. DS",
                "minimum.test. DS",
                "kept.test. DNSKEY",
                "kept.test. DS");
        assertThat(keys.size()).isEqualTo(2);
      }
    }
  }

  @Test
  void whatIsKeptStaysWithinItsBudgetOfOctets() throws Exception {
    SimpleResolver signed = wire();
    signed.setEDNS(
        0, 1232, ExtendedFlags.DO, List.of()); // with their RRSIGs, as the validator asks
    KeyResponseCache keys = new KeyResponseCache(signed, clock, 1); // 2,048 octets
    long total = 0;
    int asked = 0;
    for (String zone : List.of(".", "test.", "a.test.", "b.test.", "c.test.")) {
      total += sendCd(keys, zone, Type.DNSKEY).toWire().length;
      asked++;
      if (!zone.equals(".")) {
        total += sendCd(keys, zone, Type.DS).toWire().length;
        asked++;
      }
    }
    for (int i = 0; i < 10; i++) { // NXDOMAIN with its SOA, NSEC records and their RRSIGs
      total += sendCd(keys, "nosuch" + i + ".a.test.", Type.DS).toWire().length;
      asked++;
    }
    assertThat(total).isGreaterThan(KeyResponseCache.BYTES_PER_ENTRY);
    assertThat(keys.size()).isPositive().isLessThan(asked);
  }
}
