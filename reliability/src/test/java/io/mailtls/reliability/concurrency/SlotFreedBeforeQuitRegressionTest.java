package io.mailtls.reliability.concurrency;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.Envelope;
import io.mailtls.core.MessageContent;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.SmtpAction;
import io.mailtls.testkit.SmtpStep;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Regression: the connection pool freed a connection's slot before saying QUIT on it, so while a
 * slow server answered the QUIT another delivery opened a session to the same address, and the
 * server saw one session more than {@code maxSessionsPerDestination}. Now a connection counts
 * against the cap until it is closed. Shown at the server: with a cap of one, a 400 ms reply to
 * QUIT and several deliveries waiting for the one session, two sessions are never open at once for
 * longer than the server takes to see a closed socket (with the defect: the whole QUIT).
 */
class SlotFreedBeforeQuitRegressionTest {

  @Test
  void aConnectionSayingQuitStillCountsAgainstTheCap() throws Exception {
    try (StressPeers peers =
            new StressPeers(
                1,
                b ->
                    b.on(
                        SmtpStep.QUIT,
                        SmtpAction.reply(221, "2.0.0", "bye").after(Duration.ofMillis(400))));
        SecureSmtpTransport transport =
            peers
                .transport()
                .maxSessionsPerDestination(1)
                // every session ends after one message: each release says QUIT
                .maxTransactionsPerSession(1)
                .build()) {
      MockSmtpServer server = peers.servers.get(0);
      AtomicBoolean running = new AtomicBoolean(true);
      // The longest stretch with two sessions open at the server: with the defect, the whole
      // 400 ms of a QUIT; now at most the moment the server takes to see a closed socket.
      AtomicLong longestOverlapNanos = new AtomicLong();
      Thread sampler =
          new Thread(
              () -> {
                long since = -1;
                while (running.get()) {
                  long now = System.nanoTime();
                  if (StressPeers.openSessions(server) > 1) {
                    if (since < 0) {
                      since = now;
                    }
                    longestOverlapNanos.accumulateAndGet(now - since, Math::max);
                  } else {
                    since = -1;
                  }
                  Thread.onSpinWait();
                }
              });
      sampler.setDaemon(true);
      sampler.start();
      List<CompletableFuture<DeliveryReport>> sends = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        String id = "q" + i + "@quit.test";
        sends.add(
            CompletableFuture.supplyAsync(
                () ->
                    transport.send(
                        Envelope.of("a@sender.test", "u" + id.replace('@', '.') + "@d0.test"),
                        MessageContent.of(StressPeers.message(id)))));
      }
      for (CompletableFuture<DeliveryReport> s : sends) {
        assertThat(s.get(60, TimeUnit.SECONDS).recipients())
            .allMatch(r -> r.status() == DeliveryStatus.DELIVERED);
      }
      running.set(false);
      sampler.join();
      assertThat(server.sessions()).hasSize(3);
      assertThat(Duration.ofNanos(longestOverlapNanos.get()))
          .as("longest time two sessions were open at once at the server")
          .isLessThan(Duration.ofMillis(200));
    }
  }
}
