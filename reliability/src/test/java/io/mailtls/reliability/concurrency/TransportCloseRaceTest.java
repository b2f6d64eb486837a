package io.mailtls.reliability.concurrency;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.Envelope;
import io.mailtls.core.MessageContent;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.SmtpAction;
import io.mailtls.testkit.SmtpStep;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link SecureSmtpTransport#close()} racing with many threads' {@code send} and {@code sendAsync}
 * of multi-domain messages, through one shared pool, against real mock servers: every recipient of
 * every call gets exactly one result (in the report and as one recipientEnd event; one deliveryEnd
 * per call), no exception escapes a public call, a recipient is DELIVERED exactly when its server
 * accepted the message (once), a recipient is deferred only because of the close, the servers never
 * see more sessions at once than the per-destination cap (no connection is opened after the close),
 * and after close no transport thread and no connection is left. Rounds and messages scale with
 * {@code -Dmailtls.stress.factor}; the seed is printed and can be fixed with {@code
 * -Dmailtls.stress.seed}.
 */
class TransportCloseRaceTest {

  private static final int DOMAINS = 4;
  private static final int PER_DESTINATION = 2;
  private static StressPeers peers;

  @BeforeAll
  static void start() {
    // a short pause before each reply to the final dot keeps sessions overlapping
    peers =
        new StressPeers(
            DOMAINS,
            b ->
                b.on(
                    SmtpStep.DATA_END,
                    SmtpAction.reply(250, "2.0.0", "queued").after(Duration.ofMillis(5))));
  }

  @AfterAll
  static void stop() {
    peers.close();
  }

  @Test
  void everyRecipientGetsExactlyOneResultWhenCloseRacesWithSends() throws Exception {
    long seed = Long.getLong("mailtls.stress.seed", System.nanoTime());
    System.out.println("TransportCloseRaceTest seed " + seed);
    Random random = new Random(seed);
    int rounds = StressBudget.scaled(4);
    for (int round = 0; round < rounds; round++) {
      round(new Random(random.nextLong()), round);
    }
  }

  private record Sent(String id, Envelope envelope, DeliveryReport report) {}

  private void round(Random random, int round) throws Exception {
    // call ids start at 1 on every transport: count this round's events only
    peers.recipientEnds.clear();
    peers.deliveryEnds.clear();
    SecureSmtpTransport transport =
        peers
            .transport()
            .maxSessionsPerDestination(PER_DESTINATION)
            .maxConcurrentDeliveries(4)
            .build();
    int callers = 8;
    int perCaller = 6;
    ExecutorService pool = Executors.newFixedThreadPool(callers);
    ConcurrentLinkedQueue<Sent> sent = new ConcurrentLinkedQueue<>();
    ConcurrentLinkedQueue<Throwable> escaped = new ConcurrentLinkedQueue<>();
    AtomicBoolean running = new AtomicBoolean(true);
    AtomicInteger overCap = new AtomicInteger();
    Thread sampler =
        new Thread(
            () -> {
              while (running.get()) {
                for (MockSmtpServer s : peers.servers) {
                  if (StressPeers.activeAtOnce(List.of(s)) > PER_DESTINATION) {
                    overCap.incrementAndGet();
                  }
                }
                Thread.onSpinWait();
              }
            });
    sampler.setDaemon(true);
    sampler.start();
    CountDownLatch go = new CountDownLatch(1);
    List<java.util.concurrent.Future<?>> tasks = new ArrayList<>();
    for (int c = 0; c < callers; c++) {
      long callerSeed = random.nextLong();
      int caller = c;
      tasks.add(
          pool.submit(
              () -> {
                Random r = new Random(callerSeed);
                go.await();
                for (int m = 0; m < perCaller; m++) {
                  String id = "r" + round + "c" + caller + "m" + m + "@stress.test";
                  Envelope e = envelope(r, id);
                  MessageContent content = MessageContent.of(StressPeers.message(id));
                  try {
                    DeliveryReport report =
                        r.nextBoolean()
                            ? transport.send(e, content)
                            : transport.sendAsync(e, content).get(60, TimeUnit.SECONDS);
                    sent.add(new Sent(id, e, report));
                  } catch (Throwable t) {
                    escaped.add(t);
                  }
                }
                return null;
              }));
    }
    go.countDown();
    Thread.sleep(random.nextInt(60));
    transport.close();
    for (var t : tasks) {
      t.get(120, TimeUnit.SECONDS);
    }
    pool.shutdown();
    running.set(false);
    sampler.join();

    assertThat(escaped).as("exceptions out of send/sendAsync").isEmpty();
    assertThat(sent).hasSize(callers * perCaller);
    Map<String, List<String>> accepted = peers.acceptedRecipientsByMessageId();
    for (Sent s : sent) {
      List<String> got =
          s.report().recipients().stream().map(x -> x.recipient().toString()).toList();
      assertThat(got)
          .as("one result per recipient, " + s.id())
          .containsExactlyElementsOf(
              s.envelope().recipients().stream().map(Object::toString).toList());
      Set<String> delivered = new HashSet<>();
      for (RecipientResult r : s.report().recipients()) {
        assertThat(r.status()).isIn(DeliveryStatus.DELIVERED, DeliveryStatus.DEFERRED);
        if (r.status() == DeliveryStatus.DELIVERED) {
          delivered.add(r.recipient().toString());
        } else {
          // The servers accept everything: only the close defers, and says so (never a session
          // failure made up by the client, nor a connection opened after the close).
          assertThat(r.reply().toString()).as(r.toString()).contains("transport was closed");
        }
      }
      List<String> atServers = accepted.getOrDefault(s.id(), List.of());
      assertThat(atServers)
          .as("accepted by the servers exactly once each, and reported DELIVERED, " + s.id())
          .doesNotHaveDuplicates()
          .containsExactlyInAnyOrderElementsOf(delivered);
    }
    // one recipientEnd per recipient of each call, one deliveryEnd per call
    int recipients = sent.stream().mapToInt(s -> s.envelope().recipients().size()).sum();
    assertThat(peers.recipientEnds).hasSize(recipients);
    assertThat(peers.recipientEnds.values()).allMatch(n -> n.get() == 1);
    assertThat(peers.deliveryEnds).hasSize(callers * perCaller);
    assertThat(peers.deliveryEnds.values()).allMatch(n -> n.get() == 1);
    assertThat(overCap.get()).as("samples with more sessions than the cap").isZero();
    awaitNoLeaks();
  }

  private static Envelope envelope(Random r, String id) {
    int domains = 1 + r.nextInt(3);
    List<Integer> order = new ArrayList<>(List.of(0, 1, 2, 3));
    java.util.Collections.shuffle(order, r);
    List<String> rcpts = new ArrayList<>();
    for (int d = 0; d < domains; d++) {
      int n = 1 + r.nextInt(2);
      for (int k = 0; k < n; k++) {
        rcpts.add("u" + k + "-" + id.replace('@', '.') + "@" + StressPeers.domain(order.get(d)));
      }
    }
    return Envelope.of("a@sender.test", rcpts.toArray(String[]::new));
  }

  /**
   * No transport thread and no open connection at the servers, within a few seconds. A transport's
   * threads are its senders ({@code mailtls-send-N}), its timers ({@code mailtls-timer-N}) and the
   * plan cache's coarse clock; the DNS layer's pool ({@code mailtls-dns-N}) is shared by the JVM's
   * resolvers and idles out on its own, so it is not counted.
   */
  static void awaitNoLeaks() throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (System.nanoTime() < deadline && (transportThreads() > 0 || peers.openSessions() > 0)) {
      Thread.sleep(20);
    }
    assertThat(transportThreads()).as("transport threads left").isZero();
    assertThat(peers.openSessions()).as("connections left open at the servers").isZero();
  }

  private static long transportThreads() {
    return StressPeers.threads("mailtls-") - StressPeers.threads("mailtls-dns-");
  }
}
