package io.mailtls.tlsrpt.internal;

import io.mailtls.core.Attempt;
import io.mailtls.core.DeliveryPlan;
import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DomainName;
import io.mailtls.core.FailureType;
import io.mailtls.core.NextHop;
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
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
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
   * The counts of one call.
   *
   * @param report the call's report
   * @param failures the policy failures the call fired, in order
   * @param sendingMtaIp the sending MTA's address for {@code sending-mta-ip}, if configured
   */
  public static Map<AppliedPolicy, PolicyCounts> count(
      DeliveryReport report, List<PolicyFailure> failures, Optional<String> sendingMtaIp) {
    Map<DomainName, RecipientResult> domains = new LinkedHashMap<>();
    for (RecipientResult r : report.recipients()) {
      if (r.plan().nextHop() instanceof NextHop.Domain d) {
        domains.putIfAbsent(d.name(), r);
      }
    }
    Map<AppliedPolicy, PolicyCounts> counts = new HashMap<>();
    for (Map.Entry<DomainName, RecipientResult> e : domains.entrySet()) {
      DomainName domain = e.getKey();
      DeliveryPlan plan = e.getValue().plan();
      List<PolicyFailure> sessionFailures = new ArrayList<>();
      List<PolicyFailure> hostAudits = new ArrayList<>();
      for (PolicyFailure f : failures) {
        if (!f.policyDomain().equals(domain) || f.type().tlsRptResultType().isEmpty()) {
          continue;
        }
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
      for (Attempt a : e.getValue().attempts()) {
        AppliedPolicy policy = attemptPolicy(domain, plan, a);
        PolicyFailure matched = take(sessionFailures, a);
        List<PolicyFailure> audits =
            hostAudits.stream().filter(f -> f.host().equals(a.host())).toList();
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
                  detail(matched.type(), a.host(), Optional.of(a.address()), sendingMtaIp, a)));
        } else if (a.failure().isPresent() && a.failure().get().tlsRptResultType().isPresent()) {
          // Row 3: a TLS failure without a recipient policy (the sender's own level).
          add(
              counts,
              policy,
              PolicyCounts.failure(
                  detail(a.failure().get(), a.host(), Optional.of(a.address()), sendingMtaIp, a)));
        } else if (a.tls().isPresent()) {
          add(counts, policy, PolicyCounts.success()); // row 4
        } else if (a.failure().isEmpty()) {
          // Row 5: the session went ahead in plaintext (opportunistic, no STARTTLS).
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
    return counts;
  }

  /**
   * Whether the plan uses the host a failure decided while planning names: the failure did not keep
   * it from being tried.
   */
  private static boolean usedAnyway(DeliveryPlan plan, PolicyFailure f) {
    return f.host().isPresent() && plan.hosts().stream().anyMatch(h -> h.name().equals(f.host()));
  }

  /** Whether a session counts at all (rows 2 to 5), rather than row 6's no TLS negotiation. */
  private static boolean counted(Attempt a, @Nullable PolicyFailure matched) {
    return matched != null
        || a.tls().isPresent()
        || a.failure().isEmpty()
        || a.failure().get().tlsRptResultType().isPresent();
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
      // Secure TLSA records, none usable: TLS without authentication (RFC 7672 §2.2).
      return new AppliedPolicy(PolicyType.TLSA, domain, List.of(), List.of(host));
    }
    if (plan.mtaSts().isPresent()) {
      return AppliedPolicy.sts(domain, plan.mtaSts().get());
    }
    return AppliedPolicy.noPolicy(domain);
  }

  /** The policy a failure decided while planning belongs to. */
  static AppliedPolicy planPolicy(DomainName domain, DeliveryPlan plan, PolicyFailure f) {
    if (f.source() == PolicySource.DANE) {
      return new AppliedPolicy(
          PolicyType.TLSA,
          domain,
          List.of(),
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
   * A failure detail; {@code session}, when there was one, gives the receiving MX's announced name
   * ({@code receiving-mx-helo}) and, unless configured, the sending address ({@code
   * sending-mta-ip}).
   */
  private static FailureDetail detail(
      FailureType type,
      Optional<DomainName> host,
      Optional<InetSocketAddress> address,
      Optional<String> sendingMtaIp,
      Optional<Attempt> session) {
    String resultType = type.tlsRptResultType().orElseThrow();
    return new FailureDetail(
        resultType,
        sendingMtaIp.or(() -> session.flatMap(Attempt::localAddress).map(SessionAccounting::ip)),
        host.map(DomainName::toString),
        session.flatMap(Attempt::announcedName),
        address.map(SessionAccounting::ip),
        Optional.of(type.name()),
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
    return a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
  }

  private static void add(
      Map<AppliedPolicy, PolicyCounts> counts, AppliedPolicy policy, PolicyCounts c) {
    counts.merge(policy, c, PolicyCounts::plus);
  }
}
