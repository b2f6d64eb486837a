package io.mailtls.tlsrpt;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * When the {@link TlsRptReporter} tries a report (or a failed {@code _smtp._tls} lookup) again:
 * after {@code firstBackoff}, then after a back-off that doubles up to {@code maxBackoff}, until
 * {@code period} has passed since the first attempt; the last attempt is made when the period ends,
 * and a failure then gives up. RFC 8460 §5.5: a sender SHOULD try again for up to 24 hours after
 * the initial attempt, with exponential back-off.
 *
 * <p>{@link #rfc8460()} (the default): 15 minutes, doubling, at most 4 hours apart, for 24 hours:
 * attempts at 0, 0:15, 0:45, 1:45, 3:45, 7:45, 11:45, 15:45, 19:45, 23:45 and 24:00 after the
 * first, eleven in all.
 *
 * @param firstBackoff the wait after the first failed attempt
 * @param maxBackoff the longest wait between two attempts
 * @param period how long after the first attempt the last one is made
 */
public record RetrySchedule(Duration firstBackoff, Duration maxBackoff, Duration period) {

  public RetrySchedule {
    positive(firstBackoff, "firstBackoff");
    positive(maxBackoff, "maxBackoff");
    Objects.requireNonNull(period, "period");
    if (period.isNegative()) {
      throw new IllegalArgumentException("period must not be negative: " + period);
    }
    if (maxBackoff.compareTo(firstBackoff) < 0) {
      throw new IllegalArgumentException("maxBackoff is shorter than firstBackoff");
    }
  }

  /** 15 minutes, doubling, at most 4 hours apart, for 24 hours (RFC 8460 §5.5). */
  public static RetrySchedule rfc8460() {
    return new RetrySchedule(Duration.ofMinutes(15), Duration.ofHours(4), Duration.ofHours(24));
  }

  /**
   * When to try again after {@code failedAttempts} failed attempts, the first made at {@code
   * first}, the last just now; empty when the period is over (give up).
   */
  public Optional<Instant> next(Instant first, int failedAttempts, Instant now) {
    Instant end = first.plus(period);
    if (!now.isBefore(end)) {
      return Optional.empty();
    }
    Duration wait = firstBackoff;
    for (int i = 1; i < failedAttempts && wait.compareTo(maxBackoff) < 0; i++) {
      wait = wait.multipliedBy(2);
    }
    if (wait.compareTo(maxBackoff) > 0) {
      wait = maxBackoff;
    }
    Instant next = now.plus(wait);
    return Optional.of(next.isAfter(end) ? end : next);
  }

  private static void positive(Duration d, String what) {
    Objects.requireNonNull(d, what);
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(what + " must be positive: " + d);
    }
  }
}
