package io.mailtls.tlsrpt;

import io.mailtls.tlsrpt.internal.MailtoUri;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * A TLS-RPT TXT record, {@code _smtp._tls.<policy domain>} (RFC 8460 §3). Immutable.
 *
 * <p>Parsing follows the §3 ABNF:
 *
 * <pre>
 * tlsrpt-record    = tlsrpt-version 1*(field-delim tlsrpt-field) [field-delim]
 * field-delim      = *WSP ";" *WSP
 * tlsrpt-field     = tlsrpt-rua / tlsrpt-extension
 * tlsrpt-version   = %s"v=TLSRPTv1"
 * tlsrpt-rua       = %s"rua=" tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri)
 * tlsrpt-uri       = URI            ; "," "!" and ";" percent-encoded
 * tlsrpt-extension = tlsrpt-ext-name "=" tlsrpt-ext-value
 * tlsrpt-ext-name  = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
 * tlsrpt-ext-value = 1*(%x21-3A / %x3C / %x3E-7E)
 * </pre>
 *
 * <ul>
 *   <li>The record starts with the case-sensitive {@code v=TLSRPTv1}; white space is allowed only
 *       around a {@code ;} and around the {@code ,} between URIs; a trailing {@code ;} is allowed.
 *   <li>{@code rua} is required. Each URI must be an absolute RFC 3986 URI of printable US-ASCII
 *       (percent-encoding checked: {@code %} followed by two hex digits); a raw {@code !} makes the
 *       record invalid (§3: it must be encoded, as {@code ,} and {@code ;} must).
 *   <li>{@code mailto:} and {@code https:} URIs are the report destinations (§3, §5); a URI of any
 *       other scheme is well-formed but ignored ({@link #ignored()}), as is a {@code mailto:} URI
 *       that names no valid address (RFC 6068 §2, also {@code mailto:?to=addr}) or an {@code
 *       https:} URI without a host. A record with no {@code mailto:} or {@code https:} URI names no
 *       destination and is treated as invalid.
 *   <li>At most {@link #MAX_DESTINATIONS} destinations are used, the first ones given; any further
 *       {@code mailto:} or {@code https:} URI is ignored too. §3 sets no limit, but each
 *       destination costs a delivery with its own timeouts and retries, and the record is the
 *       peer's input: a run stays bounded in time however many it names (as RFC 7489 §6.2 lets a
 *       DMARC reporter limit its {@code rua} destinations).
 *   <li>A repeated key: the first occurrence counts (as RFC 8461 §3.2 reads repeated keys); later
 *       ones must still fit the grammar. Unknown fields are kept but unused (§3: "unknown fields
 *       SHALL be ignored").
 * </ul>
 *
 * @param rua the {@code mailto:} and {@code https:} destinations, in the order given
 * @param ignored URIs of other schemes, unusable ones, and destinations beyond {@link
 *     #MAX_DESTINATIONS}, in the order given
 * @param extensions extension fields (first occurrence wins)
 */
public record TlsRptRecord(List<URI> rua, List<URI> ignored, Map<String, String> extensions) {

  /** The most report destinations one record gives: later {@code rua} URIs are ignored. */
  public static final int MAX_DESTINATIONS = 5;

  private static final String VERSION = "v=TLSRPTv1";

  public TlsRptRecord {
    rua = List.copyOf(rua);
    ignored = List.copyOf(ignored);
    extensions = Map.copyOf(extensions);
    if (rua.isEmpty()) {
      throw new IllegalArgumentException("a TLS-RPT record needs a mailto: or https: destination");
    }
  }

  /** What the TXT RRset at {@code _smtp._tls.<domain>} says, after §3's selection rules. */
  public sealed interface Selection permits Found, NotFound {}

  /** Exactly one record beginning with {@code v=TLSRPTv1;} was published, and it is valid. */
  public record Found(TlsRptRecord record) implements Selection {}

  /**
   * No usable record: none, several, or one that does not parse ({@code reason} says which). RFC
   * 8460 §3: the sender then assumes the domain does not implement TLS-RPT.
   */
  public record NotFound(String reason) implements Selection {
    public NotFound {
      Objects.requireNonNull(reason, "reason");
    }
  }

  /**
   * Applies RFC 8460 §3 to the TXT records of one RRset (each the concatenation of its
   * character-strings): records that do not begin with {@code v=TLSRPTv1;} (white space allowed
   * before the {@code ;}, as the ABNF's {@code field-delim} allows) are discarded; if then not
   * exactly one remains, or it is invalid, the domain takes no reports. Never throws for any input
   * but null.
   */
  public static Selection select(List<String> txtRecords) {
    List<String> candidates = new ArrayList<>();
    for (String txt : txtRecords) {
      if (beginsWithVersionAndDelimiter(txt)) {
        candidates.add(txt);
      }
    }
    if (candidates.isEmpty()) {
      return new NotFound("no TXT record begins with v=TLSRPTv1;");
    }
    if (candidates.size() > 1) {
      return new NotFound(
          candidates.size()
              + " TXT records begin with v=TLSRPTv1; exactly one is allowed (RFC 8460 §3)");
    }
    try {
      return new Found(parse(candidates.get(0)));
    } catch (IllegalArgumentException e) {
      return new NotFound(String.valueOf(e.getMessage()));
    }
  }

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
  public static TlsRptRecord parse(String text) {
    Objects.requireNonNull(text, "text");
    if (!text.startsWith(VERSION)) {
      throw invalid(text, "must start with v=TLSRPTv1");
    }
    List<URI> rua = null;
    List<URI> ignored = new ArrayList<>();
    Map<String, String> extensions = new LinkedHashMap<>();
    int pos = VERSION.length();
    int n = text.length();
    boolean fields = false;
    while (true) {
      int afterWsp = skipWsp(text, pos);
      if (afterWsp == n) {
        if (afterWsp > pos) {
          throw invalid(text, "trailing white space at offset " + pos);
        }
        break;
      }
      if (text.charAt(afterWsp) != ';') {
        throw invalid(text, "expected ';' at offset " + afterWsp);
      }
      pos = skipWsp(text, afterWsp + 1);
      if (pos == n) {
        break; // [field-delim]: a trailing ";" is allowed
      }
      int eq = pos;
      while (eq < n && text.charAt(eq) != '=' && text.charAt(eq) != ';') {
        eq++;
      }
      if (eq == n || text.charAt(eq) != '=') {
        throw invalid(text, "field without '=' at offset " + pos);
      }
      String name = text.substring(pos, eq);
      if (!isExtName(name)) {
        throw invalid(text, "invalid field name \"" + printable(name) + "\"");
      }
      // The value runs to the next ';' (no URI or extension value holds a raw one); white space
      // before that ';' belongs to the delimiter.
      int semi = text.indexOf(';', eq + 1);
      int valueEnd = semi < 0 ? n : semi;
      int trimmed = valueEnd;
      while (trimmed > eq + 1 && isWsp(text.charAt(trimmed - 1))) {
        trimmed--;
      }
      if (semi < 0 && trimmed < n) {
        throw invalid(text, "trailing white space at offset " + trimmed);
      }
      String value = text.substring(eq + 1, trimmed);
      if (name.equals("rua")) {
        List<URI> parsed = new ArrayList<>();
        List<URI> others = new ArrayList<>();
        parseRua(text, value, parsed, others);
        if (rua == null) {
          rua = parsed;
          ignored.addAll(others);
        }
      } else {
        if (!isExtValue(value)) {
          throw invalid(text, "invalid value for field \"" + printable(name) + "\"");
        }
        extensions.putIfAbsent(name, value);
      }
      fields = true;
      pos = trimmed;
    }
    if (!fields) {
      throw invalid(text, "a record needs at least one field after v=TLSRPTv1");
    }
    if (rua == null) {
      throw invalid(text, "the rua field is required");
    }
    if (rua.isEmpty()) {
      throw invalid(text, "rua names no mailto: or https: URI");
    }
    return new TlsRptRecord(rua, ignored, extensions);
  }

  /** {@code tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri)}. */
  private static void parseRua(String text, String value, List<URI> rua, List<URI> ignored) {
    if (value.isEmpty()) {
      throw invalid(text, "rua is empty");
    }
    for (String raw : value.split(",", -1)) {
      int from = skipWsp(raw, 0);
      int to = raw.length();
      while (to > from && isWsp(raw.charAt(to - 1))) {
        to--;
      }
      String token = raw.substring(from, to);
      if (token.isEmpty()) {
        throw invalid(text, "empty URI in rua");
      }
      URI uri = uri(text, token);
      String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
      if (scheme.equals("mailto")) {
        // RFC 6068 §2: the addresses may be before "?" or in "to=" header fields
        // (mailto:?to=a@example.com). A URI that names none is ignored on its own (§3: rua is a
        // list of URIs; one the sender cannot use leaves the others).
        (usableMailto(uri) && rua.size() < MAX_DESTINATIONS ? rua : ignored).add(uri);
      } else if (scheme.equals("https")) {
        boolean hasHost = uri.getHost() != null && !uri.getHost().isEmpty();
        (hasHost && rua.size() < MAX_DESTINATIONS ? rua : ignored).add(uri);
      } else {
        ignored.add(uri);
      }
    }
  }

  /**
   * Whether the mail channel can deliver to {@code uri}: the very check it makes ({@link
   * MailtoUri#recipients}), so that a URI it would refuse (a header field without {@code =}, an
   * invalid address, a fragment) is ignored here and takes no destination place.
   */
  private static boolean usableMailto(URI uri) {
    try {
      MailtoUri.recipients(uri);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private static URI uri(String text, String token) {
    for (int i = 0; i < token.length(); i++) {
      char c = token.charAt(i);
      if (c <= 0x20 || c >= 0x7f) {
        throw invalid(text, "URI with a character outside printable US-ASCII: " + printable(token));
      }
      if (c == '!') {
        throw invalid(text, "'!' must be percent-encoded in a rua URI (RFC 8460 §3)");
      }
      if (c == '%'
          && (i + 2 >= token.length()
              || !isHex(token.charAt(i + 1))
              || !isHex(token.charAt(i + 2)))) {
        throw invalid(text, "bad percent-encoding in " + printable(token));
      }
    }
    URI uri;
    try {
      uri = new URI(token);
    } catch (URISyntaxException e) {
      throw invalid(text, "not a URI: " + printable(token));
    }
    if (uri.getScheme() == null) {
      throw invalid(text, "URI without a scheme: " + printable(token));
    }
    return uri;
  }

  private static boolean isHex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }

  private static int skipWsp(String s, int pos) {
    while (pos < s.length() && isWsp(s.charAt(pos))) {
      pos++;
    }
    return pos;
  }

  private static boolean isWsp(char c) {
    return c == ' ' || c == '\t';
  }

  private static boolean isAlnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  }

  // tlsrpt-ext-name = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
  private static boolean isExtName(String name) {
    if (name.isEmpty() || name.length() > 32 || !isAlnum(name.charAt(0))) {
      return false;
    }
    for (int i = 1; i < name.length(); i++) {
      char c = name.charAt(i);
      if (!isAlnum(c) && c != '_' && c != '-' && c != '.') {
        return false;
      }
    }
    return true;
  }

  // tlsrpt-ext-value = 1*(%x21-3A / %x3C / %x3E-7E)
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

  /** Peer text for a message: control and non-ASCII characters escaped, at most 200 chars. */
  private static String printable(String s) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < s.length() && b.length() < 200; i++) {
      char c = s.charAt(i);
      if (c >= 0x20 && c < 0x7f) {
        b.append(c);
      } else {
        b.append(String.format(Locale.ROOT, "\\x%02x", (int) c & 0xff));
      }
    }
    return b.toString();
  }

  private static IllegalArgumentException invalid(String text, String why) {
    return new IllegalArgumentException(
        "invalid TLS-RPT record \"" + printable(text) + "\": " + why);
  }
}
