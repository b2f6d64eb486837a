package io.mailtls.mtasts;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * An MTA-STS TXT record, {@code _mta-sts.<domain>} (RFC 8461 §3.1). Immutable.
 *
 * <p>Parsing follows the §3.1 ABNF exactly: the record starts with the case-sensitive {@code
 * v=STSv1}; fields are separated by {@code ;} with optional spaces and tabs around it, and a
 * trailing {@code ;} is allowed; {@code id} is 1 to 32 letters and digits and must occur exactly
 * once (a second {@code id} makes the record invalid: which one to trust would be a guess);
 * extensions are {@code name=value} with the §3.1 character sets and are kept but unused.
 *
 * @param id the policy id, which changes whenever the policy does
 * @param extensions extension fields in the order given (first occurrence wins)
 */
public record StsRecord(String id, Map<String, String> extensions) {

  public StsRecord {
    Objects.requireNonNull(id, "id");
    extensions = Map.copyOf(extensions);
  }

  /** What the TXT RRset at {@code _mta-sts.<domain>} says, after §3.1's selection rules. */
  public sealed interface Selection permits Found, NotFound {}

  /** Exactly one record starting with {@code v=STSv1} was published, and it is valid. */
  public record Found(StsRecord record) implements Selection {}

  /**
   * No usable record: none, several, or one that does not parse ({@code reason} says which).
   * RFC 8461 §3.1: the sender then assumes no MTA-STS policy is available (a cached policy still
   * applies, §5.1).
   */
  public record NotFound(String reason) implements Selection {}

  /**
   * Applies RFC 8461 §3.1 to the TXT records of one RRset (each already the concatenation of its
   * character-strings): records not starting with {@code v=STSv1} are discarded; if not exactly
   * one remains, or it is invalid, there is no record.
   */
  public static Selection select(List<String> txtRecords) {
    List<String> candidates = new ArrayList<>();
    for (String txt : txtRecords) {
      if (startsWithVersion(txt)) {
        candidates.add(txt);
      }
    }
    if (candidates.isEmpty()) {
      return new NotFound("no TXT record starts with v=STSv1");
    }
    if (candidates.size() > 1) {
      return new NotFound(candidates.size() + " TXT records start with v=STSv1; exactly one is"
          + " allowed (RFC 8461 §3.1)");
    }
    try {
      return new Found(parse(candidates.get(0)));
    } catch (IllegalArgumentException e) {
      return new NotFound(e.getMessage());
    }
  }

  private static boolean startsWithVersion(String txt) {
    if (!txt.startsWith("v=STSv1")) {
      return false;
    }
    if (txt.length() == 7) {
      return true;
    }
    char next = txt.charAt(7);
    return next == ';' || next == ' ' || next == '\t';
  }

  /**
   * Parses one record's text.
   *
   * @throws IllegalArgumentException quoting the record and naming the violated rule
   */
  public static StsRecord parse(String text) {
    Objects.requireNonNull(text, "text");
    if (!startsWithVersion(text)) {
      throw invalid(text, "must start with v=STSv1");
    }
    String id = null;
    Map<String, String> extensions = new LinkedHashMap<>();
    int pos = 7;
    int n = text.length();
    boolean sawField = false;
    while (true) {
      pos = skipWsp(text, pos);
      if (pos == n) {
        break;
      }
      if (text.charAt(pos) != ';') {
        throw invalid(text, "expected ';' at offset " + pos);
      }
      pos = skipWsp(text, pos + 1);
      if (pos == n) {
        break; // RFC 8461 §3.1: a trailing ";" is allowed
      }
      int eq = text.indexOf('=', pos);
      int end = pos;
      while (end < n && text.charAt(end) != ';' && text.charAt(end) != ' '
          && text.charAt(end) != '\t') {
        end++;
      }
      if (eq < 0 || eq >= end) {
        throw invalid(text, "field without '=' at offset " + pos);
      }
      String name = text.substring(pos, eq);
      String value = text.substring(eq + 1, end);
      if (name.equals("id")) {
        if (id != null) {
          throw invalid(text, "more than one id field");
        }
        if (!isId(value)) {
          throw invalid(text, "id must be 1 to 32 letters or digits, got \"" + value + "\"");
        }
        id = value;
      } else {
        if (!isExtName(name)) {
          throw invalid(text, "invalid extension name \"" + name + "\"");
        }
        if (!isExtValue(value)) {
          throw invalid(text, "invalid value for extension \"" + name + "\"");
        }
        extensions.putIfAbsent(name, value);
      }
      sawField = true;
      pos = end;
    }
    if (!sawField || id == null) {
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
    return new IllegalArgumentException("invalid MTA-STS TXT record \"" + text + "\": " + why
        + " (RFC 8461 §3.1)");
  }
}
