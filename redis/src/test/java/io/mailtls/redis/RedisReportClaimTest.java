package io.mailtls.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.sync.RedisCommands;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@link RedisReportClaim} against a real redis-server of its own. */
class RedisReportClaimTest {

  private static final String REPORT = "tlsrpt/2026-12-05/example.com";

  @Test
  void oneHolderAtATimeAndOnlyTheHolderReleases() throws Exception {
    try (RedisServerProcess redis = RedisServerProcess.start();
        RedisReportClaim a = RedisReportClaim.create(redis.uri(), "test", Duration.ofSeconds(5));
        RedisReportClaim b = RedisReportClaim.create(redis.uri(), "test", Duration.ofSeconds(5))) {
      RedisClient client = RedisClient.create(redis.uri());
      try {
        RedisCommands<String, String> inspect = client.connect().sync();
        assertThat(a.tryClaim(REPORT, Duration.ofMinutes(10))).isTrue();
        assertThat(b.tryClaim(REPORT, Duration.ofMinutes(10))).isFalse();
        assertThat(a.tryClaim(REPORT, Duration.ofMinutes(10))).isFalse(); // not re-entrant
        assertThat(inspect.pttl("test:tlsrpt:v1:claim:" + REPORT))
            .isBetween(Duration.ofMinutes(9).toMillis(), Duration.ofMinutes(10).toMillis());
        b.release(REPORT); // b holds nothing: a's claim stays
        assertThat(b.tryClaim(REPORT, Duration.ofMinutes(10))).isFalse();
        a.release(REPORT);
        assertThat(b.tryClaim(REPORT, Duration.ofMinutes(10))).isTrue();
        b.release(REPORT);

        // A lease that lapsed: another process claims, and the first one's late release
        // leaves the new claim alone.
        assertThat(a.tryClaim(REPORT, Duration.ofMillis(50))).isTrue();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (inspect.exists("test:tlsrpt:v1:claim:" + REPORT) == 1) {
          assertThat(System.nanoTime()).isLessThan(deadline);
          Thread.sleep(20);
        }
        assertThat(b.tryClaim(REPORT, Duration.ofMinutes(10))).isTrue();
        a.release(REPORT);
        assertThat(inspect.exists("test:tlsrpt:v1:claim:" + REPORT)).isEqualTo(1);
        assertThat(a.tryClaim(REPORT, Duration.ofMinutes(10))).isFalse();
      } finally {
        client.shutdown();
      }
    }
  }

  /**
   * A holder extends its own claim (a report it wrote waits for its retry); nobody else can, and a
   * claim that lapsed and went to another is never extended by its first holder.
   */
  @Test
  void onlyTheHolderRenewsItsClaim() throws Exception {
    try (RedisServerProcess redis = RedisServerProcess.start();
        RedisReportClaim a = RedisReportClaim.create(redis.uri(), "test", Duration.ofSeconds(5));
        RedisReportClaim b = RedisReportClaim.create(redis.uri(), "test", Duration.ofSeconds(5))) {
      RedisClient client = RedisClient.create(redis.uri());
      try {
        RedisCommands<String, String> inspect = client.connect().sync();
        String claimKey = "test:tlsrpt:v1:claim:" + REPORT;
        assertThat(a.renew(REPORT, Duration.ofHours(1))).isFalse(); // holds nothing yet
        assertThat(inspect.exists(claimKey)).isZero();
        assertThat(a.tryClaim(REPORT, Duration.ofMinutes(1))).isTrue();
        assertThat(b.renew(REPORT, Duration.ofHours(2))).isFalse();
        assertThat(a.renew(REPORT, Duration.ofHours(1))).isTrue();
        assertThat(inspect.pttl(claimKey))
            .isBetween(Duration.ofMinutes(59).toMillis(), Duration.ofHours(1).toMillis());
        assertThat(b.tryClaim(REPORT, Duration.ofMinutes(1))).isFalse();

        // Lapsed and taken by b: a's renewal fails and leaves b's claim as it is.
        assertThat(a.renew(REPORT, Duration.ofMillis(50))).isTrue();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (inspect.exists(claimKey) == 1) {
          assertThat(System.nanoTime()).isLessThan(deadline);
          Thread.sleep(20);
        }
        assertThat(b.tryClaim(REPORT, Duration.ofMinutes(10))).isTrue();
        assertThat(a.renew(REPORT, Duration.ofHours(1))).isFalse();
        assertThat(inspect.pttl(claimKey)).isLessThanOrEqualTo(Duration.ofMinutes(10).toMillis());
        assertThat(b.renew(REPORT, Duration.ofHours(1))).isTrue();
      } finally {
        client.shutdown();
      }
    }
  }

  @Test
  void aSettledReportIsNeverClaimedAgainAndOthersSeeItSettled() throws Exception {
    try (RedisServerProcess redis = RedisServerProcess.start();
        RedisReportClaim a =
            RedisReportClaim.newBuilder(redis.uri())
                .keyPrefix("test")
                .commandTimeout(Duration.ofSeconds(5))
                .settledRetention(Duration.ofHours(1))
                .build();
        RedisReportClaim b = RedisReportClaim.create(redis.uri(), "test", Duration.ofSeconds(5))) {
      RedisClient client = RedisClient.create(redis.uri());
      try {
        RedisCommands<String, String> inspect = client.connect().sync();
        b.markSettled(REPORT); // b holds no claim: marks nothing
        assertThat(a.isSettled(REPORT)).isFalse();
        assertThat(a.tryClaim(REPORT, Duration.ofMinutes(10))).isTrue();
        a.markSettled(REPORT);
        a.release(REPORT);
        assertThat(b.isSettled(REPORT)).isTrue();
        assertThat(b.tryClaim(REPORT, Duration.ofMinutes(10))).isFalse();
        assertThat(a.tryClaim(REPORT, Duration.ofMinutes(10))).isFalse();
        assertThat(inspect.pttl("test:tlsrpt:v1:settled:" + REPORT))
            .isBetween(Duration.ofMinutes(59).toMillis(), Duration.ofHours(1).toMillis());
        assertThat(b.isSettled("tlsrpt/2026-12-05/example.net")).isFalse();
      } finally {
        client.shutdown();
      }
    }
  }

  /**
   * A key without expiry at a report's claim key or settled mark (left by another tool, or by hand)
   * held the claim, or faked the mark, for ever: nobody could claim the report, and every process
   * took the day as settled, so the report was never sent. mailtls writes both with a time to live;
   * a key without one is replaced by the next claim, and is no settled mark.
   */
  @Test
  void aKeyWithoutExpiryAtTheClaimOrTheMarkIsNotMailtlss() throws Exception {
    try (RedisServerProcess redis = RedisServerProcess.start();
        RedisReportClaim a = RedisReportClaim.create(redis.uri(), "test", Duration.ofSeconds(5))) {
      RedisClient client = RedisClient.create(redis.uri());
      try {
        RedisCommands<String, String> inspect = client.connect().sync();
        String claim = "test:tlsrpt:v1:claim:" + REPORT;
        String settled = "test:tlsrpt:v1:settled:" + REPORT;
        inspect.set(claim, "someone");
        assertThat(a.tryClaim(REPORT, Duration.ofMinutes(10))).isTrue();
        assertThat(inspect.pttl(claim)).isPositive();
        a.release(REPORT);

        inspect.set(settled, "1");
        assertThat(a.isSettled(REPORT)).isFalse();
        assertThat(a.tryClaim(REPORT, Duration.ofMinutes(10))).isTrue();
        assertThat(inspect.exists(settled)).isZero();
        a.markSettled(REPORT);
        assertThat(a.isSettled(REPORT)).isTrue();
      } finally {
        client.shutdown();
      }
    }
  }

  @Test
  void withoutRedisNobodyClaims() {
    try (RedisServerProcess redis = RedisServerProcess.start();
        RedisReportClaim a = RedisReportClaim.create(redis.uri(), "test", Duration.ofMillis(200))) {
      redis.kill();
      assertThat(a.tryClaim(REPORT, Duration.ofMinutes(10))).isFalse();
      a.release(REPORT); // nothing held: no exception
    }
  }
}
