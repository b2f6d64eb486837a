package io.mailtls.core.transport;

import io.mailtls.core.DaneProvider;
import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DnsResolver;
import io.mailtls.core.DnssecResolver;
import io.mailtls.core.Envelope;
import io.mailtls.core.MessageContent;
import io.mailtls.core.MtaStsPolicySource;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SenderPolicy;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.TrustAnchors;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.TestDnsServer;
import io.mailtls.testkit.TestPki;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import javax.net.ssl.SSLContext;

/**
 * Real peers for transport tests: mock SMTP servers on loopback addresses sharing one port, the
 * testkit DNS server publishing them as MX hosts under signed zones, and a transport pointed at
 * both. Everything is closed by {@link #close()}.
 */
final class Fixture implements AutoCloseable {

  static final TestPki PKI = TestPki.create();
  static final String MESSAGE =
      "From: a@sender.test\r\nTo: b@example.test\r\nSubject: hi\r\n\r\n" + "Hello.\r\n";

  /** How long {@link #await} waits for what a test expects of other threads. */
  static final Duration WAIT = Duration.ofSeconds(20);

  /** {@link #MESSAGE} as content. */
  static MessageContent message() {
    return MessageContent.of(MESSAGE.getBytes(StandardCharsets.UTF_8));
  }

  /** Waits up to {@link #WAIT} for {@code condition}, polling; fails naming {@code what}. */
  static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + WAIT + ": " + what);
      }
      Thread.sleep(5);
    }
  }

  private final List<MockSmtpServer> servers = new ArrayList<>();
  private final List<SecureSmtpTransport> closeables = new ArrayList<>();
  private int port;

  /** The transport's time bounds; tests of stalls shorten them. */
  SmtpTimeouts timeouts = SmtpTimeouts.uniform(Duration.ofSeconds(5));

  TestDnsServer dns;
  private boolean dnsShared;
  private DnsResolver sharedResolver;
  SecureSmtpTransport transport;

  /** The MTA-STS source of the next transport built; none (an explicit opt-out) by default. */
  MtaStsPolicySource mtaSts;

  /**
   * The DANE provider of the next transport built; none (an explicit opt-out) by default, since
   * core has no DANE provider: mailtls-dane's tests cover DANE.
   */
  DaneProvider dane;

  /** A server certificate for {@code names}, issued by the test root. */
  static SSLContext certFor(String... names) {
    return PKI.root().leaf().dnsNames(names).issue().serverSslContext();
  }

  /** Starts a mock server on {@code ip}, on the port every server of this fixture shares. */
  MockSmtpServer server(String ip, UnaryOperator<MockSmtpServer.Builder> config) {
    MockSmtpServer.Builder b = MockSmtpServer.builder().address(inet(ip));
    if (port != 0) {
      b.port(port);
    }
    MockSmtpServer s;
    try {
      s = config.apply(b).start();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("cannot start a mock server on " + ip, e);
    }
    port = s.port();
    servers.add(s);
    return s;
  }

  /** A free address for "nothing listens here": the shared port on {@code ip} stays closed. */
  static InetAddress inet(String ip) {
    try {
      return InetAddress.getByName(ip);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(ip, e);
    }
  }

  /** The most recently started server. */
  MockSmtpServer lastServer() {
    return servers.get(servers.size() - 1);
  }

  /**
   * For a peer of the test's own on 127.0.0.2:{@code port} (not a MockSmtpServer): {@code
   * example.test}'s one MX, {@code mx.example.test}, is that address, and the transport connects to
   * that port.
   */
  void rawMx(int port) {
    usePort(port);
    dns(
        d ->
            d.zone(
                "example.test",
                z ->
                    z.mx("example.test", 10, "mx.example.test").a("mx.example.test", "127.0.0.2")));
  }

  /** Makes the transport connect to {@code port} (for a peer that is not a MockSmtpServer). */
  void usePort(int port) {
    this.port = port;
  }

  /** The port every server shares (and the transport connects to). */
  int port() {
    return port;
  }

  /**
   * Uses a DNS server and a resolver that outlive this fixture (one per test class, say, when a
   * property test makes a fixture per try, and validated keys need not be fetched every time);
   * {@link #close()} leaves the server running.
   */
  void useDns(TestDnsServer shared, DnsResolver resolver) {
    dns = shared;
    dnsShared = true;
    sharedResolver = resolver;
  }

  /** The resolver every transport of the fixtures uses: validating, against {@code dns}. */
  static DnsResolver resolver(TestDnsServer dns) {
    return DnssecResolver.builder()
        .upstream(dns.socketAddress())
        .trustAnchors(TrustAnchors.parse(dns.trustAnchor()))
        .queryTimeout(Duration.ofSeconds(2))
        .lookupTimeout(Duration.ofSeconds(10))
        .build();
  }

  /** Starts the DNS server with the given zones. */
  TestDnsServer dns(UnaryOperator<TestDnsServer.Builder> zones) {
    dns = zones.apply(TestDnsServer.builder()).start();
    return dns;
  }

  /** The transport for a sender level, with short timeouts; built on first use. */
  SecureSmtpTransport transport(TlsLevel level) {
    return transport(level, b -> {});
  }

  SecureSmtpTransport transport(TlsLevel level, Consumer<SecureSmtpTransport.Builder> extra) {
    if (transport != null) {
      transport.close();
    }
    SecureSmtpTransport.Builder b =
        SecureSmtpTransport.builder()
            .dns(sharedResolver != null ? sharedResolver : resolver(dns))
            .heloName("client.sender.test")
            .port(port)
            .random(new Random(1))
            .senderPolicy(SenderPolicy.uniform(level));
    if (dane != null) {
      b.dane(dane);
    } else {
      b.withoutDane();
    }
    if (mtaSts != null) {
      b.mtaSts(mtaSts);
    } else {
      b.withoutMtaSts();
    }
    b.timeouts(timeouts);
    extra.accept(b);
    transport = b.build();
    return transport;
  }

  DeliveryReport send(TlsLevel level, String... recipients) {
    return send(transport(level), recipients);
  }

  /** {@link #MESSAGE} from a@sender.test on {@code transport}, e.g. a second message on it. */
  static DeliveryReport send(SecureSmtpTransport transport, String... recipients) {
    return transport.send(
        Envelope.of("a@sender.test", recipients),
        MessageContent.of(MESSAGE.getBytes(StandardCharsets.UTF_8)));
  }

  void closeLater(SecureSmtpTransport c) {
    closeables.add(c);
  }

  @Override
  public void close() {
    if (transport != null) {
      transport.close();
    }
    for (MockSmtpServer s : servers) {
      s.close();
    }
    for (SecureSmtpTransport c : closeables) {
      c.close();
    }
    if (dns != null && !dnsShared) {
      dns.close();
    }
  }
}
