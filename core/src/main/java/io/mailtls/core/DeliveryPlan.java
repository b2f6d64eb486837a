package io.mailtls.core;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * How mail for one next hop is to be delivered: the hosts in order with their TLS requirements,
 * the hosts skipped, or why no delivery can be attempted. Immutable.
 *
 * @param nextHop the recipient domain (or address literal)
 * @param senderLevel the sender's TLS level that applied; empty when it could not be looked up
 *     (the plan then fails with {@link FailureType#SENDER_POLICY_UNAVAILABLE})
 * @param mx the MX resolution the plan was built from
 * @param hosts the hosts to try, in order; empty when {@code failure} is present
 * @param skipped hosts not to try, with reasons
 * @param failure why nothing can be tried: the status and reply every recipient gets
 * @param reasons the decision record: which levels and policies applied, in words
 * @param policyFailures recipient-policy failures found while planning (an MTA-STS fetch error,
 *     MX hosts outside the policy), for TLS-RPT
 * @param mtaSts the MTA-STS policy that applied ({@code enforce} or {@code testing}), if any
 */
public record DeliveryPlan(
    NextHop nextHop,
    Optional<TlsLevel> senderLevel,
    MxResolution mx,
    List<PlannedHost> hosts,
    List<SkippedHost> skipped,
    Optional<Failure> failure,
    List<String> reasons,
    List<PolicyFailure> policyFailures,
    Optional<MtaStsPolicy> mtaSts) {

  /** A plan under a known sender level. */
  public DeliveryPlan(NextHop nextHop, TlsLevel senderLevel, MxResolution mx,
      List<PlannedHost> hosts, List<SkippedHost> skipped, Optional<Failure> failure,
      List<String> reasons, List<PolicyFailure> policyFailures, Optional<MtaStsPolicy> mtaSts) {
    this(nextHop, Optional.of(senderLevel), mx, hosts, skipped, failure, reasons, policyFailures,
        mtaSts);
  }

  /** A plan without recipient policy. */
  public DeliveryPlan(NextHop nextHop, TlsLevel senderLevel, MxResolution mx,
      List<PlannedHost> hosts, List<SkippedHost> skipped, Optional<Failure> failure,
      List<String> reasons) {
    this(nextHop, Optional.of(senderLevel), mx, hosts, skipped, failure, reasons, List.of(),
        Optional.empty());
  }

  /**
   * Why no delivery can be attempted.
   *
   * @param status {@link DeliveryStatus#DEFERRED} or {@link DeliveryStatus#BOUNCED}
   * @param reply the locally generated reply for the report
   * @param type the failure's type
   */
  public record Failure(DeliveryStatus status, SmtpReply reply, FailureType type) {
    public Failure {
      if (status == DeliveryStatus.DELIVERED) {
        throw new IllegalArgumentException("a plan failure cannot deliver");
      }
      Objects.requireNonNull(reply, "reply");
      Objects.requireNonNull(type, "type");
    }
  }

  public DeliveryPlan {
    Objects.requireNonNull(nextHop, "nextHop");
    Objects.requireNonNull(senderLevel, "senderLevel");
    Objects.requireNonNull(mx, "mx");
    hosts = List.copyOf(hosts);
    skipped = List.copyOf(skipped);
    Objects.requireNonNull(failure, "failure");
    reasons = List.copyOf(reasons);
    policyFailures = List.copyOf(policyFailures);
    Objects.requireNonNull(mtaSts, "mtaSts");
    if (failure.isPresent() && !hosts.isEmpty()) {
      throw new IllegalArgumentException("a failed plan has no hosts");
    }
  }
}
