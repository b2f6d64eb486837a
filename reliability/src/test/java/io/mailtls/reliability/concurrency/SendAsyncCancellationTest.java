package io.mailtls.reliability.concurrency;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.Envelope;
import io.mailtls.core.MessageContent;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.testkit.SmtpAction;
import io.mailtls.testkit.SmtpStep;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code sendAsync} futures cancelled at random points (before the work starts, while domains wait
 * for a delivery slot, mid-session, after completion) lose and duplicate nothing: the delivery goes
 * on, each call still ends exactly once for its listener with one result per recipient, a message
 * the servers accepted is reported delivered, never more deliveries run at once than {@code
 * maxConcurrentDeliveries} (sessions open at the servers at once before their QUIT, with reuse
 * off), and every slot comes back: afterwards a message to as many domains as there are slots is
 * delivered to each of them (a leaked slot would leave a domain waiting until it is deferred with
 * 4.4.5).
 */
class SendAsyncCancellationTest {

  private static final int DOMAINS = 6;
  private static final int SLOTS = 3;

  private StressPeers peers;
  private SecureSmtpTransport transport;
  private final ScheduledExecutorService cancellers = Executors.newScheduledThreadPool(2);

  @AfterEach
  void stop() {
    cancellers.shutdownNow();
    if (transport != null) {
      transport.close();
    }
    if (peers != null) {
      peers.close();
    }
  }

  @Test
  void cancelledFuturesLoseNothingAndReleaseTheirSlots() throws Exception {
    long seed = Long.getLong("mailtls.stress.seed", System.nanoTime());
    System.out.println("SendAsyncCancellationTest seed " + seed);
    Random random = new Random(seed);
    peers =
        new StressPeers(
            DOMAINS,
            b ->
                b.on(
                    SmtpStep.DATA_END,
                    SmtpAction.reply(250, "2.0.0", "queued").after(Duration.ofMillis(10))));
    transport = peers.transport().maxConcurrentDeliveries(SLOTS).noConnectionReuse().build();
    AtomicBoolean running = new AtomicBoolean(true);
    AtomicInteger most = new AtomicInteger();
    Thread sampler =
        new Thread(
            () -> {
              while (running.get()) {
                most.accumulateAndGet(StressPeers.activeAtOnce(peers.servers), Math::max);
                Thread.onSpinWait();
              }
            });
    sampler.setDaemon(true);
    sampler.start();

    int messages = StressBudget.scaled(60);
    List<String> ids = new ArrayList<>();
    List<Envelope> envelopes = new ArrayList<>();
    List<CompletableFuture<DeliveryReport>> futures = new ArrayList<>();
    int cancelled = 0;
    for (int m = 0; m < messages; m++) {
      String id = "m" + m + "@cancel.test";
      Envelope e = envelope(random, id);
      CompletableFuture<DeliveryReport> f =
          transport.sendAsync(e, MessageContent.of(StressPeers.message(id)));
      ids.add(id);
      envelopes.add(e);
      futures.add(f);
      int when = random.nextInt(4);
      if (when == 0) {
        f.cancel(true); // at once, before the work has started or while it waits for a slot
        cancelled++;
      } else if (when == 1) {
        var unused =
            cancellers.schedule(() -> f.cancel(true), random.nextInt(200), TimeUnit.MILLISECONDS);
        cancelled++;
      }
    }
    // every call ends for its listener, cancelled or not
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (peers.deliveryEnds.size() < messages && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    running.set(false);
    sampler.join();
    System.out.printf(
        "%d messages, %d cancelled, at most %d sessions at once%n",
        messages, cancelled, most.get());
    assertThat(peers.deliveryEnds).hasSize(messages);
    assertThat(peers.deliveryEnds.values()).allMatch(n -> n.get() == 1);
    assertThat(peers.recipientEnds.values()).allMatch(n -> n.get() == 1);
    int recipients = envelopes.stream().mapToInt(e -> e.recipients().size()).sum();
    assertThat(peers.recipientEnds).hasSize(recipients);
    assertThat(most.get()).as("deliveries at once").isLessThanOrEqualTo(SLOTS);

    // Futures not cancelled have their report; what the servers accepted is delivered there.
    Map<String, List<String>> accepted = peers.acceptedRecipientsByMessageId();
    for (int m = 0; m < messages; m++) {
      CompletableFuture<DeliveryReport> f = futures.get(m);
      List<String> atServers = accepted.getOrDefault(ids.get(m), List.of());
      assertThat(atServers).as("accepted once each, " + ids.get(m)).doesNotHaveDuplicates();
      if (f.isCancelled()) {
        continue;
      }
      DeliveryReport report = f.get(1, TimeUnit.SECONDS);
      assertThat(report.recipients()).hasSize(envelopes.get(m).recipients().size());
      for (RecipientResult r : report.recipients()) {
        assertThat(r.status()).as(r.toString()).isEqualTo(DeliveryStatus.DELIVERED);
      }
      assertThat(atServers).hasSize(report.recipients().size());
    }
    // Nothing is deferred by anything but a cancel: every message reached every server it named.
    for (int m = 0; m < messages; m++) {
      assertThat(accepted.getOrDefault(ids.get(m), List.of()))
          .as("every recipient of " + ids.get(m) + " delivered, cancelled or not")
          .hasSize(envelopes.get(m).recipients().size());
    }

    // Every slot came back: SLOTS domains at once are each delivered, none refused for want of one.
    String[] rcpts = new String[SLOTS];
    for (int d = 0; d < SLOTS; d++) {
      rcpts[d] = "last@" + StressPeers.domain(d);
    }
    DeliveryReport last =
        transport.send(
            Envelope.of("a@sender.test", rcpts),
            MessageContent.of(StressPeers.message("last@cancel.test")));
    assertThat(last.recipients()).allMatch(r -> r.status() == DeliveryStatus.DELIVERED);
  }

  private static Envelope envelope(Random r, String id) {
    int domains = 1 + r.nextInt(4);
    List<String> rcpts = new ArrayList<>();
    int first = r.nextInt(DOMAINS);
    for (int d = 0; d < domains; d++) {
      rcpts.add("u-" + id.replace('@', '.') + "@" + StressPeers.domain((first + d) % DOMAINS));
    }
    return Envelope.of("a@sender.test", rcpts.toArray(String[]::new));
  }
}
