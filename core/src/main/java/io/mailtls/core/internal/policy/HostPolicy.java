package io.mailtls.core.internal.policy;

import io.mailtls.core.DeliveryPlan;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DestinationPolicy;
import io.mailtls.core.DnsAnswer;
import io.mailtls.core.DnsOutcome;
import io.mailtls.core.DnsRecord;
import io.mailtls.core.DnssecState;
import io.mailtls.core.DomainName;
import io.mailtls.core.EnhancedStatus;
import io.mailtls.core.FailureType;
import io.mailtls.core.MtaStsLookup;
import io.mailtls.core.MtaStsMode;
import io.mailtls.core.MtaStsPolicy;
import io.mailtls.core.MxHost;
import io.mailtls.core.MxResolution;
import io.mailtls.core.NextHop;
import io.mailtls.core.PolicyFailure;
import io.mailtls.core.PolicySource;
import io.mailtls.core.SkippedHost;
import io.mailtls.core.SmtpReply;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.TlsRequirement;
import io.mailtls.core.TlsaLookup;
import io.mailtls.core.internal.Values;
import io.mailtls.core.internal.smtp.PeerText;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The precedence of docs/design.md §1 as pure functions: the sender's level, the DNSSEC state of
 * the MX, address and TLSA answers, DANE usability and the MTA-STS mode and match decide, for each
 * host, whether it is used and with which TLS requirement. No I/O, no clock, no state.
 *
 * <p>Three functions, applied in this order by {@code TransportPolicyResolver}: {@link
 * #decideDomain} (the rules that apply before any host: MX failures, levels that cannot be met),
 * {@link #decide} for each host (which applies {@link #decideDomain} first, so that it alone states
 * the whole precedence), and {@link #noHostLeft} when every host was skipped.
 */
public final class HostPolicy {

  private HostPolicy() {}

  /**
   * The rules that apply before any host: an MX outcome that allows no delivery, a level whose
   * provider is not configured, {@code dane-required} through an insecure MX answer, and the
   * refusals of {@code sts-required}. Otherwise {@link DomainDecision.Proceed} with the MTA-STS
   * policy that applies.
   */
  public static DomainDecision decideDomain(DomainInputs in) {
    NextHop nextHop = in.nextHop();
    // the operator's entry for the destination, if any, against the sender's level (design §1)
    DestinationRules.Effective eff = DestinationRules.effective(in.level(), in.destination());
    TlsLevel level = eff.ruleLevel();
    MxResolution mx = in.mx();
    List<String> reasons = new ArrayList<>();
    List<PolicyFailure> policyFailures = new ArrayList<>();
    reasons.add("sender level " + in.level());
    reasons.addAll(eff.notes());
    if (nextHop instanceof NextHop.Domain) {
      // The opt-outs are explicit choices; the record shows them wherever they matter.
      if (!in.mtaStsConfigured()) {
        reasons.add("MTA-STS not consulted: this resolver was built withoutMtaSts()");
      }
      if (!in.daneConfigured()) {
        reasons.add("DANE not consulted: this resolver was built withoutDane()");
      }
    }
    reasons.addAll(mx.notes());
    Optional<DeliveryPlan.Failure> mxFailure = mxFailure(mx);
    if (mxFailure.isPresent()) {
      reasons.add("MX resolution: " + mx.kind());
      if (mxFailure.get().type() == FailureType.DNSSEC_INVALID
          && in.daneConfigured()
          && nextHop instanceof NextHop.Domain d) {
        // RFC 8460 §4.3.1 dnssec-invalid, reported for the recipient domain like a TLSA failure
        // (by a sender that applies DANE, as TLSA failures are)
        policyFailures.add(
            Values.policyFailure(
                d.name(),
                PolicySource.DANE,
                true,
                Optional.empty(),
                Optional.empty(),
                FailureType.DNSSEC_INVALID,
                mxFailure.get().reply().text()));
      }
      return new DomainDecision.Fail(
          mxFailure.get(), List.of(), Optional.empty(), reasons, policyFailures);
    }
    if (level == TlsLevel.DANE_REQUIRED && !in.daneConfigured()) {
      return failClosed(level, reasons, "mailtls-dane");
    }
    if (level == TlsLevel.DANE_REQUIRED
        && nextHop instanceof NextHop.Domain d
        && mx.mxState() != DnssecState.SECURE) {
      return nonDnssecDestination(mx, d.name(), reasons);
    }
    if (eff.level() == DestinationPolicy.Level.AUTHENTICATED
        && !(in.daneConfigured() && !eff.overrideDane())
        && !(in.mtaStsConfigured() && !eff.overrideSts())) {
      return failClosed(
          "authenticated", reasons, "mailtls-dane or mailtls-mta-sts, not overridden by the entry");
    }
    Optional<MtaStsPolicy> policy = Optional.empty();
    if (in.sts().isPresent()) {
      MtaStsLookup lookup = in.sts().get();
      reasons.add("MTA-STS: " + describe(lookup));
      if (lookup instanceof MtaStsLookup.Found f
          && f.policy().mode() != MtaStsMode.NONE
          && eff.overrideSts()) {
        // The operator works around the recipient's (broken) policy, and the record says so.
        reasons.add(
            "policy map override (override=sts, entry "
                + eff.key()
                + "): the recipient's MTA-STS "
                + f.policy().mode()
                + " policy id "
                + f.policy().id()
                + " is set aside"
                + (f.policy().mode() == MtaStsMode.ENFORCE
                    ? ", lowering the recipient's policy"
                    : ""));
      } else if (lookup instanceof MtaStsLookup.Found f && f.policy().mode() != MtaStsMode.NONE) {
        policy = Optional.of(f.policy());
      } else if (lookup instanceof MtaStsLookup.Failed failed) {
        policyFailures.add(
            Values.policyFailure(
                failed.policyDomain(),
                PolicySource.MTA_STS,
                false,
                Optional.empty(),
                Optional.empty(),
                failed.type(),
                failed.reason()));
      }
    }
    if (level == TlsLevel.DANE_REQUIRED) {
      policy = Optional.empty(); // every host must pass DANE; MTA-STS adds nothing (RFC 8461 §2)
    }
    boolean enforce = policy.isPresent() && policy.get().mode() == MtaStsMode.ENFORCE;
    if (level == TlsLevel.STS_REQUIRED && !enforce) {
      return stsRequiredRefusal(in, policy, reasons, policyFailures);
    }
    if (enforce) {
      // RFC 8461 §5: an enforce policy overrides any weaker sender level.
      reasons.add(
          "MTA-STS enforce (policy id "
              + policy.get().id()
              + ", mx "
              + policy.get().mxPatterns()
              + ") overrides sender level "
              + eff.level());
    } else {
      reasons.add(Sender.of(eff).why());
    }
    return new DomainDecision.Proceed(policy, reasons, policyFailures);
  }

  /**
   * The decision for one host: {@link #decideDomain} first (a domain-level rule gives {@link
   * HostDecision.FailDomain}), then the per-host rules of docs/design.md §1 in order.
   */
  public static HostDecision decide(HostInputs in) {
    DomainDecision domain = decideDomain(in.domain());
    if (domain instanceof DomainDecision.Fail fail) {
      return new HostDecision.FailDomain(fail);
    }
    DomainDecision.Proceed proceed = (DomainDecision.Proceed) domain;
    DestinationRules.Effective eff =
        DestinationRules.effective(in.domain().level(), in.domain().destination());
    TlsLevel level = eff.ruleLevel();
    Sender sender = Sender.of(eff);
    if (in.host().isEmpty()) {
      if (level == TlsLevel.DANE_REQUIRED) {
        return new HostDecision.Skip(
            FailureType.DANE_REQUIRED,
            "dane-required: an address literal has no TLSA records",
            List.of(),
            List.of());
      }
      return new HostDecision.Use(
          sender.requirement(),
          sender.source(),
          sender.why() + " (address literal: no MX, no SNI)",
          Optional.empty(),
          List.of(),
          List.of());
    }
    MxHost h = in.host().get();
    DomainName domainName = ((NextHop.Domain) in.domain().nextHop()).name();
    if (h.addresses().isEmpty()) {
      return new HostDecision.Skip(
          h.addressLookupFailed() ? FailureType.DNS_FAILURE : FailureType.CONNECTION_FAILED,
          h.addressLookupFailed()
              ? "address lookup failed: " + h.ipv4() + "; " + h.ipv6()
              : hasAddressRecords(h)
                  // MxResolver dropped them: 0.0.0.0, ::, multicast or broadcast (the notes say)
                  ? "host has no unicast address"
                  : "host has no A or AAAA records",
          List.of(),
          List.of());
    }
    List<String> notes = failedAddressFamilies(h);
    List<PolicyFailure> failures = new ArrayList<>();
    Optional<MtaStsPolicy> policy = proceed.mtaSts();
    boolean enforce = proceed.enforce();
    // RFC 8461 §4.1, §5.1: under enforce, a host outside the policy's mx patterns is never used.
    // DANE may stand in for the PKIX check (RFC 8461 §2), never for the MX match: only a
    // DNSSEC-secure MX answer shows that the domain owner chose this host, since an insecure one
    // may be forged to point at any signed host with TLSA (RFC 7672 §2.2.1).
    boolean outsidePolicy = policy.isPresent() && !policy.get().matches(h.name());
    boolean ownerChoseHost = in.domain().mx().mxState() == DnssecState.SECURE;
    if (enforce && outsidePolicy && !ownerChoseHost) {
      if (in.tlsa().orElse(null) instanceof TlsaLookup.Usable && !eff.overrideDane()) {
        // DANE takes precedence over MTA-STS (RFC 8461 §2), so the record says why it does not
        notes.add(
            h.name()
                + ": usable TLSA records not used: the MX answer is "
                + in.domain().mx().mxState()
                + ", not DNSSEC-secure, and DANE may stand in for the MTA-STS PKIX check, never"
                + " for its mx match (RFC 8461 §4.1, RFC 7672 §2.2.1)");
      }
      return outsideEnforcePolicy(domainName, h, policy.get(), notes, failures);
    }
    Optional<TlsaLookup> tlsa = in.tlsa();
    if (eff.overrideDane() && tlsa.isPresent() && !(tlsa.get() instanceof TlsaLookup.None)) {
      // The operator works around the recipient's (broken) DANE records; the record says so.
      notes.add(
          h.name()
              + ": policy map override (override=dane, entry "
              + eff.key()
              + "): "
              + describe(tlsa.get())
              + " set aside"
              + (tlsa.get() instanceof TlsaLookup.Usable
                  ? ", lowering the recipient's policy"
                  : ""));
      tlsa = Optional.empty();
    }
    if (tlsa.isPresent() && tlsa.get() instanceof TlsaLookup.Failed f) {
      // RFC 7672 §2.1.1: bogus or indeterminate DNS data never reads as "no DANE".
      String why = "DANE lookup failed for " + h.name() + ": " + f.reason();
      failures.add(
          Values.policyFailure(
              domainName,
              PolicySource.DANE,
              true,
              Optional.of(h.name()),
              Optional.empty(),
              FailureType.DNSSEC_INVALID,
              why));
      return new HostDecision.Skip(FailureType.DNSSEC_INVALID, why, notes, failures);
    }
    if (eff.level() == DestinationPolicy.Level.AUTHENTICATED
        && tlsa.isPresent()
        && tlsa.get() instanceof TlsaLookup.Usable
        && !ownerChoseHost
        && !enforce) {
      // DANE through an MX answer an attacker could forge authenticates the attacker's choice of
      // host (RFC 7672 §2.2.1): not the recipient's, so not "authenticated".
      return new HostDecision.Skip(
          FailureType.DESTINATION_POLICY,
          "authenticated: the TLSA records of "
              + h.name()
              + " come through an MX answer that is not DNSSEC-secure, and no MTA-STS enforce"
              + " policy applies",
          notes,
          failures);
    }
    if (tlsa.isPresent() && tlsa.get() instanceof TlsaLookup.Usable u) {
      // RFC 7672 §2.2, RFC 8461 §2: usable records make DANE mandatory and win over MTA-STS.
      String why =
          "DANE: "
              + u.requirement().records().size()
              + " usable TLSA record(s) at "
              + u.requirement().baseDomain()
              + (u.note().isEmpty() ? "" : "; " + u.note())
              + (policy.isPresent() ? "; DANE wins over MTA-STS for this host (RFC 8461 §2)" : "");
      notes.add(h.name() + ": " + why);
      return new HostDecision.Use(
          u.requirement(), PolicySource.DANE, why, Optional.empty(), notes, failures);
    }
    Optional<TlsaLookup.Unusable> unusable =
        tlsa.filter(TlsaLookup.Unusable.class::isInstance).map(TlsaLookup.Unusable.class::cast);
    if (unusable.isPresent()) {
      failures.add(
          Values.policyFailure(
              domainName,
              PolicySource.DANE,
              false,
              Optional.of(h.name()),
              Optional.empty(),
              FailureType.TLSA_INVALID,
              "no usable TLSA record: " + unusable.get().reasons(),
              unusable.get().records()));
    }
    if (level == TlsLevel.DANE_REQUIRED) {
      // RFC 7672 §6 / Postfix dane-only: a host without usable TLSA is never used.
      return new HostDecision.Skip(
          FailureType.DANE_REQUIRED,
          "dane-required: no usable TLSA records for "
              + h.name()
              + tlsa.map(t -> " (" + describe(t) + ")").orElse(""),
          notes,
          failures);
    }
    TlsRequirement pkix = new TlsRequirement.Pkix(List.of(h.name()));
    if (enforce) {
      if (outsidePolicy) {
        return outsideEnforcePolicy(domainName, h, policy.get(), notes, failures);
      }
      return new HostDecision.Use(
          pkix,
          PolicySource.MTA_STS,
          "MTA-STS enforce: TLS 1.2+, WebPKI, name " + h.name(),
          Optional.empty(),
          notes,
          failures);
    }
    if (eff.level() == DestinationPolicy.Level.AUTHENTICATED) {
      return new HostDecision.Skip(
          FailureType.DESTINATION_POLICY,
          "authenticated: "
              + h.name()
              + " has no usable DANE records and no MTA-STS enforce policy applies",
          notes,
          failures);
    }
    if (outsidePolicy) {
      // RFC 8461 §4.1, §5 testing mode: the host is used, the mismatch reported; also when
      // unusable TLSA records make TLS mandatory, since the MTA-STS checks still apply then.
      failures.add(
          Values.policyFailure(
              domainName,
              PolicySource.MTA_STS,
              false,
              Optional.of(h.name()),
              Optional.empty(),
              FailureType.STS_POLICY_INVALID,
              h.name()
                  + " matches none of the MTA-STS mx patterns "
                  + policy.get().mxPatterns()
                  + " (testing mode: delivering anyway)"));
    }
    Optional<TlsRequirement> pinned = DestinationRules.requirement(eff, h);
    if (pinned.isPresent()) {
      // verify or fingerprint: the entry says how the server is authenticated
      return new HostDecision.Use(
          pinned.get(),
          PolicySource.POLICY_MAP,
          "policy map level "
              + eff.level()
              + " (entry "
              + eff.key()
              + "): TLS 1.2+, "
              + (pinned.get() instanceof TlsRequirement.Pkix p
                  ? "WebPKI, names " + p.referenceNames()
                  : "pinned certificate or key digests")
              + (policy.isPresent() ? "; MTA-STS testing: failures reported" : ""),
          policy.map(p -> pkix),
          notes,
          failures);
    }
    if (unusable.isPresent()) {
      // RFC 7672 §2.2: secure TLSA records, none usable: TLS mandatory, unauthenticated.
      String why =
          "DANE: secure TLSA records, none usable (tlsa-invalid): TLS required, "
              + "unauthenticated; "
              + unusable.get().reasons();
      notes.add(h.name() + ": " + why);
      return new HostDecision.Use(
          new TlsRequirement.Encrypted(),
          PolicySource.DANE,
          why,
          policy.map(p -> pkix),
          notes,
          failures);
    }
    if (policy.isPresent()) {
      // RFC 8461 §5 testing mode: deliver as the sender level says, report what would fail.
      return new HostDecision.Use(
          sender.requirement(),
          sender.source(),
          sender.why() + "; MTA-STS testing: failures reported",
          Optional.of(pkix),
          notes,
          failures);
    }
    return new HostDecision.Use(
        sender.requirement(), sender.source(), sender.why(), Optional.empty(), notes, failures);
  }

  /**
   * Why nothing can be tried when every host was skipped (or there was none): the reply and type
   * every recipient gets.
   *
   * @param skipped the skipped hosts, in plan order
   * @param enforce whether an MTA-STS {@code enforce} policy applied
   */
  public static DeliveryPlan.Failure noHostLeft(List<SkippedHost> skipped, boolean enforce) {
    if (!skipped.isEmpty()
        && skipped.stream()
            .allMatch(
                s ->
                    s.failure() == FailureType.DANE_REQUIRED
                        || s.failure() == FailureType.DNSSEC_INVALID)
        && skipped.stream().anyMatch(s -> s.failure() == FailureType.DANE_REQUIRED)) {
      return Values.planFailure(
          DeliveryStatus.DEFERRED,
          SmtpReply.local(
              451,
              EnhancedStatus.CRYPTOGRAPHIC_FAILURE,
              "dane-required: no MX host has usable, DNSSEC-secure TLSA records (RFC 7672 §6)"),
          FailureType.DANE_REQUIRED);
    }
    if (!skipped.isEmpty()
        && skipped.stream().allMatch(s -> s.failure() == FailureType.DNSSEC_INVALID)) {
      return Values.planFailure(
          DeliveryStatus.DEFERRED,
          SmtpReply.local(
              451,
              EnhancedStatus.DIRECTORY_SERVER_FAILURE,
              "DNSSEC data for every MX host is bogus or unavailable (RFC 7672 §2.1.1)"),
          FailureType.DNSSEC_INVALID);
    }
    if (enforce && skipped.stream().anyMatch(s -> s.failure() == FailureType.STS_POLICY_INVALID)) {
      // RFC 8461 §5.1: a temporary failure; the policy id was re-checked before giving up.
      return Values.planFailure(
          DeliveryStatus.DEFERRED,
          SmtpReply.local(
              451,
              EnhancedStatus.CRYPTOGRAPHIC_FAILURE,
              "no MX host matches the recipient's MTA-STS enforce policy"),
          FailureType.STS_POLICY_INVALID);
    }
    if (skipped.stream().anyMatch(s -> s.failure() == FailureType.DESTINATION_POLICY)) {
      return Values.planFailure(
          DeliveryStatus.DEFERRED,
          SmtpReply.local(
              451,
              EnhancedStatus.CRYPTOGRAPHIC_FAILURE,
              "no MX host meets the operator's policy for this destination"),
          FailureType.DESTINATION_POLICY);
    }
    boolean dns = skipped.stream().anyMatch(s -> s.failure() == FailureType.DNS_FAILURE);
    return Values.planFailure(
        DeliveryStatus.DEFERRED,
        SmtpReply.local(
            451,
            dns
                ? EnhancedStatus.DIRECTORY_SERVER_FAILURE
                : EnhancedStatus.UNABLE_TO_ROUTE.withStatusClass(4),
            "no MX host with a usable address"),
        dns ? FailureType.DNS_FAILURE : FailureType.CONNECTION_FAILED);
  }

  /** Whether {@code h}'s A or AAAA answer holds any address, unicast or not. */
  private static boolean hasAddressRecords(MxHost h) {
    return !h.ipv4().records(DnsRecord.Address.class).isEmpty()
        || !h.ipv6().records(DnsRecord.Address.class).isEmpty();
  }

  /** RFC 8461 §4.1, §5: never deliver to an MX host outside an enforce policy. */
  private static HostDecision.Skip outsideEnforcePolicy(
      DomainName domain,
      MxHost h,
      MtaStsPolicy policy,
      List<String> notes,
      List<PolicyFailure> failures) {
    String why = h.name() + " matches none of the MTA-STS mx patterns " + policy.mxPatterns();
    failures.add(
        Values.policyFailure(
            domain,
            PolicySource.MTA_STS,
            true,
            Optional.of(h.name()),
            Optional.empty(),
            FailureType.STS_POLICY_INVALID,
            why));
    return new HostDecision.Skip(FailureType.STS_POLICY_INVALID, why, notes, failures);
  }

  /** The requirement the sender's level alone imposes on a host. */
  private record Sender(TlsRequirement requirement, PolicySource source, String why) {
    /** The sender's level, or the entry's where it applies. */
    static Sender of(DestinationRules.Effective eff) {
      Sender s = of(eff.ruleLevel());
      if (!eff.fromEntry()) {
        return s;
      }
      String why =
          switch (eff.level()) {
            case AUTHENTICATED -> "DANE where usable, else MTA-STS enforce, else deferred";
            case VERIFY -> "TLS 1.2+, WebPKI, the entry's names (or the MX host name)";
            case FINGERPRINT -> "TLS 1.2+, a pinned certificate or key digest";
            case OPPORTUNISTIC -> "STARTTLS when offered, plaintext otherwise";
            case ENFORCED -> "TLS 1.2+ required, certificate not checked";
            case STS_REQUIRED -> "the recipient's MTA-STS enforce policy required";
            case DANE_REQUIRED -> "DANE required for every MX host";
          };
      return new Sender(
          s.requirement(),
          PolicySource.POLICY_MAP,
          "policy map level " + eff.level() + " (entry " + eff.key() + "): " + why);
    }

    static Sender of(TlsLevel level) {
      return level == TlsLevel.OPPORTUNISTIC
          ? new Sender(
              new TlsRequirement.Opportunistic(),
              PolicySource.NONE,
              "opportunistic: STARTTLS when offered, plaintext otherwise")
          : new Sender(
              new TlsRequirement.Encrypted(),
              PolicySource.SENDER,
              "sender level " + level + ": TLS 1.2+ required, certificate not checked");
    }
  }

  /**
   * {@code dane-required} through an MX answer that is not DNSSEC-secure (an unsigned zone, or an
   * insecure CNAME on the way): the MX host names may be forged, so DANE on them would authenticate
   * an attacker's choice of host. Deferred, as Postfix's {@code dane-only} defers a "non DNSSEC
   * destination" (RFC 7672 §2.2.1, §6).
   */
  private static DomainDecision.Fail nonDnssecDestination(
      MxResolution mx, DomainName domain, List<String> reasons) {
    String why =
        "dane-required: the MX answer for "
            + domain
            + " is "
            + mx.mxState()
            + ", not DNSSEC-secure (non-DNSSEC destination): its MX host names may be forged"
            + " (RFC 7672 §2.2.1, §6)";
    reasons.add(why);
    List<SkippedHost> skipped =
        mx.hosts().stream()
            .map(
                h ->
                    Values.skippedHost(
                        h.name(),
                        FailureType.DANE_REQUIRED,
                        "dane-required: "
                            + h.name()
                            + " comes from an MX answer"
                            + " that is "
                            + mx.mxState()))
            .toList();
    return new DomainDecision.Fail(
        Values.planFailure(
            DeliveryStatus.DEFERRED,
            SmtpReply.local(451, EnhancedStatus.CRYPTOGRAPHIC_FAILURE, why),
            FailureType.DANE_REQUIRED),
        skipped,
        Optional.empty(),
        reasons,
        List.of());
  }

  /**
   * The {@code sts-required} level without an {@code enforce} policy: only a valid {@code enforce}
   * policy lets mail go. Bounced when the domain provably publishes no policy or one that does not
   * enforce; deferred when discovery or the fetch failed (it may work later), also when a cached
   * policy that does not enforce applies only because of such a failure.
   */
  private static DomainDecision.Fail stsRequiredRefusal(
      DomainInputs in,
      Optional<MtaStsPolicy> policy,
      List<String> reasons,
      List<PolicyFailure> failures) {
    if (!in.mtaStsConfigured()) {
      return failClosed(in.level(), reasons, "mailtls-mta-sts");
    }
    DeliveryPlan.Failure f;
    if (in.sts().isEmpty()) {
      // An address literal has no domain, hence no MTA-STS policy (RFC 8461 §3.4).
      f =
          Values.planFailure(
              DeliveryStatus.BOUNCED,
              SmtpReply.local(
                  550, "5.7.10", "sts-required: an address literal has no MTA-STS policy"),
              FailureType.STS_REQUIRED);
    } else if (in.sts().get() instanceof MtaStsLookup.NoPolicy none && none.provablyAbsent()) {
      f =
          Values.planFailure(
              DeliveryStatus.BOUNCED,
              SmtpReply.local(
                  550, "5.7.10", "sts-required: the recipient domain publishes no MTA-STS policy"),
              FailureType.STS_REQUIRED);
    } else if (in.sts().get() instanceof MtaStsLookup.Found found && found.unconfirmed()) {
      // RFC 8461 §3.3, §5.1: the cached policy applies because discovery failed; the domain may
      // enforce by now, so a failure that may pass is deferred, not bounced.
      f =
          Values.planFailure(
              DeliveryStatus.DEFERRED,
              SmtpReply.local(
                  451,
                  EnhancedStatus.CRYPTOGRAPHIC_FAILURE,
                  "sts-required: the cached MTA-STS policy is in mode "
                      + found.policy().mode()
                      + ", not enforce, and discovery could not confirm it is current: "
                      + PeerText.clean(found.note())),
              FailureType.STS_REQUIRED);
    } else if (in.sts().get() instanceof MtaStsLookup.Found found) {
      f =
          Values.planFailure(
              DeliveryStatus.BOUNCED,
              SmtpReply.local(
                  550,
                  "5.7.10",
                  "sts-required: the recipient's MTA-STS policy is in mode "
                      + found.policy().mode()
                      + ", not enforce"),
              FailureType.STS_REQUIRED);
    } else if (in.sts().get() instanceof MtaStsLookup.Failed failed) {
      f =
          Values.planFailure(
              DeliveryStatus.DEFERRED,
              SmtpReply.local(
                  451,
                  EnhancedStatus.CRYPTOGRAPHIC_FAILURE,
                  "sts-required: MTA-STS discovery failed: " + PeerText.clean(failed.reason())),
              failed.type());
    } else {
      f =
          Values.planFailure(
              DeliveryStatus.DEFERRED,
              SmtpReply.local(
                  451,
                  EnhancedStatus.CRYPTOGRAPHIC_FAILURE,
                  // the reason may quote the domain's own TXT record: peer text, which may hold
                  // a CR that no reply line may (RFC 5321 §2.3.8)
                  "sts-required: no usable MTA-STS record: "
                      + PeerText.clean(((MtaStsLookup.NoPolicy) in.sts().get()).reason())),
              FailureType.STS_REQUIRED);
    }
    reasons.add(f.reply().text());
    return new DomainDecision.Fail(f, List.of(), policy, reasons, failures);
  }

  /** Fail closed: the level needs a recipient policy provider that is not configured. */
  private static DomainDecision.Fail failClosed(Object level, List<String> reasons, String module) {
    String why =
        level
            + " needs a recipient policy provider ("
            + module
            + ") and none is configured; not delivering rather than downgrading";
    reasons.add(why);
    return new DomainDecision.Fail(
        Values.planFailure(
            DeliveryStatus.DEFERRED,
            SmtpReply.local(451, EnhancedStatus.CRYPTOGRAPHIC_FAILURE, why),
            FailureType.POLICY_UNAVAILABLE),
        List.of(),
        Optional.empty(),
        reasons,
        List.of());
  }

  /** The failure an MX outcome imposes on every recipient, if any (RFC 5321 §5.1, RFC 7505). */
  private static Optional<DeliveryPlan.Failure> mxFailure(MxResolution mx) {
    return switch (mx.kind()) {
      case NULL_MX ->
          Optional.of(
              Values.planFailure(
                  DeliveryStatus.BOUNCED,
                  SmtpReply.local(
                      556,
                      EnhancedStatus.NULL_MX,
                      "recipient domain accepts no mail (null MX, RFC 7505)"),
                  FailureType.DNS_FAILURE));
      case NO_SUCH_DOMAIN ->
          Optional.of(
              Values.planFailure(
                  DeliveryStatus.BOUNCED,
                  SmtpReply.local(550, "5.1.2", "recipient domain does not exist (NXDOMAIN)"),
                  FailureType.DNS_FAILURE));
      case NO_MAIL_HOST ->
          Optional.of(
              Values.planFailure(
                  DeliveryStatus.BOUNCED,
                  SmtpReply.local(
                      550,
                      EnhancedStatus.UNABLE_TO_ROUTE,
                      "recipient domain has neither MX nor address records"),
                  FailureType.DNS_FAILURE));
      case NO_USABLE_MX ->
          // RFC 5321 §5.1: MX records present, none usable, "MUST be reported as an error"; as
          // Postfix bounces invalid MX data (5.4.4). The text names what is wrong.
          Optional.of(
              Values.planFailure(
                  DeliveryStatus.BOUNCED,
                  SmtpReply.local(550, EnhancedStatus.UNABLE_TO_ROUTE, noUsableMx(mx)),
                  FailureType.DNS_FAILURE));
      case TEMPORARY_FAILURE ->
          Optional.of(
              Values.planFailure(
                  DeliveryStatus.DEFERRED,
                  SmtpReply.local(
                      451, EnhancedStatus.DIRECTORY_SERVER_FAILURE, temporaryFailure(mx)),
                  // a validation failure is RFC 8460's dnssec-invalid; SERVFAIL or a timeout is not
                  mx.mxAnswer().map(DnsAnswer::state).orElse(null) == DnssecState.BOGUS
                      ? FailureType.DNSSEC_INVALID
                      : FailureType.DNS_FAILURE));
      case NOT_RESOLVED ->
          Optional.of(
              Values.planFailure(
                  DeliveryStatus.DEFERRED,
                  SmtpReply.local(451, "4.3.0", "MX hosts not looked up"),
                  FailureType.LOCAL_FAILURE));
      case MX, IMPLICIT_MX, ADDRESS_LITERAL -> Optional.empty();
    };
  }

  /** How MxResolver's note on a failed address lookup of an implicit MX begins. */
  private static final String IMPLICIT_MX_FAILED = "address lookup for implicit MX failed: ";

  /**
   * The reply text for {@link MxResolution.Kind#TEMPORARY_FAILURE}: the MX lookup's failure, or,
   * when the MX answer was a usable "no MX records", the failed address lookup of the implicit MX
   * (RFC 5321 §5.1), which is what is to be tried again.
   */
  private static String temporaryFailure(MxResolution mx) {
    Optional<DnsAnswer> answer = mx.mxAnswer();
    if (answer.isPresent()
        && answer.get().outcome() == DnsOutcome.NODATA
        && answer.get().state() != DnssecState.BOGUS
        && answer.get().state() != DnssecState.INDETERMINATE) {
      String detail =
          mx.notes().stream()
              .filter(n -> n.startsWith(IMPLICIT_MX_FAILED))
              .map(n -> ": " + n.substring(IMPLICIT_MX_FAILED.length()))
              .findFirst()
              .orElse("");
      return mx.nextHop()
          + " has no MX records ("
          + answer.get()
          + "), and the address lookup of the implicit MX failed"
          + detail
          + " (RFC 5321 §5.1)";
    }
    return "MX lookup failed: " + answer.map(DnsAnswer::toString).orElse("");
  }

  /** At most this many ignored MX targets are named in a reply's text; the record has them all. */
  private static final int MAX_TARGETS_NAMED = 3;

  /** The reply text for {@link MxResolution.Kind#NO_USABLE_MX}: what each MX record names. */
  private static String noUsableMx(MxResolution mx) {
    List<String> targets = new ArrayList<>();
    for (String note : mx.notes()) {
      if (note.startsWith("MX target ")) {
        targets.add(note.substring("MX target ".length()).replace("; ignored", ""));
      }
    }
    StringBuilder text =
        new StringBuilder("the MX records of ").append(mx.nextHop()).append(" name no mail host: ");
    text.append(String.join("; ", targets.subList(0, Math.min(targets.size(), MAX_TARGETS_NAMED))));
    if (targets.size() > MAX_TARGETS_NAMED) {
      text.append("; and ").append(targets.size() - MAX_TARGETS_NAMED).append(" more");
    }
    return text.append(" (an MX record must name a host, not an address: RFC 5321 §5.1)")
        .toString();
  }

  /**
   * One address family failed (SERVFAIL, timeout, bogus) and the other resolved: the host is
   * reached over the family that resolved, as Postfix does, and the record says so.
   */
  private static List<String> failedAddressFamilies(MxHost h) {
    List<String> notes = new ArrayList<>();
    for (DnsAnswer a : List.of(h.ipv4(), h.ipv6())) {
      // RFC 4035 §5.5: an answer that failed validation is a failed lookup, whatever its outcome
      if (!a.isSuccess()
          || a.state() == DnssecState.BOGUS
          || a.state() == DnssecState.INDETERMINATE) {
        notes.add(
            h.name()
                + ": "
                + a.type()
                + " lookup failed ("
                + a
                + "); only the addresses of the other family are used");
      }
    }
    return notes;
  }

  /** The TLSA outcome in words, for the decision record. */
  static String describe(TlsaLookup t) {
    if (t instanceof TlsaLookup.None n) {
      return "no DANE: " + n.reason();
    } else if (t instanceof TlsaLookup.Unusable u) {
      return "TLSA records unusable: " + u.reasons();
    } else if (t instanceof TlsaLookup.Failed f) {
      return "TLSA lookup failed: " + f.reason();
    }
    return "usable TLSA";
  }

  /** The MTA-STS outcome in words, for the decision record. */
  static String describe(MtaStsLookup lookup) {
    if (lookup instanceof MtaStsLookup.Found f) {
      return "policy id="
          + f.policy().id()
          + " mode "
          + f.policy().mode()
          + (f.fromCache() ? " (cached)" : " (fetched)")
          + (f.note().isEmpty() ? "" : "; " + f.note());
    } else if (lookup instanceof MtaStsLookup.NoPolicy n) {
      return "no policy (" + n.reason() + ")";
    }
    MtaStsLookup.Failed failed = (MtaStsLookup.Failed) lookup;
    return "lookup failed: " + failed.type() + " " + failed.reason();
  }
}
