package io.mailtls.testkit;

import static io.mailtls.testkit.TestDnsServerDnssecTest.query;
import static io.mailtls.testkit.TestDnsServerDnssecTest.records;
import static io.mailtls.testkit.TestDnsServerDnssecTest.validator;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.DClass;
import org.xbill.DNS.ExtendedFlags;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Opcode;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;
import org.xbill.DNS.dnssec.ValidatingResolver;

/**
 * The wire behaviour of {@link TestDnsServer}: EDNS, truncation and TCP, the run-time faults, the
 * query log, and robustness against malformed input.
 */
class TestDnsServerTransportTest {
  private TestDnsServer dns;

  @BeforeEach
  void startServer() {
    dns =
        TestDnsServer.builder()
            .zone(
                "example.test",
                z -> {
                  z.mx("example.test", 10, "mx1.example.test").a("mx1.example.test", "127.0.0.2");
                  // A delegation to a zone this server does not hold, with in-bailiwick glue.
                  z.ns("far.example.test", "ns.far.example.test")
                      .a("ns.far.example.test", "127.0.0.9");
                  for (int i = 0; i < 20; i++) {
                    z.txt("big.example.test", "record " + i + " " + "x".repeat(80));
                  }
                })
            .start();
  }

  @AfterEach
  void stopServer() {
    dns.close();
  }

  @Test
  void answersOverUdpWithAaAndCopiedHeader() throws IOException {
    SimpleResolver resolver = resolver();
    Message query = Message.newQuery(question("example.test", Type.MX));

    Message response = resolver.send(query);

    assertThat(response.getHeader().getID()).isEqualTo(query.getHeader().getID());
    assertThat(response.getHeader().getFlag(Flags.AA)).isTrue();
    assertThat(response.getHeader().getFlag(Flags.RD)).isTrue();
    assertThat(response.getQuestion()).isEqualTo(query.getQuestion());
    assertThat(records(response, Section.ANSWER, Type.MX)).hasSize(1);
    assertThat(dns.queries())
        .singleElement()
        .satisfies(
            q -> {
              assertThat(q.name()).isEqualTo("example.test.");
              assertThat(q.type()).isEqualTo(Type.MX);
              assertThat(q.transport()).isEqualTo(DnsQuery.Transport.UDP);
            });
  }

  @Test
  void signaturesOnlyWithTheDoBit() throws IOException {
    SimpleResolver withoutDo = resolver();
    SimpleResolver withDo = resolver();
    withDo.setEDNS(0, 1232, ExtendedFlags.DO);

    Message plain = query(withoutDo, "nope.example.test", Type.A);
    Message dnssec = query(withDo, "nope.example.test", Type.A);

    // RFC 4035 §3.1: no RRSIG and no NSEC proof without DO.
    assertThat(plain.getRcode()).isEqualTo(Rcode.NXDOMAIN);
    assertThat(plain.getSection(Section.AUTHORITY))
        .extracting(Record::getType)
        .containsExactly(Type.SOA);
    assertThat(dnssec.getRcode()).isEqualTo(Rcode.NXDOMAIN);
    assertThat(dnssec.getSection(Section.AUTHORITY))
        .extracting(Record::getType)
        .contains(Type.SOA, Type.RRSIG, Type.NSEC);
    assertThat(dnssec.getOPT().getFlags() & ExtendedFlags.DO).isEqualTo(ExtendedFlags.DO);
    assertThat(dns.queries()).extracting(DnsQuery::dnssecOk).containsExactly(false, true);
  }

  @Test
  void delegationToAZoneNotHeldIsAReferral() throws IOException {
    SimpleResolver resolver = resolver();
    resolver.setEDNS(0, 1232, ExtendedFlags.DO);

    Message referral = query(resolver, "www.far.example.test", Type.A);

    // RFC 1034 §4.3.2 step 3b, RFC 4035 §3.1.4: NS (+ NSEC proving no DS), glue, no AA.
    assertThat(referral.getRcode()).isEqualTo(Rcode.NOERROR);
    assertThat(referral.getHeader().getFlag(Flags.AA)).isFalse();
    assertThat(referral.getSection(Section.ANSWER)).isEmpty();
    assertThat(referral.getSection(Section.AUTHORITY))
        .extracting(Record::getType)
        .contains(Type.NS, Type.NSEC);
    assertThat(records(referral, Section.ADDITIONAL, Type.A))
        .singleElement()
        .satisfies(r -> assertThat(r.getName()).hasToString("ns.far.example.test."));
    // The parent still answers DS at the cut itself, authoritatively.
    Message ds = query(resolver, "far.example.test", Type.DS);
    assertThat(ds.getHeader().getFlag(Flags.AA)).isTrue();
    assertThat(ds.getRcode()).isEqualTo(Rcode.NOERROR);
  }

  @Test
  void servfailByNameAndType() throws IOException {
    dns.servfail("example.test", Type.MX);
    SimpleResolver resolver = resolver();

    assertThat(query(resolver, "example.test", Type.MX).getRcode()).isEqualTo(Rcode.SERVFAIL);
    assertThat(query(resolver, "example.test", Type.SOA).getRcode()).isEqualTo(Rcode.NOERROR);
    assertThat(query(validator(dns, Clock.systemUTC()), "example.test", Type.MX).getRcode())
        .isEqualTo(Rcode.SERVFAIL);

    dns.clearFaults();
    assertThat(query(resolver, "example.test", Type.MX).getRcode()).isEqualTo(Rcode.NOERROR);
  }

  @Test
  void servfailForEveryType() throws IOException {
    dns.servfail("mx1.example.test");

    assertThat(query(resolver(), "mx1.example.test", Type.A).getRcode()).isEqualTo(Rcode.SERVFAIL);
    assertThat(query(resolver(), "mx1.example.test", Type.AAAA).getRcode())
        .isEqualTo(Rcode.SERVFAIL);
  }

  @Test
  void dropMakesTheClientTimeOut() throws IOException {
    dns.drop("example.test", Type.MX);
    SimpleResolver resolver = resolver();
    resolver.setTimeout(Duration.ofMillis(300));

    assertThatThrownBy(() -> query(resolver, "example.test", Type.MX))
        .isInstanceOf(IOException.class);
    assertThat(dns.queryCount("example.test", Type.MX)).isPositive();
    // Other names still answer.
    assertThat(query(resolver, "mx1.example.test", Type.A).getRcode()).isEqualTo(Rcode.NOERROR);
  }

  @Test
  void dropAlsoAppliesOverTcp() throws IOException {
    dns.drop("example.test");
    SimpleResolver resolver = resolver();
    resolver.setTCP(true);
    resolver.setTimeout(Duration.ofMillis(300));

    assertThatThrownBy(() -> query(resolver, "example.test", Type.MX))
        .isInstanceOf(IOException.class);
  }

  @Test
  void truncateSendsUdpClientsToTcp() throws IOException {
    dns.truncate("example.test", Type.MX);
    SimpleResolver udpOnly = resolver();
    udpOnly.setIgnoreTruncation(true);

    Message truncated = query(udpOnly, "example.test", Type.MX);

    assertThat(truncated.getHeader().getFlag(Flags.TC)).isTrue();
    assertThat(truncated.getSection(Section.ANSWER)).isEmpty();

    dns.clearQueryLog();
    Message full = query(resolver(), "example.test", Type.MX);

    assertThat(full.getHeader().getFlag(Flags.TC)).isFalse();
    assertThat(records(full, Section.ANSWER, Type.MX)).hasSize(1);
    assertThat(dns.queries())
        .extracting(DnsQuery::transport)
        .containsExactly(DnsQuery.Transport.UDP, DnsQuery.Transport.TCP);
  }

  @Test
  void validatorFollowsTruncationToTcp() throws IOException {
    dns.truncate("example.test", Type.MX);

    Message response = query(validator(dns, Clock.systemUTC()), "example.test", Type.MX);

    assertThat(response.getRcode()).isEqualTo(Rcode.NOERROR);
    assertThat(response.getHeader().getFlag(Flags.AD)).isTrue();
  }

  @Test
  void answerLargerThanThePayloadSizeIsTruncated() throws IOException {
    SimpleResolver classic = resolver();
    classic.setEDNS(-1); // no EDNS: 512 bytes (RFC 1035 §4.2.1)
    classic.setIgnoreTruncation(true);
    SimpleResolver edns = resolver();
    edns.setEDNS(0, 4096, 0);
    edns.setIgnoreTruncation(true);

    Message cut = query(classic, "big.example.test", Type.TXT);
    Message whole = query(edns, "big.example.test", Type.TXT);
    Message retried = query(resolver(), "big.example.test", Type.TXT); // retries over TCP

    assertThat(cut.getHeader().getFlag(Flags.TC)).isTrue();
    assertThat(whole.getHeader().getFlag(Flags.TC)).isFalse();
    assertThat(records(whole, Section.ANSWER, Type.TXT)).hasSize(20);
    assertThat(records(retried, Section.ANSWER, Type.TXT)).hasSize(20);
  }

  @Test
  void tcpCarriesSeveralQueriesPerConnection() throws IOException {
    try (Socket socket = new Socket()) {
      socket.connect(dns.socketAddress(), 2000);
      socket.setSoTimeout(2000);
      OutputStream out = socket.getOutputStream();
      DataInputStream in = new DataInputStream(socket.getInputStream());
      Message first = Message.newQuery(question("example.test", Type.MX));
      Message second = Message.newQuery(question("mx1.example.test", Type.A));

      writeFramed(out, first.toWire());
      writeFramed(out, second.toWire());
      Message firstResponse = readFramed(in);
      Message secondResponse = readFramed(in);

      assertThat(firstResponse.getHeader().getID()).isEqualTo(first.getHeader().getID());
      assertThat(records(firstResponse, Section.ANSWER, Type.MX)).hasSize(1);
      assertThat(secondResponse.getHeader().getID()).isEqualTo(second.getHeader().getID());
      assertThat(records(secondResponse, Section.ANSWER, Type.A)).hasSize(1);
    }
    assertThat(dns.queries())
        .extracting(DnsQuery::transport)
        .containsOnly(DnsQuery.Transport.TCP)
        .hasSize(2);
  }

  @Test
  void garbageDoesNotKillTheServer() throws IOException {
    Random random = new Random(42);
    try (DatagramSocket socket = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
      socket.setSoTimeout(1000);
      for (int size : new int[] {0, 1, 5, 11, 12, 40, 512, 3000}) {
        byte[] garbage = new byte[size];
        random.nextBytes(garbage);
        if (size >= 3) {
          garbage[2] &= 0x7f; // a "query" (QR clear), so that it deserves an answer
        }
        socket.send(new DatagramPacket(garbage, size, dns.socketAddress()));
      }
      // A header-only message with a bogus section count: FORMERR with the same ID.
      byte[] header = {0x12, 0x34, 0x01, 0x00, 0x00, 0x05, 0, 0, 0, 0, 0, 0};
      socket.send(new DatagramPacket(header, header.length, dns.socketAddress()));
      Message formerr = receiveWithId(socket, 0x1234);
      assertThat(formerr.getRcode()).isEqualTo(Rcode.FORMERR);
    }
    try (Socket tcp = new Socket()) {
      tcp.connect(dns.socketAddress(), 2000);
      tcp.getOutputStream().write(new byte[] {0x00, 0x03, 1, 2, 3});
      tcp.getOutputStream().flush();
    }

    assertThat(query(resolver(), "example.test", Type.MX).getRcode()).isEqualTo(Rcode.NOERROR);
  }

  @Test
  void unsupportedRequestsGetErrorCodes() throws IOException {
    SimpleResolver resolver = resolver();

    Message update = Message.newQuery(question("example.test", Type.SOA));
    update.getHeader().setOpcode(Opcode.UPDATE);
    Message chaos =
        Message.newQuery(Record.newRecord(Name.fromString("version.bind."), Type.TXT, DClass.CH));
    Message ednsVersion1 = Message.newQuery(question("example.test", Type.MX));
    ednsVersion1.addRecord(new OPTRecord(1232, 0, 1), Section.ADDITIONAL);

    assertThat(rawExchange(update.toWire()).getRcode()).isEqualTo(Rcode.NOTIMP);
    assertThat(resolver.send(chaos).getRcode()).isEqualTo(Rcode.REFUSED);
    assertThat(rawExchange(ednsVersion1.toWire()).getRcode()).isEqualTo(Rcode.BADVERS);
  }

  @Test
  void queryLogCountsAndClears() throws IOException {
    SimpleResolver resolver = resolver();
    query(resolver, "example.test", Type.MX);
    query(resolver, "EXAMPLE.test.", Type.MX);
    query(resolver, "example.test", Type.A);

    assertThat(dns.queryCount("example.test", Type.MX)).isEqualTo(2);
    assertThat(dns.queryCount("example.test.", Type.A)).isEqualTo(1);
    assertThat(dns.queries()).hasSize(3);

    dns.clearQueryLog();
    assertThat(dns.queries()).isEmpty();
  }

  @Test
  void answersConcurrentClientsWhileZonesChange() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<Integer>> results = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        boolean tcp = t % 2 == 0;
        results.add(
            pool.submit(
                () -> {
                  SimpleResolver resolver = resolver();
                  resolver.setTCP(tcp);
                  int ok = 0;
                  for (int i = 0; i < 50; i++) {
                    if (query(resolver, "example.test", Type.MX).getRcode() == Rcode.NOERROR) {
                      ok++;
                    }
                  }
                  return ok;
                }));
      }
      for (int i = 0; i < 10; i++) {
        int n = i;
        dns.update("example.test", z -> z.a("host" + n + ".example.test", "127.0.0.3"));
      }
      for (Future<Integer> result : results) {
        assertThat(result.get(20, TimeUnit.SECONDS)).isEqualTo(50);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(dns.queryCount("example.test", Type.MX)).isEqualTo(200);
  }

  @Test
  void excessTcpConnectionsAreClosedAndTheServerRecovers() throws Exception {
    List<Socket> sockets = new ArrayList<>();
    try {
      for (int i = 0; i < 66; i++) {
        Socket socket = new Socket();
        socket.connect(dns.socketAddress(), 2000);
        socket.setSoTimeout(2000);
        sockets.add(socket);
      }
      // Connections past the 64th are closed by the server at once.
      assertThat(sockets.get(65).getInputStream().read()).isEqualTo(-1);
    } finally {
      for (Socket socket : sockets) {
        socket.close();
      }
    }
    SimpleResolver tcp = resolver();
    tcp.setTCP(true);

    // The server frees the slots as it sees the clients hang up.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    Message response = null;
    while (response == null) {
      try {
        response = query(tcp, "example.test", Type.MX);
      } catch (IOException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(20);
      }
    }
    assertThat(response.getRcode()).isEqualTo(Rcode.NOERROR);
  }

  @Test
  void closeFreesBothPorts() throws IOException {
    InetSocketAddress address = dns.socketAddress();

    dns.close();

    try (DatagramSocket udp = new DatagramSocket(address);
        ServerSocket tcp = new ServerSocket()) {
      tcp.setReuseAddress(true);
      tcp.bind(address);
      assertThat(udp.getLocalPort()).isEqualTo(tcp.getLocalPort());
    }
    assertThat(Thread.getAllStackTraces().keySet())
        .noneMatch(t -> t.getName().endsWith("-" + address.getPort()) && t.isAlive());
  }

  @Test
  void anotherLoopbackAddressWorks() throws IOException {
    InetAddress other = InetAddress.getByAddress(new byte[] {127, 0, 0, 2});
    try (TestDnsServer second =
        TestDnsServer.builder().address(other).zone("example.test").start()) {
      SimpleResolver resolver = new SimpleResolver(second.socketAddress());

      assertThat(second.socketAddress().getAddress()).isEqualTo(other);
      assertThat(query(resolver, "example.test", Type.SOA).getRcode()).isEqualTo(Rcode.NOERROR);
    }
  }

  @Test
  void validatorReportsServfailWithAReasonForBogusAnswers() throws IOException {
    dns.corruptSignatures("mx1.example.test");
    ValidatingResolver validator = validator(dns, Clock.systemUTC());

    Message response = query(validator, "mx1.example.test", Type.A);

    assertThat(response.getRcode()).isEqualTo(Rcode.SERVFAIL);
    assertThat(response.getSection(Section.ADDITIONAL))
        .filteredOn(r -> r.getDClass() == ValidatingResolver.VALIDATION_REASON_QCLASS)
        .singleElement()
        .satisfies(r -> assertThat(r.rdataToString()).contains("mx1.example.test"));
  }

  // ------------------------------------------------------------------ helpers

  private SimpleResolver resolver() {
    SimpleResolver resolver = new SimpleResolver(dns.socketAddress());
    resolver.setTimeout(Duration.ofSeconds(2));
    return resolver;
  }

  private static Record question(String name, int type) throws IOException {
    return Record.newRecord(Name.fromString(name, Name.root), type, DClass.IN);
  }

  private Message rawExchange(byte[] query) throws IOException {
    try (DatagramSocket socket = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
      socket.setSoTimeout(2000);
      socket.send(new DatagramPacket(query, query.length, dns.socketAddress()));
      byte[] buffer = new byte[65535];
      DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
      socket.receive(packet);
      byte[] response = new byte[packet.getLength()];
      System.arraycopy(buffer, 0, response, 0, response.length);
      return new Message(response);
    }
  }

  private static Message receiveWithId(DatagramSocket socket, int id) throws IOException {
    byte[] buffer = new byte[65535];
    while (true) {
      DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
      socket.receive(packet); // throws SocketTimeoutException if it never comes
      if (packet.getLength() >= 12 && ((buffer[0] & 0xff) << 8 | (buffer[1] & 0xff)) == id) {
        byte[] response = new byte[packet.getLength()];
        System.arraycopy(buffer, 0, response, 0, response.length);
        return new Message(response);
      }
    }
  }

  private static void writeFramed(OutputStream out, byte[] message) throws IOException {
    out.write(new byte[] {(byte) (message.length >>> 8), (byte) message.length});
    out.write(message);
    out.flush();
  }

  private static Message readFramed(DataInputStream in) throws IOException {
    byte[] message = new byte[in.readUnsignedShort()];
    in.readFully(message);
    return new Message(message);
  }
}
