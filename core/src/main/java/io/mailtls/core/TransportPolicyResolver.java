package io.mailtls.core;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.random.RandomGenerator;

/**
 * Plans delivery for a recipient domain: its MX hosts in order, each with the TLS requirement
 * that the sender's level and the recipient's policies impose, and a decision record. Immutable
 * and thread-safe; build once and share.
 *
 * <p>Recipient-side policies arrive through SPIs: MTA-STS through {@link MtaStsPolicySource}
 * ({@code mailtls-mta-sts} implements it), DANE from {@code mailtls-dane}. Each must be given or
 * explicitly opted out of ({@link Builder#withoutMtaSts()}, {@link Builder#withoutDane()}). An
 * MTA-STS {@code
 * enforce} policy overrides a weaker sender level: only matching MX hosts, PKIX-verified TLS
 * (RFC 8461 §4, §5); {@code testing} delivers as the sender level says and reports failures.
 * Without a provider, {@link TlsLevel#STS_REQUIRED} and {@link TlsLevel#DANE_REQUIRED} fail
 * closed: every recipient is deferred with {@link FailureType#POLICY_UNAVAILABLE}, never
 * delivered opportunistically.
 *
 * <p>Lookups that do not depend on each other run concurrently (every MX host's A and AAAA), so a
 * plan costs about one dependent chain of round trips.
 */
public final class TransportPolicyResolver {

  private final MxResolver mxResolver;
  private final Optional<MtaStsPolicySource> mtaSts;
  private final Optional<DaneProvider> dane;

  private TransportPolicyResolver(Builder b) {
    this.mxResolver = new MxResolver(b.dns, b.random);
    this.mtaSts = Optional.ofNullable(b.mtaSts);
    this.dane = Optional.ofNullable(b.dane);
  }

  /** A builder; {@link Builder#dns(DnsResolver)} is required. */
  public static Builder builder() {
    return new Builder();
  }

  /** Plans delivery to {@code nextHop} under the sender's {@code level}. Completes normally. */
  public CompletionStage<DeliveryPlan> plan(NextHop nextHop, TlsLevel level) {
    Objects.requireNonNull(nextHop, "nextHop");
    Objects.requireNonNull(level, "level");
    // MX resolution and MTA-STS discovery do not depend on each other: run them together.
    CompletableFuture<MxResolution> mx = mxResolver.resolve(nextHop).toCompletableFuture();
    CompletableFuture<Optional<MtaStsLookup>> sts = stsLookup(nextHop, false);
    // TLSA lookups depend on the MX hosts only; they run beside MTA-STS discovery.
    CompletableFuture<Map<DomainName, TlsaLookup>> tlsa = mx.thenCompose(this::tlsaLookups);
    return mx.thenCombine(sts, (m, p) -> new Inputs(nextHop, level, m, p, Map.of()))
        .thenCombine(tlsa, (in, t) -> new Inputs(in.nextHop(), in.level(), in.mx(), in.sts(), t))
        .thenCompose(this::fromInputs);
  }

  /** Blocking convenience for {@link #plan}. */
  public DeliveryPlan planBlocking(NextHop nextHop, TlsLevel level) {
    return plan(nextHop, level).toCompletableFuture().join();
  }

  /**
   * RFC 8461 §5.1 step 3: before mail fails for good under an {@code enforce} policy, ask for a
   * new policy id; when the policy changed, the new plan follows it. Empty when no MTA-STS
   * policy source is configured or the policy did not change.
   */
  public CompletionStage<Optional<DeliveryPlan>> replanIfPolicyChanged(DeliveryPlan old) {
    Optional<String> oldId = enforcedPolicyId(old);
    if (mtaSts.isEmpty() || oldId.isEmpty()) {
      return CompletableFuture.completedFuture(Optional.empty());
    }
    return stsLookup(old.nextHop(), true).thenCompose(p -> {
      if (p.isPresent() && p.get() instanceof MtaStsLookup.Found f
          && !f.policy().id().equals(oldId.get())) {
        return tlsaLookups(old.mx()).thenCompose(t -> fromInputs(
            new Inputs(old.nextHop(), old.senderLevel().orElseThrow(), old.mx(), p, t)))
            .thenApply(Optional::of);
      }
      return CompletableFuture.completedFuture(Optional.empty());
    });
  }

  private static Optional<String> enforcedPolicyId(DeliveryPlan plan) {
    return plan.mtaSts().filter(p -> p.mode() == MtaStsMode.ENFORCE).map(MtaStsPolicy::id);
  }

  private CompletableFuture<Optional<MtaStsLookup>> stsLookup(NextHop hop, boolean recheck) {
    if (mtaSts.isEmpty() || !(hop instanceof NextHop.Domain d)) {
      return CompletableFuture.completedFuture(Optional.empty());
    }
    CompletionStage<MtaStsLookup> stage = recheck
        ? mtaSts.get().recheck(d.name()) : mtaSts.get().lookup(d.name());
    return stage.toCompletableFuture().thenApply(Optional::of);
  }

  /** What a plan is made from. */
  private record Inputs(NextHop nextHop, TlsLevel level, MxResolution mx,
      Optional<MtaStsLookup> sts, Map<DomainName, TlsaLookup> tlsa) {}

  /** Every connectable host's TLSA discovery, concurrently (RFC 7672 §2.2). */
  private CompletableFuture<Map<DomainName, TlsaLookup>> tlsaLookups(MxResolution mx) {
    if (dane.isEmpty() || mx.kind().isPermanentFailure() || mx.kind().isTemporaryFailure()) {
      return CompletableFuture.completedFuture(Map.of());
    }
    List<CompletableFuture<TlsaLookup>> all = new ArrayList<>();
    for (MxHost h : mx.hosts()) {
      if (!h.addresses().isEmpty()) {
        all.add(dane.get().lookup(h, mx).toCompletableFuture());
      }
    }
    return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).thenApply(v -> {
      Map<DomainName, TlsaLookup> out = new HashMap<>();
      all.forEach(f -> out.put(f.join().host(), f.join()));
      return out;
    });
  }

  private CompletionStage<DeliveryPlan> fromInputs(Inputs in) {
    NextHop nextHop = in.nextHop();
    TlsLevel level = in.level();
    MxResolution mx = in.mx();
    List<String> reasons = new ArrayList<>();
    List<PolicyFailure> policyFailures = new ArrayList<>();
    reasons.add("sender level " + level);
    if (nextHop instanceof NextHop.Domain) {
      // The opt-outs are explicit choices; the record shows them wherever they matter.
      if (mtaSts.isEmpty()) {
        reasons.add("MTA-STS not consulted: this resolver was built withoutMtaSts()");
      }
      if (dane.isEmpty()) {
        reasons.add("DANE not consulted: this resolver was built withoutDane()");
      }
    }
    reasons.addAll(mx.notes());
    Optional<DeliveryPlan.Failure> mxFailure = mxFailure(mx);
    if (mxFailure.isPresent()) {
      reasons.add("MX resolution: " + mx.kind());
      if (mxFailure.get().type() == FailureType.DNSSEC_INVALID && dane.isPresent()
          && nextHop instanceof NextHop.Domain d) {
        // RFC 8460 §4.3.1 dnssec-invalid, reported for the recipient domain like a TLSA failure
        // (by a sender that applies DANE, as TLSA failures are)
        policyFailures.add(new PolicyFailure(d.name(), PolicySource.DANE, true, Optional.empty(),
            Optional.empty(), FailureType.DNSSEC_INVALID, mxFailure.get().reply().text()));
      }
      return done(new DeliveryPlan(nextHop, level, mx, List.of(), List.of(), mxFailure, reasons,
          policyFailures, Optional.empty()));
    }
    if (level == TlsLevel.DANE_REQUIRED && dane.isEmpty()) {
      return done(failClosed(in, reasons, "mailtls-dane"));
    }
    if (level == TlsLevel.DANE_REQUIRED && nextHop instanceof NextHop.Domain d
        && mx.mxState() != DnssecState.SECURE) {
      return done(nonDnssecDestination(in, d.name(), reasons));
    }
    Optional<MtaStsPolicy> policy = Optional.empty();
    if (in.sts().isPresent()) {
      MtaStsLookup lookup = in.sts().get();
      reasons.add("MTA-STS: " + describe(lookup));
      if (lookup instanceof MtaStsLookup.Found f && f.policy().mode() != MtaStsMode.NONE) {
        policy = Optional.of(f.policy());
      } else if (lookup instanceof MtaStsLookup.Failed failed) {
        policyFailures.add(new PolicyFailure(failed.policyDomain(), PolicySource.MTA_STS,
            false, Optional.empty(), Optional.empty(), failed.type(), failed.reason()));
      }
    }
    if (level == TlsLevel.DANE_REQUIRED) {
      policy = Optional.empty(); // every host must pass DANE; MTA-STS adds nothing (RFC 8461 §2)
    }
    if (level == TlsLevel.STS_REQUIRED) {
      Optional<DeliveryPlan> refused = stsRequiredRefusal(in, policy, reasons, policyFailures);
      if (refused.isPresent()) {
        return done(refused.get());
      }
    }
    boolean enforce = policy.isPresent() && policy.get().mode() == MtaStsMode.ENFORCE;
    TlsRequirement senderRequirement = level == TlsLevel.OPPORTUNISTIC
        ? new TlsRequirement.Opportunistic() : new TlsRequirement.Encrypted();
    PolicySource senderSource = level == TlsLevel.OPPORTUNISTIC
        ? PolicySource.NONE : PolicySource.SENDER;
    String senderWhy = level == TlsLevel.OPPORTUNISTIC
        ? "opportunistic: STARTTLS when offered, plaintext otherwise"
        : "sender level " + level + ": TLS 1.2+ required, certificate not checked";
    if (enforce) {
      // RFC 8461 §5: an enforce policy overrides any weaker sender level.
      reasons.add("MTA-STS enforce (policy id " + policy.get().id() + ", mx "
          + policy.get().mxPatterns() + ") overrides sender level " + level);
    } else {
      reasons.add(senderWhy);
    }
    List<PlannedHost> hosts = new ArrayList<>();
    List<SkippedHost> skipped = new ArrayList<>();
    if (nextHop instanceof NextHop.AddressLiteral literal) {
      hosts.add(new PlannedHost(Optional.empty(), List.of(literal.address()), senderRequirement,
          senderSource, senderWhy + " (address literal: no MX, no SNI)"));
    } else {
      for (MxHost h : mx.hosts()) {
        if (h.addresses().isEmpty()) {
          skipped.add(new SkippedHost(h.name(),
              h.addressLookupFailed() ? FailureType.DNS_FAILURE : FailureType.CONNECTION_FAILED,
              h.addressLookupFailed()
                  ? "address lookup failed: " + h.ipv4() + "; " + h.ipv6()
                  : "host has no A or AAAA records"));
          continue;
        }
        noteFailedAddressFamily(h, reasons);
        TlsaLookup tlsa = in.tlsa().get(h.name());
        // RFC 8461 §4.1, §5.1: under enforce, a host outside the policy's mx patterns is never
        // used. DANE may stand in for the PKIX check (RFC 8461 §2), never for the MX match:
        // only a DNSSEC-secure MX answer shows that the domain owner chose this host, since an
        // insecure one may be forged to point at any signed host with TLSA (RFC 7672 §2.2.1).
        boolean outsidePolicy = policy.isPresent() && !policy.get().matches(h.name());
        boolean ownerChoseHost = mx.mxState() == DnssecState.SECURE;
        if (tlsa != null && (!(enforce && outsidePolicy) || ownerChoseHost)
            && decideByDane(in, h, tlsa, policy, hosts, skipped, policyFailures, reasons)) {
          continue;
        }
        if (level == TlsLevel.DANE_REQUIRED) {
          // RFC 7672 §6 / Postfix dane-only: a host without usable TLSA is never used.
          skipped.add(new SkippedHost(h.name(), FailureType.DANE_REQUIRED,
              "dane-required: no usable TLSA records for " + h.name()
                  + (tlsa == null ? "" : " (" + describe(tlsa) + ")")));
          continue;
        }
        TlsRequirement pkix = new TlsRequirement.Pkix(List.of(h.name()));
        if (enforce) {
          if (!policy.get().matches(h.name())) {
            // RFC 8461 §4.1, §5: never deliver to an MX host outside an enforce policy.
            String why = h.name() + " matches none of the MTA-STS mx patterns "
                + policy.get().mxPatterns();
            skipped.add(new SkippedHost(h.name(), FailureType.STS_POLICY_INVALID, why));
            policyFailures.add(new PolicyFailure(dom(nextHop), PolicySource.MTA_STS, true,
                Optional.of(h.name()), Optional.empty(), FailureType.STS_POLICY_INVALID, why));
            continue;
          }
          hosts.add(new PlannedHost(Optional.of(h.name()), h.addresses(), pkix,
              PolicySource.MTA_STS, "MTA-STS enforce: TLS 1.2+, WebPKI, name " + h.name()));
        } else if (tlsa instanceof TlsaLookup.Unusable unusable) {
          // RFC 7672 §2.2: secure TLSA records, none usable: TLS mandatory, unauthenticated.
          String why = "DANE: secure TLSA records, none usable (tlsa-invalid): TLS required, "
              + "unauthenticated; " + unusable.reasons();
          hosts.add(new PlannedHost(Optional.of(h.name()), h.addresses(),
              new TlsRequirement.Encrypted(), PolicySource.DANE, why, policy.map(p -> pkix)));
          reasons.add(h.name() + ": " + why);
        } else if (policy.isPresent()) {
          // RFC 8461 §5 testing mode: deliver as the sender level says, report what would fail.
          if (outsidePolicy) {
            policyFailures.add(new PolicyFailure(dom(nextHop), PolicySource.MTA_STS, false,
                Optional.of(h.name()), Optional.empty(), FailureType.STS_POLICY_INVALID,
                h.name() + " matches none of the MTA-STS mx patterns "
                    + policy.get().mxPatterns() + " (testing mode: delivering anyway)"));
          }
          hosts.add(new PlannedHost(Optional.of(h.name()), h.addresses(), senderRequirement,
              senderSource, senderWhy + "; MTA-STS testing: failures reported",
              Optional.of(pkix)));
        } else {
          hosts.add(new PlannedHost(Optional.of(h.name()), h.addresses(), senderRequirement,
              senderSource, senderWhy));
        }
      }
    }
    if (level == TlsLevel.DANE_REQUIRED && nextHop instanceof NextHop.AddressLiteral) {
      hosts.clear();
      skipped.add(new SkippedHost(DomainName.ROOT, FailureType.DANE_REQUIRED,
          "dane-required: an address literal has no TLSA records"));
    }
    Optional<DeliveryPlan.Failure> failure = Optional.empty();
    if (hosts.isEmpty()) {
      failure = Optional.of(noHostFailure(skipped, enforce));
    }
    return done(new DeliveryPlan(nextHop, level, mx, hosts, skipped, failure, reasons,
        policyFailures, policy));
  }

  /**
   * DANE's say for one host (RFC 7672 §2.2, RFC 8461 §2): usable records make DANE mandatory and
   * win over MTA-STS; a failed lookup makes the host unusable. Returns whether it decided; when
   * DANE applies, the decision record says so (the sender level's line alone would misstate it).
   */
  private static boolean decideByDane(Inputs in, MxHost h, TlsaLookup tlsa,
      Optional<MtaStsPolicy> policy, List<PlannedHost> hosts, List<SkippedHost> skipped,
      List<PolicyFailure> failures, List<String> reasons) {
    if (tlsa instanceof TlsaLookup.Failed f) {
      // RFC 7672 §2.1.1: bogus or indeterminate DNS data never reads as "no DANE".
      String why = "DANE lookup failed for " + h.name() + ": " + f.reason();
      skipped.add(new SkippedHost(h.name(), FailureType.DNSSEC_INVALID, why));
      failures.add(new PolicyFailure(dom(in.nextHop()), PolicySource.DANE, true,
          Optional.of(h.name()), Optional.empty(), FailureType.DNSSEC_INVALID, why));
      return true;
    }
    if (tlsa instanceof TlsaLookup.Usable u) {
      String why = "DANE: " + u.requirement().records().size() + " usable TLSA record(s) at "
          + u.requirement().baseDomain() + (u.note().isEmpty() ? "" : "; " + u.note())
          + (policy.isPresent() ? "; DANE wins over MTA-STS for this host (RFC 8461 §2)" : "");
      hosts.add(new PlannedHost(Optional.of(h.name()), h.addresses(), u.requirement(),
          PolicySource.DANE, why));
      reasons.add(h.name() + ": " + why);
      return true;
    }
    if (tlsa instanceof TlsaLookup.Unusable unusable) {
      failures.add(new PolicyFailure(dom(in.nextHop()), PolicySource.DANE, false,
          Optional.of(h.name()), Optional.empty(), FailureType.TLSA_INVALID,
          "no usable TLSA record: " + unusable.reasons()));
    }
    return false;
  }

  /**
   * {@code dane-required} through an MX answer that is not DNSSEC-secure (an unsigned zone, or an
   * insecure CNAME on the way): the MX host names may be forged, so DANE on them would
   * authenticate an attacker's choice of host. Deferred, as Postfix's {@code dane-only} defers a
   * "non DNSSEC destination" (RFC 7672 §2.2.1, §6).
   */
  private static DeliveryPlan nonDnssecDestination(Inputs in, DomainName domain,
      List<String> reasons) {
    String why = "dane-required: the MX answer for " + domain + " is " + in.mx().mxState()
        + ", not DNSSEC-secure (non-DNSSEC destination): its MX host names may be forged"
        + " (RFC 7672 §2.2.1, §6)";
    reasons.add(why);
    List<SkippedHost> skipped = in.mx().hosts().stream().map(h -> new SkippedHost(h.name(),
        FailureType.DANE_REQUIRED, "dane-required: " + h.name() + " comes from an MX answer"
            + " that is " + in.mx().mxState())).toList();
    return new DeliveryPlan(in.nextHop(), in.level(), in.mx(), List.of(), skipped,
        Optional.of(new DeliveryPlan.Failure(DeliveryStatus.DEFERRED,
            SmtpReply.local(451, EnhancedStatus.CRYPTOGRAPHIC_FAILURE, why),
            FailureType.DANE_REQUIRED)), reasons);
  }

  /**
   * One address family failed (SERVFAIL, timeout, bogus) and the other resolved: the host is
   * reached over the family that resolved, as Postfix does, and the record says so.
   */
  private static void noteFailedAddressFamily(MxHost h, List<String> reasons) {
    for (DnsAnswer a : List.of(h.ipv4(), h.ipv6())) {
      if (!a.isSuccess()) {
        reasons.add(h.name() + ": " + a.type() + " lookup failed (" + a
            + "); only the addresses of the other family are used");
      }
    }
  }

  private static String describe(TlsaLookup t) {
    if (t instanceof TlsaLookup.None n) {
      return "no DANE: " + n.reason();
    } else if (t instanceof TlsaLookup.Unusable u) {
      return "TLSA records unusable: " + u.reasons();
    } else if (t instanceof TlsaLookup.Failed f) {
      return "TLSA lookup failed: " + f.reason();
    }
    return "usable TLSA";
  }

  private static DomainName dom(NextHop hop) {
    return ((NextHop.Domain) hop).name();
  }

  private static DeliveryPlan.Failure noHostFailure(List<SkippedHost> skipped, boolean enforce) {
    if (!skipped.isEmpty()
        && skipped.stream().allMatch(s -> s.failure() == FailureType.DANE_REQUIRED
            || s.failure() == FailureType.DNSSEC_INVALID)
        && skipped.stream().anyMatch(s -> s.failure() == FailureType.DANE_REQUIRED)) {
      return new DeliveryPlan.Failure(DeliveryStatus.DEFERRED,
          SmtpReply.local(451, EnhancedStatus.CRYPTOGRAPHIC_FAILURE,
              "dane-required: no MX host has usable, DNSSEC-secure TLSA records (RFC 7672 §6)"),
          FailureType.DANE_REQUIRED);
    }
    if (!skipped.isEmpty()
        && skipped.stream().allMatch(s -> s.failure() == FailureType.DNSSEC_INVALID)) {
      return new DeliveryPlan.Failure(DeliveryStatus.DEFERRED,
          SmtpReply.local(451, EnhancedStatus.DIRECTORY_SERVER_FAILURE,
              "DNSSEC data for every MX host is bogus or unavailable (RFC 7672 §2.1.1)"),
          FailureType.DNSSEC_INVALID);
    }
    if (enforce && skipped.stream().anyMatch(s -> s.failure() == FailureType.STS_POLICY_INVALID)) {
      // RFC 8461 §5.1: a temporary failure; the policy id was re-checked before giving up.
      return new DeliveryPlan.Failure(DeliveryStatus.DEFERRED,
          SmtpReply.local(451, EnhancedStatus.CRYPTOGRAPHIC_FAILURE,
              "no MX host matches the recipient's MTA-STS enforce policy"),
          FailureType.STS_POLICY_INVALID);
    }
    boolean dns = skipped.stream().anyMatch(s -> s.failure() == FailureType.DNS_FAILURE);
    return new DeliveryPlan.Failure(DeliveryStatus.DEFERRED,
        SmtpReply.local(451, dns ? EnhancedStatus.DIRECTORY_SERVER_FAILURE
            : EnhancedStatus.UNABLE_TO_ROUTE.withStatusClass(4),
            "no MX host with a usable address"),
        dns ? FailureType.DNS_FAILURE : FailureType.CONNECTION_FAILED);
  }

  /**
   * The {@code sts-required} level: only a valid {@code enforce} policy lets mail go. Bounced when
   * the domain provably publishes no policy or one that does not enforce; deferred when
   * discovery or the fetch failed (it may work later).
   */
  private Optional<DeliveryPlan> stsRequiredRefusal(Inputs in, Optional<MtaStsPolicy> policy,
      List<String> reasons, List<PolicyFailure> failures) {
    if (mtaSts.isEmpty()) {
      return Optional.of(failClosed(in, reasons, "mailtls-mta-sts"));
    }
    if (policy.isPresent() && policy.get().mode() == MtaStsMode.ENFORCE) {
      return Optional.empty();
    }
    DeliveryPlan.Failure f;
    if (in.sts().isEmpty()) {
      // An address literal has no domain, hence no MTA-STS policy (RFC 8461 §3.4).
      f = new DeliveryPlan.Failure(DeliveryStatus.BOUNCED, SmtpReply.local(550, "5.7.10",
          "sts-required: an address literal has no MTA-STS policy"),
          FailureType.STS_REQUIRED);
      reasons.add(f.reply().text());
      return Optional.of(new DeliveryPlan(in.nextHop(), in.level(), in.mx(), List.of(),
          List.of(), Optional.of(f), reasons, failures, policy));
    }
    MtaStsLookup lookup = in.sts().get();
    if (lookup instanceof MtaStsLookup.NoPolicy none && none.provablyAbsent()) {
      f = new DeliveryPlan.Failure(DeliveryStatus.BOUNCED, SmtpReply.local(550, "5.7.10",
          "sts-required: the recipient domain publishes no MTA-STS policy"),
          FailureType.STS_REQUIRED);
    } else if (lookup instanceof MtaStsLookup.Found found) {
      f = new DeliveryPlan.Failure(DeliveryStatus.BOUNCED, SmtpReply.local(550, "5.7.10",
          "sts-required: the recipient's MTA-STS policy is in mode " + found.policy().mode()
              + ", not enforce"), FailureType.STS_REQUIRED);
    } else if (lookup instanceof MtaStsLookup.Failed failed) {
      f = new DeliveryPlan.Failure(DeliveryStatus.DEFERRED, SmtpReply.local(451,
          EnhancedStatus.CRYPTOGRAPHIC_FAILURE, "sts-required: MTA-STS discovery failed: "
              + failed.reason()), failed.type());
    } else {
      f = new DeliveryPlan.Failure(DeliveryStatus.DEFERRED, SmtpReply.local(451,
          EnhancedStatus.CRYPTOGRAPHIC_FAILURE, "sts-required: no usable MTA-STS record: "
              + ((MtaStsLookup.NoPolicy) lookup).reason()), FailureType.STS_REQUIRED);
    }
    reasons.add(f.reply().text());
    return Optional.of(new DeliveryPlan(in.nextHop(), in.level(), in.mx(), List.of(), List.of(),
        Optional.of(f), reasons, failures, policy));
  }

  /** Fail closed: the level needs a recipient policy provider that is not configured. */
  private static DeliveryPlan failClosed(Inputs in, List<String> reasons, String module) {
    String why = in.level() + " needs a recipient policy provider (" + module
        + ") and none is configured; not delivering rather than downgrading";
    reasons.add(why);
    return new DeliveryPlan(in.nextHop(), in.level(), in.mx(), List.of(), List.of(),
        Optional.of(new DeliveryPlan.Failure(DeliveryStatus.DEFERRED,
            SmtpReply.local(451, EnhancedStatus.CRYPTOGRAPHIC_FAILURE, why),
            FailureType.POLICY_UNAVAILABLE)),
        reasons);
  }

  private static String describe(MtaStsLookup lookup) {
    if (lookup instanceof MtaStsLookup.Found f) {
      return "policy id=" + f.policy().id() + " mode " + f.policy().mode()
          + (f.fromCache() ? " (cached)" : " (fetched)")
          + (f.note().isEmpty() ? "" : "; " + f.note());
    } else if (lookup instanceof MtaStsLookup.NoPolicy n) {
      return "no policy (" + n.reason() + ")";
    }
    MtaStsLookup.Failed failed = (MtaStsLookup.Failed) lookup;
    return "lookup failed: " + failed.type() + " " + failed.reason();
  }

  /** The failure an MX outcome imposes on every recipient, if any (RFC 5321 §5.1, RFC 7505). */
  private static Optional<DeliveryPlan.Failure> mxFailure(MxResolution mx) {
    return switch (mx.kind()) {
      case NULL_MX -> Optional.of(new DeliveryPlan.Failure(DeliveryStatus.BOUNCED,
          SmtpReply.local(556, EnhancedStatus.NULL_MX,
              "recipient domain accepts no mail (null MX, RFC 7505)"),
          FailureType.DNS_FAILURE));
      case NO_SUCH_DOMAIN -> Optional.of(new DeliveryPlan.Failure(DeliveryStatus.BOUNCED,
          SmtpReply.local(550, "5.1.2", "recipient domain does not exist (NXDOMAIN)"),
          FailureType.DNS_FAILURE));
      case NO_MAIL_HOST -> Optional.of(new DeliveryPlan.Failure(DeliveryStatus.BOUNCED,
          SmtpReply.local(550, EnhancedStatus.UNABLE_TO_ROUTE,
              "recipient domain has neither MX nor address records"),
          FailureType.DNS_FAILURE));
      case TEMPORARY_FAILURE -> Optional.of(new DeliveryPlan.Failure(DeliveryStatus.DEFERRED,
          SmtpReply.local(451, EnhancedStatus.DIRECTORY_SERVER_FAILURE,
              "MX lookup failed: " + mx.mxAnswer().map(DnsAnswer::toString).orElse("")),
          // a validation failure is RFC 8460's dnssec-invalid; SERVFAIL or a timeout is not
          mx.mxAnswer().map(DnsAnswer::state).orElse(null) == DnssecState.BOGUS
              ? FailureType.DNSSEC_INVALID : FailureType.DNS_FAILURE));
      case MX, IMPLICIT_MX, ADDRESS_LITERAL -> Optional.empty();
    };
  }

  private static CompletionStage<DeliveryPlan> done(DeliveryPlan plan) {
    return CompletableFuture.completedFuture(plan);
  }

  /** Configures a {@link TransportPolicyResolver}. Not thread-safe. */
  public static final class Builder {
    private DnsResolver dns;
    private RandomGenerator random;
    private MtaStsPolicySource mtaSts;
    private DaneProvider dane;
    private boolean stsChosen;
    private boolean daneChosen;

    private Builder() {}

    /** The DNS resolver for MX and address lookups (required). */
    public Builder dns(DnsResolver dns) {
      if (this.dns != null) {
        throw new IllegalStateException("dns already set");
      }
      this.dns = Objects.requireNonNull(dns, "dns");
      return this;
    }

    /** The random source that orders equal-preference MX hosts; default a new {@link Random}. */
    public Builder random(RandomGenerator random) {
      if (this.random != null) {
        throw new IllegalStateException("random already set");
      }
      this.random = Objects.requireNonNull(random, "random");
      return this;
    }

    /**
     * The source of recipients' MTA-STS policies (RFC 8461), e.g. {@code MtaStsResolver}. This or
     * {@link #withoutMtaSts()} is required.
     */
    public Builder mtaSts(MtaStsPolicySource source) {
      stsChosen();
      this.mtaSts = Objects.requireNonNull(source, "source");
      return this;
    }

    /** Plans without MTA-STS: an explicit opt-out, stated in every decision record. */
    public Builder withoutMtaSts() {
      stsChosen();
      return this;
    }

    /**
     * The DANE provider (RFC 7672), e.g. {@code mailtls-dane}'s {@code DaneResolver}. This or
     * {@link #withoutDane()} is required.
     */
    public Builder dane(DaneProvider provider) {
      daneChosen();
      this.dane = Objects.requireNonNull(provider, "provider");
      return this;
    }

    /** Plans without DANE: an explicit opt-out, stated in every decision record. */
    public Builder withoutDane() {
      daneChosen();
      return this;
    }

    private void stsChosen() {
      if (stsChosen) {
        throw new IllegalStateException("mtaSts already chosen");
      }
      stsChosen = true;
    }

    private void daneChosen() {
      if (daneChosen) {
        throw new IllegalStateException("dane already chosen");
      }
      daneChosen = true;
    }

    /**
     * Builds the resolver.
     *
     * @throws IllegalStateException without {@link #dns}, or when MTA-STS or DANE was neither
     *     configured nor explicitly opted out of
     */
    public TransportPolicyResolver build() {
      if (dns == null) {
        throw new IllegalStateException("dns is required");
      }
      if (!stsChosen) {
        throw new IllegalStateException("MTA-STS: call mtaSts(...) (module mailtls-mta-sts) or"
            + " withoutMtaSts() to opt out explicitly");
      }
      if (!daneChosen) {
        throw new IllegalStateException("DANE: call dane(...) (module mailtls-dane) or"
            + " withoutDane() to opt out explicitly");
      }
      if (random == null) {
        random = new Random();
      }
      return new TransportPolicyResolver(this);
    }
  }
}
