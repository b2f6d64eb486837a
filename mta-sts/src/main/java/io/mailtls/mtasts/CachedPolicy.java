package io.mailtls.mtasts;

import io.mailtls.core.MtaStsPolicy;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * A policy in the cache (RFC 8461 §5.1): the policy, when it was fetched and when it expires
 * ({@code fetchedAt + max_age}). Immutable.
 */
public record CachedPolicy(MtaStsPolicy policy, Instant fetchedAt, Instant expiresAt) {

  public CachedPolicy {
    Objects.requireNonNull(policy, "policy");
    Objects.requireNonNull(fetchedAt, "fetchedAt");
    Objects.requireNonNull(expiresAt, "expiresAt");
  }

  /** A cache entry for a policy fetched at {@code now}. */
  public static CachedPolicy fetched(MtaStsPolicy policy, Instant now) {
    return new CachedPolicy(policy, now, now.plus(policy.maxAge()));
  }

  /** Whether the entry may still be used at {@code now}. */
  public boolean isFresh(Instant now) {
    return now.isBefore(expiresAt);
  }

  /**
   * How far a fetch time may lie after a reader's now and still be taken as it is: the clocks of a
   * fleet's hosts sharing a store differ by that much at most (NTP keeps them well within it). An
   * entry fetched later than that ({@link #fetchedAhead}) was dated by a clock that went back
   * since, or was altered.
   */
  public static final Duration CLOCK_TOLERANCE = Duration.ofMinutes(1);

  /**
   * Whether this entry was fetched more than {@link #CLOCK_TOLERANCE} after {@code now}: its date
   * is no fetch time any more, and it must neither outrank later fetches (RFC 8461 §10.2) nor apply
   * for {@code max_age} after a time not yet reached (§5.1).
   */
  public boolean fetchedAhead(Instant now) {
    return Duration.between(now, fetchedAt).compareTo(CLOCK_TOLERANCE) > 0;
  }

  /**
   * This entry as of {@code now}: an entry fetched after {@code now} (the clock went back since the
   * fetch was dated, by an NTP step or a restored VM, or the record was altered) counts as fetched
   * at {@code now}, and expires at the earlier of its own expiry and {@code max_age} after {@code
   * now}. So it never applies longer than {@code max_age} from now (RFC 8461 §5.1), and is not kept
   * out of the cache's order by a fetch time not yet reached. An entry fetched at or before {@code
   * now} is returned as it is.
   */
  CachedPolicy fetchedNoLaterThan(Instant now) {
    if (!fetchedAt.isAfter(now)) {
      return this;
    }
    Duration maxAge = policy.maxAge();
    // Compared, not added: now + max_age is only computed when it lies before expiresAt.
    Instant expires =
        Duration.between(now, expiresAt).compareTo(maxAge) > 0 ? now.plus(maxAge) : expiresAt;
    return new CachedPolicy(policy, now, expires);
  }
}
