package io.mailtls.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.ExtendedFlags;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Section;

/**
 * What the queries on the wire carry: the EDNS UDP payload size of DNS Flag Day 2020 (1232, so that
 * no answer is fragmented over IPv6, RFC 8900 / RFC 9715), DO (RFC 3225) and, trusting a resolver's
 * AD bit, AD=1 (RFC 6840 §5.7). The peer is a real UDP socket on loopback that records each query
 * and answers REFUSED.
 */
class DnsQueryFlagsTest {

  private static final class RecordingUdpServer implements AutoCloseable {
    final DatagramSocket socket;
    final List<Message> queries = new CopyOnWriteArrayList<>();

    RecordingUdpServer() throws Exception {
      socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      Thread t =
          new Thread(
              () -> {
                byte[] buf = new byte[4096];
                while (!socket.isClosed()) {
                  try {
                    DatagramPacket p = new DatagramPacket(buf, buf.length);
                    socket.receive(p);
                    Message q = new Message(java.util.Arrays.copyOf(p.getData(), p.getLength()));
                    queries.add(q);
                    Message r = new Message(q.getHeader().getID());
                    r.getHeader().setFlag(Flags.QR);
                    r.getHeader().setRcode(Rcode.REFUSED);
                    r.addRecord(q.getQuestion(), Section.QUESTION);
                    byte[] out = r.toWire();
                    socket.send(new DatagramPacket(out, out.length, p.getSocketAddress()));
                  } catch (Exception e) {
                    return;
                  }
                }
              });
      t.setDaemon(true);
      t.start();
    }

    InetSocketAddress address() {
      return (InetSocketAddress) socket.getLocalSocketAddress();
    }

    @Override
    public void close() {
      socket.close();
    }
  }

  private static List<Message> queriesOf(DnssecMode mode) throws Exception {
    try (RecordingUdpServer server = new RecordingUdpServer()) {
      DnssecResolver.builder()
          .mode(mode)
          .upstream(server.address())
          .queryTimeout(Duration.ofMillis(500))
          .lookupTimeout(Duration.ofSeconds(3))
          .retries(0)
          .build()
          .resolve(DomainName.of("example.test"), DnsRecordType.MX);
      assertThat(server.queries).isNotEmpty();
      return List.copyOf(server.queries);
    }
  }

  @Test
  void validateModeAdvertisesTheFlagDayPayloadSize() throws Exception {
    for (Message q : queriesOf(DnssecMode.VALIDATE)) {
      OPTRecord opt = q.getOPT();
      assertThat(opt).isNotNull();
      assertThat(opt.getPayloadSize()).as("EDNS payload of %s", q.getQuestion()).isEqualTo(1232);
      assertThat(opt.getFlags() & ExtendedFlags.DO).isNotZero();
      assertThat(q.getHeader().getFlag(Flags.CD)).isTrue();
    }
  }

  @Test
  void trustAdModeAsksForAdWithDoAndAdAndWithoutCd() throws Exception {
    for (Message q : queriesOf(DnssecMode.TRUST_AD)) {
      OPTRecord opt = q.getOPT();
      assertThat(opt).isNotNull();
      assertThat(opt.getPayloadSize()).isEqualTo(1232);
      assertThat(opt.getFlags() & ExtendedFlags.DO).isNotZero();
      assertThat(q.getHeader().getFlag(Flags.AD)).isTrue();
      assertThat(q.getHeader().getFlag(Flags.CD)).isFalse();
    }
  }
}
