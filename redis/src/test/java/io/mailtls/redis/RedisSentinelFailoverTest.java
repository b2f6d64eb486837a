package io.mailtls.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lettuce.core.api.sync.RedisCommands;
import io.mailtls.core.DomainName;
import io.mailtls.core.MtaStsMode;
import io.mailtls.core.MtaStsPolicy;
import io.mailtls.mtasts.CachedPolicy;
import io.mailtls.tlsrpt.AppliedPolicy;
import io.mailtls.tlsrpt.PolicyCounts;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The stores behind Redis Sentinel ({@link RedisSentinelGroup}: a primary, a replica, three
 * sentinels, all real {@code redis-server} processes) while the primary is killed and the sentinels
 * promote the replica. The stores are given a {@code redis-sentinel} URI and find the primary, and
 * after the failover the new primary, through the sentinels.
 */
class RedisSentinelFailoverTest {

  private static final Duration TIMEOUT = Duration.ofMillis(200);

  /**
   * A call that does not return within this is a hang (Lettuce's own default timeout is 60 s), not
   * a slow call: it only catches calls the command timeout failed to bound.
   */
  private static final long HANG_MILLIS = 5_000;

  private final List<AutoCloseable> closeables = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    Collections.reverse(closeables);
    for (AutoCloseable c : closeables) {
      c.close();
    }
  }

  private RedisSentinelGroup group() {
    // The primary never drops a replica that falls behind (see replicaLacksWhatFollows).
    RedisSentinelGroup g =
        RedisSentinelGroup.start("--client-output-buffer-limit", "replica 0 0 0");
    closeables.add(g);
    return g;
  }

  private RedisPolicyStore store(RedisSentinelGroup g) {
    RedisPolicyStore s =
        RedisPolicyStore.newBuilder(g.uri())
            .keyPrefix("test")
            .commandTimeout(TIMEOUT)
            .reconnectDelay(Duration.ofMillis(100))
            .build();
    closeables.add(s);
    return s;
  }

  private static CachedPolicy policy(String domain, String id, Instant fetchedAt) {
    return CachedPolicy.fetched(
        new MtaStsPolicy(id, MtaStsMode.ENFORCE, List.of("mx." + domain), Duration.ofDays(7)),
        fetchedAt);
  }

  private static Instant now() {
    return Instant.now().truncatedTo(ChronoUnit.MILLIS);
  }

  /**
   * Makes the replica fall behind, as asynchronous replication does: the replica is frozen
   * (SIGSTOP) and the primary is given 64 MB of writes, more than the loopback socket buffers hold,
   * so what the primary executes next stays in its output buffer for the replica, and is lost when
   * the primary is killed. Call {@link RedisServerProcess#resume()} on the replica afterwards.
   */
  private static void replicaLacksWhatFollows(
      RedisSentinelGroup g, RedisCommands<String, String> p) {
    g.replica().freeze();
    String megabyte = "x".repeat(1 << 20);
    for (int i = 0; i < 64; i++) {
      p.set("test:replication-lag:" + i, megabyte);
    }
  }

  @Test
  void policiesSurviveAFailoverAndAPolicyTheReplicaLackedIsWrittenBack() throws Exception {
    RedisSentinelGroup g = group();
    RedisCommands<String, String> primary = g.commands(g.primary());
    RedisCommands<String, String> replica = g.commands(g.replica());
    RedisPolicyStore a = store(g);

    // Replicated before the failover.
    DomainName replicated = DomainName.of("replicated.example");
    CachedPolicy x = policy("replicated.example", "x1", now());
    // The store finds the primary through the sentinels in the background; with a 200 ms command
    // timeout on a loaded machine its first write may come before that and be queued, so the put
    // (idempotent) is repeated until the primary holds it.
    RedisSentinelGroup.await(
        "the store to find the primary",
        () -> {
          a.put(replicated, x);
          return primary.get(a.key(replicated)) != null;
        });
    RedisSentinelGroup.await(
        "the replica to have it", () -> replica.get(a.key(replicated)) != null);

    // Put just before the kill, never replicated.
    DomainName lost = DomainName.of("lost.example");
    CachedPolicy y = policy("lost.example", "y1", now());
    replicaLacksWhatFollows(g, primary);
    a.put(lost, y);
    assertThat(primary.get(a.key(lost))).isNotNull();
    g.primary().kill();
    g.replica().resume();

    // Throughout the failover a process keeps reading and writing: every call answers (from the
    // local layer while there is no primary) and none waits much longer than the command timeout.
    DomainName busy = DomainName.of("busy.example");
    // Each put a millisecond later than the one before, all of them before now.
    Instant busyStart = now().minus(Duration.ofHours(1));
    java.util.Queue<String> wrong = new java.util.concurrent.ConcurrentLinkedQueue<>();
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong longest = new AtomicLong();
    AtomicInteger calls = new AtomicInteger();
    AtomicInteger wrongAnswers = new AtomicInteger();
    AtomicInteger puts = new AtomicInteger();
    ExecutorService worker = Executors.newSingleThreadExecutor();
    closeables.add(worker::shutdownNow);
    Future<?> running =
        worker.submit(
            () -> {
              while (!stop.get()) {
                long t0 = System.nanoTime();
                Optional<CachedPolicy> got = a.get(replicated);
                int n = puts.incrementAndGet();
                CachedPolicy next = policy("busy.example", "b" + n, busyStart.plusMillis(n));
                a.put(busy, next);
                Optional<CachedPolicy> mine = a.get(busy);
                long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) / 3;
                longest.accumulateAndGet(took, Math::max);
                calls.addAndGet(3);
                if (!got.equals(Optional.of(x)) || !mine.equals(Optional.of(next))) {
                  wrongAnswers.incrementAndGet();
                  wrong.add(got + " / " + mine + " after putting " + next);
                }
              }
              return null;
            });

    g.awaitReplicaPromoted();
    RedisCommands<String, String> promoted = replica; // the same server, now the primary
    // The promoted replica never received the policy put just before the kill (nor the 64 MB).
    assertThat(promoted.exists("test:replication-lag:63")).isZero();
    assertThat(promoted.get(a.key(lost))).isNull();

    // A process with an empty local layer reads the replicated policy from the new primary.
    RedisPolicyStore b = store(g);
    RedisSentinelGroup.await("b to reach the new primary", () -> b.peek(replicated).isPresent());
    assertThat(b.local().peek(lost)).isEmpty();
    assertThat(b.get(replicated)).contains(x);

    // The writes of the busy process, made after the promotion, reach the new primary once its
    // connection follows it there.
    int atPromotion = puts.get();
    RedisSentinelGroup.await(
        "the busy process to write to the new primary",
        () -> {
          String v = promoted.get(a.key(busy));
          java.util.regex.Matcher m =
              java.util.regex.Pattern.compile("\"id\":\"b([0-9]+)\"").matcher(v == null ? "" : v);
          return m.find() && Integer.parseInt(m.group(1)) > atPromotion;
        });

    // The policy the replica lacked: the process that put it still answers it from its local
    // layer, and that read writes it back to the new primary, where the other process finds it.
    assertThat(a.get(lost)).contains(y);
    RedisSentinelGroup.await("y written back", () -> promoted.get(a.key(lost)) != null);
    assertThat(b.get(lost)).contains(y);

    stop.set(true);
    running.get(30, TimeUnit.SECONDS);
    assertThat(wrongAnswers.get()).as("calls that answered wrongly: %s", wrong).isZero();
    assertThat(calls.get()).isGreaterThan(3);
    assertThat(longest.get()).as("longest call, ms").isLessThan(HANG_MILLIS);
  }

  @Test
  void aForcedFailoverWithThePrimaryStillRunningLosesNoPolicy() throws Exception {
    RedisSentinelGroup g = group();
    RedisCommands<String, String> promoted = g.commands(g.replica());
    RedisPolicyStore a = store(g);
    DomainName before = DomainName.of("before.example");
    CachedPolicy x = policy("before.example", "x1", now());
    a.put(before, x);
    RedisSentinelGroup.await("the replica to have it", () -> promoted.get(a.key(before)) != null);

    g.forceFailover();
    g.awaitReplicaPromoted();
    // Until the sentinels turn the old primary into a replica of the new one (and close its
    // clients' connections), the store is still connected to it and writes there: such a
    // write is dropped by the old primary's resynchronisation, but kept in the local layer.
    DomainName during = DomainName.of("during.example");
    CachedPolicy w = policy("during.example", "w1", now());
    a.put(during, w);
    // It did land on the old primary (Sentinel waits seconds before it converts it), not on the
    // new one.
    assertThat(g.commands(g.primary()).get(a.key(during))).isNotNull();
    assertThat(promoted.get(a.key(during))).isNull();
    g.awaitRole(g.primary(), "slave");

    // Then the store follows the new primary: its writes land there, and a read puts back what
    // the old primary dropped.
    DomainName after = DomainName.of("after.example");
    AtomicInteger n = new AtomicInteger();
    RedisSentinelGroup.await(
        "a write to reach the new primary",
        () -> {
          a.put(after, policy("after.example", "a" + n.incrementAndGet(), now()));
          return promoted.get(a.key(after)) != null;
        });
    assertThat(a.get(during)).contains(w);
    RedisSentinelGroup.await("w on the new primary", () -> promoted.get(a.key(during)) != null);
    RedisPolicyStore b = store(g);
    RedisSentinelGroup.await("b to read w", () -> b.get(during).equals(Optional.of(w)));
    assertThat(b.get(before)).contains(x);
  }

  @Test
  void tlsRptCountsAndTheReportClaimFollowTheNewPrimary() throws Exception {
    RedisSentinelGroup g = group();
    RedisCommands<String, String> replica = g.commands(g.replica());
    RedisAggregateStore counts =
        RedisAggregateStore.newBuilder(g.uri())
            .keyPrefix("test")
            .commandTimeout(TIMEOUT)
            .reconnectDelay(Duration.ofMillis(100))
            .build();
    closeables.add(counts);
    RedisReportClaim claims = RedisReportClaim.create(g.uri(), "test", TIMEOUT);
    closeables.add(claims);

    LocalDate day = LocalDate.of(2026, 12, 5);
    AppliedPolicy policy = AppliedPolicy.noPolicy(DomainName.of("example.com"));
    Map<AppliedPolicy, PolicyCounts> two = Map.of(policy, new PolicyCounts(2, 0, Map.of()));
    counts.merge(day, two); // kept in memory until the store has found the primary
    RedisSentinelGroup.await("the first merge", () -> counts.flushPending() == 0);
    RedisSentinelGroup.await(
        "the replica to have the counts", () -> replica.exists("test:tlsrpt:v1:day:" + day) == 1);

    g.primary().kill();
    // Without a primary a merge returns within the bound, its counts kept in memory (not lost).
    long t0 = System.nanoTime();
    counts.merge(day, two);
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isLessThan(HANG_MILLIS);
    assertThat(counts.pendingMerges()).isEqualTo(1);
    assertThatThrownBy(() -> counts.read(day)).isInstanceOf(IOException.class);
    assertThat(claims.tryClaim("tlsrpt/2026-12-05/example.com", Duration.ofMinutes(5))).isFalse();

    g.awaitReplicaPromoted();
    Map<AppliedPolicy, PolicyCounts> three = Map.of(policy, new PolicyCounts(3, 0, Map.of()));
    counts.merge(day, three);
    RedisSentinelGroup.await(
        "the kept merges in the new primary", () -> counts.flushPending() == 0);
    // The replicated 2, the 2 kept while there was no primary, and the 3 after the failover.
    assertThat(counts.days()).containsExactly(day);
    assertThat(counts.read(day)).isEqualTo(Map.of(policy, new PolicyCounts(7, 0, Map.of())));
    assertThat(counts.lostMerges()).isZero();
    RedisSentinelGroup.await(
        "the claim on the new primary",
        () -> claims.tryClaim("tlsrpt/2026-12-05/example.com", Duration.ofMinutes(5)));
    assertThat(replica.get("test:tlsrpt:v1:claim:tlsrpt/2026-12-05/example.com")).isNotNull();
  }
}
