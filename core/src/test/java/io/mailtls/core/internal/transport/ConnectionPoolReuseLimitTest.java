package io.mailtls.core.internal.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DnsRecord;
import io.mailtls.core.DomainName;
import io.mailtls.core.EventListener;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.core.TlsContextFactory;
import io.mailtls.core.TlsRequirement;
import io.mailtls.core.internal.smtp.SmtpReplyReader;
import io.mailtls.core.internal.tls.TlsSupport;
import io.mailtls.testkit.MockSmtpServer;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.SocketFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The pool's reuse bounds on an injected clock: a session is reused while younger than the reuse
 * time limit (Postfix's 300 s) and idle no longer than the idle time; no transaction count caps it
 * unless one is set.
 */
class ConnectionPoolReuseLimitTest {

  private static final Duration IDLE = Duration.ofSeconds(5);
  private static final Duration REUSE = Duration.ofMinutes(5);
  private static final DomainName MX = DomainName.of("mx.example.test");

  private final AtomicLong now = new AtomicLong(1_000_000_000L);
  private final ScheduledExecutorService watchdog = Executors.newScheduledThreadPool(1);
  private MockSmtpServer server;
  private SessionOpener opener;

  @BeforeEach
  void start() throws Exception {
    server = MockSmtpServer.builder().address(InetAddress.getByName("127.0.0.2")).start();
    opener =
        new SessionOpener(
            new SessionOpener.Settings(
                new TlsSupport(null, TlsContextFactory.JDK, Optional.empty()),
                SocketFactory.getDefault(),
                SmtpTimeouts.uniform(Duration.ofSeconds(5)),
                "client.sender.test",
                SmtpReplyReader.Limits.DEFAULT,
                Optional.empty(),
                watchdog),
            new SafeListener(EventListener.NONE));
  }

  @AfterEach
  void stop() {
    server.close();
    watchdog.shutdownNow();
  }

  private ConnectionPool pool(int maxTransactions) {
    return new ConnectionPool(4, IDLE, REUSE, maxTransactions, Duration.ofSeconds(1), now::get);
  }

  private ConnectionPool.Key key() {
    return ConnectionPool.Key.of(
        server.socketAddress(), Optional.of(MX), new TlsRequirement.Opportunistic());
  }

  /** A new session through the pool: its slot reserved, opened, stamped. */
  private SmtpConnection open(ConnectionPool pool) throws Exception {
    assertThat(pool.checkout(key())).isEmpty();
    SessionOpener.Outcome o =
        opener.open(
            new SessionOpener.Target(
                Optional.of(MX), server.socketAddress(), new TlsRequirement.Opportunistic()));
    SmtpConnection c = ((SessionOpener.Ready) o).connection();
    pool.opened(c);
    return c;
  }

  private void advance(Duration d) {
    now.addAndGet(d.toNanos());
  }

  @Test
  void aSessionIsReusedUntilItsReuseTimeLimitThenReplaced() throws Exception {
    try (ConnectionPool pool = pool(Integer.MAX_VALUE)) {
      SmtpConnection first = open(pool);
      pool.release(key(), first);
      // Every 4 s (within the idle time) for just under 300 s: always the same session.
      for (int i = 0; i < 74; i++) {
        advance(Duration.ofSeconds(4));
        assertThat(pool.checkout(key())).as("after %d s", 4 * (i + 1)).containsSame(first);
        pool.release(key(), first);
      }
      advance(Duration.ofSeconds(4)); // 300 s after it opened
      assertThat(pool.checkout(key())).isEmpty();
      assertThat(first.isBroken()).as("closed with QUIT").isTrue();
      server.awaitSessions(1, Duration.ofSeconds(5));
      assertThat(server.sessions().get(0).awaitClosed(Duration.ofSeconds(5))).isTrue();
      assertThat(server.sessions().get(0).commandLines()).contains("QUIT");
    }
  }

  @Test
  void aSessionOverItsReuseTimeLimitIsClosedWhenReleased() throws Exception {
    try (ConnectionPool pool = pool(Integer.MAX_VALUE)) {
      SmtpConnection c = open(pool);
      advance(REUSE); // a long transaction ends past the limit
      pool.release(key(), c);
      assertThat(pool.idleCount()).isZero();
      assertThat(c.isBroken()).isTrue();
    }
  }

  @Test
  void theIdleTimeStillBoundsAYoungSession() throws Exception {
    try (ConnectionPool pool = pool(Integer.MAX_VALUE)) {
      SmtpConnection c = open(pool);
      pool.release(key(), c);
      advance(IDLE.plusMillis(1));
      assertThat(pool.expireIdle()).isEqualTo(1);
      assertThat(c.isBroken()).isTrue();
    }
  }

  @Test
  void noTransactionCountCapsASessionByDefault() throws Exception {
    try (ConnectionPool pool = pool(Integer.MAX_VALUE)) {
      SmtpConnection c = open(pool);
      for (int i = 0; i < 10_000; i++) {
        c.transactionDone();
      }
      pool.release(key(), c);
      assertThat(pool.checkout(key())).containsSame(c);
      pool.release(key(), c);
    }
  }

  @Test
  void anOptionalTransactionCapStillApplies() throws Exception {
    try (ConnectionPool pool = pool(2)) {
      SmtpConnection c = open(pool);
      c.transactionDone();
      pool.release(key(), c);
      assertThat(pool.checkout(key())).containsSame(c);
      c.transactionDone();
      pool.release(key(), c);
      assertThat(pool.idleCount()).isZero();
      assertThat(pool.checkout(key())).isEmpty();
    }
  }

  @Test
  void keysOfRequirementsThatVerifyAlikeAreEqual() {
    var address = server.socketAddress();
    // PKIX: the order of reference names is not data.
    DomainName other = DomainName.of("other.example.test");
    assertThat(
            ConnectionPool.Key.of(
                address, Optional.of(MX), new TlsRequirement.Pkix(List.of(MX, other))))
        .isEqualTo(
            ConnectionPool.Key.of(
                address, Optional.of(MX), new TlsRequirement.Pkix(List.of(other, MX))));
    // Opportunistic may be plaintext; encrypted may not: never one pool for both.
    assertThat(ConnectionPool.Key.of(address, Optional.of(MX), new TlsRequirement.Opportunistic()))
        .isNotEqualTo(
            ConnectionPool.Key.of(address, Optional.of(MX), new TlsRequirement.Encrypted()));
  }

  @Test
  void daneKeysNameTheRecipientDomainOnlyWhenADaneTaRecordChecksNames() {
    var address = server.socketAddress();
    DnsRecord.Tlsa ee = new DnsRecord.Tlsa(3, 1, 1, new byte[32]);
    DnsRecord.Tlsa ee2 = new DnsRecord.Tlsa(3, 1, 1, new byte[] {1, 2, 3});
    DnsRecord.Tlsa ta = new DnsRecord.Tlsa(2, 1, 1, new byte[32]);
    DomainName a = DomainName.of("a.example");
    DomainName b = DomainName.of("b.example");
    // RFC 7672 §3.2.2: with a secure MX answer the next-hop (recipient) domain is a reference
    // identifier; DANE-EE checks no name (§3.2.1), so it must not split the pool.
    assertThat(daneKey(address, List.of(ee, ee2), List.of(MX, a), true))
        .isEqualTo(daneKey(address, List.of(ee2, ee), List.of(MX, b), true));
    // DANE-TA checks the names: a connection verified for a.example's names is not b.example's.
    assertThat(daneKey(address, List.of(ee, ta), List.of(MX, a), true))
        .isNotEqualTo(daneKey(address, List.of(ee, ta), List.of(MX, b), true));
    // Another RRset, or another MX security (VERIFIED vs TRUSTED): another key.
    assertThat(daneKey(address, List.of(ee), List.of(MX, a), true))
        .isNotEqualTo(daneKey(address, List.of(ee2), List.of(MX, a), true))
        .isNotEqualTo(daneKey(address, List.of(ee), List.of(MX, a), false));
  }

  private static ConnectionPool.Key daneKey(
      java.net.InetSocketAddress address,
      List<DnsRecord.Tlsa> records,
      List<DomainName> names,
      boolean mxSecure) {
    return ConnectionPool.Key.of(
        address, Optional.of(MX), new TlsRequirement.Dane(records, MX, names, mxSecure));
  }
}
