package io.mailtls.tlsrpt.internal;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.Locale;

/**
 * An IP address as a report names it ({@code sending-mta-ip}, {@code receiving-ip}): RFC 8460 §4.4
 * asks for "a string representation of an IPv4 or IPv6 [RFC5952] address". IPv4 in dot-decimal
 * form; IPv6 in the canonical text of RFC 5952 §4: lower-case hexadecimal without leading zeros
 * (§4.1, §4.3), the longest run of two or more zero groups shortened to {@code ::}, the first such
 * run when two are equally long (§4.2), and no zone index (an interface name means nothing to the
 * receiver). {@link InetAddress#getHostAddress()} gives none of that for IPv6 ({@code
 * 0:0:0:0:0:0:0:1}).
 */
public final class AddressText {

  private AddressText() {}

  /** {@code address} in RFC 5952 text (IPv6) or dot-decimal (IPv4). */
  public static String of(InetAddress address) {
    if (!(address instanceof Inet6Address)) {
      return address.getHostAddress();
    }
    byte[] b = address.getAddress();
    int[] groups = new int[8];
    for (int i = 0; i < 8; i++) {
      groups[i] = ((b[2 * i] & 0xff) << 8) | (b[2 * i + 1] & 0xff);
    }
    // §4.2.1-§4.2.3: the longest run of zero groups, at least two long, the first if tied.
    int bestStart = -1;
    int bestLength = 1;
    for (int i = 0; i < 8; ) {
      if (groups[i] != 0) {
        i++;
        continue;
      }
      int j = i;
      while (j < 8 && groups[j] == 0) {
        j++;
      }
      if (j - i > bestLength) {
        bestStart = i;
        bestLength = j - i;
      }
      i = j;
    }
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < 8; i++) {
      if (i == bestStart) {
        s.append("::");
        i += bestLength - 1;
        continue;
      }
      if (s.length() > 0 && s.charAt(s.length() - 1) != ':') {
        s.append(':');
      }
      s.append(Integer.toHexString(groups[i]).toLowerCase(Locale.ROOT));
    }
    return s.toString();
  }
}
