package io.mailtls.core;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * A parsed MTA-STS policy (RFC 8461 §3.2), with the text it was parsed from when that is known.
 * Immutable.
 *
 * <p>The text is what a TLS-RPT report names as the policy's {@code policy-string}: "the policy
 * that is declared by the receiving site" (RFC 8460 §4.4, §4.5), its lines as the domain wrote
 * them, in their order, with the extension fields this library ignores (RFC 8461 §3.2). It decides
 * nothing about delivery: only the parsed fields do. It is absent for a policy made from its fields
 * alone (the four-argument constructor: a {@code PolicyFetcher} of the application's, a store entry
 * written before the text was kept), and for a text longer than {@link #MAX_TEXT_LENGTH}, which is
 * then reported rebuilt from the fields.
 *
 * <p>Equality is that of a record: every component, the text included. Two policies with the same
 * id and fields but different texts (a domain that edited its policy without changing the id, or a
 * store entry without its text) are different values, as their reports are; nothing in the library
 * compares policies by equality to decide delivery (RFC 8461 §3.1, §5.1 compare ids).
 *
 * @param id the policy id from the {@code _mta-sts} TXT record this policy was fetched for
 * @param mode the mode
 * @param mxPatterns the {@code mx} patterns, normalised to lower-case A-labels: host names, or
 *     {@code *.} followed by a domain (RFC 8461 §4.1)
 * @param maxAge how long the policy may be cached (at most 31557600 s, RFC 8461 §3.2)
 * @param text the policy body as fetched (RFC 8461 §3.2), decoded from UTF-8, when known: at most
 *     {@link #MAX_TEXT_LENGTH} characters
 */
public record MtaStsPolicy(
    String id, MtaStsMode mode, List<String> mxPatterns, Duration maxAge, Optional<String> text) {

  /**
   * The longest policy text kept, in UTF-16 code units: 1024. A policy is usually under 200 bytes
   * (RFC 8461 §3.2); the bound keeps a cache of policies filled by one sender's hostile domains to
   * about a kilobyte of text per entry, where the fetch alone allows 64 KiB (§3.3).
   */
  public static final int MAX_TEXT_LENGTH = 1024;

  /** RFC 8461 §3.2: max_age is at most 31557600 seconds (about a year). */
  @SuppressWarnings("CanonicalDuration") // in seconds, as the RFC and a policy's max_age give it
  public static final Duration MAX_AGE_LIMIT = Duration.ofSeconds(31_557_600);

  /** A policy known by its fields alone, without the text it was parsed from. */
  public MtaStsPolicy(String id, MtaStsMode mode, List<String> mxPatterns, Duration maxAge) {
    this(id, mode, mxPatterns, maxAge, Optional.empty());
  }

  public MtaStsPolicy {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(text, "text");
    if (text.isPresent() && (text.get().isEmpty() || text.get().length() > MAX_TEXT_LENGTH)) {
      throw new IllegalArgumentException(
          "policy text must be 1 to " + MAX_TEXT_LENGTH + " characters: " + text.get().length());
    }
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
   * This policy with {@code text}, the body it was parsed from (RFC 8461 §3.2), or without a text
   * when {@code text} is longer than {@link #MAX_TEXT_LENGTH} or empty: a text that cannot be kept
   * is never a reason to refuse the policy.
   */
  public MtaStsPolicy withText(String text) {
    Objects.requireNonNull(text, "text");
    Optional<String> kept =
        text.isEmpty() || text.length() > MAX_TEXT_LENGTH ? Optional.empty() : Optional.of(text);
    return new MtaStsPolicy(id, mode, mxPatterns, maxAge, kept);
  }

  /**
   * The policy as {@code MtaStsPolicy[id=…, mode=…, mxPatterns=[…], maxAge=…, text=<n> chars]}: the
   * text by its length only, so that a log line holds none of its line breaks.
   */
  @Override
  public String toString() {
    return "MtaStsPolicy[id="
        + id
        + ", mode="
        + mode
        + ", mxPatterns="
        + mxPatterns
        + ", maxAge="
        + maxAge
        + ", text="
        + text.map(t -> t.length() + " chars").orElse("none")
        + "]";
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
