package io.mailtls.mtasts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailtls.core.DomainName;
import io.mailtls.core.MtaStsMode;
import io.mailtls.core.MtaStsPolicy;
import io.mailtls.testkit.FakeClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The bounded in-memory store: recently used enforce policies are pinned, the rest is W-TinyLFU
 * (RFC 8461 §10.2). {@link PolicyCacheFloodTest} floods it.
 */
class InMemoryPolicyStoreTest {

  private static final Instant T0 = FakeClock.START;
  private static final Duration RECENT_USE = Duration.ofHours(1);

  private final FakeClock clock = new FakeClock();

  private InMemoryPolicyStore store(int maxEntries) {
    return new InMemoryPolicyStore(maxEntries, RECENT_USE, clock);
  }

  static CachedPolicy entry(String id, Duration maxAge) {
    return entry(id, MtaStsMode.ENFORCE, maxAge);
  }

  static CachedPolicy entry(String id, MtaStsMode mode, Duration maxAge) {
    return CachedPolicy.fetched(new MtaStsPolicy(id, mode, List.of("mx.example.test"), maxAge), T0);
  }

  private static DomainName d(String name) {
    return DomainName.of(name);
  }

  @Test
  void putGetRemove() {
    InMemoryPolicyStore store = new InMemoryPolicyStore();
    CachedPolicy e = entry("1", Duration.ofDays(1));

    store.put(d("Example.TEST."), e);

    assertThat(store.get(d("example.test"))).contains(e);
    store.remove(d("example.test"));
    assertThat(store.get(d("example.test"))).isEmpty();
    assertThat(store.size()).isZero();
    assertThat(store.maxEntries()).isEqualTo(InMemoryPolicyStore.DEFAULT_MAX_ENTRIES);
  }

  @Test
  void aReadEnforcePolicyIsPinnedAndNeverEvictedForOnesOnlyFetched() {
    InMemoryPolicyStore store = store(3);
    store.put(d("used.test"), entry("1", Duration.ofHours(1)));
    assertThat(store.get(d("used.test"))).isPresent();

    for (int i = 0; i < 100; i++) {
      store.put(d("flood" + i + ".test"), entry("1", MtaStsPolicy.MAX_AGE_LIMIT));
      assertThat(store.peek(d("used.test"))).as("after %d", i).isPresent();
      assertThat(store.size()).isLessThanOrEqualTo(3);
    }
    assertThat(store.pinned()).isEqualTo(1);
  }

  @Test
  void onlyGetIsAUsePeekAndPutAreNot() {
    InMemoryPolicyStore store = store(3);
    store.put(d("a.test"), entry("1", Duration.ofDays(1)));
    store.put(d("a.test"), entry("2", Duration.ofDays(1)));
    assertThat(store.peek(d("a.test"))).isPresent();
    assertThat(store.pinned()).isZero();

    assertThat(store.get(d("a.test"))).isPresent();
    assertThat(store.pinned()).isEqualTo(1);
    assertThat(store.get(d("absent.test"))).isEmpty();
    assertThat(store.pinned()).isEqualTo(1);
  }

  @ParameterizedTest
  @EnumSource(
      value = MtaStsMode.class,
      names = {"TESTING", "NONE"})
  void onlyEnforcePoliciesArePinned(MtaStsMode mode) {
    // Without a cached testing or none policy the sender delivers as with one (RFC 8461 §5):
    // their loss costs a fetch, never protection.
    InMemoryPolicyStore store = store(3);
    store.put(d("a.test"), entry("1", mode, Duration.ofDays(1)));

    assertThat(store.get(d("a.test"))).isPresent();

    assertThat(store.pinned()).isZero();
  }

  @Test
  void aPinLapsesAfterTheRecentUsePeriodWithoutARead() {
    InMemoryPolicyStore store = store(3);
    store.put(d("a.test"), entry("1", Duration.ofDays(1)));
    store.get(d("a.test"));
    clock.advance(RECENT_USE.minusMinutes(30));
    store.get(d("a.test")); // read again: pinned until RECENT_USE after this read
    clock.advance(RECENT_USE.minusMinutes(1));
    store.put(d("b.test"), entry("1", Duration.ofDays(1)));
    assertThat(store.pinned()).isEqualTo(1);

    clock.advance(Duration.ofMinutes(1));
    store.put(d("c.test"), entry("1", Duration.ofDays(1)));

    assertThat(store.pinned()).isZero();
    assertThat(store.size()).isEqualTo(3); // unpinning evicts nothing by itself
    assertThat(store.peek(d("a.test"))).isPresent();
  }

  @Test
  void whenEveryEntryIsPinnedANewPolicyIsRefusedAndTheBoundHolds() {
    InMemoryPolicyStore store = store(3);
    for (String name : List.of("a.test", "b.test", "c.test")) {
      store.put(d(name), entry("1", Duration.ofDays(1)));
      store.get(d(name));
    }

    store.put(d("new.test"), entry("1", MtaStsPolicy.MAX_AGE_LIMIT));

    assertThat(store.peek(d("new.test"))).isEmpty();
    assertThat(store.size()).isEqualTo(3);
    assertThat(store.pinned()).isEqualTo(3);
    // Removing a pinned policy frees its room.
    store.remove(d("a.test"));
    assertThat(store.pinned()).isEqualTo(2);
    store.put(d("new.test"), entry("1", MtaStsPolicy.MAX_AGE_LIMIT));
    assertThat(store.peek(d("new.test"))).isPresent();
    assertThat(store.size()).isEqualTo(3);
  }

  @Test
  void aReplacementKeepsTheDomainsUseSoAnEnforcePolicyStaysPinned() {
    InMemoryPolicyStore store = store(2);
    store.put(d("a.test"), entry("1", Duration.ofDays(1)));
    store.get(d("a.test"));
    store.put(d("b.test"), entry("1", Duration.ofDays(1)));

    store.put(d("a.test"), entry("2", Duration.ofDays(3))); // a refresh, or a new id

    assertThat(store.pinned()).isEqualTo(1);
    assertThat(store.peek(d("a.test")).orElseThrow().policy().id()).isEqualTo("2");
    assertThat(store.size()).isEqualTo(2);
    // A testing policy is not pinned: the replacement unpins without evicting anything.
    store.put(d("a.test"), entry("3", MtaStsMode.TESTING, Duration.ofDays(3)));
    assertThat(store.pinned()).isZero();
    assertThat(store.size()).isEqualTo(2);
    assertThat(store.peek(d("b.test"))).isPresent();
    // A used testing policy turning into enforce is pinned at once.
    store.get(d("a.test"));
    store.put(d("a.test"), entry("4", Duration.ofDays(3)));
    assertThat(store.pinned()).isEqualTo(1);
  }

  @Test
  void aRestoredRecentUsePinsAtOnceUntilTheRecentUsePeriodAfterThatUse() {
    InMemoryPolicyStore store = store(3);
    Instant usedBeforeRestart = T0.minus(Duration.ofMinutes(30));

    store.restore(d("a.test"), entry("1", Duration.ofDays(1)), usedBeforeRestart);

    assertThat(store.pinned()).isEqualTo(1);
    assertThat(store.snapshot().get(d("a.test")).lastUse()).contains(usedBeforeRestart);
    // Not a use at now: the pin lapses RECENT_USE after the restored use, not after the restore.
    clock.advance(Duration.ofMinutes(29));
    store.put(d("b.test"), entry("1", Duration.ofDays(1)));
    assertThat(store.pinned()).isEqualTo(1);
    clock.advance(Duration.ofMinutes(1));
    store.put(d("c.test"), entry("1", Duration.ofDays(1)));
    assertThat(store.pinned()).isZero();
    assertThat(store.peek(d("a.test"))).isPresent();
  }

  @Test
  void aRestoredUseOutsideTheRecentUsePeriodOrOfAPolicyNotEnforcedDoesNotPin() {
    InMemoryPolicyStore store = store(5);
    Instant justTooOld = T0.minus(RECENT_USE);

    store.restore(d("old.test"), entry("1", Duration.ofDays(1)), justTooOld);
    store.restore(d("ancient.test"), entry("1", Duration.ofDays(1)), Instant.MIN);
    store.restore(d("testing.test"), entry("1", MtaStsMode.TESTING, Duration.ofDays(1)), T0);
    assertThat(store.pinned()).isZero();
    assertThat(store.size()).isEqualTo(3); // loaded all the same
    assertThat(store.snapshot().get(d("old.test")).lastUse()).contains(justTooOld);
    assertThat(store.snapshot().get(d("ancient.test")).lastUse()).isEmpty();

    store.restore(d("recent.test"), entry("1", Duration.ofDays(1)), justTooOld.plusMillis(1));
    assertThat(store.pinned()).isEqualTo(1);
  }

  @Test
  void aRestoredUseAfterNowCountsAsAUseNow() {
    // The clock went back since the use was recorded (a host whose clock was ahead, corrected).
    InMemoryPolicyStore store = store(3);

    store.restore(d("a.test"), entry("1", Duration.ofDays(1)), T0.plus(Duration.ofDays(30)));

    assertThat(store.pinned()).isEqualTo(1);
    assertThat(store.snapshot().get(d("a.test")).lastUse()).contains(T0);
    clock.advance(RECENT_USE);
    store.put(d("b.test"), entry("1", Duration.ofDays(1)));
    assertThat(store.pinned()).isZero();
  }

  @Test
  void aRestoredPinTakesItsRoomFromUnpinnedEntriesAndIsRefusedWhenAllArePinned() {
    InMemoryPolicyStore store = store(2);
    store.put(d("u1.test"), entry("1", Duration.ofDays(1)));
    store.put(d("u2.test"), entry("1", Duration.ofDays(1)));

    store.restore(d("p1.test"), entry("1", Duration.ofDays(1)), T0);
    assertThat(store.size()).isEqualTo(2);
    assertThat(store.peek(d("p1.test"))).isPresent();
    store.restore(d("p2.test"), entry("1", Duration.ofDays(1)), T0);
    assertThat(store.size()).isEqualTo(2);
    assertThat(store.pinned()).isEqualTo(2);
    assertThat(store.peek(d("u1.test"))).isEmpty();
    assertThat(store.peek(d("u2.test"))).isEmpty();

    store.restore(d("p3.test"), entry("1", Duration.ofDays(1)), T0);

    assertThat(store.peek(d("p3.test"))).isEmpty();
    assertThat(store.size()).isEqualTo(2);
    assertThat(store.pinned()).isEqualTo(2);
  }

  @Test
  void aRestoreKeepsTheLaterOfTheDomainsUses() {
    InMemoryPolicyStore store = store(3);
    store.put(d("a.test"), entry("1", Duration.ofDays(1)));
    clock.advance(Duration.ofMinutes(5));
    store.get(d("a.test"));
    Instant used = clock.instant();

    store.restore(d("a.test"), entry("2", Duration.ofDays(1)), used.minusSeconds(60));
    assertThat(store.snapshot().get(d("a.test")).lastUse()).contains(used);
    assertThat(store.peek(d("a.test")).orElseThrow().policy().id()).isEqualTo("2");

    clock.advance(Duration.ofMinutes(5));
    store.restore(d("a.test"), entry("3", Duration.ofDays(1)), used.plusSeconds(60));
    assertThat(store.snapshot().get(d("a.test")).lastUse()).contains(used.plusSeconds(60));
    assertThat(store.pinned()).isEqualTo(1);
  }

  @Test
  void theSnapshotHasEachEntrysLastUseAndPeekIsNotOne() {
    InMemoryPolicyStore store = store(3);
    store.put(d("a.test"), entry("1", MtaStsMode.TESTING, Duration.ofDays(1)));
    store.put(d("b.test"), entry("1", Duration.ofDays(1)));
    clock.advance(Duration.ofSeconds(90));

    store.get(d("a.test"));
    store.peek(d("b.test"));

    assertThat(store.snapshot()).containsOnlyKeys(d("a.test"), d("b.test"));
    assertThat(store.snapshot().get(d("a.test")).lastUse()).contains(T0.plusSeconds(90));
    assertThat(store.snapshot().get(d("b.test")).lastUse()).isEmpty();
  }

  @Test
  void aRecentUsePeriodOfZeroPinsNothing() {
    InMemoryPolicyStore store = new InMemoryPolicyStore(2, Duration.ZERO, clock);
    store.put(d("a.test"), entry("1", Duration.ofDays(1)));

    store.get(d("a.test"));
    store.restore(d("b.test"), entry("1", Duration.ofDays(1)), T0);

    assertThat(store.pinned()).isZero();
  }

  @Test
  void replacingAnEntryDoesNotEvictAnother() {
    InMemoryPolicyStore store = new InMemoryPolicyStore(2);
    store.put(d("a.test"), entry("1", Duration.ofDays(1)));
    store.put(d("b.test"), entry("1", Duration.ofDays(2)));

    store.put(d("a.test"), entry("2", Duration.ofDays(3)));

    assertThat(store.size()).isEqualTo(2);
    assertThat(store.get(d("a.test")).orElseThrow().policy().id()).isEqualTo("2");
    assertThat(store.get(d("b.test"))).isPresent();
  }

  @Test
  void concurrentWritersRespectTheBound() throws Exception {
    InMemoryPolicyStore store = new InMemoryPolicyStore(50);
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> jobs = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        int thread = t;
        jobs.add(
            pool.submit(
                () -> {
                  for (int i = 0; i < 500; i++) {
                    DomainName name = d("d" + thread + "-" + i + ".test");
                    store.put(name, entry("1", Duration.ofSeconds(1 + (i * 7919L) % 10_000)));
                    if (i % 3 == 0) {
                      store.remove(name);
                    }
                  }
                }));
      }
      for (Future<?> job : jobs) {
        job.get(30, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(store.size()).isLessThanOrEqualTo(50);
    assertThat(store.snapshot()).hasSize(store.size());
  }

  @Test
  void concurrentFloodAndUseKeepTheBoundAndThePins() throws Exception {
    InMemoryPolicyStore store = store(200);
    List<DomainName> used = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      DomainName name = d("used" + i + ".test");
      used.add(name);
      store.put(name, entry("1", Duration.ofDays(1)));
      // A sender's lookup: from here on the policy is in use, and pinned. (Before this read it
      // was only fetched, and a concurrent flood could rightly evict it.)
      assertThat(store.get(name)).isPresent();
    }
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> jobs = new ArrayList<>();
      for (int t = 0; t < 2; t++) {
        jobs.add(
            pool.submit(
                () -> {
                  for (int round = 0; round < 200; round++) {
                    for (DomainName name : used) {
                      assertThat(store.get(name)).as("%s", name).isPresent();
                    }
                  }
                }));
        int writer = t;
        jobs.add(
            pool.submit(
                () -> {
                  for (int i = 0; i < 2_000; i++) {
                    store.put(
                        d("flood" + writer + "-" + i + ".test"),
                        entry("1", MtaStsPolicy.MAX_AGE_LIMIT));
                  }
                }));
      }
      for (Future<?> job : jobs) {
        job.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(store.size()).isEqualTo(200);
    assertThat(store.pinned()).isEqualTo(used.size());
    assertThat(used).allSatisfy(name -> assertThat(store.peek(name)).isPresent());
  }

  @Test
  void theArgumentsAreChecked() {
    assertThatThrownBy(() -> new InMemoryPolicyStore(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("0");
    assertThatThrownBy(() -> new InMemoryPolicyStore(1, Duration.ofSeconds(-1), clock))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("recentUse");
    assertThatThrownBy(() -> new InMemoryPolicyStore(1, null, clock))
        .isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> new InMemoryPolicyStore(1, RECENT_USE, null))
        .isInstanceOf(NullPointerException.class);
    assertThat(new InMemoryPolicyStore().recentUse())
        .isEqualTo(InMemoryPolicyStore.DEFAULT_RECENT_USE);
  }
}
