package io.mailtls.core;

import java.time.Duration;
import java.util.Optional;
import java.util.function.LongSupplier;

/** The {@link Timings} of a recipient, from its domain's plan time and its attempts' timings. */
final class RecipientTimings {

  private RecipientTimings() {}

  /**
   * {@code result}'s timings: {@code plan}, the sums of the attempts up to the deciding one (all of
   * them when none decided), and the time from {@code callStart} to now on {@code nanoTime}.
   */
  static Timings of(RecipientResult result, Duration plan, long callStart, LongSupplier nanoTime) {
    Optional<Duration> connect = Optional.empty();
    Optional<Duration> tls = Optional.empty();
    Optional<Duration> data = Optional.empty();
    Optional<Attempt> deciding = result.attempt();
    for (Attempt a : result.attempts()) {
      Timings t = a.timings();
      connect = plus(connect, t.connect());
      tls = plus(tls, t.tls());
      data = plus(data, t.data());
      @SuppressWarnings("ReferenceEquality") // the deciding attempt is one of these objects
      boolean decided = deciding.isPresent() && deciding.get() == a;
      if (decided) {
        break; // the attempts after it did not concern this recipient
      }
    }
    Duration total = Duration.ofNanos(Math.max(0, nanoTime.getAsLong() - callStart));
    Duration phases =
        plan.plus(connect.orElse(Duration.ZERO))
            .plus(tls.orElse(Duration.ZERO))
            .plus(data.orElse(Duration.ZERO));
    // The phases are disjoint parts of the call; only a clock stepping backwards could make them
    // add up to more, and then the total is at least their sum.
    return Timings.of(
        Optional.of(plan), connect, tls, data, total.compareTo(phases) < 0 ? phases : total);
  }

  private static Optional<Duration> plus(Optional<Duration> sum, Optional<Duration> d) {
    if (d.isEmpty()) {
      return sum;
    }
    return Optional.of(sum.orElse(Duration.ZERO).plus(d.get()));
  }
}
