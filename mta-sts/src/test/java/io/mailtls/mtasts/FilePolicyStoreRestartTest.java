package io.mailtls.mtasts;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mailtls.core.DomainName;
import io.mailtls.core.MtaStsMode;
import io.mailtls.core.MtaStsPolicy;
import io.mailtls.testkit.FakeClock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Uses across a restart (RFC 8461 §10.2): the file keeps each entry's last use ({@code last_used}),
 * so that the {@code enforce} policies senders used recently are pinned again as soon as the file
 * is loaded, before an attacker can flood the restarted store; and uses reach the file without a
 * write per lookup.
 */
class FilePolicyStoreRestartTest {

  private static final Instant T0 = FakeClock.START;
  private static final Duration RECENT_USE = InMemoryPolicyStore.DEFAULT_RECENT_USE;
  private static final int MAX = 20;

  private final FakeClock clock = new FakeClock();

  @TempDir Path dir;

  private Path file() {
    return dir.resolve("mta-sts-cache.json");
  }

  private FilePolicyStore open() {
    return open(MAX);
  }

  private FilePolicyStore open(int maxEntries) {
    return new FilePolicyStore(file(), maxEntries, RECENT_USE, clock);
  }

  private CachedPolicy fetchedNow(MtaStsMode mode, Duration maxAge) {
    return CachedPolicy.fetched(
        new MtaStsPolicy("1", mode, List.of("mx.example.test"), maxAge), clock.instant());
  }

  private static DomainName d(String name) {
    return DomainName.of(name);
  }

  /** The entry's {@code last_used} member as the file has it now; empty when absent. */
  private Optional<String> lastUsedInFile(DomainName domain) throws IOException {
    JsonNode entry =
        new ObjectMapper().readTree(file().toFile()).get("policies").get(domain.toString());
    assertThat(entry).as("%s in the file", domain).isNotNull();
    JsonNode lastUsed = entry.get("last_used");
    return lastUsed == null ? Optional.empty() : Optional.of(lastUsed.asText());
  }

  /**
   * The attack after a restart: the attacker's mail makes the sender fetch a policy for each of
   * many of their own domains and then use it (a second message to each), so each of their policies
   * is pinned and takes its room from the unpinned entries.
   */
  private void flood(FilePolicyStore store, int domains) {
    for (int i = 0; i < domains; i++) {
      DomainName attacker = d("s" + i + ".attacker.example");
      store.put(attacker, fetchedNow(MtaStsMode.ENFORCE, MtaStsPolicy.MAX_AGE_LIMIT));
      store.get(attacker);
    }
  }

  @Test
  void recentlyUsedEnforcePoliciesSurviveAFloodRightAfterARestartInMemoryAndInTheFile() {
    FilePolicyStore before = open();
    List<DomainName> real = new ArrayList<>();
    List<CachedPolicy> policies = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      real.add(d("recipient" + i + ".example"));
      policies.add(fetchedNow(MtaStsMode.ENFORCE, Duration.ofDays(30)));
      before.put(real.get(i), policies.get(i));
    }
    clock.advance(Duration.ofHours(1));
    for (DomainName r : real) {
      assertThat(before.get(r)).isPresent(); // mail to the real recipients
    }
    clock.advance(Duration.ofMinutes(5)); // the restart

    FilePolicyStore after = open();
    assertThat(after.pinned()).isEqualTo(real.size());
    flood(after, 3 * MAX);

    assertThat(after.size()).isEqualTo(MAX);
    FilePolicyStore onDisk = open(); // what the flood's writes left in the file
    assertThat(onDisk.size()).isEqualTo(MAX);
    for (int i = 0; i < real.size(); i++) {
      assertThat(after.peek(real.get(i))).as("%s in memory", real.get(i)).contains(policies.get(i));
      assertThat(onDisk.peek(real.get(i)))
          .as("%s in the file", real.get(i))
          .contains(policies.get(i));
    }
  }

  @Test
  void onlyAUseWithinTheRecentUsePeriodBeforeTheRestartPins() {
    FilePolicyStore before = open();
    DomainName stale = d("stale.example");
    DomainName recent = d("recent.example");
    before.put(stale, fetchedNow(MtaStsMode.ENFORCE, Duration.ofDays(60)));
    before.put(recent, fetchedNow(MtaStsMode.ENFORCE, Duration.ofDays(60)));
    before.get(stale);
    clock.advance(Duration.ofMinutes(2));
    before.get(recent);
    // The restart: stale was last used a minute more than the recent-use period ago, recent a
    // minute less.
    clock.advance(RECENT_USE.minusMinutes(1));

    FilePolicyStore after = open();

    assertThat(after.size()).isEqualTo(2);
    assertThat(after.pinned()).isEqualTo(1);
    flood(after, 3 * MAX);
    assertThat(after.peek(recent)).isPresent();
    assertThat(after.peek(stale)).as("unpinned, so the flood may evict it").isEmpty();
  }

  @Test
  void aFileWithoutLastUsedStillLoadsAndItsEntriesAreNotPinned() throws IOException {
    // The format as written before last_used existed (and by a writer with nothing to say: null),
    // beside an entry used an hour before now.
    String policy =
        "\"id\":\"1\",\"mode\":\"enforce\",\"mx\":[\"mx.example.test\"],"
            + "\"max_age\":2592000,\"fetched_at\":\"2025-03-01T10:00:00Z\","
            + "\"expires_at\":\"2025-03-31T10:00:00Z\"";
    Files.writeString(
        file(),
        "{\"format\":\"mailtls-mta-sts-policy-cache\",\"version\":1,"
            + "\"policies\":{"
            + "\"legacy.example\":{"
            + policy
            + "},"
            + "\"null.example\":{"
            + policy
            + ",\"last_used\":null},"
            + "\"used.example\":{"
            + policy
            + ",\"last_used\":\"2025-03-01T11:00:00Z\"}}}");

    FilePolicyStore store = open();

    assertThat(store.loadWarnings()).isEmpty();
    assertThat(store.size()).isEqualTo(3);
    assertThat(store.pinned()).isEqualTo(1);
    flood(store, 3 * MAX);
    assertThat(store.peek(d("used.example"))).isPresent();
    assertThat(store.peek(d("legacy.example"))).isEmpty();
    assertThat(store.peek(d("null.example"))).isEmpty();
  }

  @Test
  void aMalformedLastUsedIsIgnoredWithAWarningAndTheEntryLoadsAsNeverUsed() throws IOException {
    String policy =
        "\"id\":\"1\",\"mode\":\"enforce\",\"mx\":[\"mx.example.test\"],"
            + "\"max_age\":2592000,\"fetched_at\":\"2025-03-01T10:00:00Z\","
            + "\"expires_at\":\"2025-03-31T10:00:00Z\"";
    Files.writeString(
        file(),
        "{\"format\":\"mailtls-mta-sts-policy-cache\",\"version\":1,"
            + "\"policies\":{"
            + "\"text.example\":{"
            + policy
            + ",\"last_used\":\"an hour ago\"},"
            + "\"number.example\":{"
            + policy
            + ",\"last_used\":1740826800},"
            + "\"used.example\":{"
            + policy
            + ",\"last_used\":\"2025-03-01T11:00:00Z\"}}}");

    FilePolicyStore store = open();

    assertThat(store.size()).isEqualTo(3);
    assertThat(store.pinned()).isEqualTo(1);
    assertThat(store.loadWarnings())
        .hasSize(2)
        .anySatisfy(w -> assertThat(w).contains("text.example", "last_used", "an hour ago"))
        .anySatisfy(w -> assertThat(w).contains("number.example", "last_used"))
        .allSatisfy(w -> assertThat(w).contains(file().toString(), "never used"));
    // The next write drops the bad values and keeps the good one.
    store.put(d("other.example"), fetchedNow(MtaStsMode.NONE, Duration.ofDays(1)));
    assertThat(lastUsedInFile(d("text.example"))).isEmpty();
    assertThat(lastUsedInFile(d("number.example"))).isEmpty();
    assertThat(lastUsedInFile(d("used.example"))).contains("2025-03-01T11:00:00Z");
  }

  @Test
  void aLastUseAfterTheLoadCountsAsAUseAtTheLoad() throws IOException {
    // The clock went back across the restart (it was ahead before, and was corrected).
    FilePolicyStore before = open();
    before.put(d("a.example"), fetchedNow(MtaStsMode.ENFORCE, Duration.ofDays(30)));
    clock.advance(Duration.ofDays(3));
    before.get(d("a.example"));
    clock.set(T0.plus(Duration.ofDays(1)));

    FilePolicyStore after = open();

    assertThat(after.pinned()).isEqualTo(1);
    after.put(d("b.example"), fetchedNow(MtaStsMode.NONE, Duration.ofDays(1)));
    assertThat(lastUsedInFile(d("a.example"))).contains(clock.instant().toString());
    clock.advance(RECENT_USE);
    after.put(d("c.example"), fetchedNow(MtaStsMode.NONE, Duration.ofDays(1)));
    assertThat(after.pinned()).isZero();
  }

  /**
   * The clock ran ahead when the policies were fetched and was corrected before the restart (or the
   * file was tampered with): a {@code fetched_at} after the load counts as a fetch at the load, as
   * a later {@code last_used} counts as a use at the load. The policy is kept (dropping an {@code
   * enforce} policy is a downgrade, RFC 8461 §10.2) but expires no later than {@code max_age} from
   * the load (§5.1), and the corrected times are written at once, so that a later restart does not
   * count the fetch at its own time again.
   */
  @Test
  void aFetchAfterTheLoadCountsAsAFetchAtTheLoadAndExpiresWithinMaxAgeOfIt() throws IOException {
    Duration maxAge = Duration.ofDays(7);
    MtaStsPolicy policy = new MtaStsPolicy("1", MtaStsMode.ENFORCE, List.of("mx.example"), maxAge);
    clock.set(T0.plus(Duration.ofDays(30)));
    FilePolicyStore before = open();
    before.put(d("ahead.example"), fetchedNow(MtaStsMode.ENFORCE, maxAge));
    before.get(d("ahead.example"));
    // Expires before max_age after the load: its own, earlier expiry stays.
    before.put(
        d("short.example"),
        new CachedPolicy(policy, T0.plus(Duration.ofHours(1)), T0.plus(Duration.ofHours(3))));
    CachedPolicy past =
        new CachedPolicy(policy, T0.minus(Duration.ofDays(1)), T0.plus(Duration.ofDays(6)));
    before.put(d("past.example"), past);
    clock.set(T0);

    FilePolicyStore after = open();

    assertThat(after.peek(d("ahead.example")))
        .contains(
            new CachedPolicy(
                new MtaStsPolicy("1", MtaStsMode.ENFORCE, List.of("mx.example.test"), maxAge),
                T0,
                T0.plus(maxAge)));
    assertThat(after.peek(d("short.example")))
        .contains(new CachedPolicy(policy, T0, T0.plus(Duration.ofHours(3))));
    assertThat(after.peek(d("past.example"))).contains(past); // fetched before now: as it was
    assertThat(after.pinned()).isEqualTo(1); // its use (also ahead) counts at the load
    assertThat(after.loadWarnings())
        .hasSize(2)
        .anySatisfy(w -> assertThat(w).contains("\"ahead.example\"", "fetched_at"))
        .anySatisfy(w -> assertThat(w).contains("\"short.example\"", "fetched_at"));

    clock.advance(maxAge.minusDays(1));
    FilePolicyStore again = open();

    assertThat(again.loadWarnings()).isEmpty();
    CachedPolicy ahead = again.peek(d("ahead.example")).orElseThrow();
    assertThat(ahead.fetchedAt()).isEqualTo(T0);
    assertThat(ahead.expiresAt()).isEqualTo(T0.plus(maxAge));
    assertThat(ahead.isFresh(clock.instant().plus(Duration.ofDays(1)))).isFalse();
  }

  @Test
  void theFirstUseOfAnEnforcePolicyIsInTheFileWhenGetReturns() throws IOException {
    FilePolicyStore store = open();
    store.put(d("a.example"), fetchedNow(MtaStsMode.ENFORCE, Duration.ofDays(30)));
    assertThat(lastUsedInFile(d("a.example"))).isEmpty();
    store.peek(d("a.example"));
    assertThat(lastUsedInFile(d("a.example"))).isEmpty();
    clock.advance(Duration.ofMinutes(1));

    store.get(d("a.example"));

    assertThat(lastUsedInFile(d("a.example"))).contains("2025-03-01T12:01:00Z");
  }

  @Test
  void laterUsesAreWrittenWithTheNextWriteOrWhenTheFileLagsBehindByMoreThanTheAllowedLag()
      throws IOException {
    FilePolicyStore store = open();
    Duration lag = store.maxUseLag();
    assertThat(lag).isEqualTo(Duration.ofDays(1)); // a seventh of the default week
    store.put(d("a.example"), fetchedNow(MtaStsMode.ENFORCE, Duration.ofDays(30)));
    store.get(d("a.example"));
    byte[] afterFirstUse = Files.readAllBytes(file());

    // Lookups at a high rate, for less than the lag: no write at all.
    for (int i = 0; i < 10_000; i++) {
      clock.advance(Duration.ofMillis(lag.toMillis() / 10_001));
      store.get(d("a.example"));
    }
    assertThat(Files.readAllBytes(file())).isEqualTo(afterFirstUse);
    Instant lastLookup = clock.instant();

    // A write that happens anyway (a fetch) takes every use along.
    store.put(d("b.example"), fetchedNow(MtaStsMode.TESTING, Duration.ofDays(30)));
    assertThat(lastUsedInFile(d("a.example"))).contains(lastLookup.toString());

    // Without other writes, a use is written once the file lags behind by more than the lag.
    clock.advance(lag);
    store.get(d("a.example"));
    assertThat(lastUsedInFile(d("a.example"))).contains(lastLookup.toString());
    clock.advance(Duration.ofMillis(1));
    store.get(d("a.example"));
    assertThat(lastUsedInFile(d("a.example"))).contains(clock.instant().toString());
  }

  @Test
  void theUseOfATestingPolicyIsWrittenTooSoThatItsEnforceSuccessorStaysPinnedAfterARestart()
      throws IOException {
    // A testing policy is not pinned, but its domain keeps its use when a refresh (not a use)
    // brings an enforce policy, which is then pinned: after a restart as in memory.
    FilePolicyStore before = open();
    before.put(d("a.example"), fetchedNow(MtaStsMode.TESTING, Duration.ofDays(30)));
    clock.advance(Duration.ofMinutes(1));
    before.get(d("a.example"));
    assertThat(lastUsedInFile(d("a.example"))).contains("2025-03-01T12:01:00Z");
    clock.advance(Duration.ofMinutes(1)); // the restart

    FilePolicyStore after = open();
    assertThat(after.pinned()).isZero();
    after.put(d("a.example"), fetchedNow(MtaStsMode.ENFORCE, Duration.ofDays(30)));

    assertThat(after.pinned()).isEqualTo(1);
  }

  @Test
  void withARecentUsePeriodOfZeroUsesOnlyTravelWithOtherWrites() throws IOException {
    FilePolicyStore store = new FilePolicyStore(file(), MAX, Duration.ZERO, clock);
    store.put(d("a.example"), fetchedNow(MtaStsMode.ENFORCE, Duration.ofDays(30)));
    byte[] afterPut = Files.readAllBytes(file());
    clock.advance(Duration.ofMinutes(1));

    store.get(d("a.example"));

    assertThat(Files.readAllBytes(file())).isEqualTo(afterPut);
    store.put(d("b.example"), fetchedNow(MtaStsMode.NONE, Duration.ofDays(1)));
    assertThat(lastUsedInFile(d("a.example"))).contains("2025-03-01T12:01:00Z");
    assertThat(store.pinned()).isZero();
  }

  @Test
  void overTheBoundTheEnforcePoliciesPinnedByTheirRestoredUseAreLoadedFirst() {
    FilePolicyStore big = open(20);
    for (int i = 0; i < 7; i++) { // never used, and living longer than the used ones
      big.put(d("n" + i + ".example"), fetchedNow(MtaStsMode.ENFORCE, Duration.ofDays(10 + i)));
    }
    big.put(d("used-first.example"), fetchedNow(MtaStsMode.ENFORCE, Duration.ofDays(3)));
    big.put(d("used-last.example"), fetchedNow(MtaStsMode.ENFORCE, Duration.ofDays(4)));
    big.put(d("expired.example"), fetchedNow(MtaStsMode.ENFORCE, Duration.ofDays(1)));
    big.put(d("testing.example"), fetchedNow(MtaStsMode.TESTING, Duration.ofDays(300)));
    clock.advance(Duration.ofHours(1));
    big.get(d("used-first.example"));
    big.get(d("expired.example"));
    big.get(d("testing.example"));
    clock.advance(Duration.ofHours(1));
    big.get(d("used-last.example"));
    clock.advance(Duration.ofDays(2)); // the restart, to a smaller store

    FilePolicyStore three = open(3);
    FilePolicyStore one = open(1);

    // Pinned by their use (and still fresh: an expired policy protects nothing), the most recently
    // used first; then the most protective of the rest, as when nothing was used.
    assertThat(three.snapshot())
        .containsOnlyKeys(d("used-last.example"), d("used-first.example"), d("n6.example"));
    assertThat(three.pinned()).isEqualTo(2);
    assertThat(one.snapshot()).containsOnlyKeys(d("used-last.example"));
  }

  @Test
  void twoSpellingsOfOneDomainKeepTheLaterFetchAndTheLaterUse() throws IOException {
    String policy = "\"mode\":\"enforce\",\"mx\":[\"mx.example.test\"],\"max_age\":2592000";
    Files.writeString(
        file(),
        "{\"format\":\"mailtls-mta-sts-policy-cache\",\"version\":1,"
            + "\"policies\":{"
            + "\"A.Example.\":{\"id\":\"old\","
            + policy
            + ",\"fetched_at\":\"2025-02-01T00:00:00Z\","
            + "\"expires_at\":\"2025-03-03T00:00:00Z\",\"last_used\":\"2025-03-01T11:00:00Z\"},"
            + "\"a.example\":{\"id\":\"new\","
            + policy
            + ",\"fetched_at\":\"2025-02-02T00:00:00Z\","
            + "\"expires_at\":\"2025-03-04T00:00:00Z\",\"last_used\":\"2025-02-03T00:00:00Z\"}}}");

    FilePolicyStore store = open();

    assertThat(store.peek(d("a.example")).orElseThrow().policy().id()).isEqualTo("new");
    assertThat(store.snapshot().get(d("a.example")).lastUse())
        .contains(Instant.parse("2025-03-01T11:00:00Z"));
    assertThat(store.pinned()).isEqualTo(1);
  }
}
