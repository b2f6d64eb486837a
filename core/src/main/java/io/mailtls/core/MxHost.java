package io.mailtls.core;

import java.net.InetAddress;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One mail exchanger for a domain with its addresses and the DNS answers they came from.
 * Immutable.
 *
 * @param name the MX target (or the domain itself for an implicit MX)
 * @param preference the MX preference (0 for an implicit MX)
 * @param implicit whether the domain had no MX records and its own addresses are used (RFC 5321
 *     §5.1)
 * @param addresses the addresses to connect to, IPv4 first, then IPv6
 * @param ipv4 the A answer
 * @param ipv6 the AAAA answer
 */
public record MxHost(
    DomainName name,
    int preference,
    boolean implicit,
    List<InetAddress> addresses,
    DnsAnswer ipv4,
    DnsAnswer ipv6) {

  public MxHost {
    Objects.requireNonNull(name, "name");
    addresses = List.copyOf(addresses);
    Objects.requireNonNull(ipv4, "ipv4");
    Objects.requireNonNull(ipv6, "ipv6");
  }

  /**
   * The DNSSEC state of the host's addresses: the weaker of the A and AAAA answers. DANE for this
   * host needs {@link DnssecState#SECURE} (RFC 7672 §2.2).
   */
  public DnssecState addressState() {
    return ipv4.state().weakest(ipv6.state());
  }

  /** Whether the A or the AAAA lookup failed (as opposed to proving absence). */
  public boolean addressLookupFailed() {
    return !ipv4.isSuccess() || !ipv6.isSuccess();
  }

  /**
   * The canonical name when {@link #name()} is an alias (RFC 2181 §10.3 forbids it, but clients
   * follow it; RFC 7672 §2.2.2 uses the expanded name as a TLSA base domain).
   */
  public Optional<DomainName> canonicalName() {
    for (DnsAnswer a : List.of(ipv4, ipv6)) {
      if (!a.cnameChain().isEmpty()) {
        return Optional.of(a.canonicalName());
      }
    }
    return Optional.empty();
  }

  @Override
  public String toString() {
    return name + " (pref " + preference + (implicit ? ", implicit" : "") + ") " + addresses + " "
        + addressState();
  }
}
