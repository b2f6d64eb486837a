package io.mailtls.core.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.testkit.FakeClock;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

/**
 * The caches' time base: monotonic with the system clock, so that stepping the wall clock changes
 * no TTL; the injected clock itself otherwise, so that tests move time.
 */
class CacheTimeTest {

  @Test
  void theSystemClockInAnyZoneIsMeasuredInMonotonicTime() throws InterruptedException {
    for (Clock clock : new Clock[] {Clock.systemUTC(), Clock.system(ZoneId.of("Asia/Kolkata"))}) {
      CacheTime time = CacheTime.of(clock);
      assertThat(time.monotonic()).isTrue();
      long before = CacheTime.monotonicMillis();
      long now = time.millis();
      assertThat(now).isBetween(before, CacheTime.monotonicMillis());
      assertThat(Math.abs(clock.millis() - now))
          .as("never the wall clock's time")
          .isGreaterThan(Duration.ofDays(365).toMillis());
    }
    long start = CacheTime.monotonicMillis();
    Thread.sleep(20);
    assertThat(CacheTime.monotonicMillis() - start).isGreaterThanOrEqualTo(20);
  }

  @Test
  void monotonicTimeIsNeverNegativeAndNeverGoesBack() {
    long last = CacheTime.monotonicMillis();
    assertThat(last).isNotNegative();
    for (int i = 0; i < 200_000; i++) {
      long now = CacheTime.monotonicMillis();
      assertThat(now).isGreaterThanOrEqualTo(last);
      last = now;
    }
  }

  @Test
  void anyOtherClockIsTheTimeItself() {
    FakeClock fake = new FakeClock();
    CacheTime time = CacheTime.of(fake);
    assertThat(time.monotonic()).isFalse();
    assertThat(time.millis()).isEqualTo(fake.millis());
    fake.advance(Duration.ofSeconds(90));
    assertThat(time.millis()).isEqualTo(fake.millis());
    // A clock derived from the system clock is a clock of its own: its steps are the test's.
    Clock behind = Clock.offset(Clock.systemUTC(), Duration.ofHours(-1));
    assertThat(CacheTime.of(behind).monotonic()).isFalse();
    Clock fixed = Clock.fixed(Instant.ofEpochSecond(1_800_000_000L), ZoneOffset.UTC);
    assertThat(CacheTime.of(fixed).millis()).isEqualTo(1_800_000_000_000L);
  }
}
