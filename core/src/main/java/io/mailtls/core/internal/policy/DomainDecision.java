package io.mailtls.core.internal.policy;

import io.mailtls.core.DeliveryPlan;
import io.mailtls.core.MtaStsMode;
import io.mailtls.core.MtaStsPolicy;
import io.mailtls.core.PolicyFailure;
import io.mailtls.core.SkippedHost;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What the rules that apply before any host decided for a next hop. Immutable.
 *
 * <p>Both outcomes carry the decision record so far, the recipient-policy failures found so far
 * (for TLS-RPT) and the MTA-STS policy that applies, in the order the plan shows them.
 */
public sealed interface DomainDecision permits DomainDecision.Proceed, DomainDecision.Fail {

  /** The decision record so far. */
  List<String> reasons();

  /** Recipient-policy failures found so far. */
  List<PolicyFailure> policyFailures();

  /** The MTA-STS policy that applies ({@code enforce} or {@code testing}), if any. */
  Optional<MtaStsPolicy> mtaSts();

  /** No domain-level rule applies: each host is decided ({@link HostPolicy#decide}). */
  record Proceed(
      Optional<MtaStsPolicy> mtaSts, List<String> reasons, List<PolicyFailure> policyFailures)
      implements DomainDecision {
    public Proceed {
      Objects.requireNonNull(mtaSts, "mtaSts");
      reasons = List.copyOf(reasons);
      policyFailures = List.copyOf(policyFailures);
    }

    /** Whether an MTA-STS {@code enforce} policy applies. */
    public boolean enforce() {
      return mtaSts.map(p -> p.mode() == MtaStsMode.ENFORCE).orElse(false);
    }
  }

  /**
   * A domain-level rule decided: no host is tried, every recipient gets {@code failure}.
   *
   * @param skipped the MX hosts the rule rules out, each with the reason (may be empty)
   */
  record Fail(
      DeliveryPlan.Failure failure,
      List<SkippedHost> skipped,
      Optional<MtaStsPolicy> mtaSts,
      List<String> reasons,
      List<PolicyFailure> policyFailures)
      implements DomainDecision {
    public Fail {
      Objects.requireNonNull(failure, "failure");
      skipped = List.copyOf(skipped);
      Objects.requireNonNull(mtaSts, "mtaSts");
      reasons = List.copyOf(reasons);
      policyFailures = List.copyOf(policyFailures);
    }
  }
}
