package io.mailtls.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.sync.RedisCommands;
import io.mailtls.core.DomainName;
import io.mailtls.tlsrpt.AppliedPolicy;
import io.mailtls.tlsrpt.FailureDetail;
import io.mailtls.tlsrpt.PolicyCounts;
import java.io.IOException;
import java.time.Duration;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link RedisAggregateStore} while Redis is away: counts kept in memory and merged exactly once
 * when it answers again, a read that never claims completeness while some wait, the bounded queue,
 * and merges refused once their day was reported.
 */
class RedisAggregateStorePendingTest {

  private static final LocalDate DAY = LocalDate.of(2026, 12, 5);
  private static final AppliedPolicy NONE = AppliedPolicy.noPolicy(DomainName.of("example.org"));
  private static final FailureDetail NO_STARTTLS =
      new FailureDetail(
          "starttls-not-supported",
          Optional.empty(),
          Optional.of("mx.example.org"),
          Optional.empty(),
          Optional.empty(),
          Optional.empty(),
          Optional.empty());

  @RegisterExtension final RedisScratch scratch = new RedisScratch();
  private final RedisServerProcess redis = scratch.redis;
  private final RedisCommands<String, String> inspect = scratch.inspect;

  private RedisAggregateStore store(int maxPending) {
    RedisAggregateStore s =
        RedisAggregateStore.newBuilder(redis.uri())
            .keyPrefix("test")
            .commandTimeout(Duration.ofMillis(300))
            .reconnectDelay(Duration.ofMillis(100))
            .maxPendingMerges(maxPending)
            .build();
    scratch.closeLater(s);
    return s;
  }

  /** Drains until nothing waits; Redis just came back, so the first calls may still fail. */
  private static void drain(RedisAggregateStore s) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (s.flushPending() > 0) {
      assertThat(System.nanoTime() - deadline).as("still pending").isNegative();
      Thread.sleep(50);
    }
  }

  private static Map<AppliedPolicy, PolicyCounts> success() {
    return Map.of(NONE, PolicyCounts.success());
  }

  private static Map<AppliedPolicy, PolicyCounts> failure() {
    return Map.of(NONE, PolicyCounts.failure(NO_STARTTLS));
  }

  @Test
  void countsMadeWhileRedisIsFrozenAreMergedOnceThoughRedisRanTheTimedOutMerges() throws Exception {
    RedisAggregateStore s = store(100);
    s.merge(DAY, success());
    redis.freeze();
    try {
      // Each merge waits for its command timeout, then keeps its counts: no exception.
      for (int i = 0; i < 3; i++) {
        s.merge(DAY, success());
      }
      s.merge(DAY, failure());
      assertThat(s.pendingMerges()).isEqualTo(4);
      assertThatThrownBy(() -> s.read(DAY))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("4 merge(s) of this process wait for Redis");
    } finally {
      // The merges Redis received while frozen run now; their answers came too late.
      redis.resume();
    }
    drain(s);
    assertThat(s.read(DAY))
        .as("each batch once, though the frozen Redis ran the first sends after all")
        .containsOnly(Map.entry(NONE, new PolicyCounts(4, 1, Map.of(NO_STARTTLS, 1L))));
    assertThat(s.lostMerges()).isZero();
    assertThat(s.pendingMerges()).isZero();
  }

  @Test
  void countsMadeWhileRedisIsDownArriveAfterItsRestartWithTheNextMerge() throws Exception {
    RedisAggregateStore s = store(100);
    redis.kill();
    s.merge(DAY, success());
    s.merge(DAY, failure());
    s.merge(DAY.minusDays(1), success());
    assertThat(s.pendingMerges()).isEqualTo(3);
    assertThatThrownBy(() -> s.read(DAY.minusDays(1))).isInstanceOf(IOException.class);
    assertThatThrownBy(s::days).isInstanceOf(IOException.class);
    redis.restart();
    // The next merge that reaches Redis sends what waits first.
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    int merges = 0;
    do {
      s.merge(DAY, success());
      merges++;
      assertThat(System.nanoTime() - deadline).isNegative();
      if (s.pendingMerges() > 0) {
        Thread.sleep(50);
      }
    } while (s.pendingMerges() > 0);
    assertThat(s.days()).containsExactly(DAY.minusDays(1), DAY);
    assertThat(s.read(DAY))
        .containsOnly(Map.entry(NONE, new PolicyCounts(1 + merges, 1, Map.of(NO_STARTTLS, 1L))));
    assertThat(s.read(DAY.minusDays(1)))
        .containsOnly(Map.entry(NONE, new PolicyCounts(1, 0, Map.of())));
    assertThat(s.lostMerges()).isZero();
  }

  @Test
  void whenTheQueueIsFullTheNewBatchIsLostCountedAndThrown() throws Exception {
    RedisAggregateStore s = store(2);
    redis.kill();
    s.merge(DAY, success());
    s.merge(DAY, success());
    assertThatThrownBy(() -> s.merge(DAY, failure()))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("lost")
        .hasMessageContaining("2 merges already wait");
    assertThat(s.lostMerges()).isEqualTo(1);
    assertThat(s.pendingMerges()).isEqualTo(2);
    redis.restart();
    drain(s);
    assertThat(s.read(DAY)).containsOnly(Map.entry(NONE, new PolicyCounts(2, 0, Map.of())));

    RedisAggregateStore none = store(0);
    redis.kill();
    assertThatThrownBy(() -> none.merge(DAY, success())).isInstanceOf(IOException.class);
    assertThat(none.lostMerges()).isEqualTo(1);
    assertThat(none.pendingMerges()).isZero();
  }

  @Test
  void aBatchArrivingAfterItsDayWasReportedIsRefusedNotASecondReport() throws Exception {
    RedisAggregateStore s = store(100);
    RedisAggregateStore reporter = store(100);
    s.merge(DAY, success());
    redis.freeze();
    try {
      s.merge(DAY, failure()); // kept: Redis is frozen
    } finally {
      redis.resume();
    }
    // Another process reports the day and discards it; the kept batch could not be in it.
    drainRedisOnly();
    reporter.discard(DAY);
    assertThatThrownBy(() -> s.merge(DAY, success()))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("reports went out");
    assertThat(s.pendingMerges()).isZero();
    // The kept batch (unless the frozen Redis ran it before the discard) and the new one: lost,
    // counted, never a day of counts that would make a second report.
    assertThat(s.lostMerges()).isBetween(1L, 2L);
    assertThat(reporter.read(DAY)).isEmpty();
    assertThat(reporter.days()).isEmpty();
    s.merge(DAY.plusDays(1), success()); // another day is not affected
    assertThat(reporter.read(DAY.plusDays(1))).hasSize(1);
  }

  /** Waits until the frozen Redis has answered a PING again. */
  private void drainRedisOnly() {
    RedisClient client = RedisClient.create(redis.uri());
    try {
      assertThat(client.connect().sync().ping()).isEqualTo("PONG");
    } finally {
      client.shutdown();
    }
  }

  /**
   * A batch whose send timed out after Redis ran it (frozen, then resumed) is in the day's counts;
   * another process then reads the day for its reports. The kept batch's next send found the day
   * reported before it found its own marker, so the batch was counted lost (thrown by a merge,
   * counted by the aggregator) although the report counted it: a false loss, and an operator told
   * that counts were missing from a complete report (RFC 8460 §4.1). A batch whose marker exists
   * was merged, whatever happened to the day since.
   */
  @Test
  void aBatchRedisRanBeforeAnotherProcessReportedTheDayIsNotCountedLost() throws Exception {
    RedisAggregateStore sender = store(100);
    RedisAggregateStore reporter = store(100);
    sender.merge(DAY, success()); // connected, the script loaded
    redis.freeze();
    try {
      sender.merge(DAY, failure()); // sent, not answered in time: kept
      assertThat(sender.pendingMerges()).isEqualTo(1);
    } finally {
      redis.resume(); // Redis runs the send it received while frozen
    }
    Map<AppliedPolicy, PolicyCounts> reported = null;
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (reported == null) {
      try {
        reported = reporter.readForReport(DAY);
      } catch (IOException e) {
        assertThat(System.nanoTime() - deadline).as("%s", e).isNegative();
        Thread.sleep(50);
      }
    }
    assertThat(reported)
        .as("the report counts the batch Redis ran")
        .containsOnly(Map.entry(NONE, new PolicyCounts(1, 1, Map.of(NO_STARTTLS, 1L))));

    drain(sender);
    assertThat(sender.lostMerges()).as("batches counted lost").isZero();
  }

  @Test
  void eachMergeLeavesAMarkerForItsRetentionAndABatchKeptLongerIsLostNotSentTwice()
      throws Exception {
    RedisAggregateStore s =
        RedisAggregateStore.newBuilder(redis.uri())
            .keyPrefix("test")
            .commandTimeout(Duration.ofMillis(300))
            .reconnectDelay(Duration.ofMillis(100))
            .mergeMarkerRetention(Duration.ofSeconds(1))
            .build();
    scratch.closeLater(s);
    s.merge(DAY, success());
    List<String> markers = inspect.keys("test:tlsrpt:v1:merged:*");
    assertThat(markers).hasSize(1);
    assertThat(inspect.pttl(markers.get(0))).isBetween(1L, 1000L);
    redis.kill();
    s.merge(DAY, failure());
    assertThat(s.pendingMerges()).isEqualTo(1);
    Thread.sleep(1100);
    redis.restart();
    assertThat(s.flushPending()).isZero(); // dropped without asking Redis
    assertThat(s.lostMerges()).isEqualTo(1);
    // The restarted Redis is empty: the kept batch was not sent. (Reconnecting may take a moment.)
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (true) {
      try {
        assertThat(s.read(DAY)).isEmpty();
        break;
      } catch (IOException e) {
        assertThat(System.nanoTime() - deadline).as("%s", e).isNegative();
        Thread.sleep(50);
      }
    }
  }

  @Test
  void closingWithBatchesKeptCountsThemLost() throws Exception {
    RedisAggregateStore s = store(100);
    redis.kill();
    s.merge(DAY, success());
    s.merge(DAY, success());
    s.close();
    assertThat(s.lostMerges()).isEqualTo(2);
    assertThat(s.pendingMerges()).isZero();
  }

  @Test
  void aMergeWaitsNoLongerThanTheCommandTimeoutWhenRedisIsSlowAndBatchesWait() throws Exception {
    Duration timeout = Duration.ofSeconds(1);
    // Every answer takes 0.6 s: each send of a kept batch takes most of the command timeout.
    SlowLink slow = new SlowLink(redis.port(), Duration.ofMillis(600));
    scratch.closeLater(slow);
    RedisAggregateStore s =
        RedisAggregateStore.newBuilder(slow.uri())
            .keyPrefix("test")
            .commandTimeout(timeout)
            .reconnectDelay(Duration.ofMillis(100))
            .build();
    scratch.closeLater(s);
    redis.kill();
    for (int i = 0; i < 5; i++) {
      s.merge(DAY, success());
    }
    assertThat(s.pendingMerges()).isEqualTo(5);
    redis.restart();
    for (int i = 0; i < 4; i++) {
      long start = System.nanoTime();
      s.merge(DAY, success());
      Duration took = Duration.ofNanos(System.nanoTime() - start);
      // One bound for the whole call. With a command timeout per send, a merge that found
      // batches waiting took 1.8 s here: two sends of kept batches, then its own.
      assertThat(took)
          .as("merge %d with batches waiting on a slow Redis", i)
          .isLessThan(timeout.plusMillis(400));
    }
    drain(s);
    assertThat(s.read(DAY))
        .as("each of the 9 batches once")
        .containsOnly(Map.entry(NONE, new PolicyCounts(9, 0, Map.of())));
    assertThat(s.lostMerges()).isZero();
  }
}
