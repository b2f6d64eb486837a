package io.mailtls.mtasts;

import io.mailtls.core.MtaStsPolicy;
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
}
