package io.mailtls.core.internal.transport;

import io.mailtls.core.Attempt;
import io.mailtls.core.DeliveryPlan;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DestinationPolicyMap;
import io.mailtls.core.DomainName;
import io.mailtls.core.DowngradeMemory;
import io.mailtls.core.DowngradeProtection;
import io.mailtls.core.EnhancedStatus;
import io.mailtls.core.FailureType;
import io.mailtls.core.NextHop;
import io.mailtls.core.PlannedHost;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SkippedHost;
import io.mailtls.core.SmtpReply;
import io.mailtls.core.TransportSecurity;
import io.mailtls.core.internal.Values;
import io.mailtls.core.internal.policy.MessageTlsOption;
import io.mailtls.core.internal.policy.MessageTlsPolicy;
import io.mailtls.core.internal.smtp.PeerText;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Applies a transport's {@link DowngradeProtection} (docs/design.md §1, "Downgrade memory"): before
 * a delivery, the memory's {@link Verdict} for the next hop, which adds a line to the plan's
 * decision record and may skip hosts; during it, {@link Verdict#plaintextRefused()} for {@link
 * DomainDelivery}; after it, {@link #record} of what the delivery achieved. Thread-safe; with no
 * protection configured ({@link #OFF}), it changes nothing and records nothing.
 */
public final class DowngradeGuard {

  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(DowngradeGuard.class);

  /** No protection: every verdict is {@link Kind#OFF}. */
  public static final DowngradeGuard OFF = new DowngradeGuard(null);

  /** What the memory says about one delivery. */
  public enum Kind {
    /** No protection configured: nothing said, nothing recorded. */
    OFF,
    /** An address literal has no domain to remember. */
    NOT_KEPT,
    /** Nothing stronger than plaintext seen within the period. */
    NOTHING_RECENT,
    /** The operator exempted the domain: the memory is not applied. */
    EXEMPT,
    /** TLS seen within the period: no plaintext session. */
    REFUSE_PLAINTEXT,
    /** Authenticated TLS seen within the period: only hosts whose requirement authenticates. */
    REQUIRE_AUTHENTICATION,
    /** The memory could not be read: deferred rather than delivered unchecked. */
    UNAVAILABLE
  }

  /**
   * The memory's verdict for one next hop.
   *
   * @param kind what it says
   * @param line the decision record's line (empty for {@link Kind#OFF})
   */
  public record Verdict(Kind kind, String line) {

    static final Verdict NONE = new Verdict(Kind.OFF, "");

    /** The reason a plaintext session is refused, when it is. */
    public Optional<String> plaintextRefused() {
      return kind == Kind.REFUSE_PLAINTEXT || kind == Kind.REQUIRE_AUTHENTICATION
          ? Optional.of(line)
          : Optional.empty();
    }
  }

  private final @Nullable DowngradeProtection protection;

  private DowngradeGuard(@Nullable DowngradeProtection protection) {
    this.protection = protection;
  }

  /**
   * A guard over {@code protection}; {@link #OFF} for none. Besides the protection's own
   * exemptions, every domain whose policy-map entry sets a recipient policy aside ({@code
   * override=sts}, {@code override=dane} or {@code allow-downgrade}) is exempt: the operator who
   * lowers a domain's policy has said that its deliveries may be weaker than before. The entry is
   * the one the delivery's plan was made under ({@link #verdict(NextHop, Optional)}), not read
   * here: a reloaded map never judges a plan made under its previous version.
   */
  public static DowngradeGuard of(Optional<DowngradeProtection> protection) {
    return protection.map(DowngradeGuard::new).orElse(OFF);
  }

  /**
   * The verdict for {@code hop} now, for a delivery planned under {@code entry}: the policy-map
   * entry the caller read once for this delivery (empty for none, and for a map that failed, which
   * exempts nothing). Never throws.
   */
  public Verdict verdict(NextHop hop, Optional<DestinationPolicyMap.Entry> entry) {
    DowngradeProtection p = protection;
    if (p == null) {
      return Verdict.NONE;
    }
    if (!(hop instanceof NextHop.Domain d)) {
      return new Verdict(Kind.NOT_KEPT, "downgrade memory: not kept for an address literal");
    }
    DowngradeMemory.Seen seen;
    try {
      seen = p.memory().seen(d.name());
    } catch (Exception e) {
      SafeListener.keepInterrupt(e);
      // Exception, here and below: a store in Kotlin, or with @SneakyThrows, throws undeclared
      // checked ones too.
      log.warn("downgrade memory lookup for {} failed", d.name(), e);
      return new Verdict(
          Kind.UNAVAILABLE,
          PeerText.clean(
              "downgrade memory unavailable ("
                  + e
                  + "); deferred rather than delivered without the check"));
    }
    boolean exempt;
    try {
      exempt =
          p.exemptions().test(d.name())
              || entry.map(e -> !e.policy().overrides().isEmpty()).orElse(false);
    } catch (Exception e) {
      SafeListener.keepInterrupt(e);
      log.warn("downgrade memory exemption check for {} failed; not exempt", d.name(), e);
      exempt = false;
    }
    return decide(seen, p.clock().instant(), p.period(), exempt);
  }

  /**
   * The rule, a pure function: the strongest level seen at or after {@code now - period} is the
   * floor, unless the domain is exempt. A time more than {@link
   * DowngradeProtection#MAX_CLOCK_AHEAD} after {@code now} is ignored, and the line says so.
   */
  static Verdict decide(DowngradeMemory.Seen seen, Instant now, Duration period, boolean exempt) {
    Instant latest = now.plus(DowngradeProtection.MAX_CLOCK_AHEAD);
    String ahead = "";
    if (seen.tls().filter(t -> t.isAfter(latest)).isPresent()) {
      // tls is never earlier than authenticatedTls, so it holds the time furthest ahead.
      ahead =
          "; ignored a time more than 1 hour ahead of the clock (" + seen.tls().orElseThrow() + ")";
      seen =
          new DowngradeMemory.Seen(
              seen.tls().filter(t -> !t.isAfter(latest)),
              seen.authenticatedTls().filter(t -> !t.isAfter(latest)));
    }
    Instant cutoff = now.minus(period);
    TransportSecurity floor = seen.strongestSince(cutoff);
    String within = " (within " + describe(period) + ")";
    String what =
        switch (floor) {
              case AUTHENTICATED_TLS ->
                  "authenticated TLS seen " + seen.authenticatedTls().orElseThrow() + within;
              case TLS -> "TLS seen " + seen.tls().orElseThrow() + within;
              case PLAINTEXT -> "no TLS delivery within " + describe(period);
            }
            + ahead;
    if (exempt) {
      return new Verdict(
          Kind.EXEMPT, "downgrade memory: exempt by operator entry, not applied; " + what);
    }
    return switch (floor) {
      case PLAINTEXT -> new Verdict(Kind.NOTHING_RECENT, "downgrade memory: " + what);
      case TLS ->
          new Verdict(Kind.REFUSE_PLAINTEXT, "downgrade memory: " + what + "; plaintext refused");
      case AUTHENTICATED_TLS ->
          new Verdict(
              Kind.REQUIRE_AUTHENTICATION,
              "downgrade memory: "
                  + what
                  + "; hosts without DANE or PKIX authentication skipped, plaintext refused");
    };
  }

  private static String describe(Duration period) {
    if (period.toDays() > 0 && period.equals(Duration.ofDays(period.toDays()))) {
      return period.toDays() == 1 ? "1 day" : period.toDays() + " days";
    }
    return period.toString();
  }

  /**
   * {@code plan} under {@code verdict}: its line added to the decision record; for {@link
   * Kind#REQUIRE_AUTHENTICATION}, the hosts whose requirement does not authenticate the peer
   * skipped ({@link FailureType#DOWNGRADE_DETECTED}) and the domain deferred when none is left; for
   * {@link Kind#UNAVAILABLE}, the domain deferred. For a message without REQUIRETLS.
   */
  public static DeliveryPlan apply(DeliveryPlan plan, Verdict verdict) {
    return apply(plan, verdict, MessageTlsOption.DEFAULT, false);
  }

  /**
   * {@link #apply(DeliveryPlan, Verdict)} for a message that asks {@code option} of {@code plan}
   * (the next hop's plan, before {@link MessageTlsPolicy} makes it the message's). The floor is
   * judged on the requirement each host will be used with: a host that REQUIRETLS raises to PKIX
   * for this message (an MTA-STS policy lists it, {@link MessageTlsPolicy.Raise}) meets {@link
   * Kind#REQUIRE_AUTHENTICATION} and is kept, since the session will authenticate it; every other
   * host is judged on its own requirement, as for any message.
   *
   * @param relay whether the next hop is the transport's relay
   */
  public static DeliveryPlan apply(
      DeliveryPlan plan, Verdict verdict, MessageTlsOption option, boolean relay) {
    if (verdict.kind() == Kind.OFF) {
      return plan;
    }
    List<String> reasons = new ArrayList<>(plan.reasons());
    reasons.add(verdict.line());
    List<PlannedHost> hosts = plan.hosts();
    List<SkippedHost> skipped = new ArrayList<>(plan.skipped());
    Optional<DeliveryPlan.Failure> failure = plan.failure();
    if (verdict.kind() == Kind.UNAVAILABLE && failure.isEmpty()) {
      // RFC 3463 4.3.0: other mail system status; the check may work later.
      hosts = List.of();
      failure =
          Optional.of(
              Values.planFailure(
                  DeliveryStatus.DEFERRED,
                  SmtpReply.local(451, "4.3.0", verdict.line()),
                  FailureType.POLICY_UNAVAILABLE));
    } else if (verdict.kind() == Kind.REQUIRE_AUTHENTICATION && failure.isEmpty()) {
      List<PlannedHost> kept = new ArrayList<>();
      for (PlannedHost h : hosts) {
        if (h.requirement().requiresAuthentication()) {
          kept.add(h);
        } else if (option == MessageTlsOption.REQUIRETLS
            && MessageTlsPolicy.requireTlsVerdict(plan, h, relay)
                instanceof MessageTlsPolicy.Raise) {
          kept.add(h);
          reasons.add(
              "downgrade memory: "
                  + h.name().map(DomainName::toString).orElse("the host")
                  + " kept: REQUIRETLS raises it to PKIX on its MX host name for this message,"
                  + " which authenticates the peer");
        } else {
          skipped.add(
              Values.skippedHost(
                  h.name().orElse(DomainName.ROOT),
                  FailureType.DOWNGRADE_DETECTED,
                  "its requirement does not authenticate the peer; " + verdict.line()));
        }
      }
      hosts = kept;
      if (kept.isEmpty()) {
        failure =
            Optional.of(
                Values.planFailure(
                    DeliveryStatus.DEFERRED,
                    refusal(verdict.line()),
                    FailureType.DOWNGRADE_DETECTED));
      }
    }
    return Values.deliveryPlan(
        plan.nextHop(),
        plan.senderLevel(),
        plan.mx(),
        hosts,
        skipped,
        failure,
        reasons,
        plan.policyFailures(),
        plan.mtaSts());
  }

  /**
   * The reply of a delivery refused as a downgrade: 451 4.7.4, "security features not supported"
   * (RFC 3463 §3.8): the security this domain's deliveries had is a feature the session would not
   * have. Transient: the domain may offer it again, or the operator may exempt it.
   */
  public static SmtpReply refusal(String why) {
    return SmtpReply.local(
        451, EnhancedStatus.SECURITY_FEATURES_NOT_SUPPORTED, "downgrade refused: " + why);
  }

  /**
   * Records what the delivered recipients' sessions achieved (the 250 to the final dot, or BDAT
   * LAST), once per level, as far as the next hop's own plan asked for it: a session authenticated
   * only because the message raised its host's requirement (REQUIRETLS on a host an MTA-STS {@code
   * testing} policy lists, {@link MessageTlsPolicy}) counts as {@link TransportSecurity#TLS}. The
   * memory keeps what the recipient's policies (and the sender's own) gave, so that it defers mail
   * when that vanishes; a message's own choice is no promise of the domain's. Never throws: a store
   * that fails is logged, the report stands.
   *
   * @param plans the next hop's plans the results were delivered under, before any per-message
   *     change ({@link MessageTlsPolicy}): the first, then the one of RFC 8461 §5.1's re-check, if
   *     any
   */
  public void record(List<DeliveryPlan> plans, List<RecipientResult> results) {
    DowngradeProtection p = protection;
    if (p == null || plans.isEmpty() || !(plans.get(0).nextHop() instanceof NextHop.Domain d)) {
      return;
    }
    Set<TransportSecurity> achieved = EnumSet.noneOf(TransportSecurity.class);
    for (RecipientResult r : results) {
      if (r.status() == DeliveryStatus.DELIVERED) {
        r.attempt().ifPresent(a -> recorded(plans, a).ifPresent(achieved::add));
      }
    }
    if (achieved.isEmpty()) {
      return;
    }
    Instant now = p.clock().instant().truncatedTo(ChronoUnit.MILLIS);
    for (TransportSecurity s : achieved) {
      try {
        p.memory().raise(d.name(), s, now);
      } catch (Exception e) {
        SafeListener.keepInterrupt(e);
        log.warn("recording {} for {} in the downgrade memory failed", s, d.name(), e);
      }
    }
  }

  /**
   * What a delivering attempt teaches the memory: the security its session achieved, but
   * authenticated TLS only when the next hop's plan required it of that host (its requirement
   * before any per-message raise); else, and when no plan names the host, at most TLS.
   */
  static Optional<TransportSecurity> recorded(List<DeliveryPlan> plans, Attempt a) {
    return a.authentication()
        .map(TransportSecurity::of)
        .map(
            s ->
                s == TransportSecurity.AUTHENTICATED_TLS && !plannedToAuthenticate(plans, a)
                    ? TransportSecurity.TLS
                    : s);
  }

  /**
   * Whether the plan the attempt was made under (the one with its MTA-STS policy, the latest first)
   * required authentication of the attempt's host and address.
   */
  private static boolean plannedToAuthenticate(List<DeliveryPlan> plans, Attempt a) {
    InetAddress address = a.address().getAddress();
    for (int i = plans.size() - 1; i >= 0; i--) {
      DeliveryPlan plan = plans.get(i);
      if (!plan.mtaSts().equals(a.mtaStsPolicy())) {
        continue;
      }
      for (PlannedHost h : plan.hosts()) {
        if (h.name().equals(a.host()) && h.addresses().contains(address)) {
          return h.requirement().requiresAuthentication();
        }
      }
    }
    return false;
  }
}
