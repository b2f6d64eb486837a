package io.mailtls.core.internal.policy;

import io.mailtls.core.DestinationPolicyMap;
import io.mailtls.core.MtaStsLookup;
import io.mailtls.core.MxResolution;
import io.mailtls.core.NextHop;
import io.mailtls.core.TlsLevel;
import java.util.Objects;
import java.util.Optional;

/**
 * What the domain-level part of a plan is decided from, once the lookups are done. Immutable.
 *
 * @param nextHop the recipient domain or address literal
 * @param level the sender's TLS level
 * @param mtaStsConfigured whether an MTA-STS policy source is configured (not {@code
 *     withoutMtaSts()})
 * @param daneConfigured whether a DANE provider is configured (not {@code withoutDane()})
 * @param mx the MX resolution: its outcome, the DNSSEC state of its answer, its hosts
 * @param sts the MTA-STS lookup; present exactly when a source is configured and the next hop is a
 *     domain
 * @param destination the operator's policy-map entry for the recipient domain, if any (only for a
 *     domain)
 */
public record DomainInputs(
    NextHop nextHop,
    TlsLevel level,
    boolean mtaStsConfigured,
    boolean daneConfigured,
    MxResolution mx,
    Optional<MtaStsLookup> sts,
    Optional<DestinationPolicyMap.Entry> destination) {

  public DomainInputs {
    Objects.requireNonNull(nextHop, "nextHop");
    Objects.requireNonNull(level, "level");
    Objects.requireNonNull(mx, "mx");
    Objects.requireNonNull(sts, "sts");
    if (sts.isPresent() && !(mtaStsConfigured && nextHop instanceof NextHop.Domain)) {
      throw new IllegalArgumentException(
          "an MTA-STS lookup needs a configured source and a domain: " + nextHop);
    }
    Objects.requireNonNull(destination, "destination");
    if (destination.isPresent() && !(nextHop instanceof NextHop.Domain)) {
      throw new IllegalArgumentException("a policy-map entry needs a domain: " + nextHop);
    }
  }

  /** Inputs without a policy-map entry. */
  public DomainInputs(
      NextHop nextHop,
      TlsLevel level,
      boolean mtaStsConfigured,
      boolean daneConfigured,
      MxResolution mx,
      Optional<MtaStsLookup> sts) {
    this(nextHop, level, mtaStsConfigured, daneConfigured, mx, sts, Optional.empty());
  }
}
