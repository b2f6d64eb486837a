package io.mailtls.core.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.SmtpAction;
import io.mailtls.testkit.SmtpSession;
import io.mailtls.testkit.SmtpStep;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link SecureSmtpTransport#close()} with many idle pooled sessions to servers that never answer
 * QUIT (a tarpit, a host that stopped answering). RFC 5321 §4.1.1.10 has the client send QUIT, and
 * §3.8 lets it drop a server that does not answer; each QUIT waits at most its bound, but a close
 * that waited for the sessions one after another would block an application's shutdown for that
 * bound times the number of sessions (minutes for a few dozen).
 */
class CloseQuitBoundTest {

  /** How long the transport waits for the reply to a QUIT (fixed, not a builder setting). */
  private static final Duration QUIT_BOUND = Duration.ofSeconds(5);

  private static final int SESSIONS = 6;

  private final Fixture f = new Fixture();

  @AfterEach
  void close() {
    f.close();
  }

  @Test
  void closeWaitsForTheQuitsOfAllIdleSessionsAtOnceAndClosesEverySocket() throws Exception {
    List<MockSmtpServer> servers = new ArrayList<>();
    List<String> recipients = new ArrayList<>();
    for (int i = 1; i <= SESSIONS; i++) {
      String ip = "127.0.6." + i;
      String host = "mx" + i + ".silent.test";
      servers.add(f.server(ip, b -> b.hostname(host).on(SmtpStep.QUIT, SmtpAction.hang())));
      recipients.add("r@[" + ip + "]");
    }
    SecureSmtpTransport t =
        SecureSmtpTransport.builder()
            .dns(
                (name, type) -> {
                  throw new AssertionError("address literals need no DNS");
                })
            .withoutMtaSts()
            .withoutDane()
            .heloName("client.sender.test")
            .port(f.port())
            .timeouts(SmtpTimeouts.uniform(Duration.ofSeconds(5)))
            // Kept far longer than the test runs: close(), not the idle timer, ends them.
            .connectionReuse(Duration.ofMinutes(5), Duration.ofMinutes(5))
            .build();
    f.closeLater(t);
    assertThat(Fixture.send(t, recipients.toArray(String[]::new)).allDelivered()).isTrue();
    assertThat(t.pooledConnections()).isEqualTo(SESSIONS);

    long start = System.nanoTime();
    t.close();
    Duration took = Duration.ofNanos(System.nanoTime() - start);

    // One after another would take SESSIONS × QUIT_BOUND (30 s); at once, about one bound. The
    // margin is wide for a loaded machine and still well below the sum.
    assertThat(took)
        .as("close() with %d idle sessions whose servers never answer QUIT", SESSIONS)
        .isLessThan(QUIT_BOUND.multipliedBy(3));
    assertThat(t.pooledConnections()).isZero();
    for (MockSmtpServer mx : servers) {
      SmtpSession s = mx.sessions().get(0);
      assertThat(s.awaitClosed(Fixture.WAIT))
          .as("%s sees its session end: the client closed the socket", mx.hostname())
          .isTrue();
      assertThat(mx.sessions()).hasSize(1);
      assertThat(s.commandLines()).as("said QUIT first (RFC 5321 §4.1.1.10)").endsWith("QUIT");
    }
  }
}
