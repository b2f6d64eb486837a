package io.mailtls.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.api.sync.RedisCommands;
import io.mailtls.core.DomainName;
import io.mailtls.core.DowngradeMemory;
import io.mailtls.core.MtaStsMode;
import io.mailtls.core.MtaStsPolicy;
import io.mailtls.core.TransportSecurity;
import io.mailtls.mtasts.CachedPolicy;
import io.mailtls.tlsrpt.AppliedPolicy;
import io.mailtls.tlsrpt.PolicyCounts;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A key of another type than mailtls writes there (another tool, a bug, another tenant sharing the
 * prefix): a string where a hash or a sorted set belongs, a hash where a string belongs. Redis then
 * answers every command on it with WRONGTYPE, and such a key written by hand has no expiry. It must
 * not read as "Redis away" for ever, nor stop what does not depend on it.
 */
class RedisWrongTypeKeysTest {

  private static final LocalDate DAY = LocalDate.of(2026, 12, 5);
  private static final DomainName DOMAIN = DomainName.of("example.com");
  private static final AppliedPolicy NONE = AppliedPolicy.noPolicy(DOMAIN);

  @RegisterExtension final RedisScratch scratch = new RedisScratch();
  private final RedisServerProcess redis = scratch.redis;
  private final RedisCommands<String, String> inspect = scratch.inspect;

  private RedisAggregateStore counts() {
    return scratch.aggregateStore(Duration.ofSeconds(2));
  }

  /**
   * A string at one day's counts key made the merge script fail on its first command: the batch was
   * kept as if Redis were away, and every later batch, of any day, queued behind it until the
   * marker retention (a day) lost it, the queue filling and the counts of every policy domain not
   * reaching Redis meanwhile. The merge now replaces the key, as it replaces a field that holds no
   * count, and the counter restarts from it.
   */
  @Test
  void aStringAtADaysCountsKeyIsReplacedAndBlocksNoOtherDay() throws Exception {
    inspect.set("test:tlsrpt:v1:day:" + DAY, "not a hash");
    RedisAggregateStore s = counts();

    s.merge(DAY, Map.of(NONE, PolicyCounts.success()));
    s.merge(DAY.plusDays(1), Map.of(NONE, PolicyCounts.success()));

    assertThat(s.pendingMerges()).as("batches kept as if Redis were away").isZero();
    assertThat(s.read(DAY.plusDays(1))).containsOnly(Map.entry(NONE, PolicyCounts.success()));
    assertThat(s.read(DAY)).containsOnly(Map.entry(NONE, PolicyCounts.success()));
    assertThat(s.days()).containsExactly(DAY, DAY.plusDays(1));
    assertThat(inspect.type("test:tlsrpt:v1:day:" + DAY)).isEqualTo("hash");
    assertThat(inspect.ttl("test:tlsrpt:v1:day:" + DAY)).as("it expires again").isPositive();
  }

  /**
   * A string at the days set's key: the merge script added the counts and set the batch's marker,
   * then failed on {@code ZADD} (Redis does not undo a failed script's writes), so the day was
   * never listed, and every {@code days()} failed on it: no report of any day went out. The merge
   * now replaces the key before it writes anything.
   */
  @Test
  void aStringAtTheDaysSetIsReplacedAndTheDayIsListed() throws Exception {
    inspect.set("test:tlsrpt:v1:days", "not a sorted set");
    RedisAggregateStore s = counts();

    s.merge(DAY, Map.of(NONE, PolicyCounts.success()));

    assertThat(s.pendingMerges()).isZero();
    assertThat(s.days()).containsExactly(DAY);
    assertThat(s.read(DAY)).containsOnly(Map.entry(NONE, PolicyCounts.success()));
  }

  /**
   * A day listed in the days set whose key is not a hash is nothing mailtls counted: {@code days()}
   * forgets it, as it forgets a day whose hash expired, rather than list a day whose every read
   * fails.
   */
  @Test
  void aListedDayWhoseKeyIsNotAHashIsForgotten() throws Exception {
    RedisAggregateStore s = counts();
    s.merge(DAY, Map.of(NONE, PolicyCounts.success()));
    inspect.zadd(
        "test:tlsrpt:v1:days", (double) DAY.plusDays(1).toEpochDay(), DAY.plusDays(1).toString());
    inspect.set("test:tlsrpt:v1:day:" + DAY.plusDays(1), "not a hash");

    assertThat(s.days()).containsExactly(DAY);
    assertThat(inspect.zrange("test:tlsrpt:v1:days", 0, -1)).containsExactly(DAY.toString());
  }

  private RedisDowngradeMemory memory() {
    RedisDowngradeMemory m =
        RedisDowngradeMemory.newBuilder(redis.uri())
            .keyPrefix("test")
            .commandTimeout(Duration.ofSeconds(2))
            .reconnectDelay(Duration.ofMillis(100))
            .build();
    scratch.closeLater(m);
    return m;
  }

  /**
   * A string at a domain's downgrade-memory key: the raise script failed on it, so the raise was
   * queued as if Redis were away and retried by every call, for ever (the key has no expiry), and
   * no other process learned the domain was reached over TLS. The raise now replaces the key with
   * the domain's record.
   */
  @Test
  void aStringAtADomainsDowngradeKeyIsReplacedByTheNextRaise() throws Exception {
    String key = "test:downgrade:v1:" + DOMAIN;
    inspect.set(key, "not a hash");
    Instant at = Instant.now().truncatedTo(ChronoUnit.MILLIS);

    RedisDowngradeMemory sender = memory();
    sender.raise(DOMAIN, TransportSecurity.AUTHENTICATED_TLS, at);

    assertThat(sender.pendingRaises()).as("raises kept as if Redis were away").isZero();
    assertThat(inspect.type(key)).isEqualTo("hash");
    assertThat(inspect.hgetall(key))
        .containsEntry("tls", Long.toString(at.toEpochMilli()))
        .containsEntry("authenticated_tls", Long.toString(at.toEpochMilli()));
    assertThat(inspect.pttl(key)).as("it expires again").isPositive();
    DowngradeMemory.Seen seenByAnother = memory().seen(DOMAIN);
    assertThat(seenByAnother.authenticatedTls()).contains(at);
  }

  /**
   * A string at the downgrade key of a domain no process knows: Redis answered every read with
   * WRONGTYPE, which read as an outage, so {@code seen} threw and the domain was deferred; no
   * delivery ever came to raise (and so replace) the key, and the domain was deferred for as long
   * as the key lived, which for a key written by hand is for ever. A key of another type holds no
   * record of mailtls's: it now reads as nothing seen, and the raise after the delivery replaces
   * it.
   */
  @Test
  void aStringAtADowngradeKeyReadsAsNothingSeenNotAsAnOutage() throws Exception {
    String key = "test:downgrade:v1:" + DOMAIN;
    inspect.set(key, "not a hash");

    RedisDowngradeMemory reader = memory();
    assertThat(reader.seen(DOMAIN)).isEqualTo(DowngradeMemory.Seen.NOTHING);

    Instant at = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    reader.raise(DOMAIN, TransportSecurity.TLS, at);
    assertThat(inspect.type(key)).isEqualTo("hash");
    assertThat(memory().seen(DOMAIN).tls()).contains(at);
  }

  private RedisPolicyStore policies() {
    RedisPolicyStore s =
        RedisPolicyStore.newBuilder(redis.uri())
            .keyPrefix("test")
            .commandTimeout(Duration.ofSeconds(2))
            .reconnectDelay(Duration.ofMillis(100))
            .build();
    scratch.closeLater(s);
    return s;
  }

  /**
   * A hash at a policy domain's key: the compare-and-set script failed on its {@code GET}, so no
   * process could share the domain's policy (RFC 8461 §5.1 for the fleet), for ever. The write now
   * replaces it, as it replaces a value it cannot read.
   */
  @Test
  void aHashAtAPolicyKeyIsReplacedByTheNextWrite() {
    String key = "test:sts:" + DOMAIN;
    inspect.hset(key, Map.of("mode", "none"));
    CachedPolicy enforce =
        CachedPolicy.fetched(
            new MtaStsPolicy(
                "e1", MtaStsMode.ENFORCE, List.of("mx.example.com"), Duration.ofDays(7)),
            Instant.now().truncatedTo(ChronoUnit.MILLIS));

    policies().put(DOMAIN, enforce);

    assertThat(inspect.type(key)).isEqualTo("string");
    assertThat(policies().get(DOMAIN)).as("another process's read").contains(enforce);
  }
}
