package io.mailtls.core;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A failure of a recipient policy (MTA-STS or DANE), for reporting (RFC 8460 TLS-RPT): under {@code
 * mode: enforce} it stopped a delivery; under {@code mode: testing} it was only recorded.
 *
 * <p>Immutable. mailtls builds it and callers read it: its constructor is not public, so that it
 * may gain components without breaking callers (docs/design.md §5).
 */
public final class PolicyFailure {

  private final DomainName policyDomain;
  private final PolicySource source;
  private final boolean enforced;
  private final Optional<DomainName> host;
  private final Optional<InetSocketAddress> address;
  private final FailureType type;
  private final String detail;
  private final List<DnsRecord.Tlsa> tlsaRecords;

  /** Not public: built by the planner and the transport. */
  PolicyFailure(
      DomainName policyDomain,
      PolicySource source,
      boolean enforced,
      Optional<DomainName> host,
      Optional<InetSocketAddress> address,
      FailureType type,
      String detail,
      List<DnsRecord.Tlsa> tlsaRecords) {
    Objects.requireNonNull(policyDomain, "policyDomain");
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(detail, "detail");
    this.policyDomain = policyDomain;
    this.source = source;
    this.enforced = enforced;
    this.host = host;
    this.address = address;
    this.type = type;
    this.detail = detail;
    this.tlsaRecords = List.copyOf(tlsaRecords);
  }

  /** The recipient domain whose policy failed. */
  public DomainName policyDomain() {
    return policyDomain;
  }

  /** Which policy. */
  public PolicySource source() {
    return source;
  }

  /**
   * Whether the recipient's policy, enforced, acted on this failure: the session was stopped or the
   * host skipped because of it. False when it was only reported: MTA-STS {@code testing} mode, a
   * {@code TLS-Required: No} message (RFC 8689 §4.2.2), secure TLSA records none of which is usable
   * (other rules decide), and a failed MTA-STS lookup, which defers at {@code sts-required} by the
   * sender's own level, not by a policy of the recipient's. False also for a host that an MTA-STS
   * {@code testing} policy lists and that a REQUIRETLS message raised to PKIX on its MX name (RFC
   * 8689 §4.2.1): the session was stopped, but by the message's requirement; a {@code testing}
   * policy enforces nothing (RFC 8461 §5). Such a failure is still the policy's for TLS-RPT, which
   * counts failures whatever the mode (RFC 8460 §4.3).
   */
  public boolean enforced() {
    return enforced;
  }

  /** The MX host concerned, if one was. */
  public Optional<DomainName> host() {
    return host;
  }

  /** The address connected to, if any. */
  public Optional<InetSocketAddress> address() {
    return address;
  }

  /** The RFC 8460 result type ({@link FailureType#tlsRptResultType()}). */
  public FailureType type() {
    return type;
  }

  /** A human-readable account. */
  public String detail() {
    return detail;
  }

  /**
   * The host's TLSA records the failure is about, as DNSSEC validated them (RFC 8460 §4.4: a {@code
   * tlsa} policy's {@code policy-string}): for {@link FailureType#TLSA_INVALID}, the secure records
   * none of which is usable (RFC 7672 §2.2). Empty for every other failure, also for {@link
   * FailureType#DNSSEC_INVALID}: records that failed validation, or could not be fetched, are never
   * read (RFC 4035 §5.5, RFC 7672 §2.1.1); a DANE failure of a session names its records in its
   * {@link Attempt#requirement()}.
   */
  public List<DnsRecord.Tlsa> tlsaRecords() {
    return tlsaRecords;
  }

  /** Equal when every component is. */
  @Override
  public boolean equals(Object o) {
    return o instanceof PolicyFailure other
        && policyDomain.equals(other.policyDomain)
        && source.equals(other.source)
        && enforced == other.enforced
        && host.equals(other.host)
        && address.equals(other.address)
        && type.equals(other.type)
        && detail.equals(other.detail)
        && tlsaRecords.equals(other.tlsaRecords);
  }

  @Override
  public int hashCode() {
    return Objects.hash(policyDomain, source, enforced, host, address, type, detail, tlsaRecords);
  }

  /** In the form a record has: {@code PolicyFailure[policyDomain=…, …]}. */
  @Override
  public String toString() {
    return "PolicyFailure[policyDomain="
        + policyDomain
        + ", source="
        + source
        + ", enforced="
        + enforced
        + ", host="
        + host
        + ", address="
        + address
        + ", type="
        + type
        + ", detail="
        + detail
        + ", tlsaRecords="
        + tlsaRecords
        + "]";
  }
}
