package io.mailtls.core;

import java.net.InetAddress;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A host the transport will try, in plan order, with its TLS requirement.
 *
 * <p>Immutable. mailtls builds it and callers read it: its constructor is not public, so that it
 * may gain components without breaking callers (docs/design.md §5).
 */
public final class PlannedHost {

  private final Optional<DomainName> name;
  private final List<InetAddress> addresses;
  private final TlsRequirement requirement;
  private final PolicySource source;
  private final String why;
  private final Optional<TlsRequirement> reportOnly;
  private final Optional<Integer> port;

  /** Not public: built by the planner. */
  PlannedHost(
      Optional<DomainName> name,
      List<InetAddress> addresses,
      TlsRequirement requirement,
      PolicySource source,
      String why,
      Optional<TlsRequirement> reportOnly) {
    this(name, addresses, requirement, source, why, reportOnly, Optional.empty());
  }

  /** A host on a port of its own (a policy-map relay's). Not public: built by the planner. */
  PlannedHost(
      Optional<DomainName> name,
      List<InetAddress> addresses,
      TlsRequirement requirement,
      PolicySource source,
      String why,
      Optional<TlsRequirement> reportOnly,
      Optional<Integer> port) {
    Objects.requireNonNull(name, "name");
    addresses = List.copyOf(addresses);
    if (addresses.isEmpty()) {
      throw new IllegalArgumentException("a planned host needs an address");
    }
    Objects.requireNonNull(requirement, "requirement");
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(why, "why");
    Objects.requireNonNull(reportOnly, "reportOnly");
    this.name = name;
    this.addresses = addresses;
    this.requirement = requirement;
    this.source = source;
    this.why = why;
    this.reportOnly = reportOnly;
    this.port = Objects.requireNonNull(port, "port");
  }

  /** A host without a report-only requirement. Not public: built by the planner. */
  PlannedHost(
      Optional<DomainName> name,
      List<InetAddress> addresses,
      TlsRequirement requirement,
      PolicySource source,
      String why) {
    this(name, addresses, requirement, source, why, Optional.empty());
  }

  /** The MX host name (the TLS SNI name); empty for an address literal. */
  public Optional<DomainName> name() {
    return name;
  }

  /** The addresses to try, in order. */
  public List<InetAddress> addresses() {
    return addresses;
  }

  /** What TLS this host requires. */
  public TlsRequirement requirement() {
    return requirement;
  }

  /** Which policy set the requirement. */
  public PolicySource source() {
    return source;
  }

  /** A one-line explanation for the decision record. */
  public String why() {
    return why;
  }

  /**
   * A stricter requirement whose failures are reported but not enforced (MTA-STS {@code testing}
   * mode, RFC 8461 §5).
   */
  public Optional<TlsRequirement> reportOnly() {
    return reportOnly;
  }

  /**
   * The port to connect to when it is not the transport's: a policy-map entry's relay port ({@link
   * DestinationPolicy.Relay#port()}).
   */
  public Optional<Integer> port() {
    return port;
  }

  /** Equal when every component is. */
  @Override
  public boolean equals(Object o) {
    return o instanceof PlannedHost other
        && name.equals(other.name)
        && addresses.equals(other.addresses)
        && requirement.equals(other.requirement)
        && source.equals(other.source)
        && why.equals(other.why)
        && reportOnly.equals(other.reportOnly)
        && port.equals(other.port);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, addresses, requirement, source, why, reportOnly, port);
  }

  /** In the form a record has: {@code PlannedHost[name=…, …]}. */
  @Override
  public String toString() {
    return "PlannedHost[name="
        + name
        + ", addresses="
        + addresses
        + ", requirement="
        + requirement
        + ", source="
        + source
        + ", why="
        + why
        + ", reportOnly="
        + reportOnly
        + ", port="
        + port
        + "]";
  }
}
