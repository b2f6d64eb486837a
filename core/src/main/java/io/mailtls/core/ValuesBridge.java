package io.mailtls.core;

import io.mailtls.core.internal.Values;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The one {@link Values}: it builds this package's read-only values with their package-private
 * constructors for mailtls's code in other packages (docs/design.md §5). It installs itself as its
 * class is initialised, which {@link Values} brings about on first use.
 */
final class ValuesBridge extends Values {

  static {
    install(new ValuesBridge());
  }

  private ValuesBridge() {}

  @Override
  protected Attempt newAttempt(
      Optional<DomainName> host,
      InetSocketAddress address,
      TlsRequirement requirement,
      PolicySource source,
      Optional<TlsDetails> tls,
      Optional<Authentication> authentication,
      Optional<FailureType> failure,
      Optional<SmtpReply> reply,
      String detail,
      Optional<String> announcedName,
      Optional<InetSocketAddress> localAddress,
      Timings timings,
      Optional<MtaStsPolicy> mtaStsPolicy,
      boolean sessionReused,
      Optional<FailureType> plaintextReason,
      boolean failedInTlsNegotiation) {
    return new Attempt(
        host,
        address,
        requirement,
        source,
        tls,
        authentication,
        failure,
        reply,
        detail,
        announcedName,
        localAddress,
        timings,
        mtaStsPolicy,
        sessionReused,
        plaintextReason,
        failedInTlsNegotiation);
  }

  @Override
  protected DeliveryCall newDeliveryCall(long id, Optional<Envelope> envelope) {
    return new DeliveryCall(id, envelope);
  }

  @Override
  protected DeliveryPlan newDeliveryPlan(
      NextHop nextHop,
      Optional<TlsLevel> senderLevel,
      MxResolution mx,
      List<PlannedHost> hosts,
      List<SkippedHost> skipped,
      Optional<DeliveryPlan.Failure> failure,
      List<String> reasons,
      List<PolicyFailure> policyFailures,
      Optional<MtaStsPolicy> mtaSts) {
    return new DeliveryPlan(
        nextHop, senderLevel, mx, hosts, skipped, failure, reasons, policyFailures, mtaSts);
  }

  @Override
  protected DeliveryPlan.Failure newPlanFailure(
      DeliveryStatus status, SmtpReply reply, FailureType type) {
    return new DeliveryPlan.Failure(status, reply, type);
  }

  @Override
  protected DeliveryReport newDeliveryReport(List<RecipientResult> recipients) {
    return new DeliveryReport(recipients);
  }

  @Override
  protected MxHost newMxHost(
      DomainName name,
      int preference,
      boolean implicit,
      List<InetAddress> addresses,
      DnsAnswer ipv4,
      DnsAnswer ipv6) {
    return new MxHost(name, preference, implicit, addresses, ipv4, ipv6);
  }

  @Override
  protected MxResolution newMxResolution(
      NextHop nextHop,
      MxResolution.Kind kind,
      List<MxHost> hosts,
      Optional<DnsAnswer> mxAnswer,
      List<String> notes) {
    return new MxResolution(nextHop, kind, hosts, mxAnswer, notes);
  }

  @Override
  protected PlannedHost newPlannedHost(
      Optional<DomainName> name,
      List<InetAddress> addresses,
      TlsRequirement requirement,
      PolicySource source,
      String why,
      Optional<TlsRequirement> reportOnly,
      Optional<Integer> port) {
    return new PlannedHost(name, addresses, requirement, source, why, reportOnly, port);
  }

  @Override
  protected PolicyFailure newPolicyFailure(
      DomainName policyDomain,
      PolicySource source,
      boolean enforced,
      Optional<DomainName> host,
      Optional<InetSocketAddress> address,
      FailureType type,
      String detail,
      List<DnsRecord.Tlsa> tlsaRecords) {
    return new PolicyFailure(
        policyDomain, source, enforced, host, address, type, detail, tlsaRecords);
  }

  @Override
  protected ProbeResult newProbeResult(
      Optional<DomainName> host,
      InetSocketAddress address,
      TlsRequirement requirement,
      Optional<String> serverName,
      boolean reachable,
      Optional<SmtpReply> greeting,
      Optional<Boolean> starttlsOffered,
      Optional<SmtpReply> starttlsReply,
      Optional<TlsDetails> tls,
      Optional<ProbeResult.Verification> pkix,
      Optional<ProbeResult.Verification> dane,
      Optional<DnsRecord.Tlsa> matchedTlsa,
      Optional<Authentication> authentication,
      Optional<FailureType> failure,
      ProbeVerdict verdict,
      String reason,
      List<String> notes,
      Duration elapsed) {
    return new ProbeResult(
        host,
        address,
        requirement,
        serverName,
        reachable,
        greeting,
        starttlsOffered,
        starttlsReply,
        tls,
        pkix,
        dane,
        matchedTlsa,
        authentication,
        failure,
        verdict,
        reason,
        notes,
        elapsed);
  }

  @Override
  protected ProbeResult.Verification newVerification(
      boolean verified, Optional<FailureType> failure, String detail) {
    return new ProbeResult.Verification(verified, failure, detail);
  }

  @Override
  protected RecipientResult newRecipientResult(
      EmailAddress recipient,
      DeliveryStatus status,
      SmtpReply reply,
      Optional<Attempt> attempt,
      DeliveryPlan plan,
      List<Attempt> attempts,
      boolean dsnPassedOn) {
    RecipientResult r = new RecipientResult(recipient, status, reply, attempt, plan, attempts);
    return dsnPassedOn ? r.withDsn(DsnHandling.PASSED_ON) : r;
  }

  @Override
  protected SkippedHost newSkippedHost(DomainName host, FailureType failure, String reason) {
    return new SkippedHost(host, failure, reason);
  }

  @Override
  protected TlsDetails newTlsDetails(
      String protocol,
      String cipherSuite,
      List<X509Certificate> peerChain,
      Optional<String> serverName,
      boolean resumed) {
    return new TlsDetails(protocol, cipherSuite, peerChain, serverName, resumed);
  }
}
