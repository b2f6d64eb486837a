package io.mailtls.core;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Where mail for a recipient goes: a domain (resolved through MX, RFC 5321 §5.1) or an address
 * literal such as {@code [192.0.2.1]} or {@code [IPv6:2001:db8::1]} (RFC 5321 §4.1.3), used as is.
 * Immutable.
 */
public sealed interface NextHop permits NextHop.Domain, NextHop.AddressLiteral {

  /**
   * Parses the domain part of an address.
   *
   * @throws IllegalArgumentException naming the value when it is neither a valid domain nor a valid
   *     address literal
   */
  static NextHop parse(String domainPart) {
    Objects.requireNonNull(domainPart, "domainPart");
    if (domainPart.startsWith("[")) {
      if (!domainPart.endsWith("]")) {
        throw new IllegalArgumentException("unterminated address literal: \"" + domainPart + "\"");
      }
      String inner = domainPart.substring(1, domainPart.length() - 1);
      boolean v6 = inner.regionMatches(true, 0, "IPv6:", 0, 5);
      String literal = v6 ? inner.substring(5) : inner;
      if (!(v6 ? isIpv6Text(literal) : isIpv4Text(literal))) {
        throw new IllegalArgumentException("invalid address literal: \"" + domainPart + "\"");
      }
      try {
        // Numeric text only (checked above), so no name lookup happens here.
        return new AddressLiteral(InetAddress.getByName(literal));
      } catch (UnknownHostException e) {
        throw new IllegalArgumentException("invalid address literal: \"" + domainPart + "\"", e);
      }
    }
    return new Domain(DomainName.of(domainPart));
  }

  private static boolean isIpv4Text(String s) {
    String[] parts = s.split("\\.", -1);
    if (parts.length != 4) {
      return false;
    }
    for (String p : parts) {
      if (p.isEmpty()
          || p.length() > 3
          || !p.chars().allMatch(c -> c >= '0' && c <= '9')
          || Integer.parseInt(p) > 255) {
        return false;
      }
    }
    return true;
  }

  private static boolean isIpv6Text(String s) {
    return !s.isEmpty()
        && s.contains(":")
        && s.toLowerCase(Locale.ROOT)
            .chars()
            .allMatch(
                c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == ':' || c == '.');
  }

  /** A domain whose MX records are looked up. */
  record Domain(DomainName name) implements NextHop {
    public Domain {
      Objects.requireNonNull(name, "name");
    }

    // Written out rather than the record's generated pair: they run on every message (plan cache,
    // recipient groups), and the generated ones go through method handles that a hot loop over many
    // domains showed not inlined.
    @Override
    public boolean equals(@Nullable Object o) {
      return o instanceof Domain d && name.equals(d.name);
    }

    @Override
    public int hashCode() {
      return name.hashCode();
    }

    @Override
    public String toString() {
      return name.toString();
    }
  }

  /** A literal address: no DNS, no MTA-STS, no DANE, no SNI (RFC 6066 §3 forbids IP literals). */
  record AddressLiteral(InetAddress address) implements NextHop {
    public AddressLiteral {
      Objects.requireNonNull(address, "address");
    }

    @Override
    public String toString() {
      return address.getAddress().length == 4
          ? "[" + address.getHostAddress() + "]"
          : "[IPv6:" + address.getHostAddress() + "]";
    }
  }
}
