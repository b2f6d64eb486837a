package io.mailtls.core.internal.smtp;

/**
 * Character checks and printable quoting shared by the SMTP codec.
 *
 * <p>Stateless and thread-safe.
 */
final class SmtpText {

  /** Longest quoted excerpt in an error message, in characters or octets. */
  private static final int MAX_QUOTED = 120;

  private SmtpText() {}

  /**
   * Whether {@code c} is a control character: C0 (including CR, LF, NUL and TAB), DEL, or C1. RFC
   * 5321 §4.1.2 admits none of them in a command argument.
   */
  static boolean isControl(int c) {
    return c < 0x20 || c == 0x7F || (c >= 0x80 && c <= 0x9F);
  }

  /** Whether every character of {@code text} is US-ASCII. */
  static boolean isAscii(CharSequence text) {
    for (int i = 0; i < text.length(); i++) {
      if (text.charAt(i) > 0x7F) {
        return false;
      }
    }
    return true;
  }

  /**
   * Rejects control characters and unpaired surrogates in a command argument, and non-ASCII text
   * unless {@code utf8Allowed}.
   *
   * <p>This is the command-injection guard: a CR or LF in an argument would end the command line
   * and let the rest be read as another command (RFC 5321 §2.3.8: CR and LF occur only together, as
   * the line terminator).
   *
   * @throws IllegalArgumentException naming {@code what} and quoting the value
   */
  static void checkArgument(String value, boolean utf8Allowed, String what) {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (isControl(c)) {
        throw new IllegalArgumentException(
            what + " contains control character " + hex(c) + ": " + quote(value));
      }
      if (c > 0x7F && !utf8Allowed) {
        // RFC 6531 §3.3: non-ASCII in a path or parameter needs the SMTPUTF8 extension.
        throw new IllegalArgumentException(
            what
                + " contains non-ASCII characters, which need SMTPUTF8 (RFC 6531): "
                + quote(value));
      }
      if (Character.isHighSurrogate(c)
          && i + 1 < value.length()
          && Character.isLowSurrogate(value.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        throw new IllegalArgumentException(
            what + " contains an unpaired surrogate, not encodable as UTF-8: " + quote(value));
      }
    }
  }

  /** {@code "U+000D"} style name of a character. */
  static String hex(int c) {
    return String.format(java.util.Locale.ROOT, "U+%04X", c);
  }

  /**
   * The text in double quotes with control characters escaped ({@code \r}, {@code \n}, {@code \t},
   * {@code \xHH} or {@code \\uHHHH}) and long text cut, safe to put in a log line or an exception
   * message.
   */
  static String quote(CharSequence text) {
    StringBuilder out = new StringBuilder(Math.min(text.length(), MAX_QUOTED) + 8).append('"');
    int shown = Math.min(text.length(), MAX_QUOTED);
    for (int i = 0; i < shown; i++) {
      appendEscaped(out, text.charAt(i));
    }
    if (shown < text.length()) {
      out.append("...(").append(text.length()).append(" chars)");
    }
    return out.append('"').toString();
  }

  /** Octets the server sent, quoted: {@link PeerText#quote(byte[], int, int)}. */
  static String quote(byte[] bytes, int offset, int length) {
    return PeerText.quote(bytes, offset, length);
  }

  private static void appendEscaped(StringBuilder out, char c) {
    switch (c) {
      case '\r' -> out.append("\\r");
      case '\n' -> out.append("\\n");
      case '\t' -> out.append("\\t");
      case '"' -> out.append("\\\"");
      case '\\' -> out.append("\\\\");
      default -> {
        if (c < 0x20 || c == 0x7F) {
          out.append(String.format(java.util.Locale.ROOT, "\\x%02X", (int) c));
        } else if (isControl(c) || Character.isSurrogate(c)) {
          out.append(String.format(java.util.Locale.ROOT, "\\u%04X", (int) c));
        } else {
          out.append(c);
        }
      }
    }
  }
}
