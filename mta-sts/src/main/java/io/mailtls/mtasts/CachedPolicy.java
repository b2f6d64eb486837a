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
