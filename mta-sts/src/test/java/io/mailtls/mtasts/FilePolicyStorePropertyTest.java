package io.mailtls.mtasts;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DomainName;
import io.mailtls.core.MtaStsMode;
import io.mailtls.core.MtaStsPolicy;
import io.mailtls.testkit.FakeClock;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;

/**
 * The file store across restarts, under any sequence of puts, reads, removals, the passing of time
 * and restarts (a new store on the same file): a restart keeps every entry, and every use of an
 * {@code enforce} policy up to {@link FilePolicyStore#maxUseLag()}; so an {@code enforce} policy
 * read within the recent-use period less that lag is never lost, restarts or not (RFC 8461 §10.2),
 * and the bound always holds.
 */
class FilePolicyStorePropertyTest {

  private static final int DOMAINS = 8;
  private static final Duration RECENT_USE = Duration.ofMinutes(35); // a lag of five minutes

  sealed interface Action permits Put, Get, Remove, Advance, Restart {}

  record Put(int domain, MtaStsMode mode, int id) implements Action {}

  record Get(int domain) implements Action {}

  record Remove(int domain) implements Action {}

  record Advance(int minutes) implements Action {}

  record Restart() implements Action {}

  @Provide
  Arbitrary<List<Action>> actions() {
    Arbitrary<Integer> domain = Arbitraries.integers().between(0, DOMAINS - 1);
    Arbitrary<Action> action =
        Arbitraries.frequencyOf(
            Tuple.of(
                4,
                Combinators.combine(
                        domain,
                        Arbitraries.of(MtaStsMode.class),
                        Arbitraries.integers().between(1, 3))
                    .as(Put::new)),
            Tuple.of(5, domain.map(Get::new)),
            Tuple.of(1, domain.map(Remove::new)),
            Tuple.of(3, Arbitraries.integers().between(0, 12).map(Advance::new)),
            Tuple.of(2, Arbitraries.just(new Restart())));
    return action.list().ofMaxSize(60);
  }

  private static DomainName name(int i) {
    return DomainName.of("d" + i + ".test");
  }

  @Property(tries = 500)
  void restartsKeepEveryEntryAndEveryUseUpToTheLag(
      @ForAll @IntRange(min = 1, max = 4) int maxEntries, @ForAll("actions") List<Action> actions)
      throws IOException {
    Path dir = Files.createTempDirectory("file-policy-store-property");
    try {
      run(dir.resolve("cache.json"), maxEntries, actions);
    } finally {
      deleteTree(dir);
    }
  }

  private static void run(Path file, int maxEntries, List<Action> actions) {
    FakeClock clock = new FakeClock();
    FilePolicyStore store = new FilePolicyStore(file, maxEntries, RECENT_USE, clock);
    long lag = store.maxUseLag().toMillis();
    assertThat(lag).isEqualTo(Duration.ofMinutes(5).toMillis());
    Map<Integer, CachedPolicy> lastPut = new HashMap<>();
    Map<Integer, Long> lastUse = new HashMap<>(); // of the domain's current stay in the store

    for (Action action : actions) {
      if (action instanceof Put p) {
        CachedPolicy entry =
            CachedPolicy.fetched(
                new MtaStsPolicy(
                    String.valueOf(p.id()),
                    p.mode(),
                    List.of("mx.example.test"),
                    Duration.ofDays(1)),
                clock.instant());
        store.put(name(p.domain()), entry);
        lastPut.put(p.domain(), entry);
      } else if (action instanceof Get g) {
        if (store.get(name(g.domain())).isPresent()) {
          lastUse.put(g.domain(), clock.millis());
        }
      } else if (action instanceof Remove r) {
        store.remove(name(r.domain()));
        lastPut.remove(r.domain());
      } else if (action instanceof Advance a) {
        clock.advance(Duration.ofMinutes(a.minutes()));
      } else if (action instanceof Restart) {
        Map<DomainName, InMemoryPolicyStore.Stored> before = store.snapshot();
        store = new FilePolicyStore(file, maxEntries, RECENT_USE, clock);
        Map<DomainName, InMemoryPolicyStore.Stored> after = store.snapshot();
        assertThat(store.loadWarnings()).isEmpty();
        assertThat(after.keySet()).isEqualTo(before.keySet());
        for (Map.Entry<DomainName, InMemoryPolicyStore.Stored> e : before.entrySet()) {
          InMemoryPolicyStore.Stored was = e.getValue();
          InMemoryPolicyStore.Stored is = after.get(e.getKey());
          assertThat(is.entry()).isEqualTo(was.entry());
          if (was.entry().policy().mode() == MtaStsMode.ENFORCE && was.lastUse().isPresent()) {
            Instant use = was.lastUse().get();
            assertThat(is.lastUse()).as("%s", e.getKey()).isPresent();
            assertThat(is.lastUse().get())
                .as("%s", e.getKey())
                .isBetween(use.minusMillis(lag), use);
          }
        }
      }

      assertThat(store.size()).as("after %s", action).isLessThanOrEqualTo(maxEntries);
      for (int i = 0; i < DOMAINS; i++) {
        Optional<CachedPolicy> held = store.peek(name(i));
        if (held.isPresent()) {
          assertThat(held.get()).as("d%d after %s", i, action).isEqualTo(lastPut.get(i));
          continue;
        }
        Long used = lastUse.remove(i); // gone: a later stay starts without uses
        boolean mustBeHeld =
            used != null
                && lastPut.containsKey(i)
                && lastPut.get(i).policy().mode() == MtaStsMode.ENFORCE
                && clock.millis() - used < RECENT_USE.toMillis() - lag;
        assertThat(mustBeHeld)
            .as(
                "d%d, an enforce policy read %d ms ago, lost after %s",
                i, used == null ? -1 : clock.millis() - used, action)
            .isFalse();
      }
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths
          .sorted(Comparator.reverseOrder())
          .forEach(
              p -> {
                try {
                  Files.delete(p);
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              });
    }
  }
}
