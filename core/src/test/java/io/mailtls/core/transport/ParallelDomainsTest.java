package io.mailtls.core.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.Attempt;
import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.EmailAddress;
import io.mailtls.core.Envelope;
import io.mailtls.core.EventListener;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.core.TlsLevel;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.SmtpAction;
import io.mailtls.testkit.SmtpSession;
import io.mailtls.testkit.SmtpStep;
import io.mailtls.testkit.TestDnsServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The recipient domains of one message are delivered at the same time, under the transport's limit
 * on deliveries at once (issue 13). Each domain has its own mock server on its own loopback
 * address; overlap and the limit are shown by what the servers saw, never by timing.
 */
class ParallelDomainsTest {

  /** Long enough that no client timeout ends a hanging session during a test. */
  private static final SmtpTimeouts PATIENT = SmtpTimeouts.uniform(Duration.ofSeconds(60));

  private final Fixture f = new Fixture();
  private final ExecutorService callers = Executors.newCachedThreadPool();

  @AfterEach
  void close() {
    callers.shutdownNow();
    f.close();
  }

  /** Servers d1.test … dN.test on 127.0.0.(20+i), each configured by {@code config}. */
  private List<MockSmtpServer> domains(int n, UnaryOperator<MockSmtpServer.Builder> config) {
    List<MockSmtpServer> servers = new ArrayList<>();
    for (int i = 1; i <= n; i++) {
      String host = "mx.d" + i + ".test";
      servers.add(f.server("127.0.0." + (20 + i), b -> config.apply(b.hostname(host))));
    }
    return servers;
  }

  /** Publishes d(i).test with servers.get(i-1) as its MX host. */
  private void publish(List<MockSmtpServer> servers) {
    f.dns(
        d -> {
          TestDnsServer.Builder b = d;
          for (int i = 1; i <= servers.size(); i++) {
            MockSmtpServer s = servers.get(i - 1);
            String zone = "d" + i + ".test";
            b = b.zone(zone, z -> z.mailHost(zone, 10, "mx." + zone, s));
          }
          return b;
        });
  }

  private static int sessions(List<MockSmtpServer> servers) {
    return servers.stream().mapToInt(s -> s.sessions().size()).sum();
  }

  /** Open sessions on {@code servers} (servers the test closed may not have noticed yet). */
  private static int open(List<MockSmtpServer> servers) {
    return (int)
        servers.stream().flatMap(s -> s.sessions().stream()).filter(s -> !s.isClosed()).count();
  }

  /** The server's sessions once one has been accepted (they are recorded as they open). */
  private static List<SmtpSession> openSessions(MockSmtpServer server) throws InterruptedException {
    long end = System.nanoTime() + Fixture.WAIT.toNanos();
    while (server.sessions().isEmpty() && System.nanoTime() < end) {
      Thread.sleep(10);
    }
    return server.sessions();
  }

  private static List<String> recipients(DeliveryReport report) {
    return report.recipients().stream().map(r -> r.recipient().toString()).toList();
  }

  @Test
  void aFastDomainIsDeliveredWhileASlowOneOfTheSameMessageHangs() throws Exception {
    f.timeouts = PATIENT;
    MockSmtpServer slow =
        f.server("127.0.0.21", b -> b.hostname("mx.d1.test").on(SmtpStep.MAIL, SmtpAction.hang()));
    MockSmtpServer fast = f.server("127.0.0.22", b -> b.hostname("mx.d2.test"));
    publish(List.of(slow, fast));
    CountDownLatch fastAttempt = new CountDownLatch(1);
    SecureSmtpTransport t =
        f.transport(
            TlsLevel.OPPORTUNISTIC,
            b ->
                b.eventListener(
                    new EventListener() {
                      @Override
                      public void attemptEnd(Attempt attempt) {
                        if (attempt.address().getAddress().equals(fast.address())) {
                          fastAttempt.countDown();
                        }
                      }
                    }));
    // The slow domain comes first: one after another, the fast one would wait for it.
    Envelope envelope = Envelope.of("a@sender.test", "x@d1.test", "y@d2.test");
    CompletableFuture<DeliveryReport> sent = t.sendAsync(envelope, Fixture.message());

    assertThat(fast.awaitMessages(1, Fixture.WAIT)).hasSize(1);
    assertThat(fastAttempt.await(Fixture.WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
    // While the fast domain was delivered and decided, the slow domain was not: its session is
    // open (it may only just have been accepted: the two domains start in either order) and
    // will hang in MAIL.
    assertThat(openSessions(slow)).hasSize(1);
    assertThat(slow.sessions().get(0).isClosed()).isFalse();
    assertThat(slow.messages()).isEmpty();
    assertThat(sent).isNotDone();

    slow.close(); // ends the hanging session: that domain is deferred, naturally
    DeliveryReport report = sent.get(Fixture.WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(recipients(report)).containsExactly("x@d1.test", "y@d2.test");
    assertThat(report.result("x@d1.test").status()).isEqualTo(DeliveryStatus.DEFERRED);
    assertThat(report.result("y@d2.test").status()).isEqualTo(DeliveryStatus.DELIVERED);
  }

  @Test
  void withLimitTwoFiveHangingDomainsNeverHaveMoreThanTwoSessions() throws Exception {
    f.timeouts = PATIENT;
    List<MockSmtpServer> servers = domains(5, b -> b.on(SmtpStep.GREETING, SmtpAction.hang()));
    publish(servers);
    SecureSmtpTransport t = f.transport(TlsLevel.OPPORTUNISTIC, b -> b.maxConcurrentDeliveries(2));
    Envelope envelope =
        Envelope.of(
            "a@sender.test", "r@d1.test", "r@d2.test", "r@d3.test", "r@d4.test", "r@d5.test");
    CompletableFuture<DeliveryReport> sent = t.sendAsync(envelope, Fixture.message());

    List<Integer> openAtEachStep = new ArrayList<>();
    List<MockSmtpServer> live = new ArrayList<>(servers);
    while (!live.isEmpty()) {
      int expected = Math.min(servers.size() - live.size() + 2, 5);
      Fixture.await(expected + " sessions", () -> sessions(servers) >= expected);
      assertThat(sessions(servers)).isEqualTo(expected);
      openAtEachStep.add(open(live));
      // Release every server with a session: their domains end, the next ones start.
      // (Chosen before closing any: a closed one lets the next domain start at once.)
      List<MockSmtpServer> busy = live.stream().filter(s -> !s.sessions().isEmpty()).toList();
      for (MockSmtpServer s : busy) {
        s.close();
        live.remove(s);
      }
    }
    assertThat(openAtEachStep).containsExactly(2, 2, 1);
    DeliveryReport report = sent.get(Fixture.WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(recipients(report))
        .containsExactly("r@d1.test", "r@d2.test", "r@d3.test", "r@d4.test", "r@d5.test");
    assertThat(report.recipients()).allMatch(r -> r.status() == DeliveryStatus.DEFERRED);
  }

  @Test
  void aBlockingSendWaitsWhileAnotherCallHoldsEverySlot() throws Exception {
    f.timeouts = PATIENT;
    List<MockSmtpServer> servers = domains(4, b -> b.on(SmtpStep.GREETING, SmtpAction.hang()));
    publish(servers);
    SecureSmtpTransport t = f.transport(TlsLevel.OPPORTUNISTIC, b -> b.maxConcurrentDeliveries(2));
    CompletableFuture<DeliveryReport> first =
        CompletableFuture.supplyAsync(
            () -> t.send(Envelope.of("a@sender.test", "r@d1.test", "r@d2.test"), Fixture.message()),
            callers);
    Fixture.await("the first call's two sessions", () -> sessions(servers) == 2);
    CompletableFuture<DeliveryReport> second =
        CompletableFuture.supplyAsync(
            () -> t.send(Envelope.of("a@sender.test", "r@d3.test", "r@d4.test"), Fixture.message()),
            callers);

    servers.get(0).close(); // frees one slot: one domain of the second call starts
    Fixture.await("a third session", () -> sessions(servers) == 3);
    assertThat(open(servers.subList(1, 4))).isEqualTo(2);
    assertThat(servers.get(1).sessions().get(0).isClosed()).isFalse();
    assertThat(servers.get(2).sessions().size() + servers.get(3).sessions().size()).isEqualTo(1);
    assertThat(first).isNotDone();
    assertThat(second).isNotDone();

    servers.get(1).close();
    DeliveryReport one = first.get(Fixture.WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(recipients(one)).containsExactly("r@d1.test", "r@d2.test");
    Fixture.await("the fourth session", () -> sessions(servers) == 4);
    assertThat(second).isNotDone();
    servers.get(2).close();
    servers.get(3).close();
    DeliveryReport two = second.get(Fixture.WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(recipients(two)).containsExactly("r@d3.test", "r@d4.test");
  }

  @Test
  void theReportKeepsEnvelopeOrderWithOneResultPerRecipient() throws Exception {
    List<MockSmtpServer> servers =
        domains(
            3,
            b -> b.onRecipient("refused@d2.test", SmtpAction.reply(550, "5.1.1", "no such user")));
    // The first domain of the envelope finishes last: its reply to the final dot comes late.
    MockSmtpServer slowFirst =
        f.server(
            "127.0.0.30",
            b ->
                b.hostname("mx.d4.test")
                    .on(SmtpStep.DATA_END, SmtpAction.stall(Duration.ofMillis(300))));
    List<MockSmtpServer> all = new ArrayList<>(servers);
    all.add(slowFirst);
    publish(all);
    Envelope envelope =
        Envelope.of(
            "a@sender.test",
            "a@d4.test",
            "b@d1.test",
            "refused@d2.test",
            "c@d4.test",
            "d@d3.test",
            "e@d2.test",
            "f@d1.test");
    DeliveryReport report = f.transport(TlsLevel.OPPORTUNISTIC).send(envelope, Fixture.message());

    assertThat(recipients(report))
        .containsExactly(
            "a@d4.test",
            "b@d1.test",
            "refused@d2.test",
            "c@d4.test",
            "d@d3.test",
            "e@d2.test",
            "f@d1.test");
    assertThat(report.result("refused@d2.test").status()).isEqualTo(DeliveryStatus.BOUNCED);
    assertThat(
            report.recipients().stream()
                .filter(r -> !r.recipient().toString().equals("refused@d2.test")))
        .allMatch(r -> r.status() == DeliveryStatus.DELIVERED);
    // One transaction per domain, each with exactly its own recipients.
    assertThat(slowFirst.messages()).hasSize(1);
    assertThat(servers.get(0).messages()).hasSize(1);
    assertThat(servers.get(1).messages()).hasSize(1);
    assertThat(servers.get(2).messages()).hasSize(1);
  }

  @Test
  void eventsOfOneCallNeverOverlapThoughDomainsRunOnSeveralThreads() throws Exception {
    List<MockSmtpServer> servers = domains(6, b -> b);
    publish(servers);
    AtomicInteger inside = new AtomicInteger();
    AtomicBoolean overlapped = new AtomicBoolean();
    Set<String> threads = ConcurrentHashMap.newKeySet();
    List<String> ends = new ArrayList<>(); // unsynchronized on purpose: events are serialized
    EventListener serialChecker =
        new EventListener() {
          private void enter() {
            if (inside.incrementAndGet() != 1) {
              overlapped.set(true);
            }
            threads.add(Thread.currentThread().getName());
            java.util.concurrent.locks.LockSupport.parkNanos(200_000); // widens any overlap
          }

          private void exit() {
            inside.decrementAndGet();
          }

          @Override
          public void connectStart(
              java.util.Optional<io.mailtls.core.DomainName> host,
              java.net.InetSocketAddress address) {
            enter();
            exit();
          }

          @Override
          public void attemptEnd(Attempt attempt) {
            enter();
            ends.add(attempt.host().orElseThrow().toString());
            exit();
          }

          @Override
          public void recipientEnd(RecipientResult result) {
            enter();
            exit();
          }
        };
    SecureSmtpTransport t =
        f.transport(TlsLevel.OPPORTUNISTIC, b -> b.eventListenerFactory(call -> serialChecker));
    List<String> rcpts = new ArrayList<>();
    for (int i = 1; i <= 6; i++) {
      rcpts.add("r@d" + i + ".test");
    }
    DeliveryReport report =
        t.send(Envelope.of("a@sender.test", rcpts.toArray(new String[0])), Fixture.message());

    assertThat(report.recipients()).allMatch(r -> r.status() == DeliveryStatus.DELIVERED);
    assertThat(overlapped).isFalse();
    assertThat(ends).hasSize(6).doesNotHaveDuplicates();
    // The last domain runs on the caller's thread, the others on the transport's threads.
    assertThat(threads).contains(Thread.currentThread().getName());
    assertThat(threads).anyMatch(n -> n.startsWith("mailtls-send-"));
  }

  @Test
  void theDefaultExecutorUsesVirtualThreadsFromJava24ElseDaemonThreads() throws Exception {
    List<MockSmtpServer> servers = domains(2, b -> b);
    publish(servers);
    List<Thread> seen = new ArrayList<>();
    SecureSmtpTransport t =
        f.transport(
            TlsLevel.OPPORTUNISTIC,
            b ->
                b.eventListener(
                    new EventListener() {
                      @Override
                      public void attemptEnd(Attempt attempt) {
                        synchronized (seen) {
                          seen.add(Thread.currentThread());
                        }
                      }
                    }));
    // sendAsync runs every domain on the transport's executor.
    t.sendAsync(Envelope.of("a@sender.test", "r@d1.test", "r@d2.test"), Fixture.message())
        .get(Fixture.WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(seen).hasSize(2);
    boolean virtualExpected = Runtime.version().feature() >= 24;
    for (Thread thread : seen) {
      assertThat(thread.getName()).startsWith("mailtls-send-");
      assertThat(thread.isDaemon()).isTrue(); // virtual threads are daemons too
      assertThat(isVirtual(thread)).isEqualTo(virtualExpected);
    }
  }

  private static boolean isVirtual(Thread t) throws Exception {
    try {
      return (boolean) Thread.class.getMethod("isVirtual").invoke(t);
    } catch (NoSuchMethodException e) {
      return false; // Java 17 to 20
    }
  }

  @Test
  void closeDefersDomainsStillWaitingForASlot() throws Exception {
    f.timeouts = PATIENT;
    List<MockSmtpServer> servers = domains(3, b -> b.on(SmtpStep.GREETING, SmtpAction.hang()));
    publish(servers);
    SecureSmtpTransport t = f.transport(TlsLevel.OPPORTUNISTIC, b -> b.maxConcurrentDeliveries(1));
    CompletableFuture<DeliveryReport> blocked =
        CompletableFuture.supplyAsync(
            () ->
                t.send(
                    Envelope.of("a@sender.test", "r@d1.test", "r@d2.test", "r@d3.test"),
                    Fixture.message()),
            callers);
    Fixture.await("the first session", () -> sessions(servers) == 1);
    t.close();
    servers.get(0).close(); // the session under way ends on its own
    DeliveryReport report = blocked.get(Fixture.WAIT.toSeconds(), TimeUnit.SECONDS);

    assertThat(recipients(report)).containsExactly("r@d1.test", "r@d2.test", "r@d3.test");
    for (String waiting : List.of("r@d2.test", "r@d3.test")) {
      RecipientResult r = report.result(waiting);
      assertThat(r.status()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(r.reply().code()).isEqualTo(451);
      assertThat(r.reply().toString()).contains("4.3.0", "transport was closed");
      assertThat(r.attempts()).isEmpty();
    }
    assertThat(servers.get(1).sessions()).isEmpty();
    assertThat(servers.get(2).sessions()).isEmpty();

    // A later call is deferred the same way, blocking or not, never with an exception.
    DeliveryReport later =
        t.sendAsync(Envelope.of("a@sender.test", "r@d2.test"), Fixture.message())
            .get(Fixture.WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(later.result("r@d2.test").status()).isEqualTo(DeliveryStatus.DEFERRED);
    assertThat(Fixture.send(t, "r@d3.test").result("r@d3.test").status())
        .isEqualTo(DeliveryStatus.DEFERRED);
  }

  @Test
  void everyRecipientOfManyDomainsGetsOneResult() throws Exception {
    List<MockSmtpServer> servers = domains(10, b -> b);
    publish(servers);
    SecureSmtpTransport t = f.transport(TlsLevel.OPPORTUNISTIC, b -> b.maxConcurrentDeliveries(3));
    List<String> rcpts = new ArrayList<>();
    for (int round = 0; round < 3; round++) {
      for (int i = 10; i >= 1; i--) {
        rcpts.add("u" + round + "@d" + i + ".test");
      }
    }
    DeliveryReport report =
        t.send(Envelope.of("a@sender.test", rcpts.toArray(new String[0])), Fixture.message());
    assertThat(recipients(report)).isEqualTo(rcpts);
    assertThat(report.recipients()).allMatch(r -> r.status() == DeliveryStatus.DELIVERED);
    for (MockSmtpServer s : servers) {
      assertThat(s.messages()).hasSize(1);
      assertThat(s.messages().get(0).recipients()).hasSize(3);
    }
    assertThat(report.recipients().stream().map(RecipientResult::recipient))
        .extracting(EmailAddress::toString)
        .doesNotHaveDuplicates();
  }
}
