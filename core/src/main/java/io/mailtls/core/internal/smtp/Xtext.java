package io.mailtls.core.internal.smtp;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * The xtext encoding of ESMTP parameter values (RFC 3461 §4), used by {@code ENVID=}, {@code
 * ORCPT=} and {@code AUTH=}.
 *
 * <p>{@code xtext = *( xchar / hexchar )}: {@code xchar} is any ASCII character from {@code '!'}
 * (33) to {@code '~'} (126) except {@code '+'} and {@code '='}; {@code hexchar} is {@code '+'}
 * followed by two upper-case hexadecimal digits giving one octet.
 *
 * <p>Stateless and thread-safe.
 */
public final class Xtext {

  private static final char[] HEX = "0123456789ABCDEF".toCharArray();

  private Xtext() {}

  /**
   * Encodes text: characters outside {@code '!'..'~'} and {@code '+'}, {@code '='} become {@code
   * +XX}; non-ASCII characters are encoded as their UTF-8 octets, each as {@code +XX}.
   */
  public static String encode(String text) {
    Objects.requireNonNull(text, "text");
    byte[] octets = text.getBytes(StandardCharsets.UTF_8);
    StringBuilder out = new StringBuilder(octets.length + 8);
    for (byte octet : octets) {
      int b = octet & 0xFF;
      // RFC 3461 §4: xchar = "!" (33) .. "~" (126) except "+" and "="
      if (b >= 33 && b <= 126 && b != '+' && b != '=') {
        out.append((char) b);
      } else {
        out.append('+').append(HEX[b >> 4]).append(HEX[b & 0xF]);
      }
    }
    return out.toString();
  }

  /**
   * Decodes xtext; {@code +XX} octets are read as UTF-8.
   *
   * @throws IllegalArgumentException quoting the value when it is not valid xtext
   */
  public static String decode(String xtext) {
    Objects.requireNonNull(xtext, "xtext");
    ByteArrayOutputStream out = new ByteArrayOutputStream(xtext.length());
    for (int i = 0; i < xtext.length(); i++) {
      char c = xtext.charAt(i);
      if (c == '+') {
        int high = i + 1 < xtext.length() ? hexValue(xtext.charAt(i + 1)) : -1;
        int low = i + 2 < xtext.length() ? hexValue(xtext.charAt(i + 2)) : -1;
        if (high < 0 || low < 0) {
          throw new IllegalArgumentException(
              "xtext '+' needs two upper-case hex digits (RFC 3461 §4): " + SmtpText.quote(xtext));
        }
        out.write(high << 4 | low);
        i += 2;
      } else if (c >= 33 && c <= 126 && c != '=') {
        out.write(c);
      } else {
        throw new IllegalArgumentException(
            "invalid xtext character "
                + SmtpText.hex(c)
                + " (RFC 3461 §4): "
                + SmtpText.quote(xtext));
      }
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  /** The value of an upper-case hex digit, or -1 (RFC 3461 §4 allows upper case only). */
  private static int hexValue(char c) {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'A' && c <= 'F') {
      return c - 'A' + 10;
    }
    return -1;
  }
}
