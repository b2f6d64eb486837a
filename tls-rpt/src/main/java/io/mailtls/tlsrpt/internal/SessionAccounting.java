package io.mailtls.tlsrpt.internal;

import io.mailtls.core.Attempt;
import io.mailtls.core.DeliveryPlan;
import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DnsRecord;
import io.mailtls.core.DomainName;
import io.mailtls.core.FailureType;
import io.mailtls.core.MtaStsPolicy;
import io.mailtls.core.NextHop;
import io.mailtls.core.PlannedHost;
import io.mailtls.core.PolicyFailure;
import io.mailtls.core.PolicySource;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.TlsRequirement;
import io.mailtls.tlsrpt.AppliedPolicy;
import io.mailtls.tlsrpt.FailureDetail;
import io.mailtls.tlsrpt.PolicyCounts;
import io.mailtls.tlsrpt.PolicyType;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The sessions of one delivery call, counted for TLS-RPT (RFC 8460 §4): from the call's report (its
 * plans and connection attempts, per recipient domain) and the {@link PolicyFailure}s the transport
 * fired. The rules, one row each, are the table in docs/tls-rpt.md.
 */
public final class SessionAccounting {

  /** The reason code of a session that went ahead without TLS. */
  public static final String PLAINTEXT = "PLAINTEXT";

  private SessionAccounting() {}

  /**
   * A policy failure as a call's listener saw it, with the plan of its domain that had ended last
   * when it came: the plan it was decided in, or the one its session was made under. RFC 8461
   * §5.1's re-check makes a second plan for a domain in the same call; its failures come after its
   * {@code planEnd}, the first round's before (docs/tls-rpt.md).
   *
   * @param failure the failure
   * @param plan the plan, empty when not known (a report and failures had otherwise)
   */
  public record Observed(PolicyFailure failure, Optional<DeliveryPlan> plan) {

    /** Checks the components. */
    public Observed {
      Objects.requireNonNull(failure, "failure");
      Objects.requireNonNull(plan, "plan");
    }
  }

  /**
   * The counts of one call, with failures whose plan is not known: each is put with the round of
   * the report that has it (see {@link #countObserved}).
   *
   * @param report the call's report
   * @param failures the policy failures the call fired, in order
   * @param sendingMtaIp the sending MTA's address for {@code sending-mta-ip}, if configured
   */
  public static Map<AppliedPolicy, PolicyCounts> count(
      DeliveryReport report, List<PolicyFailure> failures, Optional<String> sendingMtaIp) {
    return countObserved(
        report,
        failures.stream().map(f -> new Observed(f, Optional.empty())).toList(),
        sendingMtaIp);
  }

  /**
   * The counts of one call.
   *
   * <p>A domain's sessions are counted per round: the plan and the attempts made under one MTA-STS
   * policy. There are two rounds when RFC 8461 §5.1's re-check found a new policy and the mail was
   * tried again; the first round's sessions count under the old policy, the second's under the new
   * one. An attempt says which policy it was held under ({@link Attempt#mtaStsPolicy()}), a failure
   * by the plan it came with; a failure without one is put with the report's plan that lists it
   * (or, for a session's failure, with its attempt), else with the first recipient's.
   *
   * @param report the call's report
   * @param failures the policy failures the call fired, in order, with their plans
   * @param sendingMtaIp the sending MTA's address for {@code sending-mta-ip}, if configured
   */
  public static Map<AppliedPolicy, PolicyCounts> countObserved(
      DeliveryReport report, List<Observed> failures, Optional<String> sendingMtaIp) {
    Map<DomainName, List<RecipientResult>> domains = new LinkedHashMap<>();
    for (RecipientResult r : report.recipients()) {
      if (r.plan().nextHop() instanceof NextHop.Domain d) {
        domains.computeIfAbsent(d.name(), k -> new ArrayList<>()).add(r);
      }
    }
    Map<AppliedPolicy, PolicyCounts> counts = new HashMap<>();
    for (Map.Entry<DomainName, List<RecipientResult>> e : domains.entrySet()) {
      DomainName domain = e.getKey();
      List<RecipientResult> results = e.getValue();
      DeliveryPlan first = results.get(0).plan();
      // The plans the recipients were delivered under first: the hosts they used decide whether a
      // host that failed its policy while planning was used all the same.
      Map<Optional<MtaStsPolicy>, Round> rounds = new LinkedHashMap<>();
      for (RecipientResult r : results) {
        Round round = rounds.computeIfAbsent(r.plan().mtaSts(), k -> new Round());
        if (round.reported == null) {
          round.reported = r.plan();
        }
      }
      // Every session once: a recipient tried again holds the first round's attempts too.
      Set<Attempt> seen = Collections.newSetFromMap(new IdentityHashMap<>());
      for (RecipientResult r : results) {
        for (Attempt a : r.attempts()) {
          if (seen.add(a)) {
            rounds.computeIfAbsent(a.mtaStsPolicy(), k -> new Round()).attempts.add(a);
          }
        }
      }
      for (Observed o : failures) {
        PolicyFailure f = o.failure();
        if (!f.policyDomain().equals(domain) || f.type().tlsRptResultType().isEmpty()) {
          continue;
        }
        Optional<MtaStsPolicy> key =
            o.plan().isPresent() ? o.plan().get().mtaSts() : roundOf(f, results, rounds, first);
        Round round = rounds.computeIfAbsent(key, k -> new Round());
        if (round.observed == null && o.plan().isPresent()) {
          round.observed = o.plan().get();
        }
        round.failures.add(f);
      }
      for (Round round : rounds.values()) {
        countRound(domain, round.plan(first), round, sendingMtaIp, counts);
      }
    }
    return counts;
  }

  /** A plan of a domain, with the sessions and the failures under its MTA-STS policy. */
  private static final class Round {
    /** A recipient's plan of the report under this policy: what the mail was delivered under. */
    @Nullable DeliveryPlan reported;

    /** The plan a failure under this policy came with, as the listener saw it ended. */
    @Nullable DeliveryPlan observed;

    final List<Attempt> attempts = new ArrayList<>();
    final List<PolicyFailure> failures = new ArrayList<>();

    /** The round's plan: as reported, else as observed, else {@code first}. */
    DeliveryPlan plan(DeliveryPlan first) {
      if (reported != null) {
        return reported;
      }
      return observed != null ? observed : first;
    }
  }

  /** The round of a failure whose plan is not known. */
  private static Optional<MtaStsPolicy> roundOf(
      PolicyFailure f,
      List<RecipientResult> results,
      Map<Optional<MtaStsPolicy>, Round> rounds,
      DeliveryPlan first) {
    if (f.address().isPresent()) {
      for (Map.Entry<Optional<MtaStsPolicy>, Round> r : rounds.entrySet()) {
        for (Attempt a : r.getValue().attempts) {
          if (f.address().equals(Optional.of(a.address())) && f.host().equals(a.host())) {
            return r.getKey();
          }
        }
      }
      return first.mtaSts();
    }
    for (RecipientResult r : results) {
      if (r.plan().policyFailures().contains(f)) {
        return r.plan().mtaSts();
      }
    }
    return first.mtaSts();
  }

  /** The sessions of one round (one plan), by the table in docs/tls-rpt.md. */
  private static void countRound(
      DomainName domain,
      DeliveryPlan plan,
      Round round,
      Optional<String> sendingMtaIp,
      Map<AppliedPolicy, PolicyCounts> counts) {
    List<PolicyFailure> sessionFailures = new ArrayList<>();
    List<PolicyFailure> hostAudits = new ArrayList<>();
    for (PolicyFailure f : round.failures) {
      if (f.address().isPresent()) {
        sessionFailures.add(f);
      } else if (usedAnyway(plan, f)) {
        // Decided while planning about a host that is used all the same (an MX outside an
        // MTA-STS testing policy's patterns, unusable TLSA records with TLS required): it is
        // the verdict on each session with that host (row 2), not a session of its own; a host
        // never connected to had no session.
        hostAudits.add(f);
      } else {
        // A failure decided while planning (no connection): one failed session (row 1).
        add(
            counts,
            planPolicy(domain, plan, f),
            PolicyCounts.failure(
                detail(f.type(), f.host(), Optional.empty(), sendingMtaIp, Optional.empty())));
      }
    }
    for (Attempt a : round.attempts) {
      AppliedPolicy policy = attemptPolicy(domain, plan, a);
      PolicyFailure matched = take(sessionFailures, a);
      if (a.sessionReused()) {
        // RFC 8460 §4.3 counts "negotiated TLS-enabled connections": a pooled session that already
        // carried mail for this domain was counted, with its verdict, by the attempt that first
        // did; the same verdict repeated for each later message is not another session.
        continue;
      }
      List<PolicyFailure> audits =
          hostAudits.stream().filter(f -> f.host().equals(a.host())).toList();
      if (policy.type() == PolicyType.NO_POLICY_FOUND) {
        // RFC 8689 §4.2.2 (TLS-Required: No) lowered a host whose secure TLSA records are all
        // unusable to the sender's level: the session is still held under the domain's TLSA
        // policy, whose verdict (tlsa-invalid) is about it; counted once there (RFC 8460 §4.4),
        // never also as a success under no-policy-found.
        for (PolicyFailure f : audits) {
          if (f.source() == PolicySource.DANE) {
            policy = planPolicy(domain, plan, f);
            break;
          }
        }
      }
      boolean tlsFailure =
          a.failure().isPresent() && a.failure().get().tlsRptResultType().isPresent();
      if (matched == null && !tlsFailure && a.tls().isPresent()) {
        // A session that would count as a success fails by the audit of its own policy.
        for (PolicyFailure f : audits) {
          if (planPolicy(domain, plan, f).equals(policy)) {
            matched = f;
            break;
          }
        }
      }
      if (counted(a, matched)) {
        // The same session under another policy the host failed while planning: once there.
        for (PolicyFailure f : audits) {
          AppliedPolicy other = planPolicy(domain, plan, f);
          if (!Objects.equals(f, matched) && !other.equals(policy)) {
            add(
                counts,
                other,
                PolicyCounts.failure(
                    detail(f.type(), a.host(), Optional.of(a.address()), sendingMtaIp, a)));
          }
        }
      }
      if (matched != null) {
        // Row 2: the transport reported this session's policy failure.
        add(
            counts,
            policy,
            PolicyCounts.failure(
                detail(
                    sessionType(matched.type(), a),
                    a.host(),
                    Optional.of(a.address()),
                    sendingMtaIp,
                    a)));
      } else if (a.failure().isPresent() && a.failure().get().tlsRptResultType().isPresent()) {
        // Row 3: a TLS failure without a recipient policy (the sender's own level).
        add(
            counts,
            policy,
            PolicyCounts.failure(
                detail(a.failure().get(), a.host(), Optional.of(a.address()), sendingMtaIp, a)));
      } else if (a.failedInTlsNegotiation()) {
        // Row 3a: without a recipient policy (the sender's level, an operator's map entry), a
        // negotiation the server accepted that then timed out or lost its connection: a failure
        // to negotiate TLS (RFC 8460 §4.4), the general validation-failure with that cause as its
        // reason code (§4.3.1), as under a recipient policy (row 2).
        add(
            counts,
            policy,
            PolicyCounts.failure(
                detail(
                    negotiationFailure(a.failure().get()),
                    a.host(),
                    Optional.of(a.address()),
                    sendingMtaIp,
                    a)));
      } else if (a.tls().isPresent()) {
        add(counts, policy, PolicyCounts.success()); // row 4
      } else if (withoutTls(a) && tlsNegotiationFailed(a)) {
        // Row 4b: the server accepted STARTTLS and the negotiation failed; the mail went in
        // plaintext on a new connection (RFC 7435), or the downgrade memory refused that. The MX
        // supports STARTTLS: not starttls-not-supported (RFC 8460 §4.3.1) but the negotiation's
        // failure.
        add(
            counts,
            policy,
            PolicyCounts.failure(
                detail(
                    negotiationFailure(a.plaintextReason().orElseThrow()),
                    a.host(),
                    Optional.of(a.address()),
                    sendingMtaIp,
                    a)));
      } else if (withoutTls(a)) {
        // Row 5: the session went on in plaintext (opportunistic; STARTTLS not offered, or
        // refused with a reply other than 220, RFC 3207 §4), whatever then became of the message
        // there.
        add(
            counts,
            policy,
            PolicyCounts.failure(
                new FailureDetail(
                    "starttls-not-supported",
                    sendingMtaIp.or(() -> a.localAddress().map(SessionAccounting::ip)),
                    a.host().map(DomainName::toString),
                    a.announcedName(),
                    Optional.of(ip(a.address())),
                    Optional.of(PLAINTEXT),
                    additionalInformation("starttls-not-supported"))));
      }
      // Row 6: no TLS negotiation was reached (connection refused, timeout, protocol error):
      // not a TLS session, not counted.
    }
    for (PolicyFailure left : sessionFailures) {
      // Not matched to an attempt (should not happen): still counted, never dropped.
      add(
          counts,
          planPolicy(domain, plan, left),
          PolicyCounts.failure(
              detail(left.type(), left.host(), left.address(), sendingMtaIp, Optional.empty())));
    }
  }

  /**
   * Whether the plan uses the host a failure decided while planning names: the failure did not keep
   * it from being tried.
   */
  private static boolean usedAnyway(DeliveryPlan plan, PolicyFailure f) {
    return f.host().isPresent() && plan.hosts().stream().anyMatch(h -> h.name().equals(f.host()));
  }

  /**
   * The result of a session's policy failure: {@code STARTTLS_NOT_SUPPORTED} stays so when the
   * server did not offer STARTTLS or refused it (RFC 3207 §4: no handshake took place), but a
   * session that went on in plaintext after a negotiation that failed ({@link
   * Attempt#plaintextReason()}) had an MX that supports STARTTLS: the negotiation's failure.
   */
  private static FailureType sessionType(FailureType type, Attempt a) {
    return type == FailureType.STARTTLS_NOT_SUPPORTED && tlsNegotiationFailed(a)
        ? negotiationFailure(a.plaintextReason().orElseThrow())
        : type;
  }

  /**
   * Whether the session has no TLS because a negotiation the server accepted failed (the STARTTLS
   * command after it was offered, the handshake, or the EHLO over TLS), rather than because the
   * server did not offer STARTTLS or refused it.
   */
  private static boolean tlsNegotiationFailed(Attempt a) {
    return a.tls().isEmpty()
        && a.plaintextReason().isPresent()
        && a.plaintextReason().get() != FailureType.STARTTLS_NOT_SUPPORTED;
  }

  /**
   * A failed negotiation as RFC 8460 §4.3.1 reports it: its own type when it has a result type (a
   * handshake failure, a certificate failure), else ({@code TIMEOUT}, {@code CONNECTION_LOST},
   * {@code PROTOCOL_ERROR} during it) the general {@code TLS_HANDSHAKE_FAILED}.
   */
  private static FailureType negotiationFailure(FailureType type) {
    return type.tlsRptResultType().isPresent() ? type : FailureType.TLS_HANDSHAKE_FAILED;
  }

  /** Whether a session counts at all (rows 2 to 5), rather than row 6's no TLS negotiation. */
  private static boolean counted(Attempt a, @Nullable PolicyFailure matched) {
    return matched != null
        || a.tls().isPresent()
        || withoutTls(a)
        || a.failedInTlsNegotiation()
        || a.failure().get().tlsRptResultType().isPresent();
  }

  /**
   * Whether the session got as far as negotiating TLS and has none (rows 4b and 5): it went on in
   * plaintext. RFC 8460 §4.4 counts a session by its TLS negotiation, so this holds whatever ended
   * the attempt afterwards, as a session with TLS counts as successful however its transaction
   * ended: the attempt completed; or it failed after its EHLO in plaintext ({@link
   * Attempt#authentication()} is known once the session is set up), say the host lacks SMTPUTF8
   * (RFC 6531 §3.2) and the message went to the next MX; or the downgrade memory refused it ({@code
   * DOWNGRADE_DETECTED}: an attempt fails so only after EHLO, without TLS).
   */
  private static boolean withoutTls(Attempt a) {
    return a.tls().isEmpty()
        && (a.failure().isEmpty()
            || a.authentication().isPresent()
            || a.failure().get() == FailureType.DOWNGRADE_DETECTED);
  }

  private static @Nullable PolicyFailure take(List<PolicyFailure> failures, Attempt a) {
    for (int i = 0; i < failures.size(); i++) {
      PolicyFailure f = failures.get(i);
      if (f.address().equals(Optional.of(a.address())) && f.host().equals(a.host())) {
        return failures.remove(i);
      }
    }
    return null;
  }

  /** The policy a session was held under. */
  static AppliedPolicy attemptPolicy(DomainName domain, DeliveryPlan plan, Attempt a) {
    String host = a.host().map(DomainName::toString).orElse("");
    if (a.requirement() instanceof TlsRequirement.Dane dane) {
      return AppliedPolicy.tlsa(domain, dane.records(), host);
    }
    if (a.source() == PolicySource.DANE) {
      // Secure TLSA records, none usable: TLS without authentication (RFC 7672 §2.2). The
      // records are the policy all the same (RFC 8460 §4.4): the plan's tlsa-invalid has them.
      return new AppliedPolicy(
          PolicyType.TLSA, domain, unusableRecords(plan, a.host()), List.of(host));
    }
    Optional<TlsRequirement.Dane> audited = auditedDane(plan, a);
    if (audited.isPresent()) {
      // RFC 8689 §4.2.2 (TLS-Required: No): the host's TLSA records were checked and reported,
      // not enforced; the session is still held under them (RFC 8460 §4.4: policy-type tlsa).
      return AppliedPolicy.tlsa(domain, audited.get().records(), host);
    }
    if (a.mtaStsPolicy().isPresent()) {
      return AppliedPolicy.sts(domain, a.mtaStsPolicy().get());
    }
    return AppliedPolicy.noPolicy(domain);
  }

  /** The DANE requirement the plan checked, report-only, on the session's host. */
  private static Optional<TlsRequirement.Dane> auditedDane(DeliveryPlan plan, Attempt a) {
    if (a.host().isEmpty()) {
      return Optional.empty();
    }
    for (PlannedHost h : plan.hosts()) {
      if (h.name().equals(a.host())
          && h.addresses().contains(a.address().getAddress())
          && h.reportOnly().isPresent()
          && h.reportOnly().get() instanceof TlsRequirement.Dane dane) {
        return Optional.of(dane);
      }
    }
    return Optional.empty();
  }

  /**
   * The secure TLSA records, none usable, that the plan found for {@code host} (its {@code
   * tlsa-invalid} failure carries them); empty when it has none.
   */
  private static List<String> unusableRecords(DeliveryPlan plan, Optional<DomainName> host) {
    for (PolicyFailure f : plan.policyFailures()) {
      if (f.type() == FailureType.TLSA_INVALID && f.host().equals(host)) {
        return presentation(f.tlsaRecords());
      }
    }
    return List.of();
  }

  private static List<String> presentation(List<DnsRecord.Tlsa> records) {
    return records.stream().map(DnsRecord.Tlsa::toString).toList();
  }

  /**
   * The policy a failure decided while planning belongs to. A DANE failure's {@code policy-string}
   * is the TLSA records it is about (RFC 8460 §4.4): those of {@code tlsa-invalid}; none for {@code
   * dnssec-invalid}, whose records failed validation or could not be fetched and are never read
   * (RFC 4035 §5.5).
   */
  static AppliedPolicy planPolicy(DomainName domain, DeliveryPlan plan, PolicyFailure f) {
    if (f.source() == PolicySource.DANE) {
      return new AppliedPolicy(
          PolicyType.TLSA,
          domain,
          presentation(f.tlsaRecords()),
          f.host().map(h -> List.of(h.toString())).orElse(List.of()));
    }
    if (f.source() == PolicySource.MTA_STS) {
      return plan.mtaSts()
          .map(p -> AppliedPolicy.sts(domain, p))
          .orElse(new AppliedPolicy(PolicyType.STS, domain, List.of(), List.of()));
    }
    return AppliedPolicy.noPolicy(domain);
  }

  private static FailureDetail detail(
      FailureType type,
      Optional<DomainName> host,
      Optional<InetSocketAddress> address,
      Optional<String> sendingMtaIp,
      Attempt session) {
    return detail(type, host, address, sendingMtaIp, Optional.of(session));
  }

  /**
   * What ended the session's TLS negotiation when it has no type of its own in RFC 8460 §4.3 (a
   * timeout, a lost connection, a protocol error after the server offered STARTTLS): reported as
   * the general {@code validation-failure}, for which the reporting MTA "SHOULD utilize the
   * failure-reason-code to provide more information" (§4.3.1); empty otherwise.
   */
  private static Optional<FailureType> negotiationCause(FailureType reported, Attempt session) {
    if (reported != FailureType.TLS_HANDSHAKE_FAILED || session.tls().isPresent()) {
      return Optional.empty();
    }
    Optional<FailureType> cause =
        tlsNegotiationFailed(session) ? session.plaintextReason() : session.failure();
    return cause.filter(
        t ->
            t == FailureType.TIMEOUT
                || t == FailureType.CONNECTION_LOST
                || t == FailureType.PROTOCOL_ERROR);
  }

  /**
   * A failure detail; {@code session}, when there was one, gives the receiving MX's announced name
   * ({@code receiving-mx-helo}), unless configured the sending address ({@code sending-mta-ip}),
   * and for a negotiation that timed out or lost its connection that cause as the reason code
   * ({@link #negotiationCause}).
   */
  private static FailureDetail detail(
      FailureType type,
      Optional<DomainName> host,
      Optional<InetSocketAddress> address,
      Optional<String> sendingMtaIp,
      Optional<Attempt> session) {
    String resultType = type.tlsRptResultType().orElseThrow();
    FailureType reason = session.flatMap(a -> negotiationCause(type, a)).orElse(type);
    return new FailureDetail(
        resultType,
        sendingMtaIp.or(() -> session.flatMap(Attempt::localAddress).map(SessionAccounting::ip)),
        host.map(DomainName::toString),
        session.flatMap(Attempt::announcedName),
        address.map(SessionAccounting::ip),
        Optional.of(reason.name()),
        additionalInformation(resultType));
  }

  /**
   * {@code additional-information} (RFC 8460 §4.4: "a URI ... [that] might point to a description
   * of the failure type"): the section of RFC 8460 that defines {@code resultType}.
   */
  public static Optional<String> additionalInformation(String resultType) {
    String section =
        switch (resultType) {
          case "starttls-not-supported",
              "certificate-host-mismatch",
              "certificate-expired",
              "certificate-not-trusted",
              "validation-failure" ->
              "section-4.3.1";
          case "tlsa-invalid", "dnssec-invalid", "dane-required" -> "section-4.3.2.1";
          case "sts-policy-fetch-error", "sts-policy-invalid", "sts-webpki-invalid" ->
              "section-4.3.2.2";
          default -> "";
        };
    return section.isEmpty()
        ? Optional.empty()
        : Optional.of("https://www.rfc-editor.org/rfc/rfc8460#" + section);
  }

  private static String ip(InetSocketAddress a) {
    // RFC 8460 §4.4: the RFC 5952 text of an IPv6 address, not Java's uncompressed form
    return a.getAddress() != null ? AddressText.of(a.getAddress()) : a.getHostString();
  }

  private static void add(
      Map<AppliedPolicy, PolicyCounts> counts, AppliedPolicy policy, PolicyCounts c) {
    counts.merge(policy, c, PolicyCounts::plus);
  }
}
