package io.mailtls.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.sync.RedisCommands;
import io.mailtls.core.DomainName;
import io.mailtls.tlsrpt.AppliedPolicy;
import io.mailtls.tlsrpt.PolicyCounts;
import java.io.IOException;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Every read of the TLS-RPT counts from Redis is bounded in size: a day's hash or the days set that
 * another tool (or a flood of distinct failure details) filled beyond the bound is refused with a
 * typed error, never read whole into the heap nor answered in part as if complete.
 */
class RedisAggregateStoreBoundsTest {

  private static final LocalDate DAY = LocalDate.of(2026, 12, 5);
  private static final String DAY_KEY = "test:tlsrpt:v1:day:2026-12-05";
  private static final AppliedPolicy NONE = AppliedPolicy.noPolicy(DomainName.of("example.org"));

  @RegisterExtension final RedisScratch scratch = new RedisScratch();
  private final RedisServerProcess redis = scratch.redis;
  private final RedisCommands<String, String> inspect = scratch.inspect;

  private RedisAggregateStore store() {
    return scratch.aggregateStore(Duration.ofSeconds(10));
  }

  /**
   * Fills the day's hash, in Redis itself, with {@code n} readable counters of distinct domains.
   */
  private void fillDay(int n) {
    Long written =
        inspect.eval(
            "for i = 1, tonumber(ARGV[1]) do\n"
                + "  redis.call('HSET', KEYS[1], '[\"s\",{\"policy-type\":\"no-policy-found\","
                + "\"policy-string\":[],\"policy-domain\":\"d' .. i .. '.example\","
                + "\"mx-host\":[]}]', '1')\n"
                + "end\n"
                + "return redis.call('HLEN', KEYS[1])\n",
            ScriptOutputType.INTEGER,
            new String[] {DAY_KEY},
            Integer.toString(n));
    assertThat(written).isGreaterThanOrEqualTo(n);
  }

  @Test
  void aDayHashOverTheDefaultBoundIsRefusedWithATypedErrorNeverReadWhole() throws IOException {
    RedisAggregateStore s = store();
    s.merge(DAY, Map.of(NONE, PolicyCounts.success()));
    fillDay(100_001); // with the merged field: 100,002 fields

    assertThatThrownBy(() -> s.read(DAY))
        .isInstanceOf(RedisAggregateStore.TooLargeException.class)
        .hasMessageContaining(DAY_KEY)
        .hasMessageContaining("100000");
    assertThatThrownBy(() -> s.readForReport(DAY))
        .isInstanceOf(RedisAggregateStore.TooLargeException.class);
    // Refused, not read: the day is not marked reported, and merges go on.
    assertThat(inspect.exists("test:tlsrpt:v1:reported:2026-12-05")).isZero();
    s.merge(DAY, Map.of(NONE, PolicyCounts.success()));
    assertThat(s.lostMerges()).isZero();
  }

  @Test
  void aDayHashOverTheOctetBoundIsRefusedAndOneWithinBothBoundsIsRead() throws IOException {
    RedisAggregateStore s =
        RedisAggregateStore.newBuilder(redis.uri())
            .keyPrefix("test")
            .commandTimeout(Duration.ofSeconds(10))
            .maxDayFields(10)
            .maxDayOctets(64 * 1024)
            .build();
    scratch.closeLater(s);
    s.merge(DAY, Map.of(NONE, PolicyCounts.success()));
    assertThat(s.read(DAY)).containsOnly(Map.entry(NONE, PolicyCounts.success()));

    inspect.hset(DAY_KEY, "x".repeat(100_000), "1"); // one field, larger than the bound
    assertThatThrownBy(() -> s.readForReport(DAY))
        .isInstanceOf(RedisAggregateStore.TooLargeException.class)
        .hasMessageContaining("65536 octets");

    inspect.hdel(DAY_KEY, "x".repeat(100_000));
    fillDay(10); // with the merged field: 11 fields
    assertThatThrownBy(() -> s.read(DAY))
        .isInstanceOf(RedisAggregateStore.TooLargeException.class)
        .hasMessageContaining("holds 11 fields");
  }

  @Test
  void aDaysSetOverTheBoundIsRefusedAndMembersWithoutAHashArePrunedFromCallToCall()
      throws IOException {
    RedisAggregateStore s = store();
    int n = RedisAggregateStore.MAX_DAYS + 1;
    List<String> days = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      days.add(LocalDate.ofEpochDay(i).toString());
    }
    String script =
        "for i, d in ipairs(ARGV) do\n"
            + "  redis.call('ZADD', KEYS[1], i, d)\n"
            + "  if KEYS[2] ~= '' then redis.call('HSET', KEYS[2] .. d, 'x', '1') end\n"
            + "end\n"
            + "return redis.call('ZCARD', KEYS[1])\n";
    Long members =
        inspect.eval(
            script,
            ScriptOutputType.INTEGER,
            new String[] {"test:tlsrpt:v1:days", "test:tlsrpt:v1:day:"},
            days.toArray(String[]::new));
    assertThat(members).isEqualTo(n);

    assertThatThrownBy(s::days)
        .isInstanceOf(RedisAggregateStore.TooLargeException.class)
        .hasMessageContaining("test:tlsrpt:v1:days")
        .hasMessageContaining(Integer.toString(n));

    // Members whose hash is gone are forgotten, at most MAX_DAYS per call, so the set shrinks.
    inspect.eval(
        "for i, d in ipairs(ARGV) do redis.call('DEL', KEYS[1] .. d) end\nreturn 0\n",
        ScriptOutputType.INTEGER,
        new String[] {"test:tlsrpt:v1:day:"},
        days.toArray(String[]::new));
    s.merge(DAY, Map.of(NONE, PolicyCounts.success()));
    assertThatThrownBy(s::days).isInstanceOf(RedisAggregateStore.TooLargeException.class);
    assertThat(inspect.zcard("test:tlsrpt:v1:days")).isEqualTo(2); // the newest junk, and DAY
    assertThat(s.days()).containsExactly(DAY);
  }
}
