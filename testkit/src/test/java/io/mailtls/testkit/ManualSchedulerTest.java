package io.mailtls.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The test scheduler's repeating tasks behave as the JDK's do. */
class ManualSchedulerTest {

  @Test
  void fixedRateRunsOncePerPeriodUntilCancelled() {
    FakeClock clock = new FakeClock(Instant.parse("2026-01-01T00:00:00Z"));
    ManualScheduler scheduler = new ManualScheduler(clock);
    AtomicInteger runs = new AtomicInteger();
    ScheduledFuture<?> f =
        scheduler.scheduleAtFixedRate(runs::incrementAndGet, 1, 10, TimeUnit.SECONDS);
    assertThat(scheduler.runDue()).isZero();
    for (int i = 1; i <= 3; i++) {
      clock.advance(Duration.ofSeconds(i == 1 ? 1 : 10));
      assertThat(scheduler.runDue()).isEqualTo(1);
    }
    assertThat(runs).hasValue(3);
    f.cancel(false);
    clock.advance(Duration.ofMinutes(5));
    assertThat(scheduler.runDue()).isZero();
    assertThat(scheduler.pending()).isEmpty();
  }

  @Test
  void fixedDelayCountsFromWhenTheRunHappened() {
    FakeClock clock = new FakeClock(Instant.parse("2026-01-01T00:00:00Z"));
    ManualScheduler scheduler = new ManualScheduler(clock);
    AtomicInteger runs = new AtomicInteger();
    var unused = scheduler.scheduleWithFixedDelay(runs::incrementAndGet, 0, 10, TimeUnit.SECONDS);
    clock.advance(Duration.ofSeconds(25)); // late: the next run is 10 s after this one
    assertThat(scheduler.runDue()).isEqualTo(1);
    assertThat(scheduler.nextDue()).contains(clock.instant().plusSeconds(10));
  }
}
