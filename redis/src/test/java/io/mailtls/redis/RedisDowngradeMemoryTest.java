package io.mailtls.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.lettuce.core.RedisURI;
import io.lettuce.core.api.sync.RedisCommands;
import io.mailtls.core.DomainName;
import io.mailtls.core.DowngradeMemory.Seen;
import io.mailtls.core.TransportSecurity;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link RedisDowngradeMemory} against a real redis-server of its own ({@link RedisServerProcess}).
 * Each store stands for one process of a fleet: its own connection and its own local layer.
 */
class RedisDowngradeMemoryTest {

  private static final DomainName DOMAIN = DomainName.of("example.com");
  private static final String KEY = "test:downgrade:v1:example.com";
  private static final Duration TIMEOUT = Duration.ofMillis(200);

  @RegisterExtension final RedisScratch scratch = new RedisScratch();
  private final RedisServerProcess redis = scratch.redis;
  private final RedisCommands<String, String> inspect = scratch.inspect;

  private RedisDowngradeMemory store() {
    return store(redis.uri());
  }

  private RedisDowngradeMemory store(RedisURI uri) {
    RedisDowngradeMemory s =
        RedisDowngradeMemory.newBuilder(uri)
            .keyPrefix("test")
            .commandTimeout(TIMEOUT)
            .reconnectDelay(Duration.ofMillis(100))
            .build();
    scratch.closeLater(s);
    return s;
  }

  private static Instant now() {
    return Instant.now().truncatedTo(ChronoUnit.MILLIS);
  }

  private static Seen seen(Instant tls, Instant authenticated) {
    return new Seen(Optional.ofNullable(tls), Optional.ofNullable(authenticated));
  }

  private static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for: " + what);
      }
      Thread.sleep(20);
    }
  }

  @Test
  void aRaiseByOneProcessIsSeenByAnotherInTheDocumentedLayout() {
    Instant t = now();
    RedisDowngradeMemory a = store();
    a.raise(DOMAIN, TransportSecurity.AUTHENTICATED_TLS, t.minusSeconds(60));
    a.raise(DOMAIN, TransportSecurity.TLS, t);

    RedisDowngradeMemory b = store(); // its own connection and its own, empty local layer
    assertThat(b.local().seen(DOMAIN)).isEqualTo(Seen.NOTHING);
    assertThat(b.seen(DOMAIN)).isEqualTo(seen(t, t.minusSeconds(60)));
    assertThat(b.local().seen(DOMAIN)).isEqualTo(seen(t, t.minusSeconds(60)));

    // The documented key, a hash of epoch milliseconds, expiring the retention after the newest.
    assertThat(b.key(DOMAIN)).isEqualTo(KEY);
    assertThat(inspect.type(KEY)).isEqualTo("hash");
    assertThat(inspect.hgetall(KEY))
        .containsOnly(
            Map.entry("tls", Long.toString(t.toEpochMilli())),
            Map.entry("authenticated_tls", Long.toString(t.minusSeconds(60).toEpochMilli())));
    long expireAt = inspect.pexpiretime(KEY);
    assertThat(expireAt).isEqualTo(t.plus(Duration.ofDays(30)).toEpochMilli());
  }

  @Test
  void aRecordWrittenByAnotherToolIsRead() {
    Instant t = now().minus(Duration.ofDays(2));
    inspect.hset(KEY, Map.of("tls", Long.toString(t.toEpochMilli())));
    assertThat(store().seen(DOMAIN)).isEqualTo(seen(t, null));
    // And a field that is not epoch milliseconds is ignored, the other one read.
    inspect.hset(
        KEY, Map.of("tls", "yesterday", "authenticated_tls", Long.toString(t.toEpochMilli())));
    assertThat(store().seen(DOMAIN)).isEqualTo(seen(t, t));
  }

  @Test
  void raisesAreMonotoneAndAuthenticatedRaisesTls() {
    Instant t = now();
    RedisDowngradeMemory a = store();
    RedisDowngradeMemory b = store();
    a.raise(DOMAIN, TransportSecurity.AUTHENTICATED_TLS, t);
    // b never saw t: its older raises change nothing in Redis.
    b.raise(DOMAIN, TransportSecurity.TLS, t.minusSeconds(5));
    b.raise(DOMAIN, TransportSecurity.AUTHENTICATED_TLS, t.minusSeconds(10));
    b.raise(DOMAIN, TransportSecurity.PLAINTEXT, t.plusSeconds(10));
    assertThat(inspect.hgetall(KEY))
        .containsOnly(
            Map.entry("tls", Long.toString(t.toEpochMilli())),
            Map.entry("authenticated_tls", Long.toString(t.toEpochMilli())));
    assertThat(b.seen(DOMAIN)).isEqualTo(seen(t, t));
    // Plaintext is the floor: no record for a domain reached only in plaintext.
    b.raise(DomainName.of("plain.example"), TransportSecurity.PLAINTEXT, t);
    assertThat(inspect.exists("test:downgrade:v1:plain.example")).isZero();
    // A later TLS raise moves tls only.
    a.raise(DOMAIN, TransportSecurity.TLS, t.plusSeconds(1));
    assertThat(store().seen(DOMAIN)).isEqualTo(seen(t.plusSeconds(1), t));
  }

  @Test
  void concurrentRaisesFromTwoProcessesCommute() throws Exception {
    Instant t = now();
    List<DomainName> domains =
        List.of(
            DomainName.of("a.example"),
            DomainName.of("b.example"),
            DomainName.of("c.example"),
            DomainName.of("d.example"));
    // 400 raises of random level and time spread over four domains, split between two writers
    // that each run their half in a random order at the same time.
    Random random = new Random(7);
    List<Object[]> all = new ArrayList<>();
    Map<DomainName, Seen> expected = new HashMap<>();
    for (int i = 0; i < 400; i++) {
      DomainName d = domains.get(random.nextInt(domains.size()));
      TransportSecurity level =
          random.nextBoolean() ? TransportSecurity.TLS : TransportSecurity.AUTHENTICATED_TLS;
      Instant at = t.plusMillis(random.nextInt(100_000));
      all.add(new Object[] {d, level, at});
      expected.merge(d, Seen.NOTHING.raise(level, at), Seen::merge);
    }
    List<Object[]> first = new ArrayList<>();
    List<Object[]> second = new ArrayList<>();
    for (int i = 0; i < all.size(); i++) {
      (i % 2 == 0 ? first : second).add(all.get(i));
    }
    RedisDowngradeMemory a = store();
    RedisDowngradeMemory b = store();
    CyclicBarrier start = new CyclicBarrier(2);
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      Future<?> fa = pool.submit(() -> raiseAll(start, a, first));
      Future<?> fb = pool.submit(() -> raiseAll(start, b, second));
      fa.get(60, TimeUnit.SECONDS);
      fb.get(60, TimeUnit.SECONDS);
    } finally {
      pool.shutdownNow();
    }
    assertThat(a.pendingRaises()).isZero();
    assertThat(b.pendingRaises()).isZero();
    RedisDowngradeMemory c = store();
    for (DomainName d : domains) {
      Seen want = expected.getOrDefault(d, Seen.NOTHING);
      assertThat(c.seen(d)).as(d.toString()).isEqualTo(want);
      assertThat(a.seen(d)).as(d.toString()).isEqualTo(want);
      assertThat(b.seen(d)).as(d.toString()).isEqualTo(want);
    }
  }

  private static Void raiseAll(CyclicBarrier start, RedisDowngradeMemory s, List<Object[]> raises)
      throws Exception {
    start.await(10, TimeUnit.SECONDS);
    for (Object[] r : raises) {
      s.raise((DomainName) r[0], (TransportSecurity) r[1], (Instant) r[2]);
    }
    return null;
  }

  @Test
  void redisKilledAnswersFromTheLocalLayerAndThrowsForAnUnknownDomain() {
    Instant t = now();
    RedisDowngradeMemory s = store();
    s.raise(DOMAIN, TransportSecurity.TLS, t);
    // Learned from Redis, raised by another process: kept locally by the read.
    DomainName other = DomainName.of("other.example");
    store().raise(other, TransportSecurity.AUTHENTICATED_TLS, t);
    assertThat(s.seen(other)).isEqualTo(seen(t, t));
    redis.kill();

    // The 10 s limit only catches a hang; it is not a speed measure.
    assertTimeoutPreemptively(
        Duration.ofSeconds(10),
        () -> {
          for (int i = 0; i < 3; i++) {
            assertThat(s.seen(DOMAIN)).isEqualTo(seen(t, null));
            assertThat(s.seen(other)).isEqualTo(seen(t, t));
            // Never "nothing seen" for an outage: the transport defers the domain.
            assertThatThrownBy(() -> s.seen(DomainName.of("unknown.example")))
                .isInstanceOf(RedisDowngradeMemory.RedisUnavailableException.class)
                .hasMessageContaining("unknown.example")
                .hasMessageContaining("127.0.0.1:" + redis.port());
          }
          // Raises keep working locally and never throw.
          s.raise(DOMAIN, TransportSecurity.AUTHENTICATED_TLS, t.plusSeconds(1));
          assertThat(s.seen(DOMAIN)).isEqualTo(seen(t.plusSeconds(1), t.plusSeconds(1)));
        });
  }

  @Test
  void aFrozenRedisDelaysSeenByTheCommandTimeoutAtMost() {
    Instant t = now();
    RedisDowngradeMemory s = store();
    s.raise(DOMAIN, TransportSecurity.TLS, t);
    redis.freeze(); // accepts the connection, answers nothing
    try {
      // Bounded: each call gives up after the command timeout (200 ms). The 10 s limit only
      // catches a hang; it is not a speed measure.
      assertTimeoutPreemptively(
          Duration.ofSeconds(10),
          () -> {
            for (int i = 0; i < 3; i++) {
              assertThat(s.seen(DOMAIN)).isEqualTo(seen(t, null));
              assertThatThrownBy(() -> s.seen(DomainName.of("unknown.example")))
                  .isInstanceOf(RedisDowngradeMemory.RedisUnavailableException.class);
            }
            s.raise(DOMAIN, TransportSecurity.TLS, t.plusSeconds(1));
          });
      assertThat(s.pendingRaises()).isEqualTo(1);
    } finally {
      redis.resume();
    }
  }

  @Test
  void raisesMadeWhileRedisWasDownAreWrittenAfterItRestartsEmpty() throws Exception {
    Instant t = now();
    RedisDowngradeMemory s = store();
    s.raise(DOMAIN, TransportSecurity.TLS, t); // reaches Redis
    redis.kill();
    DomainName a = DomainName.of("a.example");
    DomainName b = DomainName.of("b.example");
    s.raise(a, TransportSecurity.TLS, t);
    s.raise(b, TransportSecurity.AUTHENTICATED_TLS, t);
    s.raise(a, TransportSecurity.TLS, t.plusSeconds(3)); // the same domain twice: queued once
    assertThat(s.pendingRaises()).isEqualTo(2);
    redis.restart(); // empty: no persistence

    // Once Lettuce has reconnected, the first call Redis answers writes the queued raises back.
    DomainName probe = DomainName.of("probe.example");
    await(
        "the raises made during the outage are in Redis",
        () -> {
          try {
            s.seen(probe);
          } catch (RedisDowngradeMemory.RedisUnavailableException e) {
            return false;
          }
          return has("test:downgrade:v1:a.example") && has("test:downgrade:v1:b.example");
        });
    RedisDowngradeMemory other = store();
    assertThat(other.seen(a)).isEqualTo(seen(t.plusSeconds(3), null));
    assertThat(other.seen(b)).isEqualTo(seen(t, t));
    assertThat(s.pendingRaises()).isZero();
    // DOMAIN, raised before the outage and lost with it, is written back by the next read.
    await(
        "a read writes back what Redis lost",
        () -> s.seen(DOMAIN).equals(seen(t, null)) && has("test:downgrade:v1:example.com"));
    assertThat(other.seen(DOMAIN)).isEqualTo(seen(t, null));
  }

  private boolean has(String key) {
    try {
      return inspect.exists(key) == 1;
    } catch (RuntimeException e) {
      return false; // the inspector reconnects too
    }
  }

  @Test
  void aStoreBuiltWhileRedisIsDownFailsClosedUntilItComesUp() throws Exception {
    redis.kill();
    RedisDowngradeMemory s = store();
    assertThatThrownBy(() -> s.seen(DOMAIN))
        .isInstanceOf(RedisDowngradeMemory.RedisUnavailableException.class);
    redis.restart();
    await(
        "the store connects",
        () -> {
          try {
            return s.seen(DOMAIN).equals(Seen.NOTHING);
          } catch (RedisDowngradeMemory.RedisUnavailableException e) {
            return false;
          }
        });
  }

  @Test
  void aWrongPasswordFailsClosedAndIsNeverShown() throws Exception {
    RedisServerProcess guarded =
        scratch.closeLater(RedisServerProcess.start("--requirepass", "right-secret-1"));
    RedisURI wrong = RedisURI.create("redis://:wrong-secret-2@127.0.0.1:" + guarded.port());
    RedisDowngradeMemory s = store(wrong);
    Instant t = now();
    s.raise(DOMAIN, TransportSecurity.TLS, t);
    assertThat(s.seen(DOMAIN)).isEqualTo(seen(t, null));
    Throwable thrown = null;
    try {
      s.seen(DomainName.of("unknown.example"));
    } catch (RedisDowngradeMemory.RedisUnavailableException e) {
      thrown = e;
    }
    assertThat(thrown).isNotNull();
    assertThat(thrown.toString()).doesNotContain("wrong-secret-2");
    assertThat(s.toString())
        .doesNotContain("wrong-secret-2")
        .contains("127.0.0.1:" + guarded.port());

    RedisURI right = RedisURI.create("redis://:right-secret-1@127.0.0.1:" + guarded.port());
    RedisDowngradeMemory ok = store(right);
    ok.raise(DOMAIN, TransportSecurity.TLS, t);
    assertThat(store(right).seen(DOMAIN)).isEqualTo(seen(t, null));
    assertThat(ok.toString()).doesNotContain("right-secret-1");
  }

  @Test
  void keysAreNamespacedByThePrefix() {
    store().raise(DOMAIN, TransportSecurity.TLS, now());
    RedisDowngradeMemory otherFleet =
        RedisDowngradeMemory.newBuilder(redis.uri())
            .keyPrefix("fleet2")
            .commandTimeout(TIMEOUT)
            .build();
    scratch.closeLater(otherFleet);
    assertThat(otherFleet.seen(DOMAIN)).isEqualTo(Seen.NOTHING);
    assertThat(otherFleet.key(DOMAIN)).isEqualTo("fleet2:downgrade:v1:example.com");
  }

  @Test
  void theRetentionSetsTheExpiryAfterTheNewestTime() {
    Instant old = now().minus(Duration.ofDays(1));
    RedisDowngradeMemory s =
        RedisDowngradeMemory.newBuilder(redis.uri())
            .keyPrefix("test")
            .commandTimeout(TIMEOUT)
            .retention(Duration.ofDays(3))
            .build();
    scratch.closeLater(s);
    s.raise(DOMAIN, TransportSecurity.TLS, old);
    assertThat(inspect.pexpiretime(KEY)).isEqualTo(old.plus(Duration.ofDays(3)).toEpochMilli());
    // An older raise does not shorten it; a newer one extends it.
    s.raise(DOMAIN, TransportSecurity.AUTHENTICATED_TLS, old.minusSeconds(60));
    assertThat(inspect.pexpiretime(KEY)).isEqualTo(old.plus(Duration.ofDays(3)).toEpochMilli());
    Instant later = old.plus(Duration.ofHours(2));
    s.raise(DOMAIN, TransportSecurity.AUTHENTICATED_TLS, later);
    assertThat(inspect.pexpiretime(KEY)).isEqualTo(later.plus(Duration.ofDays(3)).toEpochMilli());
    // A record older than the retention is gone.
    s.raise(DomainName.of("stale.example"), TransportSecurity.TLS, now().minus(Duration.ofDays(4)));
    assertThat(inspect.exists("test:downgrade:v1:stale.example")).isZero();
  }
}
