package io.mailtls.mtasts;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DomainName;
import io.mailtls.core.MtaStsMode;
import io.mailtls.core.MtaStsPolicy;
import io.mailtls.testkit.FakeClock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;

/**
 * The store's guarantees under any sequence of puts, restores (an entry with a use recorded before
 * a restart, as a file store loads it), reads, removals and the passing of time: it never holds
 * more than its bound, never returns a stale entry, and never loses an {@code enforce} policy read,
 * or restored as read, within the recent-use period (RFC 8461 §10.2).
 */
class InMemoryPolicyStorePropertyTest {

  private static final int DOMAINS = 10;
  private static final Duration RECENT_USE = Duration.ofMinutes(30);

  sealed interface Action permits Put, Restore, Get, Peek, Remove, Advance {}

  record Put(int domain, MtaStsMode mode, int id) implements Action {}

  /** A restore with a use {@code minutesAgo} before now (negative: after now). */
  record Restore(int domain, MtaStsMode mode, int id, int minutesAgo) implements Action {}

  record Get(int domain) implements Action {}

  record Peek(int domain) implements Action {}

  record Remove(int domain) implements Action {}

  record Advance(int minutes) implements Action {}

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
            Tuple.of(
                2,
                Combinators.combine(
                        domain,
                        Arbitraries.of(MtaStsMode.class),
                        Arbitraries.integers().between(1, 3),
                        Arbitraries.integers().between(-10, 45))
                    .as(Restore::new)),
            Tuple.of(4, domain.map(Get::new)),
            Tuple.of(1, domain.map(Peek::new)),
            Tuple.of(1, domain.map(Remove::new)),
            Tuple.of(2, Arbitraries.integers().between(0, 45).map(Advance::new)));
    return action.list().ofMaxSize(120);
  }

  private static DomainName name(int i) {
    return DomainName.of("d" + i + ".test");
  }

  @Property(tries = 1000)
  void boundedFreshAndNeverLosesARecentlyUsedEnforcePolicy(
      @ForAll @IntRange(min = 1, max = 5) int maxEntries, @ForAll("actions") List<Action> actions) {
    FakeClock clock = new FakeClock();
    InMemoryPolicyStore store = new InMemoryPolicyStore(maxEntries, RECENT_USE, clock);
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
      } else if (action instanceof Restore r) {
        CachedPolicy entry =
            CachedPolicy.fetched(
                new MtaStsPolicy(
                    String.valueOf(r.id()),
                    r.mode(),
                    List.of("mx.example.test"),
                    Duration.ofDays(1)),
                clock.instant());
        long use = clock.millis() - Duration.ofMinutes(r.minutesAgo()).toMillis();
        store.restore(name(r.domain()), entry, Instant.ofEpochMilli(use));
        lastPut.put(r.domain(), entry);
        if (store.peek(name(r.domain())).isPresent()) { // else refused: every entry was pinned
          lastUse.merge(r.domain(), Math.min(use, clock.millis()), Math::max);
        }
      } else if (action instanceof Get g) {
        if (store.get(name(g.domain())).isPresent()) {
          lastUse.put(g.domain(), clock.millis());
        }
      } else if (action instanceof Peek p) {
        store.peek(name(p.domain()));
      } else if (action instanceof Remove r) {
        store.remove(name(r.domain()));
        lastPut.remove(r.domain());
      } else if (action instanceof Advance a) {
        clock.advance(Duration.ofMinutes(a.minutes()));
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
                && clock.millis() - used < RECENT_USE.toMillis();
        assertThat(mustBeHeld)
            .as(
                "d%d, an enforce policy read %d ms ago, lost after %s",
                i, used == null ? -1 : clock.millis() - used, action)
            .isFalse();
      }
    }
  }
}
