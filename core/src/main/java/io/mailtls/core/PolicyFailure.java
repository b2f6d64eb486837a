package io.mailtls.core;

import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.Optional;

/**
 * A failure of a recipient policy (MTA-STS or DANE), for reporting (RFC 8460 TLS-RPT): under
 * {@code mode: enforce} it stopped a delivery; under {@code mode: testing} it was only recorded.
 * Immutable.
 *
 * @param policyDomain the recipient domain whose policy failed
 * @param source which policy
 * @param enforced whether the failure prevented delivery (false in MTA-STS testing mode)
 * @param host the MX host concerned, if one was
 * @param address the address connected to, if any
 * @param type the RFC 8460 result type ({@link FailureType#tlsRptResultType()})
 * @param detail a human-readable account
 */
public record PolicyFailure(
    DomainName policyDomain,
    PolicySource source,
    boolean enforced,
    Optional<DomainName> host,
    Optional<InetSocketAddress> address,
    FailureType type,
    String detail) {

  public PolicyFailure {
    Objects.requireNonNull(policyDomain, "policyDomain");
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(detail, "detail");
  }
}
