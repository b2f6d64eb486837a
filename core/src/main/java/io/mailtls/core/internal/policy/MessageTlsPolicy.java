package io.mailtls.core.internal.policy;

import io.mailtls.core.DeliveryPlan;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DnssecState;
import io.mailtls.core.DomainName;
import io.mailtls.core.FailureType;
import io.mailtls.core.MtaStsMode;
import io.mailtls.core.MtaStsPolicy;
import io.mailtls.core.MxHost;
import io.mailtls.core.NextHop;
import io.mailtls.core.PlannedHost;
import io.mailtls.core.PolicyFailure;
import io.mailtls.core.PolicySource;
import io.mailtls.core.SkippedHost;
import io.mailtls.core.SmtpReply;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.TlsRequirement;
import io.mailtls.core.internal.Values;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * RFC 8689 on top of a plan: what one message's REQUIRETLS or {@code TLS-Required: No} makes of the
 * plan that the sender's level and the recipient's policies gave ({@link HostPolicy}). A pure
 * function of the plan and the message's option, so the plan cache stays per next hop and level;
 * the rules are the per-message table of docs/design.md §1 ({@code MessageTlsTableTest}).
 *
 * <p>REQUIRETLS (RFC 8689 §4.2.1) keeps a host only when the path to it can be authenticated: its
 * name comes from a DNSSEC-secure MX answer or matches the recipient's MTA-STS policy ({@code
 * enforce} or {@code testing}: §4.2.1 step 2 asks for the RFC 8461 §4.1 match, which a {@code
 * testing} policy states as well), and its certificate is checked by DANE or by PKIX with the MX
 * host's name (step 4). A host under a {@code testing} policy is raised to PKIX for this message,
 * unless the operator's policy map pins its certificate: the pin is neither DANE nor PKIX, and is
 * never dropped, so that host is ruled out. Nothing else authenticates a host (the sender's levels
 * check no certificate), so without DANE or MTA-STS no host is left. A relay must be authenticated
 * (its TLS mode verifies it). The session checks the rest: REQUIRETLS advertised in the EHLO reply
 * after STARTTLS, and {@code REQUIRETLS} on {@code MAIL FROM}.
 *
 * <p>{@code TLS-Required: No} (RFC 8689 §4.2.2) asks that recipient policies not stop delivery:
 * hosts that MTA-STS or DANE set a requirement for go at the sender's own requirement, with the
 * recipient's requirement checked and reported only; hosts that MTA-STS {@code enforce} left out,
 * or whose TLSA lookup failed, are tried. The sender's own level is the operator's and stays: at
 * {@code sts-required} and {@code dane-required} the header changes nothing (docs/design.md,
 * "REQUIRETLS and TLS-Required").
 */
public final class MessageTlsPolicy {

  private MessageTlsPolicy() {}

  /** RFC 8689 §4.2.1, RFC 3463 / RFC 5248: REQUIRETLS support required. */
  public static final String REQUIRETLS_STATUS = "5.7.30";

  /**
   * The plan for one message.
   *
   * @param plan the plan of the next hop under the sender's level
   * @param option what the message asks
   * @param relay whether the next hop is the transport's relay (a smart host)
   */
  public static DeliveryPlan apply(DeliveryPlan plan, MessageTlsOption option, boolean relay) {
    return switch (option) {
      case DEFAULT -> plan;
      case REQUIRETLS -> requireTls(plan, relay);
      case TLS_REQUIRED_NO -> tlsRequiredNo(plan, relay);
    };
  }

  // ------------------------------------------------------------------------------ REQUIRETLS

  /** What REQUIRETLS makes of one planned host. */
  public sealed interface Verdict permits Keep, Raise, RuleOut {}

  /** The host's requirement authenticates it already. */
  public record Keep(String why) implements Verdict {}

  /**
   * The host is used with PKIX on its MX name (an MTA-STS {@code testing} policy lists it). The
   * raised host keeps {@link PolicySource#MTA_STS} as its source, since the check is the one the
   * policy names and TLS-RPT counts the session under it (RFC 8460 §4.3), but the requirement is
   * the message's: a failure of it is not the recipient's policy enforced ({@link
   * #enforcedByRecipient}).
   */
  public record Raise(String why) implements Verdict {}

  /**
   * Whether a failure of {@code host}'s requirement in a session is the recipient's policy enforced
   * ({@link PolicyFailure#enforced()}): for a host whose requirement DANE set (RFC 7672 §2.2), or
   * the MTA-STS policy in {@code enforce} mode (RFC 8461 §5). A host that REQUIRETLS raised to PKIX
   * under a {@code testing} policy ({@link Raise}) carries {@link PolicySource#MTA_STS} too, but a
   * {@code testing} policy enforces nothing (RFC 8461 §5): the message's REQUIRETLS (RFC 8689
   * §4.2.1) refused the host, so its failure is reported, not enforced.
   */
  public static boolean enforcedByRecipient(DeliveryPlan plan, PlannedHost host) {
    return switch (host.source()) {
      case DANE -> true;
      case MTA_STS -> plan.mtaSts().map(p -> p.mode() == MtaStsMode.ENFORCE).orElse(false);
      default -> false;
    };
  }

  /** The host cannot meet REQUIRETLS: it is not tried for this message. */
  public record RuleOut(String why) implements Verdict {}

  /**
   * The REQUIRETLS rule for one planned host of a plan (docs/design.md §1, the per-message table):
   * the first that holds decides.
   */
  public static Verdict requireTlsVerdict(DeliveryPlan plan, PlannedHost host, boolean relay) {
    TlsRequirement req = host.requirement();
    if (relay) {
      if (req.requiresAuthentication()) {
        return new Keep("the relay is authenticated (" + kind(req) + ")");
      }
      return new RuleOut(
          "the relay's TLS mode does not authenticate it ("
              + kind(req)
              + "); REQUIRETLS needs a verified relay (RFC 8689 §4.2.1 step 4)");
    }
    if (host.name().isEmpty()) {
      return new RuleOut(
          "an address literal has no MX answer or MTA-STS policy to authenticate it"
              + " (RFC 8689 §4.2.1 steps 2, 4)");
    }
    DomainName name = host.name().get();
    boolean mxSecure = plan.mx().mxState() == DnssecState.SECURE;
    Optional<MtaStsPolicy> policy =
        plan.mtaSts().filter(p -> p.mode() == MtaStsMode.ENFORCE || p.mode() == MtaStsMode.TESTING);
    boolean listed = policy.isPresent() && policy.get().matches(name);
    if (!mxSecure && !listed) {
      return new RuleOut(
          "the MX answer is not DNSSEC-secure and no MTA-STS policy lists the host"
              + " (RFC 8689 §4.2.1 step 2)");
    }
    if (req instanceof TlsRequirement.Dane) {
      return new Keep("DANE authenticates it (RFC 8689 §4.2.1 step 4, RFC 7672)");
    }
    if (req instanceof TlsRequirement.Pkix) {
      return new Keep("PKIX on the MX host name under MTA-STS (RFC 8689 §4.2.1 step 4)");
    }
    if (req instanceof TlsRequirement.Fingerprint) {
      // The operator's policy map pins the certificate. The pin is neither DANE nor PKIX (step
      // 4), and raising the host to PKIX would drop it: a certificate the pin refuses for every
      // other message would carry the one that asked for more protection.
      return new RuleOut(
          "the operator's policy map pins its certificate, which is neither DANE nor PKIX, and"
              + " raising it to PKIX would drop the pin (RFC 8689 §4.2.1 step 4)");
    }
    if (listed) {
      return new Raise(
          "the MTA-STS "
              + policy.get().mode()
              + " policy lists it: PKIX on the MX host name for this message"
              + " (RFC 8689 §4.2.1 steps 2, 4)");
    }
    return new RuleOut(
        "neither DANE nor MTA-STS authenticates it (" + kind(req) + "; RFC 8689 §4.2.1 step 4)");
  }

  private static DeliveryPlan requireTls(DeliveryPlan plan, boolean relay) {
    List<String> reasons = new ArrayList<>(plan.reasons());
    reasons.add(
        "REQUIRETLS asked for (RFC 8689 §4.2.1): only authenticated hosts that advertise"
            + " REQUIRETLS after STARTTLS; MAIL FROM carries REQUIRETLS");
    if (plan.failure().isPresent()) {
      return copy(plan, plan.hosts(), plan.skipped(), plan.failure(), reasons);
    }
    List<PlannedHost> hosts = new ArrayList<>();
    List<SkippedHost> skipped = new ArrayList<>(plan.skipped());
    for (PlannedHost h : plan.hosts()) {
      Verdict v = requireTlsVerdict(plan, h, relay);
      String label = h.name().map(DomainName::toString).orElse("the address literal");
      if (v instanceof Keep k) {
        reasons.add("REQUIRETLS: " + label + " kept: " + k.why());
        hosts.add(h);
      } else if (v instanceof Raise r) {
        reasons.add("REQUIRETLS: " + label + " raised: " + r.why());
        DomainName name = h.name().orElseThrow(); // Raise needs a listed MX host
        hosts.add(
            Values.plannedHost(
                h.name(),
                h.addresses(),
                new TlsRequirement.Pkix(List.of(name)),
                PolicySource.MTA_STS,
                "REQUIRETLS: " + r.why(),
                Optional.empty(),
                // a policy-map relay's own port (relay=HOST:PORT) stays the host's
                h.port()));
      } else {
        String why = "REQUIRETLS: " + ((RuleOut) v).why();
        reasons.add("REQUIRETLS: " + label + " ruled out: " + ((RuleOut) v).why());
        skipped.add(
            Values.skippedHost(
                h.name().orElse(DomainName.ROOT), FailureType.REQUIRETLS_UNAVAILABLE, why));
      }
    }
    Optional<DeliveryPlan.Failure> failure = Optional.empty();
    if (hosts.isEmpty()) {
      failure = Optional.of(noRequireTlsHost(plan));
      reasons.add(failure.get().reply().text());
    }
    return copy(plan, hosts, skipped, failure, reasons);
  }

  /**
   * Every host was ruled out: RFC 8689 §4.2.1 says the message is not sent and is returned
   * (5.7.30). Bounced when nothing a later try could change decided it; deferred (4.7.30) when the
   * plan had skipped hosts for reasons that may pass (a failed lookup, a policy mismatch the domain
   * may fix) or the MTA-STS lookup failed, since a later try may find an authenticated host.
   */
  private static DeliveryPlan.Failure noRequireTlsHost(DeliveryPlan plan) {
    boolean stsFailed =
        plan.policyFailures().stream()
            .anyMatch(f -> f.source() == PolicySource.MTA_STS && f.host().isEmpty());
    boolean othersSkipped = !plan.skipped().isEmpty();
    if (stsFailed || othersSkipped) {
      return Values.planFailure(
          DeliveryStatus.DEFERRED,
          SmtpReply.local(
              451,
              "4.7.30",
              "REQUIRETLS cannot be met now: no MX host is authenticated and listed"
                  + (stsFailed ? " (the MTA-STS lookup failed)" : " (other hosts were skipped)")
                  + "; not sent (RFC 8689 §4.2.1)"),
          FailureType.REQUIRETLS_UNAVAILABLE);
    }
    return Values.planFailure(
        DeliveryStatus.BOUNCED,
        SmtpReply.local(
            550,
            REQUIRETLS_STATUS,
            "REQUIRETLS support required: no MX host can be reached through a DNSSEC-secure MX"
                + " answer or an MTA-STS policy and authenticated by DANE or PKIX; not sent"
                + " (RFC 8689 §4.2.1)"),
        FailureType.REQUIRETLS_UNAVAILABLE);
  }

  // ---------------------------------------------------------------------- TLS-Required: No

  /** Whether {@code TLS-Required: No} lowers anything under {@code level}: the sender's own. */
  public static boolean headerApplies(Optional<TlsLevel> level, boolean relay) {
    return !relay
        && level.isPresent()
        && (level.get() == TlsLevel.OPPORTUNISTIC || level.get() == TlsLevel.ENFORCED);
  }

  private static DeliveryPlan tlsRequiredNo(DeliveryPlan plan, boolean relay) {
    List<String> reasons = new ArrayList<>(plan.reasons());
    if (!headerApplies(plan.senderLevel(), relay)) {
      reasons.add(
          "TLS-Required: No (RFC 8689 §4.2.2) changes nothing here: "
              + (relay
                  ? "a relay hop has no recipient policy"
                  : "the sender's own level "
                      + plan.senderLevel().map(TlsLevel::toString).orElse("(unknown)")
                      + " stays"));
      return copy(plan, plan.hosts(), plan.skipped(), plan.failure(), reasons);
    }
    TlsLevel level = plan.senderLevel().orElseThrow();
    reasons.add(
        "TLS-Required: No (RFC 8689 §4.2.2): recipient policies (MTA-STS, DANE) are checked and"
            + " reported, not enforced; TLS as the sender's level "
            + level
            + " says");
    Map<DomainName, PlannedHost> planned = new HashMap<>();
    plan.hosts().forEach(h -> h.name().ifPresent(n -> planned.put(n, h)));
    Map<DomainName, SkippedHost> skippedByName = new HashMap<>();
    plan.skipped().forEach(s -> skippedByName.put(s.host(), s));
    List<PlannedHost> hosts = new ArrayList<>();
    List<SkippedHost> skipped = new ArrayList<>();
    if (plan.nextHop() instanceof NextHop.AddressLiteral) {
      hosts.addAll(plan.hosts()); // no recipient policy applies to an address literal
      skipped.addAll(plan.skipped());
    } else {
      for (MxHost mx : plan.mx().hosts()) {
        PlannedHost h = planned.get(mx.name());
        SkippedHost s = skippedByName.get(mx.name());
        if (h != null) {
          hosts.add(lowered(h, level, reasons));
        } else if (s != null && recipientSkip(s) && !mx.addresses().isEmpty()) {
          reasons.add(
              "TLS-Required: No: "
                  + mx.name()
                  + " tried although "
                  + s.reason()
                  + " ("
                  + s.failure()
                  + " reported, not enforced)");
          hosts.add(
              Values.plannedHost(
                  Optional.of(mx.name()),
                  mx.addresses(),
                  senderRequirement(level),
                  senderSource(level),
                  "TLS-Required: No: " + s.reason() + "; tried at the sender's level " + level,
                  Optional.empty()));
        } else if (s != null) {
          skipped.add(s);
        }
      }
    }
    Optional<DeliveryPlan.Failure> failure = hosts.isEmpty() ? plan.failure() : Optional.empty();
    List<PolicyFailure> failures = new ArrayList<>();
    for (PolicyFailure f : plan.policyFailures()) {
      // still reported, now as not enforced: the header asked that they not stop delivery
      failures.add(
          f.enforced()
              ? Values.policyFailure(
                  f.policyDomain(),
                  f.source(),
                  false,
                  f.host(),
                  f.address(),
                  f.type(),
                  f.detail() + " (TLS-Required: No: not enforced)",
                  f.tlsaRecords())
              : f);
    }
    return Values.deliveryPlan(
        plan.nextHop(),
        plan.senderLevel(),
        plan.mx(),
        hosts,
        skipped,
        failure,
        reasons,
        failures,
        plan.mtaSts());
  }

  /** Skips that a recipient policy made (and the header lifts); the sender's own stay. */
  private static boolean recipientSkip(SkippedHost s) {
    return s.failure() == FailureType.STS_POLICY_INVALID
        || s.failure() == FailureType.DNSSEC_INVALID;
  }

  /** A host whose requirement a recipient policy set goes at the sender's; the rest as planned. */
  private static PlannedHost lowered(PlannedHost h, TlsLevel level, List<String> reasons) {
    if (h.source() != PolicySource.MTA_STS && h.source() != PolicySource.DANE) {
      return h;
    }
    Optional<TlsRequirement> audit =
        h.requirement().requiresAuthentication() ? Optional.of(h.requirement()) : h.reportOnly();
    String label = h.name().map(DomainName::toString).orElse("the host");
    reasons.add(
        "TLS-Required: No: "
            + label
            + " at the sender's level "
            + level
            + " instead of "
            + h.source()
            + "'s "
            + kind(h.requirement())
            + audit.map(a -> "; " + kind(a) + " checked and reported only").orElse(""));
    return Values.plannedHost(
        h.name(),
        h.addresses(),
        senderRequirement(level),
        senderSource(level),
        "TLS-Required: No: " + h.why() + " (reported, not enforced)",
        audit,
        h.port());
  }

  private static TlsRequirement senderRequirement(TlsLevel level) {
    return level == TlsLevel.OPPORTUNISTIC
        ? new TlsRequirement.Opportunistic()
        : new TlsRequirement.Encrypted();
  }

  private static PolicySource senderSource(TlsLevel level) {
    return level == TlsLevel.OPPORTUNISTIC ? PolicySource.NONE : PolicySource.SENDER;
  }

  /** A requirement in words, for the decision record. */
  static String kind(TlsRequirement r) {
    if (r instanceof TlsRequirement.Dane) {
      return "DANE";
    } else if (r instanceof TlsRequirement.Pkix) {
      return "PKIX";
    } else if (r instanceof TlsRequirement.Encrypted) {
      return "TLS, unauthenticated";
    }
    return "opportunistic TLS";
  }

  /**
   * {@code plan} with the note that {@code TLS-Required: No} changes nothing for a destination the
   * operator's policy map names ({@code entry}): that entry is the sender's own policy for the
   * destination, as the sender's level is, and a header field an author wrote does not lower it.
   */
  public static DeliveryPlan operatorEntryStays(DeliveryPlan plan, String entry) {
    List<String> reasons = new ArrayList<>(plan.reasons());
    reasons.add(
        "TLS-Required: No (RFC 8689 §4.2.2) changes nothing here: the operator's policy map entry "
            + entry
            + " stays, with the recipient policies it leaves in force");
    return copy(plan, plan.hosts(), plan.skipped(), plan.failure(), reasons);
  }

  private static DeliveryPlan copy(
      DeliveryPlan plan,
      List<PlannedHost> hosts,
      List<SkippedHost> skipped,
      Optional<DeliveryPlan.Failure> failure,
      List<String> reasons) {
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
}
