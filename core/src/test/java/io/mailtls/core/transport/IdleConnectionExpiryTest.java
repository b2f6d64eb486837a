package io.mailtls.core.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.Envelope;
import io.mailtls.core.MessageContent;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.testkit.MockSmtpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Issue 11 item 9, idle pooled connections are never closed: a sender that reaches many
 * destinations once each must not keep a socket per destination until {@link
 * SecureSmtpTransport#close()}. Deliver to 1,000 distinct destinations, wait past the idle time,
 * and count this process's open sockets: back at the baseline, without any further send.
 */
class IdleConnectionExpiryTest {

  private static final int DESTINATIONS = 1_000;
  private static final Duration IDLE = Duration.ofSeconds(2);

  /** This process's open sockets (Linux: the socket entries among its file descriptors). */
  private static long openSockets() throws IOException {
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      return fds.filter(
              fd -> {
                try {
                  return Files.readSymbolicLink(fd).toString().startsWith("socket:");
                } catch (IOException e) {
                  return false; // closed while listing
                }
              })
          .count();
    }
  }

  /** The i-th destination: 127.1.x.y, away from the other tests' 127.0.0.x servers. */
  private static String address(int i) {
    return "127.1." + (1 + i / 250) + "." + (1 + i % 250);
  }

  @Test
  void idlePooledConnectionsAreClosedOnATimer() throws Exception {
    List<MockSmtpServer> servers = new ArrayList<>();
    try {
      int port = 0;
      for (int i = 0; i < DESTINATIONS; i++) {
        MockSmtpServer.Builder b =
            MockSmtpServer.builder()
                .address(InetAddress.getByName(address(i)))
                .hostname("mx" + i + ".example.test")
                .digestOnly();
        if (port != 0) {
          b.port(port);
        }
        MockSmtpServer s = b.start();
        port = s.port();
        servers.add(s);
      }
      long baseline = openSockets();
      List<String> recipients = new ArrayList<>();
      for (int i = 0; i < DESTINATIONS; i++) {
        recipients.add("rcpt@[" + address(i) + "]");
      }
      try (SecureSmtpTransport transport =
          SecureSmtpTransport.builder()
              .dns(
                  (name, type) -> {
                    throw new AssertionError("address literals need no DNS");
                  })
              .withoutMtaSts()
              .withoutDane()
              .heloName("client.sender.test")
              .port(port)
              .timeouts(SmtpTimeouts.uniform(Duration.ofSeconds(5)))
              .connectionReuse(IDLE, Duration.ofMinutes(5))
              .build()) {
        DeliveryReport report =
            transport.send(
                Envelope.of("a@sender.test", recipients.toArray(String[]::new)),
                MessageContent.of("Subject: idle\r\n\r\nHi.\r\n".getBytes(StandardCharsets.UTF_8)));
        assertThat(report.recipients())
            .hasSize(DESTINATIONS)
            .allSatisfy(r -> assertThat(r.status()).isEqualTo(DeliveryStatus.DELIVERED));
        // The pool kept the sessions for reuse, a client and a server socket each; the first
        // ones may already have expired while the last were being delivered.
        assertThat(openSockets())
            .as("sockets right after the deliveries")
            .isGreaterThanOrEqualTo(baseline + DESTINATIONS / 4);

        long deadline = System.nanoTime() + IDLE.multipliedBy(10).toNanos();
        long open = openSockets();
        while (open > baseline && System.nanoTime() < deadline) {
          Thread.sleep(100);
          open = openSockets();
        }
        assertThat(open)
            .as("open sockets after the idle time, transport still open")
            .isLessThanOrEqualTo(baseline);
        // Each expired session was ended politely (RFC 5321 §4.1.1.10).
        for (MockSmtpServer s : servers) {
          assertThat(s.sessions())
              .singleElement()
              .satisfies(
                  session ->
                      assertThat(session.commands())
                          .last()
                          .satisfies(c -> assertThat(c.verb()).isEqualTo("QUIT")));
        }
      }
    } finally {
      servers.forEach(MockSmtpServer::close);
    }
  }
}
