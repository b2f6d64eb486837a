package io.mailtls.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import org.junit.jupiter.api.Test;

/** The fake clock moves only when told, and reads the same on every thread. */
class FakeClockTest {

  @Test
  void standsStillUntilMoved() {
    FakeClock clock = new FakeClock();
    assertThat(clock.instant()).isEqualTo(FakeClock.START);
    assertThat(clock.millis()).isEqualTo(FakeClock.START.toEpochMilli());
    clock.advance(Duration.ofHours(25));
    assertThat(clock.instant()).isEqualTo(Instant.parse("2025-03-02T13:00:00Z"));
    clock.advance(Duration.ofHours(-1));
    assertThat(clock.instant()).isEqualTo(Instant.parse("2025-03-02T12:00:00Z"));
    clock.set(Instant.parse("2020-01-01T00:00:00Z"));
    assertThat(clock.instant()).isEqualTo(Instant.parse("2020-01-01T00:00:00Z"));
  }

  @Test
  void isUtcOnly() {
    FakeClock clock = new FakeClock(Instant.parse("2026-06-30T23:30:00Z"));
    assertThat(clock.getZone()).isEqualTo(ZoneOffset.UTC);
    assertThat(ZonedDateTime.now(clock).getDayOfMonth()).isEqualTo(30);
    assertThatThrownBy(() -> clock.withZone(ZoneOffset.ofHours(2)))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void aMoveOnOneThreadIsSeenOnAnother() throws Exception {
    FakeClock clock = new FakeClock();
    Thread mover = new Thread(() -> clock.advance(Duration.ofDays(1)));
    mover.start();
    mover.join();
    assertThat(clock.instant()).isEqualTo(FakeClock.START.plus(Duration.ofDays(1)));
  }
}
