package io.mailtls.mtasts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailtls.core.DomainName;
import io.mailtls.core.MtaStsMode;
import io.mailtls.core.MtaStsPolicy;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The bounded in-memory store: eviction of the entry that expires soonest. */
class InMemoryPolicyStoreTest {

  private static final Instant T0 = FakeClock.START;

  static CachedPolicy entry(String id, Duration maxAge) {
    return CachedPolicy.fetched(
        new MtaStsPolicy(id, MtaStsMode.ENFORCE, List.of("mx.example.test"), maxAge), T0);
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
  void boundedStoreEvictsTheEntryThatExpiresSoonest() {
    InMemoryPolicyStore store = new InMemoryPolicyStore(3);
    store.put(d("a.test"), entry("1", Duration.ofDays(30)));
    store.put(d("b.test"), entry("1", Duration.ofDays(1)));   // expires soonest
    store.put(d("c.test"), entry("1", Duration.ofDays(10)));

    store.put(d("d.test"), entry("1", Duration.ofDays(20)));

    assertThat(store.size()).isEqualTo(3);
    assertThat(store.get(d("b.test"))).isEmpty();
    assertThat(store.get(d("a.test"))).isPresent();
    assertThat(store.get(d("c.test"))).isPresent();
    assertThat(store.get(d("d.test"))).isPresent();
  }

  @Test
  void theEntryJustStoredIsNeverTheOneEvicted() {
    InMemoryPolicyStore store = new InMemoryPolicyStore(2);
    store.put(d("a.test"), entry("1", Duration.ofDays(30)));
    store.put(d("b.test"), entry("1", Duration.ofDays(20)));

    store.put(d("c.test"), entry("1", Duration.ofHours(1)));

    assertThat(store.get(d("c.test"))).isPresent();
    assertThat(store.get(d("b.test"))).isEmpty();
    assertThat(store.get(d("a.test"))).isPresent();
  }

  @Test
  void replacingAnEntryDoesNotEvictAnother() {
    InMemoryPolicyStore store = new InMemoryPolicyStore(2);
    store.put(d("a.test"), entry("1", Duration.ofDays(1)));
    store.put(d("b.test"), entry("1", Duration.ofDays(2)));

    store.put(d("a.test"), entry("2", Duration.ofDays(3)));

    assertThat(store.size()).isEqualTo(2);
    assertThat(store.get(d("a.test")).orElseThrow().policy().id()).isEqualTo("2");
    // The replaced entry's old expiry no longer counts: b now expires soonest.
    store.put(d("c.test"), entry("1", Duration.ofDays(5)));
    assertThat(store.get(d("b.test"))).isEmpty();
    assertThat(store.get(d("a.test"))).isPresent();
  }

  @Test
  void concurrentWritersRespectTheBound() throws Exception {
    InMemoryPolicyStore store = new InMemoryPolicyStore(50);
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> jobs = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        int thread = t;
        jobs.add(pool.submit(() -> {
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
  void theBoundMustBePositive() {
    assertThatThrownBy(() -> new InMemoryPolicyStore(0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("0");
  }
}
