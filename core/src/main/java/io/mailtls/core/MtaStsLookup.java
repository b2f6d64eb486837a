package io.mailtls.core;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * What MTA-STS discovery (RFC 8461 §3, §5.1) says for a policy domain. Immutable.
 *
 * <p>"No policy" is a value, and so is a failure; neither is an exception. A failed lookup with no
 * usable cached policy means delivery proceeds as without MTA-STS (RFC 8461 §5.1), and the failure
 * is reported (RFC 8460); only the {@code sts-required} sender level refuses then.
 */
public sealed interface MtaStsLookup
    permits MtaStsLookup.Found, MtaStsLookup.NoPolicy, MtaStsLookup.Failed {

  /** The domain whose policy was looked up. */
  DomainName policyDomain();

  /**
   * How long a plan made with this result may be reused, counted from when the lookup began; empty
   * when the source does not say, and always for {@link Failed}, whose plans are not reused.
   */
  Optional<Duration> ttl();

  /**
   * A valid policy applies: freshly fetched, or cached and not expired.
   *
   * @param fromCache whether it came from the cache rather than a fetch during this lookup
   * @param note what happened on the way (e.g. a failed refresh while a cached policy applies)
   * @param ttl how long a plan made with this result may be reused, counted from when the lookup
   *     began: no longer than the {@code _mta-sts} TXT answer's TTL (a new policy id can be seen
   *     only after it) nor than the policy's cache lifetime (RFC 8461 §5.1); empty when the source
   *     does not say, and then a plan is reused only briefly ({@link
   *     TransportPolicyResolver.Builder#planCacheSize})
   * @param unconfirmed whether this cached policy applies only because discovery could not tell
   *     whether it is still current (RFC 8461 §3.3, §5.1): the TXT lookup failed, the record was
   *     present but unusable, or a new policy id could not be fetched. The domain may publish a
   *     different policy by now, so a decision that only the current policy may justify (a bounce
   *     under {@code sts-required} for a policy that does not enforce) is deferred instead.
   */
  record Found(
      DomainName policyDomain,
      MtaStsPolicy policy,
      boolean fromCache,
      String note,
      Optional<Duration> ttl,
      boolean unconfirmed)
      implements MtaStsLookup {
    public Found {
      Objects.requireNonNull(policyDomain, "policyDomain");
      Objects.requireNonNull(policy, "policy");
      Objects.requireNonNull(note, "note");
      Objects.requireNonNull(ttl, "ttl");
    }

    /** A result that discovery confirmed as current ({@code unconfirmed} false). */
    public Found(
        DomainName policyDomain,
        MtaStsPolicy policy,
        boolean fromCache,
        String note,
        Optional<Duration> ttl) {
      this(policyDomain, policy, fromCache, note, ttl, false);
    }

    /** A result that says nothing of how long it holds (an empty {@code ttl}). */
    public Found(DomainName policyDomain, MtaStsPolicy policy, boolean fromCache, String note) {
      this(policyDomain, policy, fromCache, note, Optional.empty());
    }
  }

  /**
   * No policy applies and none is cached.
   *
   * @param provablyAbsent whether DNS proved the {@code _mta-sts} record absent (NXDOMAIN or
   *     NODATA), as opposed to a record that was present but unusable
   * @param reason why
   * @param ttl how long a plan made with this result may be reused, counted from when the lookup
   *     began: no longer than the {@code _mta-sts} TXT answer's TTL (a new policy id can be seen
   *     only after it) (for an absent record, its negative TTL); empty when the source does not
   *     say, and then a plan is reused only briefly ({@link
   *     TransportPolicyResolver.Builder#planCacheSize})
   */
  record NoPolicy(
      DomainName policyDomain, boolean provablyAbsent, String reason, Optional<Duration> ttl)
      implements MtaStsLookup {
    public NoPolicy {
      Objects.requireNonNull(policyDomain, "policyDomain");
      Objects.requireNonNull(reason, "reason");
      Objects.requireNonNull(ttl, "ttl");
    }

    /** A result that says nothing of how long it holds (an empty {@code ttl}). */
    public NoPolicy(DomainName policyDomain, boolean provablyAbsent, String reason) {
      this(policyDomain, provablyAbsent, reason, Optional.empty());
    }
  }

  /**
   * Discovery or fetch failed and no fresh cached policy exists.
   *
   * @param type {@link FailureType#STS_POLICY_FETCH_ERROR}, {@link FailureType#STS_POLICY_INVALID},
   *     {@link FailureType#STS_WEBPKI_INVALID} or {@link FailureType#DNS_FAILURE}
   * @param reason what failed
   */
  record Failed(DomainName policyDomain, FailureType type, String reason) implements MtaStsLookup {
    public Failed {
      Objects.requireNonNull(policyDomain, "policyDomain");
      Objects.requireNonNull(type, "type");
      Objects.requireNonNull(reason, "reason");
    }

    /** Always empty: a plan made with a failed lookup is not reused. */
    @Override
    public Optional<Duration> ttl() {
      return Optional.empty();
    }
  }
}
