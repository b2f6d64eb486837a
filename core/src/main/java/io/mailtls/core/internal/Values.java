package io.mailtls.core.internal;

import io.mailtls.core.Attempt;
import io.mailtls.core.Authentication;
import io.mailtls.core.DeliveryCall;
import io.mailtls.core.DeliveryPlan;
import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DnsAnswer;
import io.mailtls.core.DnsRecord;
import io.mailtls.core.DomainName;
import io.mailtls.core.EmailAddress;
import io.mailtls.core.Envelope;
import io.mailtls.core.FailureType;
import io.mailtls.core.MtaStsPolicy;
import io.mailtls.core.MxHost;
import io.mailtls.core.MxResolution;
import io.mailtls.core.NextHop;
import io.mailtls.core.PlannedHost;
import io.mailtls.core.PolicyFailure;
import io.mailtls.core.PolicySource;
import io.mailtls.core.ProbeResult;
import io.mailtls.core.ProbeVerdict;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SkippedHost;
import io.mailtls.core.SmtpReply;
import io.mailtls.core.Timings;
import io.mailtls.core.TlsDetails;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.TlsRequirement;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Builds the values of {@code io.mailtls.core} that callers read but never build: results, plans,
 * attempts, policy failures, probe results (docs/design.md §5). Their constructors are not public,
 * so that they may gain components without breaking callers; mailtls's own code in other packages
 * (the transport, the planner's rules, the probe) and mailtls's tests build them here. Not API:
 * this class may change in any release.
 *
 * <p>How it reaches the constructors: they are package-private, and {@code
 * io.mailtls.core.ValuesBridge}, a package-private subclass in that package, implements the {@code
 * new...} methods with them. The bridge installs itself when its class is initialised; the first
 * factory call here initialises that class ({@link Class#forName(String, boolean, ClassLoader)}),
 * so the bridge is in place before any factory runs, whichever class was loaded first, and class
 * initialisation makes it visible to every thread. No other object can be installed.
 *
 * <p>Each factory checks its arguments as the type's constructor does (the same exceptions).
 */
public abstract class Values {

  private static final String BRIDGE = "io.mailtls.core.ValuesBridge";

  private static volatile @Nullable Values bridge;

  /** For {@code io.mailtls.core.ValuesBridge} alone; {@link #install} accepts no other. */
  protected Values() {}

  /**
   * Installs the bridge: called once, by {@code io.mailtls.core.ValuesBridge} as its class is
   * initialised.
   *
   * @throws IllegalArgumentException for any other object
   * @throws IllegalStateException if a bridge is installed already
   */
  protected static synchronized void install(Values b) {
    Class<?> c = b.getClass();
    if (!c.getName().equals(BRIDGE) || c.getClassLoader() != Values.class.getClassLoader()) {
      throw new IllegalArgumentException("only " + BRIDGE + " builds mailtls values: " + c);
    }
    if (bridge != null) {
      throw new IllegalStateException("the values bridge is installed already");
    }
    bridge = b;
  }

  private static Values bridge() {
    Values b = bridge;
    if (b != null) {
      return b;
    }
    try {
      // Initialising the bridge class installs it (its static initialiser calls install).
      Class.forName(BRIDGE, true, Values.class.getClassLoader());
    } catch (ClassNotFoundException e) {
      throw new IllegalStateException(BRIDGE + " is missing: mailtls-core is incomplete", e);
    }
    b = bridge;
    if (b == null) {
      throw new IllegalStateException(BRIDGE + " did not install itself");
    }
    return b;
  }

  /** One connection attempt, as {@link Attempt} describes it. */
  public static Attempt attempt(
      Optional<DomainName> host,
      InetSocketAddress address,
      TlsRequirement requirement,
      PolicySource source,
      Optional<TlsDetails> tls,
      Optional<Authentication> authentication,
      Optional<FailureType> failure,
      Optional<SmtpReply> reply,
      String detail) {
    return attempt(
        host,
        address,
        requirement,
        source,
        tls,
        authentication,
        failure,
        reply,
        detail,
        Optional.empty(),
        Optional.empty(),
        Timings.NONE,
        Optional.empty(),
        false,
        Optional.empty(),
        false);
  }

  /**
   * The same, with the name the server announced for itself, the connection's local address, the
   * attempt's {@link Timings}, the MTA-STS policy of the plan it was made under, whether it ran on
   * a session that an earlier attempt to the same next hop had used ({@link
   * Attempt#sessionReused()}), why a session allowed to go on without TLS has none ({@link
   * Attempt#plaintextReason()}), and whether the attempt failed in a TLS negotiation ({@link
   * Attempt#failedInTlsNegotiation()}).
   */
  public static Attempt attempt(
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
    return bridge()
        .newAttempt(
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

  /** One call of a transport. */
  public static DeliveryCall deliveryCall(long id, Optional<Envelope> envelope) {
    return bridge().newDeliveryCall(id, envelope);
  }

  /** A delivery plan. */
  public static DeliveryPlan deliveryPlan(
      NextHop nextHop,
      Optional<TlsLevel> senderLevel,
      MxResolution mx,
      List<PlannedHost> hosts,
      List<SkippedHost> skipped,
      Optional<DeliveryPlan.Failure> failure,
      List<String> reasons,
      List<PolicyFailure> policyFailures,
      Optional<MtaStsPolicy> mtaSts) {
    return bridge()
        .newDeliveryPlan(
            nextHop, senderLevel, mx, hosts, skipped, failure, reasons, policyFailures, mtaSts);
  }

  /** Why a plan can attempt no delivery. */
  public static DeliveryPlan.Failure planFailure(
      DeliveryStatus status, SmtpReply reply, FailureType type) {
    return bridge().newPlanFailure(status, reply, type);
  }

  /** The report of one send. */
  public static DeliveryReport deliveryReport(List<RecipientResult> recipients) {
    return bridge().newDeliveryReport(recipients);
  }

  /** One mail exchanger. */
  public static MxHost mxHost(
      DomainName name,
      int preference,
      boolean implicit,
      List<InetAddress> addresses,
      DnsAnswer ipv4,
      DnsAnswer ipv6) {
    return bridge().newMxHost(name, preference, implicit, addresses, ipv4, ipv6);
  }

  /** The mail exchangers of a next hop. */
  public static MxResolution mxResolution(
      NextHop nextHop,
      MxResolution.Kind kind,
      List<MxHost> hosts,
      Optional<DnsAnswer> mxAnswer,
      List<String> notes) {
    return bridge().newMxResolution(nextHop, kind, hosts, mxAnswer, notes);
  }

  /** A host of a plan, on the transport's port. */
  public static PlannedHost plannedHost(
      Optional<DomainName> name,
      List<InetAddress> addresses,
      TlsRequirement requirement,
      PolicySource source,
      String why,
      Optional<TlsRequirement> reportOnly) {
    return plannedHost(name, addresses, requirement, source, why, reportOnly, Optional.empty());
  }

  /**
   * A host of a plan on {@code port} when it is not the transport's ({@link PlannedHost#port()}: a
   * policy-map relay's). A host made again from a planned one keeps that host's port.
   */
  public static PlannedHost plannedHost(
      Optional<DomainName> name,
      List<InetAddress> addresses,
      TlsRequirement requirement,
      PolicySource source,
      String why,
      Optional<TlsRequirement> reportOnly,
      Optional<Integer> port) {
    return bridge().newPlannedHost(name, addresses, requirement, source, why, reportOnly, port);
  }

  /** A recipient policy's failure, for TLS-RPT. */
  public static PolicyFailure policyFailure(
      DomainName policyDomain,
      PolicySource source,
      boolean enforced,
      Optional<DomainName> host,
      Optional<InetSocketAddress> address,
      FailureType type,
      String detail) {
    return policyFailure(policyDomain, source, enforced, host, address, type, detail, List.of());
  }

  /** The same, about these TLSA records ({@link PolicyFailure#tlsaRecords()}). */
  public static PolicyFailure policyFailure(
      DomainName policyDomain,
      PolicySource source,
      boolean enforced,
      Optional<DomainName> host,
      Optional<InetSocketAddress> address,
      FailureType type,
      String detail,
      List<DnsRecord.Tlsa> tlsaRecords) {
    return bridge()
        .newPolicyFailure(policyDomain, source, enforced, host, address, type, detail, tlsaRecords);
  }

  /** What a STARTTLS probe saw. */
  public static ProbeResult probeResult(
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
    return bridge()
        .newProbeResult(
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

  /** One certificate check of a probe. */
  public static ProbeResult.Verification verification(
      boolean verified, Optional<FailureType> failure, String detail) {
    return bridge().newVerification(verified, failure, detail);
  }

  /** The outcome for one recipient. */
  public static RecipientResult recipientResult(
      EmailAddress recipient,
      DeliveryStatus status,
      SmtpReply reply,
      Optional<Attempt> attempt,
      DeliveryPlan plan,
      List<Attempt> attempts) {
    return recipientResult(recipient, status, reply, attempt, plan, attempts, false);
  }

  /**
   * The outcome for one recipient; {@code dsnPassedOn} says that its RCPT TO carried the envelope's
   * DSN request to a server that advertises DSN (RFC 3461 §4).
   */
  public static RecipientResult recipientResult(
      EmailAddress recipient,
      DeliveryStatus status,
      SmtpReply reply,
      Optional<Attempt> attempt,
      DeliveryPlan plan,
      List<Attempt> attempts,
      boolean dsnPassedOn) {
    return bridge()
        .newRecipientResult(recipient, status, reply, attempt, plan, attempts, dsnPassedOn);
  }

  /** A host a plan does not try. */
  public static SkippedHost skippedHost(DomainName host, FailureType failure, String reason) {
    return bridge().newSkippedHost(host, failure, reason);
  }

  /** What a TLS session negotiated. */
  public static TlsDetails tlsDetails(
      String protocol,
      String cipherSuite,
      List<X509Certificate> peerChain,
      Optional<String> serverName) {
    return bridge().newTlsDetails(protocol, cipherSuite, peerChain, serverName, false);
  }

  /** What a TLS session negotiated; {@code resumed} when it was resumed, not fully handshaken. */
  public static TlsDetails tlsDetails(
      String protocol,
      String cipherSuite,
      List<X509Certificate> peerChain,
      Optional<String> serverName,
      boolean resumed) {
    return bridge().newTlsDetails(protocol, cipherSuite, peerChain, serverName, resumed);
  }

  // What the bridge implements: one method per factory above, each calling the constructor.

  protected abstract Attempt newAttempt(
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
      boolean failedInTlsNegotiation);

  protected abstract DeliveryCall newDeliveryCall(long id, Optional<Envelope> envelope);

  protected abstract DeliveryPlan newDeliveryPlan(
      NextHop nextHop,
      Optional<TlsLevel> senderLevel,
      MxResolution mx,
      List<PlannedHost> hosts,
      List<SkippedHost> skipped,
      Optional<DeliveryPlan.Failure> failure,
      List<String> reasons,
      List<PolicyFailure> policyFailures,
      Optional<MtaStsPolicy> mtaSts);

  protected abstract DeliveryPlan.Failure newPlanFailure(
      DeliveryStatus status, SmtpReply reply, FailureType type);

  protected abstract DeliveryReport newDeliveryReport(List<RecipientResult> recipients);

  protected abstract MxHost newMxHost(
      DomainName name,
      int preference,
      boolean implicit,
      List<InetAddress> addresses,
      DnsAnswer ipv4,
      DnsAnswer ipv6);

  protected abstract MxResolution newMxResolution(
      NextHop nextHop,
      MxResolution.Kind kind,
      List<MxHost> hosts,
      Optional<DnsAnswer> mxAnswer,
      List<String> notes);

  protected abstract PlannedHost newPlannedHost(
      Optional<DomainName> name,
      List<InetAddress> addresses,
      TlsRequirement requirement,
      PolicySource source,
      String why,
      Optional<TlsRequirement> reportOnly,
      Optional<Integer> port);

  protected abstract PolicyFailure newPolicyFailure(
      DomainName policyDomain,
      PolicySource source,
      boolean enforced,
      Optional<DomainName> host,
      Optional<InetSocketAddress> address,
      FailureType type,
      String detail,
      List<DnsRecord.Tlsa> tlsaRecords);

  protected abstract ProbeResult newProbeResult(
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
      Duration elapsed);

  protected abstract ProbeResult.Verification newVerification(
      boolean verified, Optional<FailureType> failure, String detail);

  protected abstract RecipientResult newRecipientResult(
      EmailAddress recipient,
      DeliveryStatus status,
      SmtpReply reply,
      Optional<Attempt> attempt,
      DeliveryPlan plan,
      List<Attempt> attempts,
      boolean dsnPassedOn);

  protected abstract SkippedHost newSkippedHost(
      DomainName host, FailureType failure, String reason);

  protected abstract TlsDetails newTlsDetails(
      String protocol,
      String cipherSuite,
      List<X509Certificate> peerChain,
      Optional<String> serverName,
      boolean resumed);
}
