package io.mailtls.core;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * How mail for one next hop is to be delivered: the hosts in order with their TLS requirements, the
 * hosts skipped, or why no delivery can be attempted.
 *
 * <p>Immutable. mailtls builds it and callers read it: its constructor is not public, so that it
 * may gain components without breaking callers (docs/design.md §5).
 */
public final class DeliveryPlan {

  private final NextHop nextHop;
  private final Optional<TlsLevel> senderLevel;
  private final MxResolution mx;
  private final List<PlannedHost> hosts;
  private final List<SkippedHost> skipped;
  private final Optional<Failure> failure;
  private final List<String> reasons;
  private final List<PolicyFailure> policyFailures;
  private final Optional<MtaStsPolicy> mtaSts;

  /** Not public: built by the planner and the transport. */
  DeliveryPlan(
      NextHop nextHop,
      Optional<TlsLevel> senderLevel,
      MxResolution mx,
      List<PlannedHost> hosts,
      List<SkippedHost> skipped,
      Optional<Failure> failure,
      List<String> reasons,
      List<PolicyFailure> policyFailures,
      Optional<MtaStsPolicy> mtaSts) {
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
    this.nextHop = nextHop;
    this.senderLevel = senderLevel;
    this.mx = mx;
    this.hosts = hosts;
    this.skipped = skipped;
    this.failure = failure;
    this.reasons = reasons;
    this.policyFailures = policyFailures;
    this.mtaSts = mtaSts;
  }

  /** A plan under a known sender level. Not public: built by the planner. */
  DeliveryPlan(
      NextHop nextHop,
      TlsLevel senderLevel,
      MxResolution mx,
      List<PlannedHost> hosts,
      List<SkippedHost> skipped,
      Optional<Failure> failure,
      List<String> reasons,
      List<PolicyFailure> policyFailures,
      Optional<MtaStsPolicy> mtaSts) {
    this(
        nextHop,
        Optional.of(senderLevel),
        mx,
        hosts,
        skipped,
        failure,
        reasons,
        policyFailures,
        mtaSts);
  }

  /** A plan without recipient policy. Not public: built by the transport. */
  DeliveryPlan(
      NextHop nextHop,
      TlsLevel senderLevel,
      MxResolution mx,
      List<PlannedHost> hosts,
      List<SkippedHost> skipped,
      Optional<Failure> failure,
      List<String> reasons) {
    this(
        nextHop,
        Optional.of(senderLevel),
        mx,
        hosts,
        skipped,
        failure,
        reasons,
        List.of(),
        Optional.empty());
  }

  /** The recipient domain (or address literal). */
  public NextHop nextHop() {
    return nextHop;
  }

  /**
   * The sender's TLS level that applied; empty when it could not be looked up (the plan then fails
   * with {@link FailureType#SENDER_POLICY_UNAVAILABLE}).
   */
  public Optional<TlsLevel> senderLevel() {
    return senderLevel;
  }

  /** The MX resolution the plan was built from. */
  public MxResolution mx() {
    return mx;
  }

  /** The hosts to try, in order; empty when {@link #failure()} is present. */
  public List<PlannedHost> hosts() {
    return hosts;
  }

  /** Hosts not to try, with reasons. */
  public List<SkippedHost> skipped() {
    return skipped;
  }

  /** Why nothing can be tried: the status and reply every recipient gets. */
  public Optional<Failure> failure() {
    return failure;
  }

  /** The decision record: which levels and policies applied, in words. */
  public List<String> reasons() {
    return reasons;
  }

  /**
   * Recipient-policy failures found while planning (an MTA-STS fetch error, MX hosts outside the
   * policy), for TLS-RPT.
   */
  public List<PolicyFailure> policyFailures() {
    return policyFailures;
  }

  /** The MTA-STS policy that applied ({@code enforce} or {@code testing}), if any. */
  public Optional<MtaStsPolicy> mtaSts() {
    return mtaSts;
  }

  /** Equal when every component is. */
  @Override
  public boolean equals(Object o) {
    return o instanceof DeliveryPlan other
        && nextHop.equals(other.nextHop)
        && senderLevel.equals(other.senderLevel)
        && mx.equals(other.mx)
        && hosts.equals(other.hosts)
        && skipped.equals(other.skipped)
        && failure.equals(other.failure)
        && reasons.equals(other.reasons)
        && policyFailures.equals(other.policyFailures)
        && mtaSts.equals(other.mtaSts);
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        nextHop, senderLevel, mx, hosts, skipped, failure, reasons, policyFailures, mtaSts);
  }

  /**
   * Why no delivery can be attempted.
   *
   * <p>Immutable; built by mailtls, read by callers (docs/design.md §5).
   */
  public static final class Failure {

    private final DeliveryStatus status;
    private final SmtpReply reply;
    private final FailureType type;

    /** Not public: built by the planner. */
    Failure(DeliveryStatus status, SmtpReply reply, FailureType type) {
      Objects.requireNonNull(status, "status");
      if (status == DeliveryStatus.DELIVERED) {
        throw new IllegalArgumentException("a plan failure cannot deliver");
      }
      Objects.requireNonNull(reply, "reply");
      Objects.requireNonNull(type, "type");
      this.status = status;
      this.reply = reply;
      this.type = type;
    }

    /** {@link DeliveryStatus#DEFERRED} or {@link DeliveryStatus#BOUNCED}. */
    public DeliveryStatus status() {
      return status;
    }

    /** The locally generated reply for the report. */
    public SmtpReply reply() {
      return reply;
    }

    /** The failure's type. */
    public FailureType type() {
      return type;
    }

    /** Equal when every component is. */
    @Override
    public boolean equals(Object o) {
      return o instanceof Failure other
          && status.equals(other.status)
          && reply.equals(other.reply)
          && type.equals(other.type);
    }

    @Override
    public int hashCode() {
      return Objects.hash(status, reply, type);
    }

    /** In the form a record has: {@code Failure[status=…, …]}. */
    @Override
    public String toString() {
      return "Failure[status=" + status + ", reply=" + reply + ", type=" + type + "]";
    }
  }

  /** In the form a record has: {@code DeliveryPlan[nextHop=…, …]}. */
  @Override
  public String toString() {
    return "DeliveryPlan[nextHop="
        + nextHop
        + ", senderLevel="
        + senderLevel
        + ", mx="
        + mx
        + ", hosts="
        + hosts
        + ", skipped="
        + skipped
        + ", failure="
        + failure
        + ", reasons="
        + reasons
        + ", policyFailures="
        + policyFailures
        + ", mtaSts="
        + mtaSts
        + "]";
  }
}
