package io.mailtls.testkit;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A {@link Clock} that stands still until the test moves it, so that code which reads the time
 * (policy expiry, refresh schedules, retry back-off) is tested without sleeping. Hand it to the
 * code under test wherever that takes a {@code Clock}, and drive scheduled work with a {@link
 * ManualScheduler} on the same clock.
 *
 * <pre>{@code
 * FakeClock clock = new FakeClock();
 * PolicyStore store = new InMemoryPolicyStore(1000, Duration.ofDays(30), clock); // mailtls-mta-sts
 * ...
 * clock.advance(Duration.ofDays(2)); // two days later, at once
 * }</pre>
 *
 * <p>The clock is always UTC. It is thread-safe: any thread may read or move it.
 */
public final class FakeClock extends Clock {

  /** Where a clock made with {@link #FakeClock()} starts: {@code 2025-03-01T12:00:00Z}. */
  public static final Instant START = Instant.parse("2025-03-01T12:00:00Z");

  private final AtomicReference<Instant> now;

  /** A clock standing at {@link #START}. */
  public FakeClock() {
    this(START);
  }

  /**
   * A clock standing at {@code start}.
   *
   * @param start the clock's first reading
   */
  public FakeClock(Instant start) {
    this.now = new AtomicReference<>(Objects.requireNonNull(start, "start"));
  }

  /**
   * Moves the clock by {@code d}: forward, or back for a negative duration.
   *
   * @param d how far to move it
   */
  public void advance(Duration d) {
    Objects.requireNonNull(d, "d");
    now.updateAndGet(t -> t.plus(d));
  }

  /**
   * Sets the clock to {@code instant}, which may be earlier than its reading.
   *
   * @param instant the clock's new reading
   */
  public void set(Instant instant) {
    now.set(Objects.requireNonNull(instant, "instant"));
  }

  @Override
  public Instant instant() {
    return Objects.requireNonNull(now.get()); // set at construction, never to null
  }

  /** Always UTC. */
  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  /**
   * Not supported: a second clock in another zone would not move with this one.
   *
   * @throws UnsupportedOperationException always
   */
  @Override
  public Clock withZone(ZoneId zone) {
    throw new UnsupportedOperationException("FakeClock is UTC only");
  }

  @Override
  public String toString() {
    return "FakeClock[" + instant() + "]";
  }
}
