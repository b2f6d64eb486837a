package io.mailtls.tlsrpt;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The counts of one applied policy in one day (RFC 8460 §4.3 {@code summary} and {@code
 * failure-details}). Immutable; {@link #plus} adds two, as a store merges counts.
 *
 * @param successfulSessions {@code total-successful-session-count}
 * @param failedSessions {@code total-failure-session-count}
 * @param failures {@code failed-session-count} per failure detail
 */
public record PolicyCounts(
    long successfulSessions, long failedSessions, Map<FailureDetail, Long> failures) {

  /** Nothing counted. */
  public static final PolicyCounts ZERO = new PolicyCounts(0, 0, Map.of());

  public PolicyCounts {
    if (successfulSessions < 0 || failedSessions < 0) {
      throw new IllegalArgumentException("negative count");
    }
    failures = Map.copyOf(failures);
    for (Long n : failures.values()) {
      if (n <= 0) {
        throw new IllegalArgumentException("a failure detail's count must be positive: " + n);
      }
    }
  }

  /** One successful session. */
  public static PolicyCounts success() {
    return new PolicyCounts(1, 0, Map.of());
  }

  /** One failed session, with its detail. */
  public static PolicyCounts failure(FailureDetail detail) {
    return new PolicyCounts(0, 1, Map.of(Objects.requireNonNull(detail, "detail"), 1L));
  }

  /** The sum of these counts and {@code other}'s. */
  public PolicyCounts plus(PolicyCounts other) {
    Map<FailureDetail, Long> sum = new HashMap<>(failures);
    other.failures.forEach((k, v) -> sum.merge(k, v, Math::addExact));
    return new PolicyCounts(
        Math.addExact(successfulSessions, other.successfulSessions),
        Math.addExact(failedSessions, other.failedSessions),
        sum);
  }
}
