package io.mailtls.dane.internal;

import io.mailtls.core.internal.tls.CertificateKeys;
import java.io.IOException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * The dNSName subtrees of a CA certificate's nameConstraints extension (RFC 5280 §4.2.1.10), to
 * bind a name that the JDK's PKIX validation does not: the subject CN that the DANE-TA name check
 * falls back to when a leaf has no DNS-ID (RFC 7672 §3.2.3). The JDK applies dNSName constraints to
 * a CN only when the CN parses as its own DNS name, which a wildcard ({@code *.example.org}) or a
 * trailing dot does not, while the name check accepts both (OpenSSL's {@code
 * NAME_CONSTRAINTS_check_CN} likewise binds only a CN that looks like a host name). Here every CN
 * the name check may read is bound. Immutable and thread-safe.
 *
 * <p>Matching follows RFC 5280 §4.2.1.10 as OpenSSL applies it: a name is within {@code
 * example.org} when it is that name or ends in {@code .example.org}; a constraint with a leading
 * dot ({@code .example.org}) admits the names below it only; an empty constraint admits every name.
 * Case is folded for ASCII only.
 */
final class DnsNameConstraints {

  private static final String NAME_CONSTRAINTS = "2.5.29.30";
  private static final int OCTET_STRING = 0x04;
  private static final int SEQUENCE = 0x30;
  private static final int PERMITTED = 0xa0;
  private static final int EXCLUDED = 0xa1;
  private static final int DNS_NAME = 0x82;

  private final List<String> permitted;
  private final List<String> excluded;

  private DnsNameConstraints(List<String> permitted, List<String> excluded) {
    this.permitted = List.copyOf(permitted);
    this.excluded = List.copyOf(excluded);
  }

  /**
   * The dNSName subtrees of {@code ca}'s nameConstraints, or null when it has no such extension.
   *
   * @throws IOException if the extension is not a DER NameConstraints
   */
  static @Nullable DnsNameConstraints of(X509Certificate ca) throws IOException {
    byte[] wrapped = ca.getExtensionValue(NAME_CONSTRAINTS);
    if (wrapped == null) {
      return null;
    }
    // getExtensionValue returns the extension's value wrapped in one more DER OCTET STRING.
    int[] octets = tlv(wrapped, 0, wrapped.length);
    if (octets[0] != OCTET_STRING || octets[2] != wrapped.length) {
      throw new IOException("the extension value is not one DER OCTET STRING");
    }
    int[] outer = tlv(wrapped, octets[1], octets[2]);
    if (outer[0] != SEQUENCE || outer[2] != octets[2]) {
      throw new IOException("the extension value is not one DER SEQUENCE");
    }
    List<String> permitted = new ArrayList<>();
    List<String> excluded = new ArrayList<>();
    int at = outer[1];
    while (at < outer[2]) {
      int[] subtrees = tlv(wrapped, at, outer[2]);
      if (subtrees[0] == PERMITTED) {
        readSubtrees(wrapped, subtrees, permitted);
      } else if (subtrees[0] == EXCLUDED) {
        readSubtrees(wrapped, subtrees, excluded);
      } else {
        throw new IOException("unexpected tag " + subtrees[0] + " in NameConstraints");
      }
      at = subtrees[2];
    }
    return new DnsNameConstraints(permitted, excluded);
  }

  /** Adds the dNSName bases of the GeneralSubtrees in {@code subtrees} to {@code into}. */
  private static void readSubtrees(byte[] der, int[] subtrees, List<String> into)
      throws IOException {
    int at = subtrees[1];
    while (at < subtrees[2]) {
      int[] subtree = tlv(der, at, subtrees[2]);
      if (subtree[0] != SEQUENCE || subtree[1] == subtree[2]) {
        throw new IOException("a GeneralSubtree is not a non-empty DER SEQUENCE");
      }
      int[] base = tlv(der, subtree[1], subtree[2]);
      if (base[0] == DNS_NAME) {
        StringBuilder name = new StringBuilder();
        for (int i = base[1]; i < base[2]; i++) {
          name.append((char) (der[i] & 0xff));
        }
        into.add(name.toString().toLowerCase(Locale.ROOT));
      }
      at = subtree[2];
    }
  }

  /**
   * The DER tag-length-value at {@code at}, inside {@code der} up to {@code end}: {tag, start of
   * the value, end of the value}.
   *
   * @throws IOException if it is not a single-octet tag with a definite length (at most 4 length
   *     octets) that ends by {@code end}
   */
  private static int[] tlv(byte[] der, int at, int end) throws IOException {
    int[] tlv = CertificateKeys.tlv(der, at, end);
    if (tlv == null) {
      throw new IOException("malformed DER");
    }
    return tlv;
  }

  /**
   * Whether {@code name} (a presented identifier; one trailing dot is ignored, as the name check
   * ignores it) is within a permitted dNSName subtree, when there is any, and within no excluded
   * one.
   */
  boolean admits(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    if (n.endsWith(".")) {
      n = n.substring(0, n.length() - 1);
    }
    for (String base : excluded) {
      if (within(n, base)) {
        return false;
      }
    }
    if (permitted.isEmpty()) {
      return true;
    }
    for (String base : permitted) {
      if (within(n, base)) {
        return true;
      }
    }
    return false;
  }

  /** Whether {@code dnsName} is within the subtree {@code base} (RFC 5280 §4.2.1.10). */
  private static boolean within(String dnsName, String base) {
    if (base.isEmpty()) {
      return true;
    }
    if (dnsName.length() < base.length() || !dnsName.endsWith(base)) {
      return false;
    }
    return dnsName.length() == base.length()
        || base.charAt(0) == '.'
        || dnsName.charAt(dnsName.length() - base.length() - 1) == '.';
  }
}
