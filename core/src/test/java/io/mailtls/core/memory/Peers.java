package io.mailtls.core.memory;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DnssecResolver;
import io.mailtls.core.Envelope;
import io.mailtls.core.MessageContent;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SenderPolicy;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.TrustAnchors;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.TestDnsServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Random;
import java.util.function.UnaryOperator;

/**
 * The peers of a bounded-memory test: one mock SMTP server on loopback, published as the only MX
 * host of {@code example.test} by the testkit's signed DNS server, and a transport pointed at both
 * with 5-second timeouts. {@link #close()} stops everything.
 *
 * <p>Also holds the check that the heap limit of the {@code bounded-memory} surefire execution is
 * in force: without it these tests would prove nothing.
 *
 * <p>Not thread-safe: one test uses it.
 */
final class Peers implements AutoCloseable {

  /** The {@code -Xmx} of the {@code bounded-memory} surefire execution (core/pom.xml). */
  static final long HEAP_LIMIT = 64L << 20;

  static final String HOST = "mx.example.test";
  static final String RECIPIENT = "rcpt@example.test";

  final MockSmtpServer server;
  final TestDnsServer dns;
  final SecureSmtpTransport transport;

  /** Starts a server configured by {@code config} (hostname already set), DNS and a transport. */
  Peers(TlsLevel level, UnaryOperator<MockSmtpServer.Builder> config) {
    try {
      server = config.apply(MockSmtpServer.builder().address(loopback()).hostname(HOST)).start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the mock SMTP server", e);
    }
    dns =
        TestDnsServer.builder()
            .zone("example.test", z -> z.mailHost("example.test", 10, HOST, server))
            .start();
    transport =
        SecureSmtpTransport.builder()
            .withoutMtaSts()
            .withoutDane()
            .dns(
                DnssecResolver.builder()
                    .upstream(dns.socketAddress())
                    .trustAnchors(TrustAnchors.parse(dns.trustAnchor()))
                    .queryTimeout(Duration.ofSeconds(2))
                    .lookupTimeout(Duration.ofSeconds(10))
                    .build())
            .heloName("client.sender.test")
            .port(server.port())
            .random(new Random(1))
            .senderPolicy(SenderPolicy.uniform(level))
            .timeouts(SmtpTimeouts.uniform(Duration.ofSeconds(5)))
            .build();
  }

  /** Sends {@code content} from a@sender.test to {@link #RECIPIENT}; returns its result. */
  RecipientResult send(MessageContent content) {
    return transport.send(Envelope.of("a@sender.test", RECIPIENT), content).result(RECIPIENT);
  }

  /**
   * Fails unless this JVM's heap is bounded by {@link #HEAP_LIMIT}, i.e. unless the test runs in
   * the {@code bounded-memory} surefire execution (or another JVM as small).
   */
  static void assertHeapLimitInForce() {
    assertThat(Runtime.getRuntime().maxMemory())
        .as("max heap; these tests must run with -Xmx64m (surefire execution bounded-memory)")
        .isLessThanOrEqualTo(HEAP_LIMIT);
  }

  private static InetAddress loopback() {
    try {
      return InetAddress.getByName("127.0.0.2");
    } catch (UnknownHostException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    transport.close();
    server.close();
    dns.close();
  }
}
