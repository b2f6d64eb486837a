package io.mailtls.mtasts;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * An MTA-STS TXT record, {@code _mta-sts.<domain>} (RFC 8461 §3.1). Immutable.
 *
 * <p>Parsing follows the §3.1 ABNF exactly:
 *
 * <pre>
 * sts-text-record = sts-version 1*(sts-field-delim sts-field) [sts-field-delim]
 * sts-field-delim = *WSP ";" *WSP
 * sts-version     = %s"v=STSv1"
 * sts-id          = %s"id=" 1*32(ALPHA / DIGIT)
 * sts-extension   = sts-ext-name "=" sts-ext-value
 * </pre>
 *
 * <ul>
 *   <li>The record starts with the case-sensitive {@code v=STSv1}; fields are separated by {@code
 *       ;} with optional spaces and tabs around it, and a trailing {@code ;} is allowed.
 *   <li>White space is allowed only around a {@code ;}: leading white space, white space between
 *       two fields without a {@code ;}, and trailing white space after the last field (when no
 *       {@code ;} follows) make the record invalid.
 *   <li>{@code id} is 1 to 32 letters and digits and is required.
 *   <li>A repeated key: the first occurrence counts and later ones are ignored, as RFC 8461 §3.2
 *       prescribes for policies ("all entries except for the first SHALL be ignored") in the
 *       paragraph that sets the parsing rules for TXT records and policies alike. An ignored field
 *       is still a field: it must fit {@code sts-extension} (a later {@code id=} with an empty
 *       value makes the record invalid). The same rule holds for the policy.
 *   <li>Extensions are {@code name=value} with the §3.1 character sets and are kept but unused.
 * </ul>
 *
 * <p>Selecting the record of a domain ({@link #select}) discards, before counting, every TXT record
 * that does not begin with {@code v=STSv1;} (§3.1). "Begins with {@code v=STSv1;}" is read with the
 * ABNF's own delimiter, {@code sts-version *WSP ";"}: a record {@code "v=STSv1 ; id=1"} is valid by
 * the ABNF, and discarding it would take a domain's policy away (the conflict between the prose and
 * the ABNF is reported as RFC 8461 erratum 6285, not yet verified; until it is, the ABNF decides).
 * A bare {@code v=STSv1}, or {@code v=STSv1} followed by anything but white space and {@code ;}, is
 * not a candidate and cannot stand beside the real record as a second one.
 *
 * @param id the policy id, which changes whenever the policy does
 * @param extensions extension fields in the order given (first occurrence wins)
 */
public record StsRecord(String id, Map<String, String> extensions) {

  private static final String VERSION = "v=STSv1";

  public StsRecord {
    Objects.requireNonNull(id, "id");
    extensions = Map.copyOf(extensions);
  }

  /** What the TXT RRset at {@code _mta-sts.<domain>} says, after §3.1's selection rules. */
  public sealed interface Selection permits Found, NotFound {}

  /** Exactly one record beginning with {@code v=STSv1;} was published, and it is valid. */
  public record Found(StsRecord record) implements Selection {}

  /**
   * No usable record: none, several, or one that does not parse ({@code reason} says which). RFC
   * 8461 §3.1: the sender then assumes no MTA-STS policy is available (a cached policy still
   * applies, §5.1).
   */
  public record NotFound(String reason) implements Selection {}

  /**
   * Applies RFC 8461 §3.1 to the TXT records of one RRset (each already the concatenation of its
   * character-strings): records that do not begin with {@code v=STSv1;} (white space allowed before
   * the {@code ;}) are discarded first; if then not exactly one remains, or it is invalid, there is
   * no record.
   */
  public static Selection select(List<String> txtRecords) {
    List<String> candidates = new ArrayList<>();
    for (String txt : txtRecords) {
      // RFC 8461 §3.1: "records that do not begin with "v=STSv1;" are discarded", before the
      // number of records is checked.
      if (beginsWithVersionAndDelimiter(txt)) {
        candidates.add(txt);
      }
    }
    if (candidates.isEmpty()) {
      return new NotFound("no TXT record begins with v=STSv1;");
    }
    if (candidates.size() > 1) {
      return new NotFound(
          candidates.size()
              + " TXT records begin with v=STSv1; exactly one is"
              + " allowed (RFC 8461 §3.1)");
    }
    try {
      return new Found(parse(candidates.get(0)));
    } catch (IllegalArgumentException e) {
      return new NotFound(String.valueOf(e.getMessage()));
    }
  }

  /** RFC 8461 §3.1: {@code sts-version} and the start of {@code sts-field-delim}, *WSP ";". */
  private static boolean beginsWithVersionAndDelimiter(String txt) {
    if (!txt.startsWith(VERSION)) {
      return false;
    }
    int pos = skipWsp(txt, VERSION.length());
    return pos < txt.length() && txt.charAt(pos) == ';';
  }

  /**
   * Parses one record's text.
   *
   * @throws IllegalArgumentException quoting the record and naming the violated rule
   */
  public static StsRecord parse(String text) {
    Objects.requireNonNull(text, "text");
    if (!text.startsWith(VERSION)) {
      throw invalid(text, "must start with v=STSv1");
    }
    String id = null;
    Map<String, String> extensions = new LinkedHashMap<>();
    int pos = VERSION.length();
    int n = text.length();
    // RFC 8461 §3.1: sts-version 1*(sts-field-delim sts-field) [sts-field-delim]
    while (true) {
      int afterWsp = skipWsp(text, pos);
      if (afterWsp == n) {
        if (afterWsp > pos) {
          // sts-field-delim = *WSP ";" *WSP: white space only around a ";".
          throw invalid(
              text,
              "trailing white space at offset "
                  + pos
                  + "; white space is allowed"
                  + " only around ';'");
        }
        break;
      }
      if (text.charAt(afterWsp) != ';') {
        throw invalid(text, "expected ';' at offset " + afterWsp);
      }
      pos = skipWsp(text, afterWsp + 1);
      if (pos == n) {
        break; // RFC 8461 §3.1: [sts-field-delim], a trailing ";" is allowed
      }
      int eq = text.indexOf('=', pos);
      int end = pos;
      while (end < n
          && text.charAt(end) != ';'
          && text.charAt(end) != ' '
          && text.charAt(end) != '\t') {
        end++;
      }
      if (eq < 0 || eq >= end) {
        throw invalid(text, "field without '=' at offset " + pos);
      }
      String name = text.substring(pos, eq);
      String value = text.substring(eq + 1, end);
      if (name.equals("id") && id == null) {
        if (!isId(value)) {
          throw invalid(text, "id must be 1 to 32 letters or digits, got \"" + value + "\"");
        }
        id = value;
      } else {
        // An extension, or a repeated id: RFC 8461 §3.2, "all entries except for the first SHALL
        // be ignored"; an ignored field must still be one (sts-extension).
        if (!isExtName(name)) {
          throw invalid(text, "invalid extension name \"" + name + "\"");
        }
        if (!isExtValue(value)) {
          throw invalid(text, "invalid value for field \"" + name + "\"");
        }
        if (!name.equals("id")) {
          extensions.putIfAbsent(name, value);
        }
      }
      pos = end;
    }
    if (id == null) {
      throw invalid(text, "the id field is required");
    }
    return new StsRecord(id, extensions);
  }

  private static int skipWsp(String s, int pos) {
    while (pos < s.length() && (s.charAt(pos) == ' ' || s.charAt(pos) == '\t')) {
      pos++;
    }
    return pos;
  }

  // sts-id = %s"id=" 1*32(ALPHA / DIGIT)
  private static boolean isId(String v) {
    if (v.isEmpty() || v.length() > 32) {
      return false;
    }
    for (int i = 0; i < v.length(); i++) {
      if (!isAlnum(v.charAt(i))) {
        return false;
      }
    }
    return true;
  }

  // sts-ext-name = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
  private static boolean isExtName(String name) {
    if (name.isEmpty() || name.length() > 32 || !isAlnum(name.charAt(0))) {
      return false;
    }
    for (int i = 1; i < name.length(); i++) {
      char c = name.charAt(i);
      if (!(isAlnum(c) || c == '_' || c == '-' || c == '.')) {
        return false;
      }
    }
    return true;
  }

  // sts-ext-value = 1*(%x21-3A / %x3C / %x3E-7E): visible ASCII except ';' and '='
  private static boolean isExtValue(String value) {
    if (value.isEmpty()) {
      return false;
    }
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c < 0x21 || c > 0x7e || c == ';' || c == '=') {
        return false;
      }
    }
    return true;
  }

  private static boolean isAlnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  }

  private static IllegalArgumentException invalid(String text, String why) {
    return new IllegalArgumentException(
        "invalid MTA-STS TXT record \"" + text + "\": " + why + " (RFC 8461 §3.1)");
  }
}
