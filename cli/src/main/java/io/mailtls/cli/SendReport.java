package io.mailtls.cli;

import io.mailtls.core.Attempt;
import io.mailtls.core.DeliveryPlan;
import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DomainName;
import io.mailtls.core.EmailAddress;
import io.mailtls.core.FailureType;
import io.mailtls.core.MtaStsMode;
import io.mailtls.core.NextHop;
import io.mailtls.core.PlannedHost;
import io.mailtls.core.PolicyFailure;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.TlsDetails;
import io.mailtls.core.TlsLevel;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * What {@code mailtls send} reports: the JSON document of docs/cli-json.md (schema {@value
 * #SCHEMA}), one entry per recipient in envelope order, built from a {@link DeliveryReport}.
 * Records of plain values (absent values null). Immutable.
 *
 * @param schema always {@value #SCHEMA}
 * @param from the envelope sender, or {@code <>} for the null reverse-path
 * @param level the sender's TLS level token
 * @param exitCode the exit code the command returns
 * @param summary how many recipients ended in each status
 * @param recipients one result per recipient
 */
record SendReport(
    String schema,
    String from,
    String level,
    int exitCode,
    Summary summary,
    List<Recipient> recipients) {

  /** The schema name and version of the {@code send} document. */
  static final String SCHEMA = "mailtls.send/1";

  /** Counts per status. */
  record Summary(int delivered, int deferred, int bounced) {}

  /**
   * One recipient's result.
   *
   * @param recipient the address
   * @param status {@code DELIVERED}, {@code DEFERRED} or {@code BOUNCED}
   * @param reply the SMTP reply that decided (locally generated when no server spoke)
   * @param mx the MX host of the deciding attempt, or null
   * @param address the IP address of the deciding attempt, or null
   * @param port its port, or null
   * @param tls the TLS session of the deciding attempt, or null without TLS
   * @param authentication how that peer was authenticated: {@code VERIFIED}, {@code TRUSTED},
   *     {@code ENCRYPTED}, {@code PLAINTEXT}; null when no session was established
   * @param dsn whether a DSN request (RFC 3461) was made and passed on: {@code NOT_REQUESTED},
   *     {@code PASSED_ON}, or {@code NOT_PASSED_ON} when the server did not advertise DSN
   * @param policy which policy decided the TLS requirement, and what it was
   * @param reason the outcome in one line
   * @param decision the decision record of the delivery plan, in words
   * @param skipped MX hosts that were not tried, and why
   * @param attempts every connection attempt for the recipient's domain, in order
   * @param policyFailures every MTA-STS or DANE failure reported for the recipient's domain (what
   *     an RFC 8460 report would carry), in the order they happened
   */
  record Recipient(
      String recipient,
      String status,
      CheckReport.Reply reply,
      @Nullable String mx,
      @Nullable String address,
      @Nullable Integer port,
      @Nullable Tls tls,
      @Nullable String authentication,
      String dsn,
      Policy policy,
      String reason,
      List<String> decision,
      List<Skipped> skipped,
      List<AttemptEntry> attempts,
      List<PolicyFailureEntry> policyFailures) {}

  /**
   * A policy failure (RFC 8460 §4.3).
   *
   * @param source {@code mta-sts} or {@code dane}
   * @param enforced whether the policy was enforced ({@code false}: MTA-STS {@code testing},
   *     reported only)
   * @param mx the MX host concerned, or null for a failure of the policy itself
   * @param address its IP address, or null
   * @param failure the {@code FailureType}
   * @param tlsRpt its RFC 8460 result type, or null
   * @param detail what happened, in words
   */
  record PolicyFailureEntry(
      String source,
      boolean enforced,
      @Nullable String mx,
      @Nullable String address,
      String failure,
      @Nullable String tlsRpt,
      String detail) {
    static PolicyFailureEntry of(PolicyFailure f) {
      return new PolicyFailureEntry(
          DomainChecker.source(f.source()),
          f.enforced(),
          f.host().map(DomainName::toString).orElse(null),
          f.address().map(a -> a.getAddress().getHostAddress()).orElse(null),
          f.type().name(),
          f.type().tlsRptResultType().orElse(null),
          f.detail());
    }
  }

  /**
   * A TLS session.
   *
   * @param protocol e.g. {@code TLSv1.3}
   * @param cipher the cipher suite
   * @param serverName the SNI name sent, or null
   * @param peerChain the certificates presented, leaf first
   */
  record Tls(
      String protocol,
      String cipher,
      @Nullable String serverName,
      List<CheckReport.Certificate> peerChain) {
    static Tls of(TlsDetails t) {
      return new Tls(
          t.protocol(),
          t.cipherSuite(),
          t.serverName().orElse(null),
          t.peerChain().stream().map(CheckReport.Certificate::of).toList());
    }
  }

  /**
   * The policy that decided.
   *
   * @param source {@code none}, {@code mta-sts}, {@code dane} or {@code sender}
   * @param mode the TLS requirement that applied: {@code opportunistic}, {@code encrypted}, {@code
   *     pkix} or {@code dane}; null when no host was tried
   * @param level the sender's level token
   * @param mtaSts the recipient's MTA-STS policy when one applied ({@code enforce} or {@code
   *     testing}), else null
   */
  record Policy(
      String source,
      @Nullable String mode,
      @Nullable String level,
      @Nullable StsPolicyRef mtaSts) {}

  /** An MTA-STS policy by id and mode. */
  record StsPolicyRef(String id, String mode) {}

  /** An MX host not tried, and why ({@code failure} is a {@code FailureType}). */
  record Skipped(String host, String failure, String reason) {}

  /**
   * One connection attempt.
   *
   * @param mx the MX host, or null for an address literal
   * @param address the IP address
   * @param port the port
   * @param requirement {@code opportunistic}, {@code encrypted}, {@code pkix} or {@code dane}
   * @param source which policy set it
   * @param tls the TLS session, or null
   * @param authentication how the peer was authenticated, or null
   * @param failure why the attempt did not complete ({@code FailureType}), or null
   * @param tlsRpt the RFC 8460 result type of the failure, or null
   * @param reply the reply that ended the attempt, or null
   * @param detail what happened, in words
   */
  record AttemptEntry(
      @Nullable String mx,
      String address,
      int port,
      String requirement,
      String source,
      @Nullable Tls tls,
      @Nullable String authentication,
      @Nullable String failure,
      @Nullable String tlsRpt,
      CheckReport.@Nullable Reply reply,
      String detail) {
    static AttemptEntry of(Attempt a) {
      return new AttemptEntry(
          a.host().map(DomainName::toString).orElse(null),
          a.address().getAddress().getHostAddress(),
          a.address().getPort(),
          TraceListener.requirement(a.requirement()),
          DomainChecker.source(a.source()),
          a.tls().map(Tls::of).orElse(null),
          a.authentication().map(Enum::name).orElse(null),
          a.failure().map(Enum::name).orElse(null),
          a.failure().flatMap(FailureType::tlsRptResultType).orElse(null),
          a.reply().map(CheckReport.Reply::of).orElse(null),
          a.detail());
    }
  }

  /**
   * The report of one send, and the exit code it leads to; {@code policyFailures} are those the
   * transport reported during the send (every recipient domain's).
   */
  static SendReport of(
      Optional<EmailAddress> from,
      TlsLevel level,
      DeliveryReport report,
      List<PolicyFailure> policyFailures) {
    int delivered = report.withStatus(DeliveryStatus.DELIVERED).size();
    int deferred = report.withStatus(DeliveryStatus.DEFERRED).size();
    int bounced = report.withStatus(DeliveryStatus.BOUNCED).size();
    return new SendReport(
        SCHEMA,
        from.map(EmailAddress::toString).orElse("<>"),
        level.token(),
        exitCode(deferred, bounced),
        new Summary(delivered, deferred, bounced),
        report.recipients().stream().map(r -> recipient(r, policyFailures)).toList());
  }

  /**
   * The exit code: {@value Mailtls#EX_TEMPFAIL} when anything was deferred (a retry may help), else
   * {@value Mailtls#EX_UNAVAILABLE} when anything bounced, else 0.
   */
  static int exitCode(int deferred, int bounced) {
    if (deferred > 0) {
      return Mailtls.EX_TEMPFAIL;
    }
    return bounced > 0 ? Mailtls.EX_UNAVAILABLE : Mailtls.EX_OK;
  }

  private static Recipient recipient(RecipientResult r, List<PolicyFailure> policyFailures) {
    Optional<Attempt> a = r.attempt();
    DeliveryPlan plan = r.plan();
    return new Recipient(
        r.recipient().toString(),
        r.status().name(),
        CheckReport.Reply.of(r.reply()),
        r.mxHost().map(DomainName::toString).orElse(null),
        a.map(x -> x.address().getAddress().getHostAddress()).orElse(null),
        a.map(x -> x.address().getPort()).orElse(null),
        r.tls().map(Tls::of).orElse(null),
        r.authentication().map(Enum::name).orElse(null),
        r.dsn().name(),
        policy(r),
        reason(r),
        plan.reasons(),
        plan.skipped().stream()
            .map(s -> new Skipped(s.host().toString(), s.failure().name(), s.reason()))
            .toList(),
        r.attempts().stream().map(AttemptEntry::of).toList(),
        policyFailures.stream()
            .filter(
                f ->
                    r.recipient().domain() instanceof NextHop.Domain d
                        && d.name().equals(f.policyDomain()))
            .map(PolicyFailureEntry::of)
            .toList());
  }

  /**
   * The deciding attempt's source and requirement; without an attempt the first planned host's
   * source and no requirement; without one either (the plan failed), the policy whose failure it
   * was.
   */
  private static Policy policy(RecipientResult r) {
    DeliveryPlan plan = r.plan();
    StsPolicyRef sts =
        plan.mtaSts()
            .map(p -> new StsPolicyRef(p.id(), p.mode().name().toLowerCase(Locale.ROOT)))
            .orElse(null);
    String level = plan.senderLevel().map(TlsLevel::token).orElse(null);
    if (r.attempt().isPresent()) {
      Attempt a = r.attempt().get();
      return new Policy(
          DomainChecker.source(a.source()), TraceListener.requirement(a.requirement()), level, sts);
    }
    if (!plan.hosts().isEmpty()) {
      // Decided before any connection (a line too long to send, say): the planned source, but no
      // requirement applied to any session (docs/cli-json.md: mode is null when no host was tried).
      PlannedHost h = plan.hosts().get(0);
      return new Policy(DomainChecker.source(h.source()), null, level, sts);
    }
    FailureType type = plan.failure().map(DeliveryPlan.Failure::type).orElse(null);
    String source;
    if (type == FailureType.DNSSEC_INVALID || type == FailureType.TLSA_INVALID) {
      source = "dane";
    } else if (plan.mtaSts().map(p -> p.mode() == MtaStsMode.ENFORCE).orElse(false)) {
      source = "mta-sts";
    } else {
      source = plan.senderLevel().orElse(null) == TlsLevel.OPPORTUNISTIC ? "none" : "sender";
    }
    return new Policy(source, null, level, sts);
  }

  /** The outcome in one line: what carried the message, or what stopped it. */
  private static String reason(RecipientResult r) {
    if (r.status() == DeliveryStatus.DELIVERED) {
      Optional<String> why =
          r.attempt()
              .flatMap(
                  a ->
                      r.plan().hosts().stream()
                          .filter(h -> h.name().equals(a.host()))
                          .map(PlannedHost::why)
                          .findFirst());
      return "delivered "
          + r.tls().map(t -> "over " + t.protocol()).orElse("in plaintext")
          + r.mxHost().map(h -> " to " + h).orElse("")
          + why.map(w -> ": " + w).orElse("");
    }
    if (!r.reply().locallyGenerated()) {
      String host = r.mxHost().map(DomainName::toString).orElse("the server");
      return host
          + " answered "
          + r.reply().toString().replace('\n', ' ')
          + r.attempt().flatMap(a -> a.failure().map(f -> " (" + f + ")")).orElse("");
    }
    if (r.attempt().isPresent()) {
      Attempt a = r.attempt().get();
      String what = a.detail().isEmpty() ? r.reply().text() : a.detail();
      return a.failure().map(f -> f.name() + ": " + what).orElse(what);
    }
    return r.plan()
        .failure()
        .map(f -> f.type().name() + ": " + f.reply().text())
        .orElse(r.reply().text());
  }
}
