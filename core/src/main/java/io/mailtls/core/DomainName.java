package io.mailtls.core;

import java.net.IDN;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A DNS domain name in normal form: A-labels (IDNA), lower case, no trailing dot.
 *
 * <p>Two names are equal when their normal forms are equal, so {@code Bücher.TEST.} and {@code
 * xn--bcher-kva.test} are the same name. Instances are immutable and thread-safe.
 *
 * <p>Rules: each label is 1 to 63 octets, the whole name at most 253 octets in text form (255 on
 * the wire, RFC 1035 §2.3.4); labels are letters, digits and hyphens, not starting or ending with a
 * hyphen (RFC 1123 §2.1), or service labels starting with an underscore ({@code _25}, {@code
 * _mta-sts}, RFC 8552). Non-ASCII labels are converted with IDNA2003 ({@link IDN#toASCII}, the only
 * IDNA the JDK ships); the full stops U+3002, U+FF0E and U+FF61 separate labels as in RFC 3490
 * §3.1. The root is {@link #ROOT}, written {@code "."}.
 */
public final class DomainName implements Comparable<DomainName> {

  /** The root of the DNS tree, {@code "."}; in an MX record it is the null MX target (RFC 7505). */
  public static final DomainName ROOT = new DomainName("", List.of());

  private static final int MAX_LABEL = 63;
  private static final int MAX_NAME = 253;

  private final String ascii;
  private final List<String> labels;

  private DomainName(String ascii, List<String> labels) {
    this.ascii = ascii;
    this.labels = labels;
  }

  /**
   * Parses and normalises a domain name.
   *
   * @throws IllegalArgumentException naming the value when it is not a valid domain name
   */
  public static DomainName of(String name) {
    Objects.requireNonNull(name, "name");
    if (name.equals(".")) {
      return ROOT;
    }
    String text = name.replace('\u3002', '.').replace('\uFF0E', '.').replace('\uFF61', '.');
    if (text.endsWith(".")) {
      text = text.substring(0, text.length() - 1);
    }
    if (text.isEmpty()) {
      throw new IllegalArgumentException("empty domain name: \"" + name + "\"");
    }
    List<String> labels = new ArrayList<>();
    int start = 0;
    while (true) {
      int dot = text.indexOf('.', start);
      String raw = dot < 0 ? text.substring(start) : text.substring(start, dot);
      labels.add(normaliseLabel(raw, name));
      if (dot < 0) {
        break;
      }
      start = dot + 1;
    }
    String ascii = String.join(".", labels);
    if (ascii.length() > MAX_NAME) {
      throw new IllegalArgumentException(
          "domain name longer than "
              + MAX_NAME
              + " octets ("
              + ascii.length()
              + "): \""
              + name
              + "\"");
    }
    return new DomainName(ascii, Collections.unmodifiableList(labels));
  }

  private static String normaliseLabel(String raw, String name) {
    if (raw.isEmpty()) {
      throw new IllegalArgumentException("empty label in domain name: \"" + name + "\"");
    }
    String label = raw;
    if (!isAscii(raw)) {
      try {
        // RFC 3490 §4.1 ToASCII; STD3 rules are checked below, after the conversion.
        label = IDN.toASCII(raw);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "invalid internationalised label \"" + raw + "\" in domain name: \"" + name + "\"", e);
      }
    }
    label = label.toLowerCase(Locale.ROOT);
    if (label.length() > MAX_LABEL) {
      throw new IllegalArgumentException(
          "label longer than "
              + MAX_LABEL
              + " octets ("
              + label.length()
              + ") in domain name: \""
              + name
              + "\"");
    }
    for (int i = 0; i < label.length(); i++) {
      char c = label.charAt(i);
      boolean ok =
          (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || (c == '_' && i == 0);
      if (!ok) {
        throw new IllegalArgumentException(
            "invalid character '"
                + printable(c)
                + "' in label \""
                + raw
                + "\" of domain name: \""
                + name
                + "\"");
      }
    }
    // RFC 1123 §2.1: a label neither starts nor ends with a hyphen.
    if (label.charAt(0) == '-' || label.charAt(label.length() - 1) == '-') {
      throw new IllegalArgumentException(
          "label \"" + raw + "\" starts or ends with a hyphen in domain name: \"" + name + "\"");
    }
    if (label.startsWith("xn--")) {
      // An A-label must decode (RFC 5890 §2.3.2.1); IDN.toUnicode returns its input on failure.
      String unicode = IDN.toUnicode(label);
      if (unicode.equals(label)) {
        throw new IllegalArgumentException(
            "invalid A-label \"" + raw + "\" (does not decode) in domain name: \"" + name + "\"");
      }
    }
    return label;
  }

  private static String printable(char c) {
    return c < 0x20 || c > 0x7e
        ? String.format(Locale.ROOT, "\\u%04x", (int) c)
        : String.valueOf(c);
  }

  private static boolean isAscii(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) > 0x7f) {
        return false;
      }
    }
    return true;
  }

  /** The labels, left to right, in normal form; empty for the root. */
  public List<String> labels() {
    return labels;
  }

  /** Whether this is the root name {@code "."}. */
  public boolean isRoot() {
    return labels.isEmpty();
  }

  /**
   * Whether every label is a host name label (letters, digits, hyphens: RFC 1123 §2.1), that is no
   * underscore service label. MX targets and TLS reference identifiers must be host names.
   */
  public boolean isHostName() {
    for (String label : labels) {
      if (label.charAt(0) == '_') {
        return false;
      }
    }
    return !labels.isEmpty();
  }

  /**
   * Whether this looks like a fully qualified host name, as the EHLO name must be (RFC 5321
   * §4.1.1.1, §2.3.5): a {@link #isHostName() host name} of at least two labels, not under the
   * special-use {@code localhost} (RFC 6761 §6.3) nor the {@code localdomain} that unconfigured
   * machines report. No DNS is asked.
   */
  public boolean isFullyQualifiedHostName() {
    if (!isHostName() || labels.size() < 2) {
      return false;
    }
    String top = labels.get(labels.size() - 1);
    return !top.equals("localhost") && !top.equals("localdomain");
  }

  /**
   * Whether the last label is all digits, as in a dotted-decimal IP address: no host name has that
   * form (RFC 1123 §2.1, the highest-level label is alphabetic). A relay given so would be looked
   * up in DNS as a name (NXDOMAIN) and verified against a name it is not.
   */
  boolean endsInNumericLabel() {
    return !labels.isEmpty()
        && labels.get(labels.size() - 1).chars().allMatch(c -> c >= '0' && c <= '9');
  }

  /**
   * The message of a relay refused because {@code text} is an IP address: one text for the
   * transport-wide relay and a policy-map entry's.
   */
  static String relayIsAnAddress(String text) {
    return "relay \""
        + text
        + "\" is an IP address, not a host name (RFC 1123 §2.1): give the relay's host name,"
        + " which its certificate is verified against";
  }

  /** The parent name (the root's parent is the root). */
  public DomainName parent() {
    if (labels.size() <= 1) {
      return ROOT;
    }
    List<String> rest = labels.subList(1, labels.size());
    return new DomainName(String.join(".", rest), rest);
  }

  /**
   * This name with labels added on the left, e.g. {@code prefixed("_25", "_tcp")} of {@code
   * mx.example.test} is {@code _25._tcp.mx.example.test}.
   *
   * @throws IllegalArgumentException if a label is invalid or the name grows too long
   */
  public DomainName prefixed(String... newLabels) {
    String prefix = String.join(".", newLabels);
    return of(isRoot() ? prefix : prefix + "." + ascii);
  }

  /** Whether this name equals {@code other} or lies below it. */
  public boolean isSubdomainOf(DomainName other) {
    if (other.isRoot()) {
      return true;
    }
    return ascii.equals(other.ascii) || ascii.endsWith("." + other.ascii);
  }

  /** The normal form with the trailing dot, as DNS zone files write absolute names. */
  public String toFqdn() {
    return ascii + ".";
  }

  /** The name with U-labels where an A-label decodes, for display only. */
  public String toUnicode() {
    return isRoot() ? "." : IDN.toUnicode(ascii);
  }

  /** The normal form (A-labels, lower case, no trailing dot); {@code "."} for the root. */
  @Override
  public String toString() {
    return isRoot() ? "." : ascii;
  }

  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof DomainName other && ascii.equals(other.ascii);
  }

  @Override
  public int hashCode() {
    return ascii.hashCode();
  }

  /** Orders names by their normal form's text; a stable order for display, not DNSSEC's. */
  @Override
  public int compareTo(DomainName o) {
    return ascii.compareTo(o.ascii);
  }
}
