package io.mailtls.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.lettuce.core.api.sync.RedisCommands;
import io.mailtls.core.DomainName;
import io.mailtls.core.MtaStsMode;
import io.mailtls.core.MtaStsPolicy;
import io.mailtls.tlsrpt.AppliedPolicy;
import io.mailtls.tlsrpt.FailureDetail;
import io.mailtls.tlsrpt.PolicyCounts;
import java.io.IOException;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@link RedisAggregateStore} against a real redis-server of its own. */
class RedisAggregateStoreTest {

  private static final LocalDate DAY = LocalDate.of(2026, 12, 5);
  private static final AppliedPolicy STS =
      AppliedPolicy.sts(
          DomainName.of("example.com"),
          new MtaStsPolicy(
              "p1",
              MtaStsMode.ENFORCE,
              List.of("mx1.example.com", "*.example.net"),
              Duration.ofDays(7)));
  private static final AppliedPolicy NONE = AppliedPolicy.noPolicy(DomainName.of("example.org"));
  private static final FailureDetail EXPIRED =
      new FailureDetail(
          "certificate-expired",
          Optional.of("192.0.2.1"),
          Optional.of("mx1.example.com"),
          Optional.empty(),
          Optional.of("198.51.100.7"),
          Optional.of("X509_V_ERR_CERT_HAS_EXPIRED"),
          Optional.empty());
  private static final FailureDetail NO_STARTTLS =
      new FailureDetail(
          "starttls-not-supported",
          Optional.empty(),
          Optional.of("mx1.example.com"),
          Optional.empty(),
          Optional.empty(),
          Optional.empty(),
          Optional.of("250 no STARTTLS"));

  @RegisterExtension final RedisScratch scratch = new RedisScratch();
  private final RedisServerProcess redis = scratch.redis;
  private final RedisCommands<String, String> inspect = scratch.inspect;

  private RedisAggregateStore store() {
    return scratch.aggregateStore(Duration.ofSeconds(5));
  }

  @Test
  void mergedCountsAddUpAndReadBack() throws IOException {
    RedisAggregateStore s = store();
    s.merge(
        DAY,
        Map.of(
            STS,
            new PolicyCounts(3, 2, Map.of(EXPIRED, 1L, NO_STARTTLS, 1L)),
            NONE,
            PolicyCounts.success()));
    store().merge(DAY, Map.of(STS, PolicyCounts.failure(EXPIRED)));

    assertThat(s.read(DAY))
        .containsOnly(
            Map.entry(STS, new PolicyCounts(3, 3, Map.of(EXPIRED, 2L, NO_STARTTLS, 1L))),
            Map.entry(NONE, new PolicyCounts(1, 0, Map.of())));
    assertThat(s.days()).containsExactly(DAY);
    assertThat(s.read(DAY.plusDays(1))).isEmpty();
    long ttl = inspect.ttl("test:tlsrpt:v1:day:2026-12-05");
    assertThat(ttl).isBetween(Duration.ofDays(7).toSeconds() - 60, Duration.ofDays(7).toSeconds());

    s.discard(DAY);
    assertThat(s.read(DAY)).isEmpty();
    assertThat(s.days()).isEmpty();
  }

  /**
   * A counter field that holds no count (another tool, an altered value) made {@code HINCRBY} fail
   * inside the merge script after it had set the batch's marker, and perhaps added the counters
   * before it: Redis does not undo a script's writes when it fails. The batch waited as if Redis
   * were away, and its next send found the marker and counted it merged, with some or all of its
   * counts missing and no loss reported; the field stayed unreadable, so the day could not be read
   * for its reports. The script now checks every field before it writes anything and replaces one
   * that holds no count of the size mailtls writes, as the downgrade memory does.
   */
  @Test
  void aFieldHoldingNoCountIsReplacedAndTheMergeIsNeitherSplitNorLost() throws IOException {
    RedisAggregateStore s = store();
    s.merge(DAY, Map.of(NONE, PolicyCounts.success()));
    String key = "test:tlsrpt:v1:day:2026-12-05";
    List<String> fields = inspect.hkeys(key);
    assertThat(fields).hasSize(1);
    inspect.hset(key, fields.get(0), "not a count");

    s.merge(DAY, Map.of(STS, PolicyCounts.failure(EXPIRED), NONE, PolicyCounts.success()));

    assertThat(s.pendingMerges()).as("batches waiting after a merge Redis answered").isZero();
    assertThat(s.lostMerges()).isZero();
    assertThat(s.read(DAY))
        .containsOnly(
            Map.entry(STS, new PolicyCounts(0, 1, Map.of(EXPIRED, 1L))),
            Map.entry(NONE, new PolicyCounts(1, 0, Map.of())));
  }

  /**
   * A field no merge touches that holds no count, or a field that names no counter (another tool,
   * an altered value), made every read of the day throw, with the raw value in the message: the
   * reports of every policy domain of the day were held back until the day expired. A report whose
   * counts are wrong is worse than none (RFC 8460 §4.4: the counts are the sessions), so the policy
   * domain whose counter cannot be read is left out of the answer, and a field that names no
   * counter is skipped; both logged by key, never by value.
   */
  @Test
  void anUnreadableCounterLeavesOutItsPolicyDomainOnlyAndAFieldNamingNoCounterIsSkipped()
      throws IOException {
    RedisAggregateStore s = store();
    s.merge(DAY, Map.of(STS, PolicyCounts.failure(EXPIRED), NONE, PolicyCounts.success()));
    String key = "test:tlsrpt:v1:day:2026-12-05";
    String noneSuccess =
        inspect.hkeys(key).stream()
            .filter(f -> f.startsWith("[\"s\"") && f.contains("example.org"))
            .findFirst()
            .orElseThrow();
    // NONE's failure counter, which no merge of this day touches, holding no count.
    inspect.hset(key, "[\"f\"" + noneSuccess.substring(4), "secret-value-1");
    inspect.hset(key, "not a counter", "7");

    Map.Entry<AppliedPolicy, PolicyCounts> sts =
        Map.entry(STS, new PolicyCounts(0, 1, Map.of(EXPIRED, 1L)));
    assertThat(s.read(DAY)).containsOnly(sts);
    assertThat(s.readForReport(DAY)).containsOnly(sts);
  }

  /**
   * Counts another process merges while the day's report is being written (a batch it kept while
   * Redis was away, sent at last) would miss the report that already read the day, and the discard
   * would delete them unseen. The read for the report closes the day: such a merge is refused, and
   * its loss reported.
   */
  @Test
  void aMergeAfterTheReadForTheReportIsRefusedAndReportedNeverDeletedUnseen() throws IOException {
    RedisAggregateStore reporter = store();
    RedisAggregateStore sender = store();
    sender.merge(DAY, Map.of(NONE, PolicyCounts.success()));

    assertThat(reporter.readForReport(DAY))
        .containsOnly(Map.entry(NONE, new PolicyCounts(1, 0, Map.of())));
    assertThatThrownBy(() -> sender.merge(DAY, Map.of(STS, PolicyCounts.failure(EXPIRED))))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("2026-12-05");
    assertThat(sender.lostMerges()).isEqualTo(1);
    assertThat(reporter.read(DAY)).doesNotContainKey(STS);

    // The next day is open as before.
    sender.merge(DAY.plusDays(1), Map.of(STS, PolicyCounts.failure(EXPIRED)));
    assertThat(reporter.read(DAY.plusDays(1))).containsKey(STS);
  }

  @Test
  void aDayWhoseCountsExpiredIsNoLongerListed() throws IOException {
    RedisAggregateStore s = store();
    s.merge(DAY, Map.of(NONE, PolicyCounts.success()));
    s.merge(DAY.plusDays(1), Map.of(NONE, PolicyCounts.success()));
    inspect.del("test:tlsrpt:v1:day:2026-12-05"); // as its expiry would
    assertThat(s.days()).containsExactly(DAY.plusDays(1));
    assertThat(inspect.zrange("test:tlsrpt:v1:days", 0, -1)).containsExactly("2026-12-06");
  }

  @Test
  void countsFromThreeConnectionsMergingAtOnceAddUpExactly() throws Exception {
    int merges = 150;
    List<RedisAggregateStore> senders = List.of(store(), store(), store());
    CyclicBarrier start = new CyclicBarrier(senders.size());
    ExecutorService pool = Executors.newFixedThreadPool(senders.size());
    try {
      List<Future<?>> done = new ArrayList<>();
      for (RedisAggregateStore s : senders) {
        done.add(
            pool.submit(
                () -> {
                  start.await(10, TimeUnit.SECONDS);
                  for (int i = 0; i < merges; i++) {
                    s.merge(
                        DAY,
                        Map.of(
                            STS,
                            new PolicyCounts(2, 1, Map.of(EXPIRED, 1L)),
                            NONE,
                            PolicyCounts.success()));
                  }
                  return null;
                }));
      }
      for (Future<?> f : done) {
        f.get(120, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    long n = (long) merges * senders.size();
    assertThat(store().read(DAY))
        .containsOnly(
            Map.entry(STS, new PolicyCounts(2 * n, n, Map.of(EXPIRED, n))),
            Map.entry(NONE, new PolicyCounts(n, 0, Map.of())));
  }

  @Test
  void withRedisGoneAMergeFailsWithinItsBoundAndKeepsNothing() throws IOException {
    RedisAggregateStore s =
        RedisAggregateStore.newBuilder(redis.uri())
            .keyPrefix("test")
            .commandTimeout(Duration.ofMillis(200))
            .maxPendingMerges(0) // nothing kept: each merge Redis does not take is lost and thrown
            .build();
    scratch.closeLater(s);
    s.merge(DAY, Map.of(NONE, PolicyCounts.success()));
    redis.freeze();
    try {
      // The 10 s limit only catches a hang; the bound is the 200 ms command timeout.
      assertTimeoutPreemptively(
          Duration.ofSeconds(10),
          () ->
              assertThatThrownBy(() -> s.merge(DAY, Map.of(NONE, PolicyCounts.success())))
                  .isInstanceOf(IOException.class)
                  .hasMessageContaining("not merged"));
    } finally {
      redis.resume();
    }
    redis.kill();
    assertThatThrownBy(() -> s.merge(DAY, Map.of(NONE, PolicyCounts.success())))
        .isInstanceOf(IOException.class);
    assertThatThrownBy(() -> s.read(DAY)).isInstanceOf(IOException.class);
    assertThatThrownBy(s::days).isInstanceOf(IOException.class);
  }
}
