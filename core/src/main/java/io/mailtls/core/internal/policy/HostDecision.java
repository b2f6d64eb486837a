package io.mailtls.core.internal.policy;

import io.mailtls.core.FailureType;
import io.mailtls.core.PolicyFailure;
import io.mailtls.core.PolicySource;
import io.mailtls.core.TlsRequirement;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/** The decision for one host (docs/design.md §1). Immutable. */
public sealed interface HostDecision
    permits HostDecision.Use, HostDecision.Skip, HostDecision.FailDomain {

  /**
   * Use the host.
   *
   * @param requirement what TLS the host requires
   * @param source which policy set the requirement
   * @param why the one-line explanation of the planned host
   * @param reportOnly a stricter requirement whose failures are only reported (MTA-STS {@code
   *     testing})
   * @param notes lines for the plan's decision record
   * @param policyFailures recipient-policy failures found for this host (for TLS-RPT)
   */
  record Use(
      TlsRequirement requirement,
      PolicySource source,
      String why,
      Optional<TlsRequirement> reportOnly,
      List<String> notes,
      List<PolicyFailure> policyFailures)
      implements HostDecision {
    public Use {
      Objects.requireNonNull(requirement, "requirement");
      Objects.requireNonNull(source, "source");
      Objects.requireNonNull(why, "why");
      Objects.requireNonNull(reportOnly, "reportOnly");
      notes = List.copyOf(notes);
      policyFailures = List.copyOf(policyFailures);
    }
  }

  /**
   * Skip the host: it is never tried.
   *
   * @param failure why, as a type
   * @param reason why, in words
   * @param notes lines for the plan's decision record
   * @param policyFailures recipient-policy failures found for this host (for TLS-RPT)
   */
  record Skip(
      FailureType failure, String reason, List<String> notes, List<PolicyFailure> policyFailures)
      implements HostDecision {
    public Skip {
      Objects.requireNonNull(failure, "failure");
      Objects.requireNonNull(reason, "reason");
      notes = List.copyOf(notes);
      policyFailures = List.copyOf(policyFailures);
    }
  }

  /**
   * A rule for the whole domain applies before any host is looked at (an MX failure, a level that
   * cannot be met): the domain is deferred or bounced, whatever the host.
   */
  record FailDomain(DomainDecision.Fail fail) implements HostDecision {
    public FailDomain {
      Objects.requireNonNull(fail, "fail");
    }
  }
}
