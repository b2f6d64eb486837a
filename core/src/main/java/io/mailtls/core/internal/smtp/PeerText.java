package io.mailtls.core.internal.smtp;

import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * The one place where text a peer controls (reply text, certificate subjects, exception messages
 * that carry either) is made safe before it goes into an {@link io.mailtls.core.SmtpReply}, a
 * delivery report, an event or a log line.
 *
 * <p>Two forms:
 *
 * <ul>
 *   <li>{@link #quote} for a fragment known to come from the peer: in double quotes, every
 *       character outside printable US-ASCII escaped ({@code \r}, {@code \n}, {@code \t}, {@code
 *       \xHH}, {@code \\uHHHH}), and cut when long. Nothing the peer sends can end a line, forge a
 *       reply line, reorder the display or end the quotes.
 *   <li>{@link #clean} for whole messages that mix mailtls's own text with peer fragments: LF stays
 *       (it separates the lines of a local reply), HTAB and printable characters stay, every other
 *       control character (CR, NUL, ESC, DEL, C1), every bidirectional formatting character and
 *       every unpaired surrogate is escaped. So a local reply built from it never fails {@link
 *       io.mailtls.core.SmtpReply}'s own checks (RFC 5321 §2.3.8: no CR outside CRLF).
 * </ul>
 *
 * <p>Stateless and thread-safe.
 */
public final class PeerText {

  /** Longest quoted excerpt, in characters or octets. */
  public static final int MAX_QUOTED = 200;

  private PeerText() {}

  /**
   * The fragment in double quotes with every character outside printable US-ASCII escaped, and
   * {@code "} and {@code \} escaped too; cut after {@value #MAX_QUOTED} characters.
   */
  public static String quote(CharSequence text) {
    if (text == null) {
      return "null";
    }
    int shown = Math.min(text.length(), MAX_QUOTED);
    StringBuilder out = new StringBuilder(shown + 8).append('"');
    for (int i = 0; i < shown; i++) {
      char c = text.charAt(i);
      if (c >= 0x20 && c < 0x7F) {
        if (c == '"' || c == '\\') {
          out.append('\\');
        }
        out.append(c);
      } else {
        appendEscape(out, c);
      }
    }
    if (shown < text.length()) {
      out.append("...(").append(text.length()).append(" chars)");
    }
    return out.append('"').toString();
  }

  /**
   * Octets in double quotes: printable US-ASCII as is ({@code "} and {@code \} escaped), everything
   * else as {@code \r}, {@code \n}, {@code \t} or {@code \xHH}; cut after {@value #MAX_QUOTED}.
   */
  public static String quote(byte[] bytes, int offset, int length) {
    int shown = Math.min(length, MAX_QUOTED);
    StringBuilder out = new StringBuilder(shown + 8).append('"');
    for (int i = 0; i < shown; i++) {
      int b = bytes[offset + i] & 0xFF;
      if (b >= 0x20 && b < 0x7F) {
        if (b == '"' || b == '\\') {
          out.append('\\');
        }
        out.append((char) b);
      } else if (b < 0x20) {
        appendEscape(out, (char) b);
      } else {
        out.append(String.format(Locale.ROOT, "\\x%02X", b));
      }
    }
    if (shown < length) {
      out.append("...(").append(length).append(" octets)");
    }
    return out.append('"').toString();
  }

  /**
   * The text with LF kept as a line separator and every other character that could corrupt a reply
   * line, a log line or its display escaped: C0 controls but HTAB and LF, DEL, C1 controls,
   * bidirectional formatting characters and unpaired surrogates. Printable characters, non-ASCII
   * ones included, stay as they are. Unbounded: callers bound what they pass.
   */
  public static String clean(@Nullable CharSequence text) {
    if (text == null) {
      return "null";
    }
    int i = 0;
    int length = text.length();
    while (i < length && !needsEscape(text, i)) {
      i++;
    }
    if (i == length) {
      return text.toString();
    }
    StringBuilder out = new StringBuilder(length + 16).append(text, 0, i);
    for (; i < length; i++) {
      char c = text.charAt(i);
      if (needsEscape(text, i)) {
        appendEscape(out, c);
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }

  private static boolean needsEscape(CharSequence text, int i) {
    char c = text.charAt(i);
    if (c == '\n' || c == '\t') {
      return false;
    }
    if (c < 0x20 || c == 0x7F || (c >= 0x80 && c <= 0x9F) || isBidiControl(c)) {
      return true;
    }
    if (Character.isHighSurrogate(c)) {
      return i + 1 >= text.length() || !Character.isLowSurrogate(text.charAt(i + 1));
    }
    if (Character.isLowSurrogate(c)) {
      return i == 0 || !Character.isHighSurrogate(text.charAt(i - 1));
    }
    return false;
  }

  /** Unicode bidirectional formatting characters (UAX #9 §2), which reorder what is displayed. */
  private static boolean isBidiControl(char c) {
    return c == 0x061C
        || c == 0x200E
        || c == 0x200F
        || (c >= 0x202A && c <= 0x202E)
        || (c >= 0x2066 && c <= 0x2069);
  }

  private static void appendEscape(StringBuilder out, char c) {
    switch (c) {
      case '\r' -> out.append("\\r");
      case '\n' -> out.append("\\n");
      case '\t' -> out.append("\\t");
      default -> {
        if (c < 0x80) {
          out.append(String.format(Locale.ROOT, "\\x%02X", (int) c));
        } else {
          out.append(String.format(Locale.ROOT, "\\u%04X", (int) c));
        }
      }
    }
  }
}
