package io.mailtls.core;

import java.net.InetAddress;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One mail exchanger for a domain with its addresses and the DNS answers they came from.
 *
 * <p>Immutable. mailtls builds it and callers read it: its constructor is not public, so that it
 * may gain components without breaking callers (docs/design.md §5).
 */
public final class MxHost {

  private final DomainName name;
  private final int preference;
  private final boolean implicit;
  private final List<InetAddress> addresses;
  private final DnsAnswer ipv4;
  private final DnsAnswer ipv6;

  /** Not public: built by {@link MxResolver}. */
  MxHost(
      DomainName name,
      int preference,
      boolean implicit,
      List<InetAddress> addresses,
      DnsAnswer ipv4,
      DnsAnswer ipv6) {
    Objects.requireNonNull(name, "name");
    addresses = List.copyOf(addresses);
    Objects.requireNonNull(ipv4, "ipv4");
    Objects.requireNonNull(ipv6, "ipv6");
    this.name = name;
    this.preference = preference;
    this.implicit = implicit;
    this.addresses = addresses;
    this.ipv4 = ipv4;
    this.ipv6 = ipv6;
  }

  /** The MX target (or the domain itself for an implicit MX). */
  public DomainName name() {
    return name;
  }

  /** The MX preference (0 for an implicit MX). */
  public int preference() {
    return preference;
  }

  /** Whether the domain had no MX records and its own addresses are used (RFC 5321 §5.1). */
  public boolean implicit() {
    return implicit;
  }

  /**
   * The addresses to connect to, IPv4 first, then IPv6: those of the A and AAAA answers that are
   * unicast ({@link MxResolver}: the unspecified, multicast and broadcast addresses are dropped).
   */
  public List<InetAddress> addresses() {
    return addresses;
  }

  /** The A answer. */
  public DnsAnswer ipv4() {
    return ipv4;
  }

  /** The AAAA answer. */
  public DnsAnswer ipv6() {
    return ipv6;
  }

  /** Equal when every component is. */
  @Override
  public boolean equals(Object o) {
    return o instanceof MxHost other
        && name.equals(other.name)
        && preference == other.preference
        && implicit == other.implicit
        && addresses.equals(other.addresses)
        && ipv4.equals(other.ipv4)
        && ipv6.equals(other.ipv6);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, preference, implicit, addresses, ipv4, ipv6);
  }

  /**
   * The DNSSEC state of the host's addresses: the weaker of the A and AAAA answers. DANE for this
   * host needs {@link DnssecState#SECURE} (RFC 7672 §2.2).
   */
  public DnssecState addressState() {
    return ipv4.state().weakest(ipv6.state());
  }

  /**
   * Whether the A or the AAAA lookup failed (as opposed to proving absence): SERVFAIL, a timeout,
   * or an answer whose DNSSEC validation failed or could not be completed, whatever outcome a
   * resolver put on it (RFC 4035 §5.5: such data is never used, and a denial that failed validation
   * proves nothing).
   */
  public boolean addressLookupFailed() {
    return failed(ipv4) || failed(ipv6);
  }

  /**
   * Whether {@code address} may be a mail server's: not the unspecified address ({@code 0.0.0.0},
   * {@code ::}; a connect to it reaches the local host on Linux), not multicast (RFC 1112 §4, RFC
   * 4291 §2.7), not the IPv4 limited broadcast address {@code 255.255.255.255} (RFC 1122 §3.2.1.3),
   * nor any of these as an IPv4-mapped IPv6 address (RFC 4291 §2.5.5.2). Loopback and private
   * addresses are unicast. MX resolution, relays and address literals drop or refuse the others; so
   * does the MTA-STS and TLS-RPT HTTPS client's DNS.
   */
  public static boolean isUnicast(InetAddress address) {
    byte[] b = address.getAddress();
    if (b.length == 16 && isIpv4Mapped(b)) {
      b = java.util.Arrays.copyOfRange(b, 12, 16);
    }
    if (b.length == 4) {
      int first = b[0] & 0xff;
      boolean unspecified = (b[0] | b[1] | b[2] | b[3]) == 0;
      boolean broadcast = (b[0] & b[1] & b[2] & b[3]) == (byte) 0xff;
      boolean multicast = first >= 224 && first <= 239;
      return !unspecified && !broadcast && !multicast;
    }
    return !address.isAnyLocalAddress() && !address.isMulticastAddress();
  }

  private static boolean isIpv4Mapped(byte[] b) {
    for (int i = 0; i < 10; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return b[10] == (byte) 0xff && b[11] == (byte) 0xff;
  }

  /**
   * Whether {@code answer} is a failed lookup (RFC 4035 §5.5), see {@link #addressLookupFailed}.
   */
  static boolean failed(DnsAnswer answer) {
    return !answer.isSuccess()
        || answer.state() == DnssecState.BOGUS
        || answer.state() == DnssecState.INDETERMINATE;
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
    return name
        + " (pref "
        + preference
        + (implicit ? ", implicit" : "")
        + ") "
        + addresses
        + " "
        + addressState();
  }
}
