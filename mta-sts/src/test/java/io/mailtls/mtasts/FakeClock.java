package io.mailtls.mtasts;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicReference;

/** A clock that stands still until a test moves it. Thread-safe. */
final class FakeClock extends Clock {

  static final Instant START = Instant.parse("2025-03-01T12:00:00Z");

  private final AtomicReference<Instant> now;

  FakeClock() {
    this(START);
  }

  FakeClock(Instant start) {
    this.now = new AtomicReference<>(start);
  }

  /** Moves the clock forward. */
  void advance(Duration d) {
    now.updateAndGet(t -> t.plus(d));
  }

  /** Sets the clock. */
  void set(Instant instant) {
    now.set(instant);
  }

  @Override
  public Instant instant() {
    return now.get();
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    throw new UnsupportedOperationException("FakeClock is UTC only");
  }
}
