package io.mailtls.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisClient;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.sync.RedisCommands;
import io.mailtls.core.DomainName;
import io.mailtls.core.DowngradeMemory;
import io.mailtls.core.DowngradeProtection;
import io.mailtls.core.MtaStsMode;
import io.mailtls.core.MtaStsPolicy;
import io.mailtls.core.TransportSecurity;
import io.mailtls.mtasts.CachedPolicy;
import io.mailtls.redis.internal.PolicyCodec;
import io.mailtls.tlsrpt.AppliedPolicy;
import io.mailtls.tlsrpt.PolicyCounts;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What a fleet's Redis may hold that mailtls did not write (a tool, a bit flip, an attacker with
 * write access), and what an outage leaves queued: neither may hide a record, block a delivery
 * thread for long, or be read without bound.
 */
class RedisHostileValuesTest {

  private static final DomainName DOMAIN = DomainName.of("example.com");
  private final List<AutoCloseable> closeables = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    Collections.reverse(closeables);
    for (AutoCloseable c : closeables) {
      c.close();
    }
  }

  private RedisServerProcess redis() {
    RedisServerProcess redis = RedisServerProcess.start();
    closeables.add(redis);
    return redis;
  }

  private RedisCommands<String, String> inspect(RedisServerProcess redis) {
    RedisClient client = RedisClient.create(redis.uri());
    closeables.add(client::shutdown);
    return client.connect().sync();
  }

  private RedisDowngradeMemory memory(RedisServerProcess redis) {
    RedisDowngradeMemory m =
        RedisDowngradeMemory.newBuilder(redis.uri())
            .keyPrefix("test")
            .commandTimeout(Duration.ofMillis(500))
            .reconnectDelay(Duration.ofMillis(100))
            .build();
    closeables.add(m);
    return m;
  }

  /**
   * Lua's {@code tonumber} reads {@code 1e20} and 20-digit strings that Java does not: as the
   * script's "maximum" such a field was kept forever, its PEXPIREAT failed, and every host read
   * "nothing seen". The script now replaces anything but the 1 to 15 digits mailtls writes.
   */
  @Test
  void aFieldOnlyLuaCouldReadIsReplacedByTheNextRaise() throws Exception {
    RedisServerProcess redis = redis();
    RedisCommands<String, String> inspect = inspect(redis);
    String key = "test:downgrade:v1:example.com";
    inspect.hset(key, Map.of("tls", "1e20", "authenticated_tls", "99999999999999999999"));

    Instant at = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    memory(redis).raise(DOMAIN, TransportSecurity.AUTHENTICATED_TLS, at);

    assertThat(inspect.hgetall(key))
        .containsEntry("tls", Long.toString(at.toEpochMilli()))
        .containsEntry("authenticated_tls", Long.toString(at.toEpochMilli()));
    assertThat(inspect.pttl(key)).as("the key expires again").isPositive();
    DowngradeMemory.Seen seenByAnother = memory(redis).seen(DOMAIN);
    assertThat(seenByAnother.authenticatedTls()).contains(at);
  }

  /**
   * A time a year ahead (written by a process whose clock ran ahead, or by hand) was the maximum
   * for good: the key's expiry lay a year out, every later raise lost to it, and every process read
   * a floor that never fell out of the period. Now a read ignores it, and the next raise replaces
   * it.
   */
  @Test
  void aTimeFarAheadOfTheClockIsIgnoredAndReplacedByTheNextRaise() throws Exception {
    RedisServerProcess redis = redis();
    RedisCommands<String, String> inspect = inspect(redis);
    String key = "test:downgrade:v1:example.com";
    Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    String yearAhead = Long.toString(now.plus(Duration.ofDays(365)).toEpochMilli());
    inspect.hset(key, Map.of("tls", yearAhead, "authenticated_tls", yearAhead));

    assertThat(memory(redis).seen(DOMAIN)).isEqualTo(DowngradeMemory.Seen.NOTHING);

    memory(redis).raise(DOMAIN, TransportSecurity.TLS, now);
    assertThat(inspect.hgetall(key))
        .containsEntry("tls", Long.toString(now.toEpochMilli()))
        .doesNotContainKey("authenticated_tls");
    assertThat(inspect.pttl(key))
        .as("the key expires the retention after the raise, not a year later")
        .isBetween(1L, DowngradeProtection.DEFAULT_PERIOD.toMillis());

    // A raise stamped a year ahead is not written; within the hour one is.
    Instant ahead = now.plus(Duration.ofDays(365));
    memory(redis).raise(DOMAIN, TransportSecurity.TLS, ahead);
    assertThat(inspect.hget(key, "tls")).isEqualTo(Long.toString(now.toEpochMilli()));
    Instant soon = now.plus(Duration.ofMinutes(30));
    memory(redis).raise(DOMAIN, TransportSecurity.TLS, soon);
    assertThat(inspect.hget(key, "tls")).isEqualTo(Long.toString(soon.toEpochMilli()));
  }

  /**
   * An outage may queue a raise for every domain of the local layer. {@code seen} runs before each
   * delivery, on its thread: each call hands a bounded batch to Redis, never the whole backlog, and
   * the calls that follow write the rest.
   */
  @Test
  void raisesQueuedInAnOutageAreWrittenABatchPerCall() throws Exception {
    RedisServerProcess redis = redis();
    RedisCommands<String, String> inspect = inspect(redis);
    RedisDowngradeMemory memory = memory(redis);
    DomainName probe = DomainName.of("probe.example");
    memory.raise(probe, TransportSecurity.TLS, Instant.now());
    assertThat(memory.pendingRaises()).isZero();

    redis.kill();
    int queued = 3 * RedisDowngradeMemory.FLUSH_BATCH + 10;
    Instant at = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    for (int i = 0; i < queued; i++) {
      memory.raise(DomainName.of("d" + i + ".example"), TransportSecurity.TLS, at);
    }
    assertThat(memory.pendingRaises()).isEqualTo(queued);
    redis.restart();

    List<Integer> left = new ArrayList<>();
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (memory.pendingRaises() > 0 && System.nanoTime() < deadline) {
      int before = memory.pendingRaises();
      try {
        memory.seen(probe);
      } catch (RedisDowngradeMemory.RedisUnavailableException e) {
        Thread.sleep(50); // not reconnected yet
      }
      int after = memory.pendingRaises();
      assertThat(before - after).isLessThanOrEqualTo(RedisDowngradeMemory.FLUSH_BATCH);
      left.add(after);
    }
    assertThat(memory.pendingRaises()).isZero();
    assertThat(left).as("several calls, each a batch").hasSizeGreaterThanOrEqualTo(4);
    // every queued raise reached Redis (the writes are asynchronous: wait for the last)
    long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (inspect.exists("test:downgrade:v1:d" + (queued - 1) + ".example") == 0
        && System.nanoTime() < until) {
      Thread.sleep(20);
    }
    for (int i = 0; i < queued; i += 37) {
      assertThat(inspect.hget("test:downgrade:v1:d" + i + ".example", "tls"))
          .isEqualTo(Long.toString(at.toEpochMilli()));
    }
  }

  /**
   * A policy entry larger than any mailtls writes is not read whole, nor decoded: the read stops
   * past the bound and the entry counts as unreadable. Here it is a valid entry padded with white
   * space, which the decoder would have taken.
   */
  @Test
  void aPolicyValueLargerThanTheBoundIsIgnoredUnread() {
    RedisServerProcess redis = redis();
    RedisCommands<String, String> inspect = inspect(redis);
    CachedPolicy enforce =
        CachedPolicy.fetched(
            new MtaStsPolicy(
                "e1", MtaStsMode.ENFORCE, List.of("mx.example.com"), Duration.ofDays(7)),
            Instant.now().truncatedTo(ChronoUnit.MILLIS));
    String value = PolicyCodec.encode(DOMAIN, enforce);
    String key = "test:sts:example.com";
    inspect.set(key, value + " ".repeat(RedisPolicyStore.MAX_VALUE_OCTETS));
    RedisPolicyStore store =
        RedisPolicyStore.newBuilder(redis.uri())
            .keyPrefix("test")
            .commandTimeout(Duration.ofMillis(500))
            .reconnectDelay(Duration.ofMillis(100))
            .build();
    closeables.add(store);

    assertThat(store.peek(DOMAIN)).isEmpty();

    inspect.set(key, value); // the same entry within the bound is read
    assertThat(store.peek(DOMAIN).orElseThrow().policy().id()).isEqualTo("e1");
  }

  /**
   * A downgrade record's field is at most 15 digits; one that another tool filled with megabytes is
   * no time. {@code seen} runs before every delivery: it read both fields whole (HMGET), so each
   * delivery to the domain pulled the megabytes over the network into the heap, and a value large
   * enough to outlast the command timeout made every {@code seen} an "outage", deferring a domain
   * no process knew for as long as the key (without expiry) stayed. Now a field longer than any
   * time is not sent: the read ignores it, and the next raise replaces it.
   */
  @Test
  void aDowngradeFieldOfMegabytesIsNotReadWhole() throws Exception {
    RedisServerProcess redis = redis();
    RedisCommands<String, String> inspect = inspect(redis);
    String key = "test:downgrade:v1:example.com";
    int octets = 16 * 1024 * 1024;
    inspect.eval(
        "redis.call('HSET', KEYS[1], 'tls', string.rep('7', tonumber(ARGV[1])))\n"
            + "return redis.call('HSTRLEN', KEYS[1], 'tls')\n",
        ScriptOutputType.INTEGER,
        new String[] {key},
        Integer.toString(octets));
    RedisDowngradeMemory memory = memory(redis);
    memory.raise(DomainName.of("warm.example"), TransportSecurity.TLS, Instant.now());

    long before = netOutput(inspect);
    DowngradeMemory.Seen seen = memory.seen(DOMAIN);
    long sent = netOutput(inspect) - before;

    assertThat(seen).isEqualTo(DowngradeMemory.Seen.NOTHING);
    assertThat(sent)
        .as("octets Redis sent for one seen() of a record whose field holds %d octets", octets)
        .isLessThan(64 * 1024);
    Instant at = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    memory.raise(DOMAIN, TransportSecurity.TLS, at);
    assertThat(inspect.hget(key, "tls")).isEqualTo(Long.toString(at.toEpochMilli()));
    assertThat(memory(redis).seen(DOMAIN).tls()).contains(at);
  }

  /**
   * The raise script read both fields into Lua (HMGET) and matched them against digits before it
   * looked at their length: for a field another tool filled with megabytes, each raise held Redis,
   * which runs one script at a time, for a scan and copy of the whole value, and every process of
   * the fleet waited that long for every read and write (policy reads past the command timeout,
   * domains no process knew deferred). Now the script checks the length first (HSTRLEN) and never
   * reads a field longer than a time.
   */
  @Test
  void aRaiseDoesNotScanADowngradeFieldOfMegabytes() throws Exception {
    RedisServerProcess redis = redis();
    RedisCommands<String, String> inspect = inspect(redis);
    String key = "test:downgrade:v1:example.com";
    inspect.eval(
        "redis.call('HSET', KEYS[1], 'tls', string.rep('7', tonumber(ARGV[1])))\n"
            + "return redis.call('HSTRLEN', KEYS[1], 'tls')\n",
        ScriptOutputType.INTEGER,
        new String[] {key},
        Integer.toString(32 * 1024 * 1024));
    RedisDowngradeMemory memory =
        closeLater(
            RedisDowngradeMemory.newBuilder(redis.uri())
                .keyPrefix("test")
                .commandTimeout(Duration.ofSeconds(10))
                .build());
    memory.raise(DomainName.of("warm.example"), TransportSecurity.TLS, Instant.now());
    logEveryCommand(inspect);

    Instant at = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    memory.raise(DOMAIN, TransportSecurity.TLS, at);

    assertThat(inspect.hget(key, "tls")).isEqualTo(Long.toString(at.toEpochMilli()));
    assertThat(longestCommandMicros(inspect))
        .as("the longest command Redis ran for the raise, in microseconds")
        .isLessThan(100_000L);
  }

  /**
   * The policy scripts read the value at the key into Lua and decoded it as JSON whatever its size:
   * a value another tool left there with megabytes (readers ignore anything over {@link
   * RedisPolicyStore#MAX_VALUE_OCTETS} unread) held Redis, and every process of the fleet, for the
   * copy and decode on every write of the domain's policy. Now a value over that bound is replaced
   * (or deleted) unread, as readers ignore it.
   */
  @Test
  void aPolicyWriteDoesNotDecodeAValueOfMegabytes() throws Exception {
    RedisServerProcess redis = redis();
    RedisCommands<String, String> inspect = inspect(redis);
    String key = "test:sts:example.com";
    inspect.eval(
        "redis.call('SET', KEYS[1], '{\"fetched_at_ms\":1,\"pad\":[' .. string.rep('1,',"
            + " tonumber(ARGV[1])) .. '1]}')\n"
            + "return redis.call('STRLEN', KEYS[1])\n",
        ScriptOutputType.INTEGER,
        new String[] {key},
        Integer.toString(8 * 1024 * 1024));
    RedisPolicyStore store =
        closeLater(
            RedisPolicyStore.newBuilder(redis.uri())
                .keyPrefix("test")
                .commandTimeout(Duration.ofSeconds(10))
                .build());
    assertThat(store.peek(DomainName.of("warm.example"))).isEmpty();
    logEveryCommand(inspect);

    CachedPolicy enforce =
        CachedPolicy.fetched(
            new MtaStsPolicy(
                "e1", MtaStsMode.ENFORCE, List.of("mx.example.com"), Duration.ofDays(7)),
            Instant.now().truncatedTo(ChronoUnit.MILLIS));
    store.put(DOMAIN, enforce);
    assertThat(inspect.get(key)).isEqualTo(PolicyCodec.encode(DOMAIN, enforce));
    inspect.set(key, inspect.get(key) + " ".repeat(RedisPolicyStore.MAX_VALUE_OCTETS));
    store.local().remove(DOMAIN);
    store.remove(DOMAIN);
    assertThat(inspect.exists(key)).as("deleted unread").isZero();

    assertThat(longestCommandMicros(inspect))
        .as("the longest command Redis ran for the write and the remove, in microseconds")
        .isLessThan(100_000L);
  }

  /**
   * The merge script read each counter it was about to add to (HGET) before it looked at the
   * value's length: a counter another tool filled with megabytes was copied into Lua, and Redis,
   * which runs one script at a time, was held for the copy, with every process of the fleet waiting
   * behind it. Now the script checks the length first (HSTRLEN) and deletes a value longer than a
   * count unread, so the counter restarts from the merge, as for any value that is not a count.
   */
  @Test
  void aMergeDoesNotReadACounterOfMegabytes() throws Exception {
    RedisServerProcess redis = redis();
    RedisCommands<String, String> inspect = inspect(redis);
    LocalDate day = LocalDate.of(2026, 12, 5);
    String key = "test:tlsrpt:v1:day:" + day;
    Map<AppliedPolicy, PolicyCounts> counts =
        Map.of(AppliedPolicy.noPolicy(DOMAIN), new PolicyCounts(2, 0, Map.of()));
    RedisAggregateStore store =
        closeLater(
            RedisAggregateStore.newBuilder(redis.uri())
                .keyPrefix("test")
                .commandTimeout(Duration.ofSeconds(10))
                .build());
    store.merge(day, counts);
    String field = inspect.hkeys(key).get(0);
    inspect.eval(
        "redis.call('HSET', KEYS[1], ARGV[1], string.rep('7', tonumber(ARGV[2])))\n"
            + "return redis.call('HSTRLEN', KEYS[1], ARGV[1])\n",
        ScriptOutputType.INTEGER,
        new String[] {key},
        field,
        Integer.toString(64 * 1024 * 1024));
    logEveryCommand(inspect);

    store.merge(day, counts);

    assertThat(inspect.hget(key, field)).as("the counter restarts from the merge").isEqualTo("2");
    assertThat(longestCommandMicros(inspect))
        .as("the longest command Redis ran for the merge, in microseconds")
        .isLessThan(100_000L);
  }

  /**
   * Renewing and releasing a report claim compared the claim key's value with the holder's token
   * after reading it whole (GET) into Lua: a value another tool left there with megabytes was
   * copied by the renew and by the release, holding Redis, and so every process of the fleet, for
   * the copy. Now the scripts compare the length first (STRLEN) and read only a value as long as
   * the token.
   */
  @Test
  void renewingAndReleasingAClaimDoNotReadAValueOfMegabytes() throws Exception {
    RedisServerProcess redis = redis();
    RedisCommands<String, String> inspect = inspect(redis);
    RedisReportClaim claim =
        closeLater(RedisReportClaim.create(redis.uri(), "test", Duration.ofSeconds(10)));
    String report = "2026-12-05/example.com";
    assertThat(claim.tryClaim(report, Duration.ofMinutes(10))).isTrue();
    String key = claim.key(report);
    inspect.eval(
        "redis.call('SET', KEYS[1], string.rep('7', tonumber(ARGV[1])), 'PX', 600000)\n"
            + "return redis.call('STRLEN', KEYS[1])\n",
        ScriptOutputType.INTEGER,
        new String[] {key},
        Integer.toString(64 * 1024 * 1024));
    logEveryCommand(inspect);

    assertThat(claim.renew(report, Duration.ofMinutes(10))).as("not this holder's").isFalse();
    assertThat(claim.tryClaim(report, Duration.ofMinutes(10))).isFalse();
    long renew = longestCommandMicros(inspect);
    inspect.slowlogReset();
    RedisReportClaim other =
        closeLater(RedisReportClaim.create(redis.uri(), "test", Duration.ofSeconds(10)));
    inspect.del(key);
    assertThat(other.tryClaim(report, Duration.ofMinutes(10))).isTrue();
    inspect.eval(
        "redis.call('SET', KEYS[1], string.rep('7', tonumber(ARGV[1])), 'PX', 600000)\n"
            + "return redis.call('STRLEN', KEYS[1])\n",
        ScriptOutputType.INTEGER,
        new String[] {key},
        Integer.toString(64 * 1024 * 1024));
    inspect.slowlogReset();
    other.release(report);
    long release = longestCommandMicros(inspect);

    assertThat(inspect.strlen(key))
        .as("another's value is not deleted")
        .isEqualTo(64L * 1024 * 1024);
    assertThat(List.of(renew, release))
        .as("the longest command Redis ran for the renew, and for the release, in microseconds")
        .allMatch(micros -> micros < 100_000L);
  }

  /** From here on Redis's SLOWLOG records every command, with how long it ran. */
  private static void logEveryCommand(RedisCommands<String, String> inspect) {
    inspect.configSet("slowlog-log-slower-than", "0");
    inspect.slowlogReset();
  }

  private static long longestCommandMicros(RedisCommands<String, String> inspect) {
    long longest = 0;
    for (Object entry : inspect.slowlogGet(128)) {
      // an entry: id, start time, duration in microseconds, the command and its arguments
      long micros = ((Number) ((List<?>) entry).get(2)).longValue();
      longest = Math.max(longest, micros);
    }
    return longest;
  }

  private <T extends AutoCloseable> T closeLater(T c) {
    closeables.add(c);
    return c;
  }

  /** Redis's {@code total_net_output_bytes}: every octet it has sent to any client. */
  private static long netOutput(RedisCommands<String, String> inspect) {
    for (String line : inspect.info("stats").lines().toList()) {
      if (line.startsWith("total_net_output_bytes:")) {
        return Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
      }
    }
    throw new AssertionError("INFO stats has no total_net_output_bytes");
  }
}
