package io.mailtls.core;

import java.net.InetAddress;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A host the transport will try, in plan order, with its TLS requirement. Immutable.
 *
 * @param name the MX host name (the TLS SNI name); empty for an address literal
 * @param addresses the addresses to try, in order
 * @param requirement what TLS this host requires
 * @param source which policy set the requirement
 * @param why a one-line explanation for the decision record
 * @param reportOnly a stricter requirement whose failures are reported but not enforced (MTA-STS
 *     {@code testing} mode, RFC 8461 §5)
 */
public record PlannedHost(
    Optional<DomainName> name,
    List<InetAddress> addresses,
    TlsRequirement requirement,
    PolicySource source,
    String why,
    Optional<TlsRequirement> reportOnly) {

  /** A host without a report-only requirement. */
  public PlannedHost(Optional<DomainName> name, List<InetAddress> addresses,
      TlsRequirement requirement, PolicySource source, String why) {
    this(name, addresses, requirement, source, why, Optional.empty());
  }

  public PlannedHost {
    Objects.requireNonNull(name, "name");
    addresses = List.copyOf(addresses);
    if (addresses.isEmpty()) {
      throw new IllegalArgumentException("a planned host needs an address");
    }
    Objects.requireNonNull(requirement, "requirement");
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(why, "why");
    Objects.requireNonNull(reportOnly, "reportOnly");
  }
}
