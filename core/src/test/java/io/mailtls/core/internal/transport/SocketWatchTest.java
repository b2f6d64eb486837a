package io.mailtls.core.internal.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailtls.core.DomainName;
import io.mailtls.core.FailureType;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.core.TlsRequirement;
import io.mailtls.core.internal.smtp.SmtpReplyReader;
import io.mailtls.testkit.FakeClock;
import io.mailtls.testkit.ManualScheduler;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.SocketFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The connections' time bounds: every operation is cut at its own due time, an operation that ends
 * in time keeps its socket, and the connections of a group share one scheduled check instead of a
 * timer task per operation. Real loopback sockets; the clock and the timer are the test's, except
 * where a real blocked read and a real blocked connect are cut.
 */
class SocketWatchTest {

  private final FakeClock clock = new FakeClock();
  private final CountingScheduler timer = new CountingScheduler(new ManualScheduler(clock));
  private final SocketWatch.Group group =
      new SocketWatch.Group(
          timer, () -> Duration.between(FakeClock.START, clock.instant()).toNanos());
  private final ServerSocket server = listen(50);
  private final List<Socket> sockets = new ArrayList<>();

  @AfterEach
  void close() throws IOException {
    for (Socket s : sockets) {
      s.close();
    }
    server.close();
  }

  private static ServerSocket listen(int backlog) {
    try {
      return new ServerSocket(0, backlog, InetAddress.getLoopbackAddress());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private Socket connected() throws IOException {
    Socket s = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
    sockets.add(s);
    return s;
  }

  private void advance(Duration d) {
    clock.advance(d);
    timer.manual.runDue();
  }

  @Test
  void anOperationPastItsLimitHasItsSocketClosed() throws IOException {
    Socket s = connected();
    SocketWatch watch = group.watch(s);
    SocketWatch.Deadline op = watch.start(Duration.ofSeconds(30));

    advance(Duration.ofSeconds(29));
    assertThat(s.isClosed()).isFalse();
    assertThat(op.fired()).isFalse();

    advance(Duration.ofSeconds(1));
    assertThat(s.isClosed()).isTrue();
    assertThat(op.fired()).isTrue();
  }

  @Test
  void anOperationThatEndsInTimeKeepsItsSocketAndTheCheckStops() throws IOException {
    Socket s = connected();
    SocketWatch watch = group.watch(s);
    SocketWatch.Deadline op = watch.start(Duration.ofSeconds(30));
    advance(Duration.ofSeconds(10));
    op.close();

    advance(Duration.ofMinutes(5));
    assertThat(s.isClosed()).isFalse();
    assertThat(op.fired()).isFalse();
    assertThat(group.checkScheduled()).isFalse(); // nothing running: nothing scheduled
  }

  @Test
  void eachOperationIsCutAtItsOwnDueTimeNotAtThePreviousOnes() throws IOException {
    Socket s = connected();
    SocketWatch watch = group.watch(s);
    // A long operation ends; a later one with a longer limit is not cut at the first one's time.
    watch.start(Duration.ofSeconds(30)).close();
    advance(Duration.ofSeconds(20));
    SocketWatch.Deadline second = watch.start(Duration.ofSeconds(60));
    advance(Duration.ofSeconds(59));
    assertThat(s.isClosed()).isFalse();
    advance(Duration.ofSeconds(1));
    assertThat(second.fired()).isTrue();
    assertThat(s.isClosed()).isTrue();
  }

  @Test
  void aShorterLimitAfterALongerOneMovesTheCheckEarlier() throws IOException {
    Socket s = connected();
    SocketWatch watch = group.watch(s);
    watch.start(Duration.ofMinutes(10)).close();
    SocketWatch.Deadline quit = watch.start(Duration.ofSeconds(5));
    advance(Duration.ofSeconds(5));
    assertThat(quit.fired()).isTrue();
    assertThat(s.isClosed()).isTrue();
  }

  @Test
  void connectionsOfAGroupShareOneCheckAndEachIsCutAtItsOwnTime() throws IOException {
    List<Socket> ss = new ArrayList<>();
    List<SocketWatch.Deadline> ops = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      Socket s = connected();
      ss.add(s);
      // Connection i starts an operation of 60 s, one second after connection i-1.
      ops.add(group.watch(s).start(Duration.ofSeconds(60)));
      advance(Duration.ofSeconds(1));
    }
    assertThat(timer.scheduled.get()).isEqualTo(1);
    assertThat(timer.manual.pending()).hasSize(1);

    // At 60 s the first is overdue; each later one in its own second.
    advance(Duration.ofSeconds(40));
    assertThat(ss.get(0).isClosed()).isTrue();
    assertThat(ss.get(1).isClosed()).isFalse();
    advance(Duration.ofSeconds(1));
    assertThat(ss.get(1).isClosed()).isTrue();
    assertThat(ss.get(2).isClosed()).isFalse();
    for (int i = 2; i < 20; i++) {
      advance(Duration.ofSeconds(1));
    }
    assertThat(ss).allMatch(Socket::isClosed);
    assertThat(ops).allMatch(SocketWatch.Deadline::fired);
    assertThat(group.checkScheduled()).isFalse();
  }

  @Test
  void connectionsOneAfterAnotherScheduleNoTimerTaskPerOperation() throws IOException {
    // A connection per message, a dozen operations each: what a transport without reuse does.
    for (int c = 0; c < 100; c++) {
      Socket unconnected = new Socket(); // only its closing would be seen here, and none is due
      sockets.add(unconnected);
      SocketWatch watch = group.watch(unconnected);
      for (int op = 0; op < 12; op++) {
        watch.start(op == 11 ? Duration.ofSeconds(5) : Duration.ofMinutes(5)).close();
      }
      watch.close();
      clock.advance(Duration.ofMillis(3));
    }
    // The first connection's operations and its shorter QUIT limit: two; none after.
    assertThat(timer.scheduled.get()).isEqualTo(2);
    assertThat(group.watched()).isZero();
  }

  @Test
  void aClosedConnectionIsNoLongerWatched() throws IOException {
    Socket s = connected();
    SocketWatch watch = group.watch(s);
    SocketWatch.Deadline op = watch.start(Duration.ofSeconds(30));
    watch.close();
    assertThat(group.watched()).isZero();
    advance(Duration.ofMinutes(1));
    assertThat(op.fired()).isFalse();
    assertThat(group.checkScheduled()).isFalse();
  }

  @Test
  void aShutDownTimerRefusesTheOperationInsteadOfLeavingItUnbounded() throws IOException {
    SocketWatch watch = group.watch(connected());
    timer.manual.shutdown();
    assertThatThrownBy(() -> watch.start(Duration.ofSeconds(30)))
        .isInstanceOf(java.util.concurrent.RejectedExecutionException.class);
    // The refused operation does not count as running: the next start is not an overlap.
    assertThatThrownBy(() -> watch.start(Duration.ofSeconds(30)))
        .isInstanceOf(java.util.concurrent.RejectedExecutionException.class);
  }

  @Test
  void aBlockedReadIsCutOnARealTimer() throws Exception {
    Watchdog watchdog = new Watchdog(1, Executors.defaultThreadFactory());
    try (Socket s = connected()) {
      SocketWatch watch = SocketWatch.of(watchdog, s);
      long t0 = System.nanoTime();
      SocketWatch.Deadline op = watch.start(Duration.ofMillis(300));
      // The server accepted nothing and says nothing: the read blocks until the socket is closed.
      assertThatThrownBy(() -> s.getInputStream().read()).isInstanceOf(SocketException.class);
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      op.close();
      assertThat(op.fired()).isTrue();
      assertThat(ms).isBetween(290L, 10_000L);
      watch.close();
    } finally {
      watchdog.shutdownNow();
    }
  }

  @Test
  void aConnectThatGetsNoAnswerIsCutAtTheConnectLimit() throws Exception {
    // A listener with a full accept queue: Linux drops further SYNs, so a connect gets no answer.
    try (ServerSocket full = listen(1)) {
      InetSocketAddress at =
          new InetSocketAddress(InetAddress.getLoopbackAddress(), full.getLocalPort());
      List<SmtpConnection> queued = new ArrayList<>();
      Watchdog watchdog = new Watchdog(1, Executors.defaultThreadFactory());
      try {
        SmtpTimeouts timeouts =
            new SmtpTimeouts(
                Duration.ofMillis(400),
                Duration.ofMinutes(1),
                Duration.ofMinutes(1),
                Duration.ofMinutes(1),
                Duration.ofMinutes(1),
                Duration.ofMinutes(1),
                Duration.ofMinutes(1));
        SessionFailure failure = null;
        long ms = 0;
        for (int i = 0; i < 8 && failure == null; i++) {
          long t0 = System.nanoTime();
          try {
            queued.add(
                SmtpConnection.connect(
                    SocketFactory.getDefault(),
                    Optional.of(DomainName.of("mx.test")),
                    at,
                    new TlsRequirement.Opportunistic(),
                    timeouts,
                    "client.test",
                    SmtpReplyReader.Limits.DEFAULT,
                    watchdog));
          } catch (SessionFailure f) {
            failure = f;
            ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
          }
        }
        assertThat(failure).as("a connect that the full queue left unanswered").isNotNull();
        assertThat(failure.type()).isEqualTo(FailureType.CONNECTION_FAILED);
        assertThat(failure.getMessage()).contains("no connection within PT0.4S");
        assertThat(ms).isBetween(390L, 10_000L);
        // The failed connect's watch left the group; the queued connections' are still open.
        assertThat(watchdog.sockets().watched()).isEqualTo(queued.size());
      } finally {
        for (SmtpConnection c : queued) {
          c.close();
        }
        watchdog.shutdownNow();
      }
    }
  }

  /** A test's timer that counts the tasks scheduled on it. */
  private static final class CountingScheduler extends java.util.concurrent.AbstractExecutorService
      implements java.util.concurrent.ScheduledExecutorService {
    final ManualScheduler manual;
    final AtomicInteger scheduled = new AtomicInteger();

    CountingScheduler(ManualScheduler manual) {
      this.manual = manual;
    }

    @Override
    public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
      ScheduledFuture<?> f = manual.schedule(command, delay, unit);
      scheduled.incrementAndGet();
      return f;
    }

    @Override
    public <V> ScheduledFuture<V> schedule(
        java.util.concurrent.Callable<V> callable, long delay, TimeUnit unit) {
      throw new UnsupportedOperationException();
    }

    @Override
    public ScheduledFuture<?> scheduleAtFixedRate(
        Runnable command, long initialDelay, long period, TimeUnit unit) {
      throw new UnsupportedOperationException();
    }

    @Override
    public ScheduledFuture<?> scheduleWithFixedDelay(
        Runnable command, long initialDelay, long delay, TimeUnit unit) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void execute(Runnable command) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void shutdown() {
      manual.shutdown();
    }

    @Override
    public List<Runnable> shutdownNow() {
      return manual.shutdownNow();
    }

    @Override
    public boolean isShutdown() {
      return manual.isShutdown();
    }

    @Override
    public boolean isTerminated() {
      return manual.isTerminated();
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
      return true;
    }
  }
}
