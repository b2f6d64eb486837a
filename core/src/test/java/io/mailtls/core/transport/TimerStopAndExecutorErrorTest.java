package io.mailtls.core.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DomainName;
import io.mailtls.core.Envelope;
import io.mailtls.core.ProbeResult;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.core.StarttlsProbe;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.TlsRequirement;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.SmtpAction;
import io.mailtls.testkit.SmtpSession;
import io.mailtls.testkit.SmtpStep;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The lifecycle of a transport's threads, sockets and delivery slots on its failure paths. */
class TimerStopAndExecutorErrorTest {

  private final Fixture f = new Fixture();

  @AfterEach
  void close() {
    f.close();
  }

  /**
   * The idle-expiry timer is saying QUIT to a pooled session whose server never answers when the
   * transport closes. The QUIT is bounded (5 s) by a deadline on the transport's timer; close()
   * must not stop that timer in a way that leaves the read unbounded: the socket is closed within
   * the bound all the same, and no timer thread stays blocked on it for ever.
   */
  @Test
  void anIdleExpiryQuitUnderWayWhenTheTransportClosesIsStillBounded() throws Exception {
    MockSmtpServer mx =
        f.server(
            "127.0.0.41", b -> b.hostname("mx.quit.test").on(SmtpStep.QUIT, SmtpAction.hang()));
    f.dns(d -> d.zone("quit.test", z -> z.mailHost("quit.test", 10, "mx.quit.test", mx)));
    SecureSmtpTransport t =
        f.transport(
            TlsLevel.OPPORTUNISTIC,
            b -> b.connectionReuse(Duration.ofMillis(200), Duration.ofMinutes(5)));
    assertThat(
            t.send(Envelope.of("a@sender.test", "r@quit.test"), Fixture.message()).allDelivered())
        .isTrue();
    // The timer expires the idle session and waits for the reply to its QUIT.
    Fixture.await(
        "QUIT from the idle-expiry timer",
        () -> mx.sessions().stream().anyMatch(s -> s.commandLines().contains("QUIT")));
    t.close();

    SmtpSession s = mx.sessions().get(0);
    assertThat(s.awaitClosed(Duration.ofSeconds(10)))
        .as("the client closed the idle session within the QUIT bound")
        .isTrue();
  }

  /**
   * An executor that cannot start a thread throws an Error from {@code execute}, as {@link
   * java.util.concurrent.ThreadPoolExecutor} does with "unable to create native thread". A message
   * to two domains hands the first to the executor: the Error must reach the caller (or the domain
   * be deferred), never leave {@code send} blocked for ever with its delivery slot held.
   */
  @Test
  void anErrorFromTheExecutorNeverLeavesSendBlockedNorItsSlotHeld() throws Exception {
    MockSmtpServer one = f.server("127.0.0.42", b -> b.hostname("mx.one.test"));
    MockSmtpServer two = f.server("127.0.0.43", b -> b.hostname("mx.two.test"));
    f.dns(
        d ->
            d.zone("one.test", z -> z.mailHost("one.test", 10, "mx.one.test", one))
                .zone("two.test", z -> z.mailHost("two.test", 10, "mx.two.test", two)));
    AtomicInteger failures = new AtomicInteger(1);
    ExecutorService threads = Executors.newCachedThreadPool();
    Executor flaky =
        task -> {
          if (failures.getAndDecrement() > 0) {
            throw new OutOfMemoryError("unable to create native thread: possibly out of memory");
          }
          threads.execute(task);
        };
    try {
      SecureSmtpTransport t =
          f.transport(TlsLevel.OPPORTUNISTIC, b -> b.executor(flaky).maxConcurrentDeliveries(2));
      CompletableFuture<Object> first =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return t.send(
                      Envelope.of("a@sender.test", "r@one.test", "r@two.test"), Fixture.message());
                } catch (Error e) {
                  return e; // reaching the caller is fine
                }
              },
              threads);
      Object outcome;
      try {
        outcome = first.get(Fixture.WAIT.toSeconds(), TimeUnit.SECONDS);
      } catch (TimeoutException e) {
        throw new AssertionError("send() still blocked after " + Fixture.WAIT, e);
      }
      assertThat(outcome).isNotNull();
      // Both slots are free again: two more domains at once are delivered, without waiting for
      // a slot to time out.
      DeliveryReport again =
          t.send(Envelope.of("a@sender.test", "s@one.test", "s@two.test"), Fixture.message());
      assertThat(again.allDelivered()).as("%s", again).isTrue();
    } finally {
      threads.shutdownNow();
    }
  }

  /**
   * {@link StarttlsProbe#close()} says a probe still running then fails instead of waiting. A probe
   * blocked on a greeting that never comes (bounded by 60 s here) must end soon after the close,
   * not wait for the peer without any bound because the close cancelled the check of its deadline.
   */
  @Test
  void aProbeRunningWhenItsProbeClosesFailsInsteadOfWaiting() throws Exception {
    try (MockSmtpServer server =
        MockSmtpServer.builder()
            .hostname("mx.probe.test")
            .on(SmtpStep.GREETING, SmtpAction.hang())
            .start()) {
      StarttlsProbe probe =
          StarttlsProbe.builder()
              .heloName("client.sender.test")
              .port(server.port())
              .timeouts(SmtpTimeouts.uniform(Duration.ofSeconds(60)))
              .build();
      ExecutorService thread = Executors.newSingleThreadExecutor();
      try {
        Future<ProbeResult> running =
            thread.submit(
                () ->
                    probe.probe(
                        Optional.of(DomainName.of("mx.probe.test")),
                        server.address(),
                        new TlsRequirement.Opportunistic()));
        Fixture.await("the probe's session", () -> !server.sessions().isEmpty());
        probe.close();
        ProbeResult r;
        try {
          r = running.get(10, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
          throw new AssertionError("the probe still waits 10 s after close()", e);
        }
        assertThat(r).isNotNull();
      } finally {
        thread.shutdownNow();
      }
    }
  }
}
