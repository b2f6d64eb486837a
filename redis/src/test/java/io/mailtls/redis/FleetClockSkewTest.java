package io.mailtls.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.sync.RedisCommands;
import io.mailtls.core.DomainName;
import io.mailtls.core.MtaStsMode;
import io.mailtls.core.MtaStsPolicy;
import io.mailtls.mtasts.CachedPolicy;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Hosts whose clocks differ by more than {@link CachedPolicy#CLOCK_TOLERANCE}: a domain's newer
 * {@code enforce} policy, fetched by one of them, is never rolled back to the {@code testing}
 * policy another still holds (RFC 8461 §10.2). An entry dated ahead of a host's clock counts as
 * fetched at its now: never older than what it held before.
 */
class FleetClockSkewTest {

  private static final DomainName DOMAIN = DomainName.of("example.com");
  private final List<AutoCloseable> closeables = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    Collections.reverse(closeables);
    for (AutoCloseable c : closeables) {
      c.close();
    }
  }

  private RedisPolicyStore store(RedisServerProcess redis, Clock clock) {
    RedisPolicyStore s =
        RedisPolicyStore.newBuilder(redis.uri())
            .keyPrefix("test")
            .commandTimeout(Duration.ofMillis(500))
            .reconnectDelay(Duration.ofMillis(100))
            .clock(clock)
            .build();
    closeables.add(s);
    return s;
  }

  @Test
  void anEnforcePolicyFetchedByAHostAheadWinsOverTheOlderTestingPolicy() {
    RedisServerProcess redis = RedisServerProcess.start();
    closeables.add(redis);
    RedisClient client = RedisClient.create(redis.uri());
    closeables.add(client::shutdown);
    RedisCommands<String, String> inspect = client.connect().sync();

    Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    Clock ahead = Clock.offset(Clock.systemUTC(), Duration.ofMinutes(5));
    // Host A (correct clock) fetched the testing policy an hour ago.
    CachedPolicy testing =
        CachedPolicy.fetched(
            new MtaStsPolicy(
                "t1", MtaStsMode.TESTING, List.of("mx.example.com"), Duration.ofDays(7)),
            now.minus(Duration.ofHours(1)));
    RedisPolicyStore a = store(redis, Clock.systemUTC());
    a.put(DOMAIN, testing);
    // The domain moves to enforce; host B (clock 5 minutes ahead) fetches it now.
    CachedPolicy enforce =
        CachedPolicy.fetched(
            new MtaStsPolicy(
                "e2", MtaStsMode.ENFORCE, List.of("mx.example.com"), Duration.ofDays(7)),
            ahead.instant().truncatedTo(ChronoUnit.MILLIS));
    store(redis, ahead).put(DOMAIN, enforce);
    assertThat(inspect.get("test:sts:example.com")).contains("\"e2\"");

    // Host A reads for a delivery (its TXT lookup suppressed: the resolver uses what the store
    // says).
    CachedPolicy readByA = a.get(DOMAIN).orElseThrow();
    String inRedisAfter = inspect.get("test:sts:example.com");
    assertThat(readByA.policy().mode())
        .as(
            "host A's read after the fleet stored a later enforce fetch (Redis now: %s)",
            inRedisAfter)
        .isEqualTo(MtaStsMode.ENFORCE);
  }

  @Test
  void theFleetsEnforceEntryStaysInRedisForANewHost() throws Exception {
    RedisServerProcess redis = RedisServerProcess.start();
    closeables.add(redis);
    RedisClient client = RedisClient.create(redis.uri());
    closeables.add(client::shutdown);
    RedisCommands<String, String> inspect = client.connect().sync();

    Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    Clock ahead = Clock.offset(Clock.systemUTC(), Duration.ofMinutes(5));
    CachedPolicy testing =
        CachedPolicy.fetched(
            new MtaStsPolicy(
                "t1", MtaStsMode.TESTING, List.of("mx.example.com"), Duration.ofDays(7)),
            now.minus(Duration.ofHours(1)));
    RedisPolicyStore a = store(redis, Clock.systemUTC());
    a.put(DOMAIN, testing);
    store(redis, ahead)
        .put(
            DOMAIN,
            CachedPolicy.fetched(
                new MtaStsPolicy(
                    "e2", MtaStsMode.ENFORCE, List.of("mx.example.com"), Duration.ofDays(7)),
                ahead.instant().truncatedTo(ChronoUnit.MILLIS)));
    a.get(DOMAIN);
    Thread.sleep(500); // a background repair, if the read had wrongly made one
    // A fresh host C (correct clock, empty local layer) now learns testing from the fleet.
    CachedPolicy readByC = store(redis, Clock.systemUTC()).get(DOMAIN).orElseThrow();
    assertThat(readByC.policy().mode())
        .as("a new host's read; Redis holds %s", inspect.get("test:sts:example.com"))
        .isEqualTo(MtaStsMode.ENFORCE);
  }

  @Test
  void aHostWhoseClockIsTwoMinutesBehindTakesTheFleetsNewerEnforcePolicy() {
    RedisServerProcess redis = RedisServerProcess.start();
    closeables.add(redis);
    RedisClient client = RedisClient.create(redis.uri());
    closeables.add(client::shutdown);
    RedisCommands<String, String> inspect = client.connect().sync();
    Clock behind = Clock.offset(Clock.systemUTC(), Duration.ofMinutes(-2));
    // Host A (clock 2 minutes behind) fetched testing an hour ago.
    RedisPolicyStore a = store(redis, behind);
    a.put(
        DOMAIN,
        CachedPolicy.fetched(
            new MtaStsPolicy(
                "t1", MtaStsMode.TESTING, List.of("mx.example.com"), Duration.ofDays(7)),
            behind.instant().minus(Duration.ofHours(1)).truncatedTo(ChronoUnit.MILLIS)));
    // The domain moves to enforce; host B (correct clock) fetches it now.
    store(redis, Clock.systemUTC())
        .put(
            DOMAIN,
            CachedPolicy.fetched(
                new MtaStsPolicy(
                    "e2", MtaStsMode.ENFORCE, List.of("mx.example.com"), Duration.ofDays(7)),
                Instant.now().truncatedTo(ChronoUnit.MILLIS)));
    CachedPolicy readByA = a.get(DOMAIN).orElseThrow();
    assertThat(readByA.policy().mode())
        .as("host A's read; Redis now holds %s", inspect.get("test:sts:example.com"))
        .isEqualTo(MtaStsMode.ENFORCE);
  }
}
