package io.mailtls.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.sync.RedisCommands;
import io.mailtls.core.DomainName;
import io.mailtls.core.MtaStsMode;
import io.mailtls.core.MtaStsPolicy;
import io.mailtls.mtasts.CachedPolicy;
import io.mailtls.mtasts.InMemoryPolicyStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
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

/** {@link RedisPolicyStore} against a real redis-server of its own ({@link RedisServerProcess}). */
class RedisPolicyStoreTest {

  private static final DomainName DOMAIN = DomainName.of("example.com");
  private static final Duration TIMEOUT = Duration.ofMillis(200);
  private static final JsonMapper JSON = JsonMapper.builder().build();

  @RegisterExtension final RedisScratch scratch = new RedisScratch();
  private final RedisServerProcess redis = scratch.redis;
  private final RedisCommands<String, String> inspect = scratch.inspect;

  private RedisPolicyStore store() {
    return store(redis.uri(), Clock.systemUTC());
  }

  private RedisPolicyStore store(RedisURI uri, Clock clock) {
    RedisPolicyStore s =
        RedisPolicyStore.newBuilder(uri)
            .keyPrefix("test")
            .commandTimeout(TIMEOUT)
            .reconnectDelay(Duration.ofMillis(100))
            .clock(clock)
            .build();
    scratch.closeLater(s);
    return s;
  }

  private static CachedPolicy policy(String id, Instant fetchedAt, Duration maxAge) {
    return CachedPolicy.fetched(
        new MtaStsPolicy(
            id, MtaStsMode.ENFORCE, List.of("mx.example.com", "*.example.net"), maxAge),
        fetchedAt);
  }

  private static Instant now() {
    return Instant.now().truncatedTo(ChronoUnit.MILLIS);
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
  void aPolicyPutByOneProcessIsReadByAnother() throws Exception {
    CachedPolicy entry = policy("20261205T1", now(), Duration.ofDays(7));
    store().put(DOMAIN, entry);

    RedisPolicyStore other = store(); // its own connection and its own, empty local layer
    assertThat(other.local().peek(DOMAIN)).isEmpty();
    assertThat(other.get(DOMAIN)).contains(entry);
    assertThat(other.local().peek(DOMAIN)).contains(entry);

    // The documented key and versioned value.
    assertThat(other.key(DOMAIN)).isEqualTo("test:sts:example.com");
    JsonNode value = JSON.readTree(inspect.get("test:sts:example.com"));
    assertThat(value.get("format").asText()).isEqualTo("mailtls-mta-sts-policy");
    assertThat(value.get("version").asInt()).isEqualTo(1);
    assertThat(value.get("domain").asText()).isEqualTo("example.com");
    assertThat(value.get("id").asText()).isEqualTo("20261205T1");
    assertThat(value.get("mode").asText()).isEqualTo("enforce");
    assertThat(value.get("mx").toString()).isEqualTo("[\"mx.example.com\",\"*.example.net\"]");
    assertThat(value.get("max_age").asLong()).isEqualTo(604800);
    assertThat(value.get("fetched_at").asText()).isEqualTo(entry.fetchedAt().toString());
    assertThat(value.get("expires_at").asText()).isEqualTo(entry.expiresAt().toString());
    assertThat(value.get("fetched_at_ms").asLong()).isEqualTo(entry.fetchedAt().toEpochMilli());
  }

  /**
   * The policy text as fetched (which TLS-RPT reports name, RFC 8460 §4.5) travels with the policy
   * from one process to another, line ends and all.
   */
  @Test
  void aPolicyTextPutByOneProcessIsReadByAnother() {
    String text = "mode: enforce\r\nmx: mx.example.com\nx-note: as served\r\n";
    CachedPolicy entry = policy("20261205T2", now(), Duration.ofDays(7));
    CachedPolicy withText =
        new CachedPolicy(entry.policy().withText(text), entry.fetchedAt(), entry.expiresAt());
    store().put(DOMAIN, withText);

    RedisPolicyStore other = store();
    assertThat(other.get(DOMAIN)).contains(withText);
    assertThat(other.get(DOMAIN).orElseThrow().policy().text()).contains(text);
  }

  /**
   * A value written before the text was kept still reads, whole and without a text (its reports
   * rebuild the policy from the fields); a text that cannot be kept costs only the text.
   */
  @Test
  void aValueWithoutAPolicyTextStillReads() {
    Instant at = now();
    CachedPolicy entry = policy("20261205T3", at, Duration.ofDays(7));
    String old =
        "{\"format\":\"mailtls-mta-sts-policy\",\"version\":1,\"domain\":\"example.com\","
            + "\"id\":\"20261205T3\",\"mode\":\"enforce\","
            + "\"mx\":[\"mx.example.com\",\"*.example.net\"],\"max_age\":604800,"
            + "\"fetched_at\":\""
            + entry.fetchedAt()
            + "\",\"expires_at\":\""
            + entry.expiresAt()
            + "\",\"fetched_at_ms\":"
            + entry.fetchedAt().toEpochMilli()
            + "}";
    inspect.set("test:sts:example.com", old);
    assertThat(store().get(DOMAIN)).contains(entry);
    assertThat(store().get(DOMAIN).orElseThrow().policy().text()).isEmpty();

    inspect.set("test:sts:example.com", old.substring(0, old.length() - 1) + ",\"text\":[\"x\"]}");
    assertThat(store().get(DOMAIN)).contains(entry);
  }

  @Test
  void theRedisTtlIsTheTimeLeftToMaxAge() {
    Instant fetched = now();
    // Read two hours after the fetch, a one-day policy has 22 hours left.
    Clock later = Clock.fixed(fetched.plus(Duration.ofHours(2)), ZoneOffset.UTC);
    store(redis.uri(), later).put(DOMAIN, policy("a1", fetched, Duration.ofDays(1)));

    long pttl = inspect.pttl("test:sts:example.com");
    long expected = Duration.ofHours(22).toMillis();
    assertThat(pttl).isBetween(expected - 60_000, expected);
  }

  @Test
  void anExpiredPolicyIsNotWrittenToRedis() {
    Instant fetched = now().minus(Duration.ofDays(2));
    store().put(DOMAIN, policy("a1", fetched, Duration.ofDays(1)));
    assertThat(inspect.exists("test:sts:example.com")).isZero();
  }

  @Test
  void anOlderWriteAfterANewerOneIsRefused() {
    Instant t = now();
    CachedPolicy newer = policy("new1", t, Duration.ofDays(7));
    CachedPolicy older = policy("old1", t.minusSeconds(10), Duration.ofDays(7));
    RedisPolicyStore a = store();
    RedisPolicyStore b = store();
    a.put(DOMAIN, newer);
    b.put(DOMAIN, older); // b had not seen the newer one: its local layer takes it, Redis refuses

    assertThat(inspect.get("test:sts:example.com")).contains("\"new1\"");
    // b reads the fleet's newer policy, replacing its own older one locally.
    assertThat(b.get(DOMAIN)).contains(newer);
    assertThat(b.local().peek(DOMAIN)).contains(newer);
  }

  /**
   * An entry dated after now (fetched while a clock ran ahead that then went back) never keeps a
   * later fetch out, in Redis or in a read: otherwise a domain moving from {@code testing} to
   * {@code enforce} would keep the old policy in the fleet's cache, for an attacker who suppresses
   * discovery to bring back (RFC 8461 §10.2).
   */
  @Test
  void anEntryDatedAheadOfTheClockNeverKeepsALaterFetchOut() {
    Instant t = now();
    CachedPolicy ahead = policy("testing1", t.plus(Duration.ofDays(30)), Duration.ofDays(365));
    CachedPolicy fetched = policy("enforce2", t, Duration.ofDays(7));
    store().put(DOMAIN, ahead);
    assertThat(inspect.get("test:sts:example.com")).contains("\"testing1\"");

    RedisPolicyStore b = store();
    b.put(DOMAIN, fetched);
    assertThat(inspect.get("test:sts:example.com")).contains("\"enforce2\"");
    assertThat(b.get(DOMAIN)).contains(fetched);
    // A process that still holds the entry dated ahead reads the fleet's fetch, and the entry
    // dated ahead does not come back by a later write of its own.
    RedisPolicyStore c = store();
    c.local().put(DOMAIN, ahead);
    assertThat(c.get(DOMAIN)).contains(fetched);
    c.put(DOMAIN, ahead);
    assertThat(inspect.get("test:sts:example.com")).contains("\"enforce2\"");
  }

  private static CachedPolicy testing(String id, Instant fetchedAt) {
    return CachedPolicy.fetched(
        new MtaStsPolicy(id, MtaStsMode.TESTING, List.of("mx.example.com"), Duration.ofDays(7)),
        fetchedAt);
  }

  /**
   * Hosts whose clocks differ by more than the tolerance: the fleet's newer {@code enforce} policy,
   * fetched by one of them, is never rolled back to the {@code testing} policy another still holds
   * (RFC 8461 §10.2). An entry dated ahead of a host's clock counts as fetched one tolerance before
   * its now: never older than what it held before.
   */
  @Test
  void aClockSkewBeyondTheToleranceNeverRollsTheFleetBack() throws Exception {
    Instant t = now();
    // Host A (a correct clock) fetched testing an hour ago; host B, 5 minutes ahead, fetches the
    // domain's new enforce policy now.
    RedisPolicyStore a = store();
    a.put(DOMAIN, testing("t1", t.minus(Duration.ofHours(1))));
    Clock ahead = Clock.offset(Clock.systemUTC(), Duration.ofMinutes(5));
    CachedPolicy enforce =
        policy("e2", ahead.instant().truncatedTo(ChronoUnit.MILLIS), Duration.ofDays(7));
    store(redis.uri(), ahead).put(DOMAIN, enforce);
    assertThat(inspect.get("test:sts:example.com")).contains("\"e2\"");

    assertThat(a.get(DOMAIN)).contains(enforce);
    Thread.sleep(300); // a background repair, had the read wrongly made one
    assertThat(inspect.get("test:sts:example.com")).contains("\"e2\"");
    assertThat(store().get(DOMAIN)).as("a new host").contains(enforce);

    // Host C runs 2 minutes behind the fleet and holds testing from an hour ago by its clock.
    Clock behind = Clock.offset(Clock.systemUTC(), Duration.ofMinutes(-2));
    RedisPolicyStore c = store(redis.uri(), behind);
    c.local().put(DOMAIN, testing("t1", behind.instant().minus(Duration.ofHours(1))));
    CachedPolicy fetchedNow = policy("e3", now(), Duration.ofDays(7));
    store().put(DOMAIN, fetchedNow);
    assertThat(c.get(DOMAIN)).contains(fetchedNow);
    c.put(DOMAIN, testing("t1", behind.instant().minus(Duration.ofHours(1))));
    assertThat(inspect.get("test:sts:example.com")).contains("\"e3\"");
  }

  /**
   * Within the fleet's clock tolerance, fetch times order writes as they are: a host whose clock
   * runs two seconds ahead stores a later fetch, and a host behind it neither takes its own older
   * policy for the newer one nor writes it back over the fleet's.
   */
  @Test
  void theHostsClocksMayDifferWithinTheTolerance() {
    Instant t = now();
    CachedPolicy older = policy("testing1", t.minus(Duration.ofHours(1)), Duration.ofDays(7));
    CachedPolicy later = policy("enforce2", t.plusSeconds(2), Duration.ofDays(7));
    RedisPolicyStore ahead = store(redis.uri(), Clock.fixed(t.plusSeconds(2), ZoneOffset.UTC));
    RedisPolicyStore behind = store(redis.uri(), Clock.fixed(t, ZoneOffset.UTC));
    behind.local().put(DOMAIN, older);
    ahead.put(DOMAIN, later);

    assertThat(behind.get(DOMAIN)).contains(later);
    behind.put(DOMAIN, older);
    assertThat(inspect.get("test:sts:example.com")).contains("\"enforce2\"");
    assertThat(behind.get(DOMAIN)).contains(later);
  }

  @Test
  void inTheSameMillisecondTheLaterSortingIdWins() {
    Instant t = now();
    RedisPolicyStore a = store();
    a.put(DOMAIN, policy("b2", t, Duration.ofDays(7)));
    store().put(DOMAIN, policy("a9", t, Duration.ofDays(7)));
    assertThat(inspect.get("test:sts:example.com")).contains("\"b2\"");
    store().put(DOMAIN, policy("c1", t, Duration.ofDays(7)));
    assertThat(inspect.get("test:sts:example.com")).contains("\"c1\"");
  }

  @Test
  void racingWritersFromTwoConnectionsLeaveTheNewestPolicy() throws Exception {
    Instant t = now().minusSeconds(60); // every fetch time before now
    int n = 200;
    List<CachedPolicy> all = new ArrayList<>();
    for (int i = 0; i < 2 * n; i++) {
      all.add(policy("p" + i, t.plusMillis(i), Duration.ofDays(7)));
    }
    CachedPolicy newest = all.get(all.size() - 1);
    List<CachedPolicy> first = new ArrayList<>();
    List<CachedPolicy> second = new ArrayList<>();
    for (int i = 0; i < all.size(); i++) {
      (i % 2 == 0 ? first : second).add(all.get(i));
    }
    // Each writer stores its half in a random order, so that the newest entry is often followed
    // by older writes from the other connection: a read-then-write would let one win.
    Collections.shuffle(first, new Random(1));
    Collections.shuffle(second, new Random(2));
    RedisPolicyStore a = store();
    RedisPolicyStore b = store();
    CyclicBarrier start = new CyclicBarrier(2);
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      Future<?> fa = pool.submit(() -> writeAll(start, a, first));
      Future<?> fb = pool.submit(() -> writeAll(start, b, second));
      fa.get(60, TimeUnit.SECONDS);
      fb.get(60, TimeUnit.SECONDS);
    } finally {
      pool.shutdownNow();
    }
    assertThat(store().get(DOMAIN)).contains(newest);
    assertThat(a.get(DOMAIN)).contains(newest);
    assertThat(b.get(DOMAIN)).contains(newest);
  }

  private static Void writeAll(CyclicBarrier start, RedisPolicyStore s, List<CachedPolicy> entries)
      throws Exception {
    start.await(10, TimeUnit.SECONDS);
    for (CachedPolicy e : entries) {
      s.put(DOMAIN, e);
    }
    return null;
  }

  @Test
  void aKilledRedisDoesNotMakeALocalPolicyDisappear() {
    CachedPolicy entry = policy("k1", now().minusSeconds(2), Duration.ofDays(7));
    RedisPolicyStore s = store();
    s.put(DOMAIN, entry);
    redis.kill();

    assertThat(s.get(DOMAIN)).contains(entry);
    assertThat(s.peek(DOMAIN)).contains(entry);
    // Writes while Redis is down keep working locally and never throw.
    CachedPolicy next = policy("k2", now().minusSeconds(1), Duration.ofDays(7));
    s.put(DOMAIN, next);
    assertThat(s.get(DOMAIN)).contains(next);
    s.remove(DOMAIN);
    assertThat(s.get(DOMAIN)).isEmpty();
  }

  @Test
  void aFrozenRedisDelaysAReadByTheCommandTimeoutAtMost() {
    CachedPolicy entry = policy("f1", now().minusSeconds(2), Duration.ofDays(7));
    RedisPolicyStore s = store();
    s.put(DOMAIN, entry);
    redis.freeze(); // accepts the connection, answers nothing
    try {
      // Bounded: each read gives up after the command timeout (200 ms) and answers locally.
      // The 10 s limit only catches a hang; it is not a speed measure.
      assertTimeoutPreemptively(
          Duration.ofSeconds(10),
          () -> {
            for (int i = 0; i < 3; i++) {
              assertThat(s.get(DOMAIN)).contains(entry);
              assertThat(s.get(DomainName.of("unknown.example"))).isEmpty();
            }
            s.put(DOMAIN, policy("f2", now().minusSeconds(1), Duration.ofDays(7)));
          });
    } finally {
      redis.resume();
    }
  }

  @Test
  void afterARestartRedisIsRefilledFromTheLocalLayerAndWritesResume() throws Exception {
    CachedPolicy entry = policy("r1", now(), Duration.ofDays(7));
    RedisPolicyStore s = store();
    s.put(DOMAIN, entry);
    redis.kill();
    assertThat(s.get(DOMAIN)).contains(entry);
    redis.restart(); // empty: no persistence
    assertThat(inspect.exists("test:sts:example.com")).isZero();

    // Reads keep returning the local policy; once Lettuce has reconnected, a read that finds
    // Redis without it writes it back.
    await(
        "the policy is written back to Redis",
        () -> s.get(DOMAIN).equals(Optional.of(entry)) && has("test:sts:example.com"));
    assertThat(store().get(DOMAIN)).contains(entry);

    // And writes reach Redis again.
    DomainName other = DomainName.of("example.org");
    CachedPolicy otherEntry = policy("r2", now(), Duration.ofDays(7));
    s.put(other, otherEntry);
    assertThat(store().get(other)).contains(otherEntry);
  }

  private boolean has(String key) {
    try {
      return inspect.exists(key) == 1;
    } catch (RuntimeException e) {
      return false; // the inspector reconnects too
    }
  }

  @Test
  void aStoreBuiltWhileRedisIsDownConnectsWhenItComesUp() throws Exception {
    redis.kill();
    RedisPolicyStore s = store();
    CachedPolicy entry = policy("d1", now(), Duration.ofDays(7));
    s.put(DOMAIN, entry); // no Redis: local only, no exception
    assertThat(s.get(DOMAIN)).contains(entry);
    redis.restart();
    await(
        "the store connects and writes its policy",
        () -> s.get(DOMAIN).equals(Optional.of(entry)) && has("test:sts:example.com"));
  }

  @Test
  void anUnreadableValueIsIgnoredAndReplaced() {
    inspect.set("test:sts:example.com", "{not json");
    RedisPolicyStore s = store();
    assertThat(s.get(DOMAIN)).isEmpty();
    inspect.set("test:sts:example.com", "{\"format\":\"mailtls-mta-sts-policy\",\"version\":1}");
    assertThat(s.get(DOMAIN)).isEmpty();
    // A value for another domain under this key is not taken for this one's.
    CachedPolicy entry = policy("u1", now(), Duration.ofDays(7));
    store().put(DomainName.of("example.org"), entry);
    inspect.set("test:sts:example.com", inspect.get("test:sts:example.org"));
    assertThat(store().get(DOMAIN)).isEmpty();

    inspect.set("test:sts:example.com", "garbage");
    s.put(DOMAIN, entry);
    assertThat(store().get(DOMAIN)).contains(entry);
  }

  /**
   * A well-formed value whose times lie beyond what milliseconds since the epoch can hold is
   * unreadable too: ignored, never an exception out of {@code get} into planning.
   */
  @Test
  void aValueWithTimesOutOfRangeIsIgnored() {
    CachedPolicy entry = policy("r1", now(), Duration.ofDays(7));
    RedisPolicyStore s = store();
    s.put(DOMAIN, entry);
    String far = "\"+300000000-01-01T00:00:00Z\"";
    String value =
        inspect
            .get("test:sts:example.com")
            .replaceAll("\"fetched_at\"\\s*:\\s*\"[^\"]*\"", "\"fetched_at\":" + far)
            .replaceAll("\"expires_at\"\\s*:\\s*\"[^\"]*\"", "\"expires_at\":" + far)
            .replaceAll("\"max_age\"\\s*:\\s*\\d+", "\"max_age\":0");
    assertThat(value).contains("+300000000").contains("\"max_age\":0");
    inspect.set("test:sts:example.com", value);

    assertThat(store().get(DOMAIN)).isEmpty();
    assertThat(s.get(DOMAIN)).contains(entry);
  }

  @Test
  void removeLeavesANewerPolicyAnotherProcessStored() {
    Instant t = now().minusSeconds(10);
    CachedPolicy old = policy("o1", t, Duration.ofDays(7));
    CachedPolicy newer = policy("n1", t.plusSeconds(5), Duration.ofDays(7));
    RedisPolicyStore a = store();
    a.put(DOMAIN, old);
    store().put(DOMAIN, newer);
    a.remove(DOMAIN); // a removes what it knew, the older policy
    assertThat(store().get(DOMAIN)).contains(newer);

    RedisPolicyStore b = store();
    assertThat(b.get(DOMAIN)).contains(newer);
    b.remove(DOMAIN);
    assertThat(inspect.exists("test:sts:example.com")).isZero();
  }

  /**
   * A store whose local layer refused the entry (full of pinned {@code enforce} policies) answers
   * Redis's entry; the resolver then removes "what it read" (an expired entry, a fetch with {@code
   * max_age} 0). The bound used to be the clock's now, so a newer policy that another process wrote
   * between the read and the remove was deleted: the fleet lost a policy it had just learned (RFC
   * 8461 §5.1, §10.2). The bound is now the entry this store last answered.
   */
  @Test
  void removeAfterTheLocalLayerRefusedTheEntryLeavesANewerOneWrittenSince() {
    InMemoryPolicyStore full = new InMemoryPolicyStore(1);
    RedisPolicyStore a =
        RedisPolicyStore.newBuilder(redis.uri())
            .keyPrefix("test")
            .commandTimeout(TIMEOUT)
            .reconnectDelay(Duration.ofMillis(100))
            .local(full)
            .build();
    scratch.closeLater(a);
    DomainName pinnedDomain = DomainName.of("pinned.example");
    a.put(pinnedDomain, policy("p1", now(), Duration.ofDays(7)));
    assertThat(a.get(pinnedDomain)).isPresent(); // a use: pinned, the local layer is full

    Instant t = now().minusSeconds(10);
    CachedPolicy read = policy("o1", t, Duration.ofDays(7));
    CachedPolicy newer = policy("n1", t.plusSeconds(5), Duration.ofDays(7));
    RedisPolicyStore b = store();
    b.put(DOMAIN, read);
    assertThat(a.peek(DOMAIN)).contains(read);
    assertThat(full.peek(DOMAIN)).as("the local layer refused it").isEmpty();

    b.put(DOMAIN, newer); // another process, between a's read and its remove
    a.remove(DOMAIN);

    assertThat(store().get(DOMAIN))
        .as("a removed the entry it read, never a newer one written since")
        .contains(newer);
  }

  @Test
  void keysAreNamespacedByThePrefix() {
    CachedPolicy entry = policy("x1", now(), Duration.ofDays(7));
    store().put(DOMAIN, entry);
    RedisPolicyStore otherFleet =
        RedisPolicyStore.newBuilder(redis.uri())
            .keyPrefix("fleet2")
            .commandTimeout(TIMEOUT)
            .build();
    scratch.closeLater(otherFleet);
    assertThat(otherFleet.get(DOMAIN)).isEmpty();
    assertThat(otherFleet.key(DOMAIN)).isEqualTo("fleet2:sts:example.com");
  }
}
