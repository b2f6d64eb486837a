package io.mailtls.mtasts;

import io.mailtls.core.DomainName;
import io.mailtls.core.MtaStsMode;
import io.mailtls.core.MtaStsPolicy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Parses an MTA-STS policy body, the {@code .well-known/mta-sts.txt} resource (RFC 8461 §3.2).
 * Stateless and thread-safe.
 *
 * <p>The grammar is the §3.2 ABNF, applied exactly with two exceptions (below):
 *
 * <pre>
 * sts-policy-record      = sts-policy-field *WSP *(sts-policy-term sts-policy-field *WSP)
 *                          [sts-policy-term]
 * sts-policy-field-delim = ":" *WSP
 * sts-policy-term        = LF / CRLF
 * sts-policy-ext-name    = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
 * sts-policy-ext-value   = sts-policy-vchar [*(%x20 / sts-policy-vchar) sts-policy-vchar]
 * </pre>
 *
 * <p>What follows from it, and the decisions taken where the RFC is silent:
 *
 * <ul>
 *   <li>Lines end in LF or CRLF, freely mixed; the last line may lack one. A bare CR is an error.
 *   <li>Exception: empty lines, and lines of white space only, are skipped (a blank last line,
 *       {@code "...\n\n"}, a blank line between fields, CRLF or LF). The ABNF puts a field between
 *       every two terminators, so such a policy is not valid, but refusing it is a downgrade: a
 *       sender that refuses a policy has none for the domain, as if the domain had published
 *       nothing (§3.3, §5), so one stray blank line would turn a domain's {@code enforce} into
 *       plain opportunistic delivery. Skipping the line keeps every field the domain wrote and adds
 *       none. A policy of nothing but empty lines still lacks its fields and is refused.
 *   <li>Leading white space on a line is an error, and so is white space before the {@code ':'}
 *       (the delimiter is {@code ":" *WSP}); white space after the {@code ':'} and at the end of a
 *       line is skipped.
 *   <li>Field names and the values {@code STSv1}, {@code enforce}, {@code testing}, {@code none}
 *       are case-sensitive ({@code %s"..."}, RFC 7405). {@code Mode: enforce} is therefore an
 *       extension field, ignored, and the policy then lacks its {@code mode}.
 *   <li>{@code version}, {@code mode} and {@code max_age} are required; {@code mx} is required
 *       unless the mode is {@code none}.
 *   <li>Repeated keys: of a field other than {@code mx} the first occurrence counts and later ones
 *       are ignored (§3.2: of a duplicated field other than {@code mx}, "all entries except for the
 *       first SHALL be ignored"). An ignored line is not checked against its field's values (a
 *       later {@code mode: sometimes} changes nothing) but is still a line of the policy: it must
 *       fit the generic field grammar, a name, {@code ':'} and a non-empty {@code
 *       sts-policy-ext-value}. {@code mx} lines accumulate, each must be valid, and duplicates are
 *       kept once, in order of first appearance. {@link StsRecord} applies the same rule to the TXT
 *       record.
 *   <li>A first occurrence of a defined field whose value does not fit that field (e.g. {@code
 *       mode: sometimes}) is an error, not an extension: reading it as an extension would turn a
 *       typo into a silently different policy.
 *   <li>{@code max_age} is 1 to 10 digits (the ABNF); values above §3.2's maximum of 31557600 are
 *       clamped to 31557600, not refused. Many implementations refuse such a policy, but a sender
 *       that refuses it has no policy for the domain, the same as if the domain had published none:
 *       a downgrade, for a domain that asked for the longest protection there is. The clamp keeps
 *       the policy, for the longest life the RFC allows, and costs nothing the RFC forbids: the
 *       policy is cached no longer than any valid policy can be.
 *   <li>{@code mx} is {@code ["*."] Domain} with RFC 5321 §4.1.2's {@code Domain}: LDH labels of
 *       A-labels only; U-labels are rejected (§3.2: the A-label must be given), as are {@code *}
 *       alone, {@code *example.com} and {@code a.*.example.com}. Patterns are normalised to lower
 *       case.
 *   <li>Exception: one trailing dot on an {@code mx} value ({@code mail.example.com.}, the absolute
 *       form of the name, as zone files write it) is accepted and dropped. {@code Domain} has no
 *       trailing dot, but the name is unambiguous, and refusing it would again leave the domain
 *       without its policy (see the blank lines above). Two trailing dots, or a dot alone, are
 *       still empty labels.
 *   <li>Unknown fields that fit the extension grammar are ignored (§3.2); extension values may hold
 *       UTF-8 characters but no control characters or tabs.
 *   <li>The body itself is kept with the parsed fields ({@link MtaStsPolicy#text()}), for TLS-RPT's
 *       {@code policy-string}, the policy "declared by the receiving site" (RFC 8460 §4.4, §4.5); a
 *       body longer than {@link MtaStsPolicy#MAX_TEXT_LENGTH} is not kept (the policy is).
 * </ul>
 *
 * <p>Package-private: {@link OkHttpPolicyFetcher} is its one user (through {@code
 * PolicyResponses}); other fetchers return a parsed {@link MtaStsPolicy} in a {@link
 * FetchResult.Success}.
 */
final class StsPolicyParser {

  /** RFC 8461 §3.2: the largest {@code max_age}, in seconds (about a year). */
  public static final long MAX_AGE_SECONDS = 31_557_600L;

  private static final int MAX_QUOTE = 80;

  private StsPolicyParser() {}

  /**
   * Parses a policy body.
   *
   * @param text the body, decoded from UTF-8
   * @param id the policy id of the {@code _mta-sts} TXT record (RFC 8461 §3.1), which the policy
   *     carries
   * @return the policy, with {@code mx} patterns in normal form, and {@code text} as its {@link
   *     MtaStsPolicy#text() text} when it is at most {@link MtaStsPolicy#MAX_TEXT_LENGTH} long
   * @throws StsPolicyException naming the line and the rule when the body is not a valid policy
   * @throws NullPointerException if an argument is null
   */
  public static MtaStsPolicy parse(String text, String id) {
    Objects.requireNonNull(text, "text");
    Objects.requireNonNull(id, "id");
    if (text.isEmpty()) {
      throw new StsPolicyException(0, "the policy is empty (RFC 8461 §3.2)");
    }
    Fields fields = new Fields();
    int lineNumber = 0;
    int pos = 0;
    int n = text.length();
    // RFC 8461 §3.2: sts-policy-record = sts-policy-field *WSP *(sts-policy-term sts-policy-field
    // *WSP) [sts-policy-term]: at least one field, and after the last terminator nothing at all.
    do {
      lineNumber++;
      int end = pos;
      while (end < n && text.charAt(end) != '\n' && text.charAt(end) != '\r') {
        end++;
      }
      if (end < n && text.charAt(end) == '\r' && (end + 1 == n || text.charAt(end + 1) != '\n')) {
        // RFC 8461 §3.2: sts-policy-term = LF / CRLF; a lone CR is neither.
        throw new StsPolicyException(
            lineNumber, "bare CR; lines end in LF or CRLF (RFC 8461 §3.2)");
      }
      parseLine(text.substring(pos, end), lineNumber, fields);
      if (end == n) {
        break; // RFC 8461 §3.2: [sts-policy-term], the last terminator is optional
      }
      pos = end + (text.charAt(end) == '\r' ? 2 : 1);
    } while (pos < n);
    // RFC 8460 §4.4, §4.5: a report names the policy as the domain declared it, so the text is
    // kept with the fields (up to MtaStsPolicy.MAX_TEXT_LENGTH; beyond, it is reported rebuilt).
    return fields.toPolicy(id).withText(text);
  }

  private static void parseLine(String line, int lineNumber, Fields fields) {
    if (trimWsp(line).isEmpty()) {
      // RFC 8461 §3.2's ABNF has no empty line; refusing the policy for one would leave the
      // domain without a policy (a downgrade), so the line is skipped (see the class comment).
      return;
    }
    int colon = line.indexOf(':');
    if (colon < 0) {
      throw new StsPolicyException(
          lineNumber, "no ':' in " + quote(line) + "; fields are \"name: value\" (RFC 8461 §3.2)");
    }
    String name = line.substring(0, colon);
    if (!isFieldName(name)) {
      throw new StsPolicyException(
          lineNumber,
          "invalid field name "
              + quote(name)
              + ": 1 to 32 letters, digits, '_', '-' or '.', starting with a letter or digit, with no"
              + " white space before ':' (RFC 8461 §3.2)");
    }
    // RFC 8461 §3.2: sts-policy-field-delim = ":" *WSP, and each field is followed by *WSP.
    String value = trimWsp(line.substring(colon + 1));
    if (fields.isRepeat(name)) {
      // RFC 8461 §3.2: of a repeated field other than mx, "all entries except for the first SHALL
      // be ignored"; the line must still be a field (sts-policy-ext-value).
      checkExtensionValue(name, value, lineNumber);
      return;
    }
    switch (name) {
      case "version" -> fields.version(parseVersion(value, lineNumber));
      case "mode" -> fields.mode(parseMode(value, lineNumber));
      case "max_age" -> fields.maxAge(parseMaxAge(value, lineNumber));
      case "mx" -> fields.mx(parseMx(value, lineNumber));
      default -> {
        checkExtensionValue(name, value, lineNumber);
        fields.extension(name);
      }
    }
  }

  // sts-policy-version-value = %s"STSv1"
  private static String parseVersion(String value, int lineNumber) {
    if (!value.equals("STSv1")) {
      throw new StsPolicyException(
          lineNumber,
          "version must be STSv1 (case-sensitive), got " + quote(value) + " (RFC 8461 §3.2)");
    }
    return value;
  }

  // sts-policy-mode-value = %s"testing" / %s"enforce" / %s"none"
  private static MtaStsMode parseMode(String value, int lineNumber) {
    for (MtaStsMode mode : MtaStsMode.values()) {
      if (mode.token().equals(value)) {
        return mode;
      }
    }
    throw new StsPolicyException(
        lineNumber,
        "mode must be enforce, testing or none"
            + " (case-sensitive), got "
            + quote(value)
            + " (RFC 8461 §3.2)");
  }

  // sts-policy-max-age-value = 1*10(DIGIT)
  private static long parseMaxAge(String value, int lineNumber) {
    if (value.isEmpty() || value.length() > 10 || !allAsciiDigits(value)) {
      throw new StsPolicyException(
          lineNumber, "max_age must be 1 to 10 digits, got " + quote(value) + " (RFC 8461 §3.2)");
    }
    // RFC 8461 §3.2: "maximum value of 31557600"; larger values are clamped, not refused:
    // refusing would leave the domain without a policy (see the class comment).
    return Math.min(Long.parseLong(value), MAX_AGE_SECONDS);
  }

  // sts-policy-mx-value = ["*."] Domain, Domain as in RFC 5321 §4.1.2.
  private static String parseMx(String value, int lineNumber) {
    for (int i = 0; i < value.length(); i++) {
      if (value.charAt(i) > 0x7f) {
        // RFC 8461 §3.2: for an IDN the mx value is the A-label, never the U-label.
        throw new StsPolicyException(
            lineNumber,
            "mx "
                + quote(value)
                + " holds a U-label; give"
                + " the A-label (xn--...) instead (RFC 8461 §3.2)");
      }
    }
    boolean wildcard = value.startsWith("*.");
    String domain = wildcard ? value.substring(2) : value;
    if (domain.length() > 1 && domain.endsWith(".") && !domain.endsWith("..")) {
      // The absolute form of the name: not an RFC 5321 Domain, but unambiguous; refusing it would
      // leave the domain without a policy (see the class comment).
      domain = domain.substring(0, domain.length() - 1);
    }
    if (domain.indexOf('*') >= 0) {
      // RFC 8461 §4.1: "*" only as the whole left-most label, written "*.".
      throw new StsPolicyException(
          lineNumber,
          "mx "
              + quote(value)
              + ": a wildcard is allowed"
              + " only as a whole left-most label \"*.\" (RFC 8461 §3.2, §4.1)");
    }
    String syntaxError = domainSyntaxError(domain);
    if (syntaxError != null) {
      throw new StsPolicyException(
          lineNumber,
          "mx " + quote(value) + ": " + syntaxError + " (RFC 8461 §3.2, RFC 5321 §4.1.2)");
    }
    DomainName normal;
    try {
      // Length limits (RFC 1035 §2.3.4) and A-label validity (RFC 5890 §2.3.2.1).
      normal = DomainName.of(domain);
    } catch (IllegalArgumentException e) {
      throw new StsPolicyException(
          lineNumber, "mx " + quote(value) + ": " + e.getMessage() + " (RFC 8461 §3.2)");
    }
    return wildcard ? "*." + normal : normal.toString();
  }

  /**
   * RFC 5321 §4.1.2: {@code Domain = sub-domain *("." sub-domain)}, {@code sub-domain = Let-dig
   * [Ldh-str]}: letters, digits and inner hyphens; no empty label, so no trailing dot.
   */
  private static @Nullable String domainSyntaxError(String domain) {
    if (domain.isEmpty()) {
      return "empty host name";
    }
    int start = 0;
    while (true) {
      int dot = domain.indexOf('.', start);
      int end = dot < 0 ? domain.length() : dot;
      if (end == start) {
        return dot < 0 && start > 0 ? "trailing dot (a Domain has none)" : "empty label";
      }
      if (!isLetDig(domain.charAt(start)) || !isLetDig(domain.charAt(end - 1))) {
        return "label "
            + quote(domain.substring(start, end))
            + " must start and end with a letter or digit";
      }
      for (int i = start + 1; i < end - 1; i++) {
        char c = domain.charAt(i);
        if (!isLetDig(c) && c != '-') {
          return "label "
              + quote(domain.substring(start, end))
              + " holds a character other than a letter, digit or '-'";
        }
      }
      if (dot < 0) {
        return null;
      }
      start = dot + 1;
    }
  }

  // sts-policy-ext-value = sts-policy-vchar [*(%x20 / sts-policy-vchar) sts-policy-vchar]
  // sts-policy-vchar     = %x21-7E / UTF8-2 / UTF8-3 / UTF8-4
  private static void checkExtensionValue(String name, String value, int lineNumber) {
    if (value.isEmpty()) {
      throw new StsPolicyException(
          lineNumber, "extension field " + quote(name) + " has an empty value (RFC 8461 §3.2)");
    }
    for (int i = 0; i < value.length(); ) {
      int cp = value.codePointAt(i);
      boolean ok =
          cp == ' '
              || (cp >= 0x21 && cp <= 0x7e)
              || (cp >= 0x80 && (cp < 0xD800 || cp > 0xDFFF)); // UTF8-2 / UTF8-3 / UTF8-4
      if (!ok) {
        throw new StsPolicyException(
            lineNumber,
            "extension field "
                + quote(name)
                + ": character "
                + String.format(Locale.ROOT, "U+%04X", cp)
                + " is not allowed in a value (RFC 8461 §3.2)");
      }
      i += Character.charCount(cp);
    }
  }

  // sts-policy-ext-name = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / "."); the defined
  // names (version, mode, max_age, mx) fit it too.
  private static boolean isFieldName(String name) {
    if (name.isEmpty() || name.length() > 32 || !isLetDig(name.charAt(0))) {
      return false;
    }
    for (int i = 1; i < name.length(); i++) {
      char c = name.charAt(i);
      if (!isLetDig(c) && c != '_' && c != '-' && c != '.') {
        return false;
      }
    }
    return true;
  }

  private static boolean isLetDig(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  }

  private static boolean allAsciiDigits(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) < '0' || s.charAt(i) > '9') {
        return false;
      }
    }
    return true;
  }

  // WSP = SP / HTAB (RFC 5234 Appendix B.1)
  private static String trimWsp(String s) {
    int start = 0;
    int end = s.length();
    while (start < end && (s.charAt(start) == ' ' || s.charAt(start) == '\t')) {
      start++;
    }
    while (end > start && (s.charAt(end - 1) == ' ' || s.charAt(end - 1) == '\t')) {
      end--;
    }
    return s.substring(start, end);
  }

  /** The value in double quotes, control characters escaped, cut at {@value #MAX_QUOTE}. */
  static String quote(String s) {
    StringBuilder sb = new StringBuilder("\"");
    int limit = Math.min(s.length(), MAX_QUOTE);
    for (int i = 0; i < limit; i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
      } else if (c == '"' || c == '\\') {
        sb.append('\\').append(c);
      } else {
        sb.append(c);
      }
    }
    if (s.length() > limit) {
      sb.append("...");
    }
    return sb.append('"').toString();
  }

  /** The fields seen so far; the first occurrence of each counts, except {@code mx}. */
  private static final class Fields {
    private @Nullable String version;
    private @Nullable MtaStsMode mode;
    private long maxAge = -1;
    private final Set<String> mx = new LinkedHashSet<>();
    private final List<String> nearMisses = new ArrayList<>();

    // RFC 8461 §3.2: a defined field other than mx that was seen before; only the first counts.
    boolean isRepeat(String name) {
      return switch (name) {
        case "version" -> version != null;
        case "mode" -> mode != null;
        case "max_age" -> maxAge >= 0;
        default -> false;
      };
    }

    void version(String value) {
      version = value;
    }

    void mode(MtaStsMode value) {
      mode = value;
    }

    void maxAge(long value) {
      maxAge = value;
    }

    // RFC 8461 §3.2: mx may appear any number of times; the patterns accumulate.
    void mx(String pattern) {
      mx.add(pattern);
    }

    // RFC 8461 §3.2: unknown fields are ignored; a case variant of a defined name is remembered
    // only to explain a missing field.
    void extension(String name) {
      String lower = name.toLowerCase(Locale.ROOT);
      if ((lower.equals("version")
              || lower.equals("mode")
              || lower.equals("max_age")
              || lower.equals("mx"))
          && !nearMisses.contains(name)) {
        nearMisses.add(name);
      }
    }

    MtaStsPolicy toPolicy(String id) {
      if (version == null) {
        throw missing("version");
      }
      if (mode == null) {
        throw missing("mode");
      }
      if (maxAge < 0) {
        throw missing("max_age");
      }
      // RFC 8461 §3.2: mx is required at least once, except when mode is "none".
      if (mode != MtaStsMode.NONE && mx.isEmpty()) {
        throw missing("mx");
      }
      return new MtaStsPolicy(id, mode, List.copyOf(mx), Duration.ofSeconds(maxAge));
    }

    private StsPolicyException missing(String field) {
      String reason = "the " + field + " field is required";
      if (field.equals("mx")) {
        reason += " unless mode is none";
      }
      for (String nearMiss : nearMisses) {
        if (nearMiss.toLowerCase(Locale.ROOT).equals(field)) {
          reason +=
              " (field names are case-sensitive: "
                  + quote(nearMiss)
                  + " is not "
                  + quote(field)
                  + ")";
        }
      }
      return new StsPolicyException(0, reason + " (RFC 8461 §3.2)");
    }
  }
}
