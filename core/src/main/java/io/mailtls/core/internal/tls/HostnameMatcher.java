package io.mailtls.core.internal.tls;

import io.mailtls.core.DomainName;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;

/**
 * Matches a server certificate against reference identifiers (RFC 6125 §6.4, as RFC 8461 §4.2 and
 * RFC 7672 §3.2.3 apply it to SMTP). Stateless and thread-safe.
 *
 * <ul>
 *   <li>DNS-IDs (subjectAltName dNSName) are compared case-insensitively as A-labels.
 *   <li>A wildcard is accepted only as the complete left-most label ({@code *.example.com}) and
 *       matches exactly one label (RFC 6125 §6.4.3; RFC 8461 §4.2); {@code f*.example.com}, {@code
 *       *} and {@code *.com}-style single-label bases are refused.
 *   <li>The subject CN is consulted only when the certificate has no DNS-ID (RFC 6125 §6.4.4), and
 *       only where that is allowed: DANE-TA (RFC 7672 §3.2.3). WebPKI checks ({@link
 *       #matchesDnsId}) take DNS-IDs alone: RFC 8461 §4.2 requires a subjectAltName DNS-ID matching
 *       the MX host, and RFC 9525 §6.3 drops the CN-ID.
 *   <li>A presented identifier with a character outside ASCII never matches: names in certificates
 *       are A-labels, and lower-casing such a character may make an ASCII one (U+212A KELVIN SIGN
 *       becomes {@code k}); the comparison is ASCII case-insensitive only (RFC 4343, RFC 6125
 *       §6.4.1).
 * </ul>
 */
public final class HostnameMatcher {

  private static final int SAN_DNS = 2;

  private HostnameMatcher() {}

  /** The DNS-IDs of a certificate, lower-cased; empty if it has none. */
  public static List<String> dnsIds(X509Certificate cert) {
    List<String> out = new ArrayList<>();
    Collection<List<?>> sans;
    try {
      sans = cert.getSubjectAlternativeNames();
    } catch (CertificateParsingException e) {
      return out;
    }
    if (sans == null) {
      return out;
    }
    for (List<?> san : sans) {
      if (san.size() >= 2
          && san.get(0) instanceof Integer t
          && t == SAN_DNS
          && san.get(1) instanceof String name) {
        out.add(lower(name));
      }
    }
    return out;
  }

  /** ASCII lower case; a name with any other character is kept as it is, and matches nothing. */
  private static String lower(String name) {
    return ascii(name) ? name.toLowerCase(Locale.ROOT) : name;
  }

  private static boolean ascii(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) > 0x7f) {
        return false;
      }
    }
    return true;
  }

  /** The identifiers that name checks use: the DNS-IDs, or the CN(s) when there is no DNS-ID. */
  public static List<String> presentedIds(X509Certificate cert) {
    List<String> ids = dnsIds(cert);
    return ids.isEmpty() ? commonNames(cert) : ids;
  }

  /**
   * Whether any presented identifier matches any reference name, the CN standing in for missing
   * DNS-IDs (for DANE-TA, RFC 7672 §3.2.3).
   */
  public static boolean matches(X509Certificate cert, List<DomainName> referenceNames) {
    return anyMatches(presentedIds(cert), referenceNames);
  }

  /**
   * Whether a DNS-ID of the certificate matches a reference name; the CN never counts (RFC 8461
   * §4.2, RFC 9525 §6.3): for WebPKI checks.
   */
  public static boolean matchesDnsId(X509Certificate cert, List<DomainName> referenceNames) {
    return anyMatches(dnsIds(cert), referenceNames);
  }

  private static boolean anyMatches(List<String> presentedIds, List<DomainName> referenceNames) {
    for (String presented : presentedIds) {
      for (DomainName ref : referenceNames) {
        if (matches(presented, ref)) {
          return true;
        }
      }
    }
    return false;
  }

  /** Whether one presented identifier matches one reference name. */
  public static boolean matches(String presented, DomainName reference) {
    if (!ascii(presented)) {
      return false;
    }
    String p = presented.toLowerCase(Locale.ROOT);
    if (p.endsWith(".")) {
      p = p.substring(0, p.length() - 1);
    }
    String ref = reference.toString();
    if (!p.startsWith("*.")) {
      return !p.contains("*") && p.equals(ref);
    }
    // RFC 6125 §6.4.3: "*" is the whole left-most label and stands for exactly one label.
    String base = p.substring(2);
    if (base.contains("*") || !base.contains(".")) {
      return false;
    }
    int dot = ref.indexOf('.');
    return dot > 0 && ref.substring(dot + 1).equals(base);
  }

  private static List<String> commonNames(X509Certificate cert) {
    List<String> out = new ArrayList<>();
    try {
      LdapName dn = new LdapName(cert.getSubjectX500Principal().getName());
      for (Rdn rdn : dn.getRdns()) {
        if (rdn.getType().equalsIgnoreCase("CN") && rdn.getValue() instanceof String cn) {
          out.add(lower(cn));
        }
      }
    } catch (InvalidNameException e) {
      return out;
    }
    return out;
  }
}
