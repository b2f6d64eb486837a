package io.mailtls.testkit.internal.dns;

import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.xbill.DNS.Name;
import org.xbill.DNS.NameTooLongException;
import org.xbill.DNS.TextParseException;

/**
 * Name helpers shared by the test DNS server: parsing of caller-supplied names and walking of
 * ancestors.
 *
 * <p>Stateless and thread-safe.
 */
public final class DnsNames {
  private static final Name WILDCARD_LABEL = Name.fromConstantString("*");

  private DnsNames() {}

  /**
   * Parses a presentation-format domain name as an absolute name; a trailing dot is optional.
   *
   * <p>Only ASCII is accepted: internationalized names must be given as A-labels ({@code
   * xn--bcher-kva.test}), as they appear on the wire (RFC 5890 §2.3.2.1).
   *
   * @throws IllegalArgumentException if the text is not a valid ASCII domain name
   */
  public static Name parse(String text) {
    Objects.requireNonNull(text, "name");
    if (text.isEmpty()) {
      throw new IllegalArgumentException("empty domain name; use \".\" for the root");
    }
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c < 0x21 || c > 0x7e) {
        throw new IllegalArgumentException(
            "not an ASCII domain name (give IDNs as A-labels, xn--...): \"" + text + "\"");
      }
    }
    try {
      return Name.fromString(text, Name.root);
    } catch (TextParseException e) {
      throw new IllegalArgumentException(
          "invalid domain name \"" + text + "\": " + e.getMessage(), e);
    }
  }

  /** The parent of {@code name} (one label removed); {@code name} must not be the root. */
  public static Name parent(Name name) {
    if (name.labels() <= 1) {
      throw new IllegalArgumentException("the root has no parent");
    }
    return new Name(name, 1);
  }

  /** {@code name} strictly below {@code ancestor}. */
  public static boolean isStrictlyBelow(Name name, Name ancestor) {
    return name.labels() > ancestor.labels() && name.subdomain(ancestor);
  }

  /** The wildcard name {@code *.<closestEncloser>} (RFC 4592 §2.1.1). */
  public static @Nullable Name wildcardOf(Name closestEncloser) {
    try {
      return Name.concatenate(WILDCARD_LABEL, closestEncloser);
    } catch (NameTooLongException e) {
      // Such a wildcard cannot exist, so it cannot match either; callers only look it up.
      return null;
    }
  }
}
