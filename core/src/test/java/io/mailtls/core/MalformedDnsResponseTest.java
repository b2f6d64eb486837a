package io.mailtls.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Section;

/**
 * Responses that a broken or hostile server sends: each becomes a typed failure, never a crash and
 * never "no records". The peer is a real UDP socket on loopback that answers with bytes the test
 * chooses.
 */
class MalformedDnsResponseTest {

  /** Answers every query with {@code reply.apply(queryBytes)}. */
  private static final class RawUdpServer implements AutoCloseable {
    final DatagramSocket socket;
    final Thread thread;

    RawUdpServer(UnaryOperator<byte[]> reply) throws Exception {
      socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      thread =
          new Thread(
              () -> {
                byte[] buf = new byte[4096];
                while (!socket.isClosed()) {
                  try {
                    DatagramPacket p = new DatagramPacket(buf, buf.length);
                    socket.receive(p);
                    byte[] q = java.util.Arrays.copyOf(p.getData(), p.getLength());
                    byte[] out = reply.apply(q);
                    socket.send(new DatagramPacket(out, out.length, p.getSocketAddress()));
                  } catch (Exception e) {
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

  private static DnsAnswer askA(RawUdpServer server, int maxRecords) {
    DnssecResolver dns =
        DnssecResolver.builder()
            .mode(DnssecMode.TRUST_AD)
            .upstream(server.address())
            .queryTimeout(Duration.ofMillis(500))
            .lookupTimeout(Duration.ofSeconds(3))
            .retries(0)
            .maxRecords(maxRecords)
            .build();
    return dns.resolve(DomainName.of("www.example.test"), DnsRecordType.A);
  }

  @Test
  void truncatedGarbageAfterTheHeaderIsMalformed() throws Exception {
    try (RawUdpServer server =
        new RawUdpServer(
            q -> {
              byte[] out = java.util.Arrays.copyOf(q, q.length + 7);
              out[2] |= (byte) 0x80; // QR
              out[7] = 5; // claims 5 answers that are not there
              return out;
            })) {
      DnsAnswer a = askA(server, 256);
      assertThat(a.outcome()).isEqualTo(DnsOutcome.FAILURE);
      assertThat(a.failure()).contains(DnsFailure.MALFORMED);
      assertThat(a.state()).isEqualTo(DnssecState.INDETERMINATE);
    }
  }

  @Test
  void aResponseToAnotherQuestionIsMalformed() throws Exception {
    try (RawUdpServer server =
        new RawUdpServer(
            q -> {
              try {
                Message query = new Message(q);
                Message r = new Message(query.getHeader().getID());
                r.getHeader().setFlag(Flags.QR);
                Name other = Name.fromString("other.example.test.");
                r.addRecord(
                    org.xbill.DNS.Record.newRecord(other, query.getQuestion().getType(), DClass.IN),
                    Section.QUESTION);
                return r.toWire();
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            })) {
      DnsAnswer a = askA(server, 256);
      assertThat(a.outcome()).isEqualTo(DnsOutcome.FAILURE);
      assertThat(a.failure()).contains(DnsFailure.MALFORMED);
    }
  }

  @Test
  void anAnswerLargerThanTheLimitIsTooLarge() throws Exception {
    try (RawUdpServer server =
        new RawUdpServer(
            q -> {
              try {
                Message query = new Message(q);
                Message r = new Message(query.getHeader().getID());
                r.getHeader().setFlag(Flags.QR);
                r.addRecord(query.getQuestion(), Section.QUESTION);
                for (int i = 1; i <= 40; i++) {
                  r.addRecord(
                      new ARecord(
                          query.getQuestion().getName(),
                          DClass.IN,
                          60,
                          InetAddress.getByAddress(new byte[] {127, 0, 1, (byte) i})),
                      Section.ANSWER);
                }
                return r.toWire();
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            })) {
      DnsAnswer a = askA(server, 16);
      assertThat(a.outcome()).isEqualTo(DnsOutcome.FAILURE);
      assertThat(a.failure()).contains(DnsFailure.TOO_LARGE);
      assertThat(a.reason().orElseThrow()).contains("40");
      DnsAnswer ok = askA(server, 256);
      assertThat(ok.outcome()).isEqualTo(DnsOutcome.DATA);
      assertThat(ok.records()).hasSize(40);
    }
  }

  /**
   * RFC 2181 §8: a TTL with the most significant bit set is to be treated as zero; dnsjava keeps it
   * as the unsigned number on the wire (about 68 years). The answer is used with TTL zero and not
   * cached: the next lookup asks again.
   */
  @Test
  void aTtlWithTheMostSignificantBitSetIsZeroAndNotCached() throws Exception {
    AtomicInteger asked = new AtomicInteger();
    try (RawUdpServer server =
        new RawUdpServer(
            q -> {
              try {
                asked.incrementAndGet();
                Message query = new Message(q);
                Message r = new Message(query.getHeader().getID());
                r.getHeader().setFlag(Flags.QR);
                r.getHeader().setFlag(Flags.RD);
                r.getHeader().setFlag(Flags.RA);
                r.addRecord(query.getQuestion(), Section.QUESTION);
                ARecord a =
                    new ARecord(
                        query.getQuestion().getName(),
                        DClass.IN,
                        300,
                        InetAddress.getByName("127.0.1.1"));
                byte[] rr = a.toWireCanonical();
                int ttlAt = a.getName().length() + 4; // RFC 1035 §4.1.3: after NAME, TYPE, CLASS
                rr[ttlAt] = (byte) 0x80; // TTL 2^31
                r.addRecord(org.xbill.DNS.Record.fromWire(rr, Section.ANSWER), Section.ANSWER);
                return r.toWire();
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            })) {
      DnssecResolver dns =
          DnssecResolver.builder()
              .mode(DnssecMode.TRUST_AD)
              .upstream(server.address())
              .queryTimeout(Duration.ofMillis(500))
              .lookupTimeout(Duration.ofSeconds(3))
              .retries(0)
              .build();
      for (int i = 1; i <= 2; i++) {
        DnsAnswer a = dns.resolve(DomainName.of("www.example.test"), DnsRecordType.A);
        assertThat(a.outcome()).isEqualTo(DnsOutcome.DATA);
        assertThat(a.records())
            .containsExactly(new DnsRecord.Address(InetAddress.getByName("127.0.1.1")));
        assertThat(a.ttl()).isEqualTo(Duration.ZERO);
        assertThat(asked).as("lookup %d", i).hasValue(i);
      }
    }
  }

  @Test
  void silenceIsATimeoutNeverNoRecords() throws Exception {
    try (DatagramSocket blackHole =
        new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
      DnssecResolver dns =
          DnssecResolver.builder()
              .mode(DnssecMode.TRUST_AD)
              .upstream((InetSocketAddress) blackHole.getLocalSocketAddress())
              .queryTimeout(Duration.ofMillis(200))
              .retries(1)
              .lookupTimeout(Duration.ofSeconds(5))
              .build();
      DnsAnswer a = dns.resolve(DomainName.of("example.test"), DnsRecordType.MX);
      assertThat(a.outcome()).isEqualTo(DnsOutcome.FAILURE);
      assertThat(a.failure()).contains(DnsFailure.TIMEOUT);
      assertThat(a.state()).isEqualTo(DnssecState.INDETERMINATE);
      assertThat(a.isNegative()).isFalse();
    }
  }

  @Test
  void theLookupBoundCutsALongRetryLoop() throws Exception {
    try (DatagramSocket blackHole =
        new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
      DnssecResolver dns =
          DnssecResolver.builder()
              .mode(DnssecMode.TRUST_AD)
              .upstream((InetSocketAddress) blackHole.getLocalSocketAddress())
              .queryTimeout(Duration.ofSeconds(5))
              .retries(3)
              .lookupTimeout(Duration.ofMillis(300))
              .build();
      DnsAnswer a = dns.resolve(DomainName.of("example.test"), DnsRecordType.MX);
      assertThat(a.failure()).contains(DnsFailure.TIMEOUT);
    }
  }
}
