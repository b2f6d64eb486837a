package io.mailtls.core.internal.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DeliveryPlan;
import io.mailtls.core.DomainName;
import io.mailtls.core.MxResolution;
import io.mailtls.core.NextHop;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.internal.CacheTime;
import io.mailtls.core.internal.Values;
import io.mailtls.testkit.FakeClock;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneId;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Expiry of cached plans: exact with an injected clock, and with the system clock never used after
 * expiry while the coarse time keeps up (a hit within {@link PlanCache#COARSE_MARGIN_MILLIS} of
 * expiry reads the real clock).
 */
class PlanCacheTest {

  private static final NextHop HOP = new NextHop.Domain(DomainName.of("example.test"));

  private static DeliveryPlan plan() {
    return Values.deliveryPlan(
        HOP,
        Optional.of(TlsLevel.OPPORTUNISTIC),
        Values.mxResolution(
            HOP, MxResolution.Kind.NO_MAIL_HOST, List.of(), Optional.empty(), List.of()),
        List.of(),
        List.of(),
        Optional.empty(),
        List.of("test plan"),
        List.of(),
        Optional.empty());
  }

  @Test
  void anInjectedClockExpiresAPlanToTheMillisecond() {
    FakeClock clock = new FakeClock();
    PlanCache cache = new PlanCache(clock, 10);
    DeliveryPlan p = plan();
    cache.put(HOP, TlsLevel.OPPORTUNISTIC, p, clock.millis() + 5_000, 0);
    clock.advance(Duration.ofMillis(4_999));
    assertThat(cache.get(HOP, TlsLevel.OPPORTUNISTIC)).isSameAs(p);
    clock.advance(Duration.ofMillis(1));
    assertThat(cache.get(HOP, TlsLevel.OPPORTUNISTIC)).isNull();
    assertThat(cache.get(HOP, TlsLevel.ENFORCED)).isNull();
  }

  @Test
  void aDomainIsFoundByItsNameAndAnAddressLiteralApart() {
    FakeClock clock = new FakeClock();
    PlanCache cache = new PlanCache(clock, 10);
    DeliveryPlan byName = plan();
    DeliveryPlan byAddress = plan();
    NextHop literal = NextHop.parse("[127.0.0.1]");
    cache.put(HOP, TlsLevel.OPPORTUNISTIC, byName, clock.millis() + 5_000, 0);
    cache.put(literal, TlsLevel.OPPORTUNISTIC, byAddress, clock.millis() + 5_000, 0);
    // A next hop made anew from the same name (as each message's recipient makes one) finds it.
    NextHop again = NextHop.parse("Example.TEST");
    assertThat(again).isNotSameAs(HOP).isEqualTo(HOP);
    assertThat(cache.get(again, TlsLevel.OPPORTUNISTIC)).isSameAs(byName);
    assertThat(cache.get(NextHop.parse("[127.0.0.1]"), TlsLevel.OPPORTUNISTIC)).isSameAs(byAddress);
    assertThat(cache.get(NextHop.parse("other.test"), TlsLevel.OPPORTUNISTIC)).isNull();
    assertThat(cache.size()).isEqualTo(2);
    cache.remove(again, TlsLevel.OPPORTUNISTIC);
    assertThat(cache.get(HOP, TlsLevel.OPPORTUNISTIC)).isNull();
    assertThat(cache.get(literal, TlsLevel.OPPORTUNISTIC)).isSameAs(byAddress);
  }

  @Test
  void theLevelsOfOneNextHopAreKeptRemovedAndExpiredApart() {
    FakeClock clock = new FakeClock();
    PlanCache cache = new PlanCache(clock, 10);
    DeliveryPlan opportunistic = plan();
    DeliveryPlan enforced = plan();
    DeliveryPlan dane = plan();
    cache.put(HOP, TlsLevel.OPPORTUNISTIC, opportunistic, clock.millis() + 5_000, 0);
    cache.put(HOP, TlsLevel.ENFORCED, enforced, clock.millis() + 2_000, 0);
    cache.put(HOP, TlsLevel.DANE_REQUIRED, dane, clock.millis() + 5_000, 0);
    assertThat(cache.size()).isEqualTo(1);
    assertThat(cache.get(HOP, TlsLevel.OPPORTUNISTIC)).isSameAs(opportunistic);
    assertThat(cache.get(HOP, TlsLevel.ENFORCED)).isSameAs(enforced);
    assertThat(cache.get(HOP, TlsLevel.DANE_REQUIRED)).isSameAs(dane);
    assertThat(cache.get(HOP, TlsLevel.STS_REQUIRED)).isNull();

    // A new plan for one level replaces that level's only.
    DeliveryPlan opportunistic2 = plan();
    cache.put(HOP, TlsLevel.OPPORTUNISTIC, opportunistic2, clock.millis() + 5_000, 0);
    assertThat(cache.get(HOP, TlsLevel.OPPORTUNISTIC)).isSameAs(opportunistic2);
    assertThat(cache.get(HOP, TlsLevel.ENFORCED)).isSameAs(enforced);
    assertThat(cache.get(HOP, TlsLevel.DANE_REQUIRED)).isSameAs(dane);

    // Each level expires at its own time.
    clock.advance(Duration.ofSeconds(2));
    assertThat(cache.get(HOP, TlsLevel.ENFORCED)).isNull();
    assertThat(cache.get(HOP, TlsLevel.OPPORTUNISTIC)).isSameAs(opportunistic2);

    // Removing one level keeps the others; the removals' marks hold no plan and no octets.
    cache.remove(HOP, TlsLevel.DANE_REQUIRED);
    assertThat(cache.get(HOP, TlsLevel.DANE_REQUIRED)).isNull();
    assertThat(cache.get(HOP, TlsLevel.OPPORTUNISTIC)).isSameAs(opportunistic2);
    cache.remove(HOP, TlsLevel.ENFORCED);
    cache.remove(HOP, TlsLevel.OPPORTUNISTIC);
    assertThat(cache.get(HOP, TlsLevel.OPPORTUNISTIC)).isNull();
    assertThat(cache.get(HOP, TlsLevel.ENFORCED)).isNull();
    assertThat(cache.bytes()).isZero();

    // A plan that is already expired is not kept, and takes the level's older plan with it.
    cache.put(HOP, TlsLevel.OPPORTUNISTIC, opportunistic, clock.millis() + 5_000, 0);
    cache.put(HOP, TlsLevel.OPPORTUNISTIC, opportunistic2, clock.millis(), 0);
    assertThat(cache.get(HOP, TlsLevel.OPPORTUNISTIC)).isNull();
  }

  @Test
  void aFullCacheDropsExpiredPlansFirstAndStaysWithinItsSize() {
    FakeClock clock = new FakeClock();
    PlanCache cache = new PlanCache(clock, 10);
    for (int i = 0; i < 5; i++) {
      cache.put(hop(i), TlsLevel.OPPORTUNISTIC, plan(), clock.millis() + 1_000, 0);
    }
    DeliveryPlan lasting = plan();
    for (int i = 5; i < 10; i++) {
      cache.put(hop(i), TlsLevel.OPPORTUNISTIC, lasting, clock.millis() + 60_000, 0);
    }
    clock.advance(Duration.ofSeconds(2));
    cache.put(hop(10), TlsLevel.OPPORTUNISTIC, plan(), clock.millis() + 60_000, 0);
    // The five expired next hops made room; every unexpired plan stayed.
    assertThat(cache.size()).isEqualTo(6);
    for (int i = 5; i < 10; i++) {
      assertThat(cache.get(hop(i), TlsLevel.OPPORTUNISTIC)).isSameAs(lasting);
    }
    for (int i = 11; i < 40; i++) {
      cache.put(hop(i), TlsLevel.OPPORTUNISTIC, plan(), clock.millis() + 60_000, 0);
      assertThat(cache.size()).isLessThanOrEqualTo(10);
    }
  }

  /**
   * Peers choose what a plan holds (hundreds of long MX names under a wildcard): a plan larger than
   * the bound is not kept, and the plans kept stay within a size bound as well as a count.
   */
  @Test
  void plansAreBoundedInSizeAsWellAsInCount() {
    FakeClock clock = new FakeClock();
    PlanCache cache = new PlanCache(clock, 10);
    long expires = clock.millis() + 60_000;
    cache.put(hop(0), TlsLevel.OPPORTUNISTIC, plan(), expires, PlanCache.MAX_PLAN_BYTES + 1);
    assertThat(cache.get(hop(0), TlsLevel.OPPORTUNISTIC)).isNull();
    assertThat(cache.bytes()).isZero();

    long budget = 10 * PlanCache.BYTES_PER_ENTRY;
    long large = PlanCache.MAX_PLAN_BYTES; // fewer than 10 fit in the size bound
    for (int i = 1; i < 40; i++) {
      cache.put(hop(i), TlsLevel.OPPORTUNISTIC, plan(), expires, large);
      assertThat(cache.bytes()).isLessThanOrEqualTo(budget);
      assertThat(cache.get(hop(i), TlsLevel.OPPORTUNISTIC)).isNotNull();
    }
    // Replacing and removing plans keeps the account.
    cache.put(hop(39), TlsLevel.OPPORTUNISTIC, plan(), expires, 100);
    cache.put(hop(39), TlsLevel.ENFORCED, plan(), expires, 50);
    long before = cache.bytes();
    cache.remove(hop(39), TlsLevel.OPPORTUNISTIC);
    assertThat(cache.bytes()).isEqualTo(before - 100);
  }

  /**
   * Of two plans for one slot, the one that started later is kept, whichever ends last; a plan that
   * started before a removal (a policy the re-check superseded, RFC 8461 §5.1) is not kept.
   */
  @Test
  void aPlanThatStartedBeforeANewerPlanOrARemovalIsNotKept() {
    FakeClock clock = new FakeClock();
    PlanCache cache = new PlanCache(clock, 10);
    long expires = clock.millis() + 5_000;
    long older = cache.begin();
    long newer = cache.begin();
    DeliveryPlan newPlan = plan();
    cache.put(HOP, TlsLevel.OPPORTUNISTIC, newPlan, expires, 0, newer);
    cache.put(HOP, TlsLevel.OPPORTUNISTIC, plan(), expires, 0, older);
    assertThat(cache.get(HOP, TlsLevel.OPPORTUNISTIC)).isSameAs(newPlan);

    long beforeRemoval = cache.begin();
    cache.remove(HOP, TlsLevel.OPPORTUNISTIC);
    cache.put(HOP, TlsLevel.OPPORTUNISTIC, plan(), expires, 0, beforeRemoval);
    assertThat(cache.get(HOP, TlsLevel.OPPORTUNISTIC)).isNull();
    // the other levels are untouched, and a plan started after the removal is kept
    DeliveryPlan enforced = plan();
    cache.put(HOP, TlsLevel.ENFORCED, enforced, expires, 0, beforeRemoval);
    assertThat(cache.get(HOP, TlsLevel.ENFORCED)).isSameAs(enforced);
    DeliveryPlan afterRemoval = plan();
    cache.put(HOP, TlsLevel.OPPORTUNISTIC, afterRemoval, expires, 0, cache.begin());
    assertThat(cache.get(HOP, TlsLevel.OPPORTUNISTIC)).isSameAs(afterRemoval);

    // A plan that may not be reused (already expired) still leaves its mark: an older one that
    // ends after it is not kept in its place.
    long first = cache.begin();
    cache.put(HOP, TlsLevel.OPPORTUNISTIC, plan(), clock.millis(), 0, cache.begin());
    cache.put(HOP, TlsLevel.OPPORTUNISTIC, plan(), expires, 0, first);
    assertThat(cache.get(HOP, TlsLevel.OPPORTUNISTIC)).isNull();
  }

  /** Evicting a removal's mark to make room does not let a plan that started before it in. */
  @Test
  void anEvictedRemovalStillKeepsOutThePlansThatStartedBeforeIt() {
    FakeClock clock = new FakeClock();
    PlanCache cache = new PlanCache(clock, 2);
    long expires = clock.millis() + 60_000;
    long beforeRemoval = cache.begin();
    cache.remove(HOP, TlsLevel.OPPORTUNISTIC);
    // two other next hops fill the cache; the mark is the first thing dropped
    cache.put(hop(1), TlsLevel.OPPORTUNISTIC, plan(), expires, 0);
    cache.put(hop(2), TlsLevel.OPPORTUNISTIC, plan(), expires, 0);
    assertThat(cache.size()).isLessThanOrEqualTo(2);
    cache.put(HOP, TlsLevel.OPPORTUNISTIC, plan(), expires, 0, beforeRemoval);
    assertThat(cache.get(HOP, TlsLevel.OPPORTUNISTIC)).isNull();
    // a plan that starts now is kept
    DeliveryPlan now = plan();
    cache.put(HOP, TlsLevel.OPPORTUNISTIC, now, expires, 0, cache.begin());
    assertThat(cache.get(HOP, TlsLevel.OPPORTUNISTIC)).isSameAs(now);
  }

  private static NextHop hop(int i) {
    return new NextHop.Domain(DomainName.of("d" + i + ".test"));
  }

  @Test
  void theSystemClockNeverServesAPlanPastItsExpiry() {
    for (Clock clock : List.of(Clock.systemUTC(), Clock.system(ZoneId.of("Europe/Istanbul")))) {
      PlanCache cache = new PlanCache(clock, 10);
      DeliveryPlan p = plan();
      // Far from expiry first (the coarse time serves it), then through the margin to expiry.
      long expires = cache.now() + PlanCache.COARSE_MARGIN_MILLIS + 300;
      cache.put(HOP, TlsLevel.OPPORTUNISTIC, p, expires, 0);
      long hits = 0;
      long missedAt = 0;
      while (missedAt == 0) {
        long before = CacheTime.monotonicMillis();
        DeliveryPlan got = cache.get(HOP, TlsLevel.OPPORTUNISTIC);
        if (got != null) {
          hits++;
          assertThat(before).as("a hit only before the expiry").isLessThan(expires);
        } else {
          missedAt = CacheTime.monotonicMillis();
        }
      }
      assertThat(hits).isPositive();
      assertThat(missedAt).isGreaterThanOrEqualTo(expires);
      assertThat(cache.get(HOP, TlsLevel.OPPORTUNISTIC)).isNull();
    }
  }

  @Test
  void onTheSystemClockAPlanIsTimedInMonotonicTimeNotByTheWallClock() {
    // A plan kept until now() + its inputs' smallest TTL, all in monotonic time: a wall clock that
    // NTP steps back an hour cannot keep it an hour longer, since the wall clock is never read.
    for (Clock clock : List.of(Clock.systemUTC(), Clock.system(ZoneId.of("Europe/Istanbul")))) {
      PlanCache cache = new PlanCache(clock, 10);
      long before = CacheTime.monotonicMillis();
      long now = cache.now();
      long after = CacheTime.monotonicMillis();
      assertThat(now).isBetween(before, after);
      assertThat(Math.abs(System.currentTimeMillis() - now))
          .as("not the wall clock's time")
          .isGreaterThan(Duration.ofDays(365).toMillis());
    }
    // An injected clock is the time itself: tests move it.
    FakeClock fake = new FakeClock();
    assertThat(new PlanCache(fake, 10).now()).isEqualTo(fake.millis());
  }

  @Test
  void theCoarseTimeKeepsUpWhileAskedAndItsThreadStopsWhenIdle() throws InterruptedException {
    long deadline = System.currentTimeMillis() + 10_000;
    CoarseClock.millis(); // starts the thread if it is not running
    while (!CoarseClock.running() && System.currentTimeMillis() < deadline) {
      CoarseClock.millis();
      Thread.sleep(1);
    }
    assertThat(CoarseClock.running()).isTrue();
    for (int i = 0; i < 50; i++) {
      long coarse = CoarseClock.millis();
      long real = CacheTime.monotonicMillis();
      if (coarse != Long.MIN_VALUE) {
        // never ahead of the clock; behind by the tick and however late the thread ran (loose
        // bound: the machine running the tests is shared)
        assertThat(coarse).isLessThanOrEqualTo(real);
        assertThat(real - coarse).isLessThan(2_000);
      }
      Thread.sleep(3);
    }
    // Nobody asks: the thread stops after IDLE_TICKS ticks.
    while (CoarseClock.running() && System.currentTimeMillis() < deadline + 20_000) {
      Thread.sleep(50);
    }
    assertThat(CoarseClock.running()).isFalse();
    assertThat(CoarseClock.millis()).as("no coarse time while stopped").isEqualTo(Long.MIN_VALUE);
  }
}
