package io.mailtls.core;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * A parsed MTA-STS policy (RFC 8461 §3.2). Immutable.
 *
 * @param id the policy id from the {@code _mta-sts} TXT record this policy was fetched for
 * @param mode the mode
 * @param mxPatterns the {@code mx} patterns, normalised to lower-case A-labels: host names, or
 *     {@code *.} followed by a domain (RFC 8461 §4.1)
 * @param maxAge how long the policy may be cached (at most 31557600 s, RFC 8461 §3.2)
 */
public record MtaStsPolicy(String id, MtaStsMode mode, List<String> mxPatterns, Duration maxAge) {

  /** RFC 8461 §3.2: max_age is at most 31557600 seconds (about a year). */
  @SuppressWarnings("CanonicalDuration") // in seconds, as the RFC and a policy's max_age give it
  public static final Duration MAX_AGE_LIMIT = Duration.ofSeconds(31_557_600);

  public MtaStsPolicy {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(mode, "mode");
    mxPatterns = List.copyOf(mxPatterns);
    Objects.requireNonNull(maxAge, "maxAge");
    if (maxAge.isNegative() || maxAge.compareTo(MAX_AGE_LIMIT) > 0) {
      throw new IllegalArgumentException("max_age out of range: " + maxAge);
    }
    if (mode != MtaStsMode.NONE && mxPatterns.isEmpty()) {
      throw new IllegalArgumentException("a policy in mode " + mode + " needs mx patterns");
    }
    for (String p : mxPatterns) {
      // RFC 8461 §4.1: a host name, or "*." and a domain; normalised, so that matching is a plain
      // comparison. A pattern that could never match is refused rather than silently kept.
      String host = p.startsWith("*.") ? p.substring(2) : p;
      boolean valid;
      try {
        valid =
            DomainName.of(host).toString().equals(host)
                && !host.isEmpty()
                && DomainName.of(host).isHostName();
      } catch (IllegalArgumentException e) {
        valid = false;
      }
      if (!valid || !p.equals(p.toLowerCase(Locale.ROOT))) {
        throw new IllegalArgumentException(
            "mx pattern not a normalised host name or *.domain: \"" + p + "\"");
      }
    }
  }

  /**
   * Whether an MX host matches one of the patterns (RFC 8461 §4.1): exactly, or by a wildcard
   * {@code *.example.com} that stands for exactly one left-most label. Names compare in normal form
   * (case, trailing dot and IDN do not matter); no regular expression is built from a pattern.
   */
  public boolean matches(DomainName mxHost) {
    String host = mxHost.toString();
    for (String pattern : mxPatterns) {
      if (pattern.startsWith("*.")) {
        // RFC 8461 §4.1: "*" matches only the left-most label, and exactly one label.
        int dot = host.indexOf('.');
        if (dot > 0 && host.substring(dot + 1).equals(pattern.substring(2))) {
          return true;
        }
      } else if (host.equals(pattern)) {
        return true;
      }
    }
    return false;
  }
}
