package io.mailtls.tlsrpt.internal;

import io.mailtls.core.EmailAddress;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The recipients of a {@code mailto:} URI (RFC 6068 §2): {@code mailto:a@x,b@y?to=c@z}. The
 * addresses before {@code ?} and those of {@code to=} header fields count, in order, without
 * duplicates; other header fields ({@code subject}, {@code body}, {@code cc}, …) are ignored, the
 * report mail has its own. Percent-encoding is decoded as UTF-8 (§2, §5); a comma that separates
 * addresses is a literal one.
 */
public final class MailtoUri {

  private MailtoUri() {}

  /**
   * The addresses of {@code uri}.
   *
   * @throws IllegalArgumentException naming what is wrong: another scheme, a fragment, bad
   *     percent-encoding, an invalid address, or no address at all
   */
  public static List<EmailAddress> recipients(URI uri) {
    if (uri.getScheme() == null || !uri.getScheme().toLowerCase(Locale.ROOT).equals("mailto")) {
      throw new IllegalArgumentException("not a mailto: URI: " + uri);
    }
    if (uri.getRawFragment() != null) {
      throw new IllegalArgumentException("a mailto: URI has no fragment (RFC 6068 §2): " + uri);
    }
    String raw = uri.getRawSchemeSpecificPart();
    if (raw == null) {
      throw new IllegalArgumentException("mailto: URI without an address: " + uri);
    }
    int q = raw.indexOf('?');
    String to = q < 0 ? raw : raw.substring(0, q);
    Set<EmailAddress> out = new LinkedHashSet<>();
    if (!to.isEmpty()) {
      for (String a : to.split(",", -1)) {
        out.add(address(decode(a), uri));
      }
    }
    if (q >= 0) {
      for (String hfield : raw.substring(q + 1).split("&", -1)) {
        int eq = hfield.indexOf('=');
        if (eq <= 0) {
          throw new IllegalArgumentException(
              "mailto: header field without name=value (RFC 6068 §2): \"" + hfield + "\"");
        }
        String name = decode(hfield.substring(0, eq)).toLowerCase(Locale.ROOT);
        String value = decode(hfield.substring(eq + 1));
        if (name.equals("to") && !value.isEmpty()) {
          for (String a : value.split(",", -1)) {
            out.add(address(a.strip(), uri));
          }
        }
      }
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException("mailto: URI without an address: " + uri);
    }
    return List.copyOf(new ArrayList<>(out));
  }

  private static EmailAddress address(String text, URI uri) {
    if (text.isEmpty()) {
      throw new IllegalArgumentException("empty address in " + uri);
    }
    try {
      return EmailAddress.parse(text);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("in " + uri + ": " + e.getMessage(), e);
    }
  }

  /** Percent-decoding to UTF-8 (RFC 3986 §2.1, RFC 6068 §2); malformed escapes are refused. */
  static String decode(String s) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '%') {
        if (i + 2 >= s.length()
            || Character.digit(s.charAt(i + 1), 16) < 0
            || Character.digit(s.charAt(i + 2), 16) < 0) {
          throw new IllegalArgumentException("bad percent-encoding in \"" + s + "\"");
        }
        b.write(Character.digit(s.charAt(i + 1), 16) * 16 + Character.digit(s.charAt(i + 2), 16));
        i += 2;
      } else if (c > 0x7e || c < 0x21) {
        throw new IllegalArgumentException("character not allowed in a mailto: URI: \"" + s + "\"");
      } else {
        b.write(c);
      }
    }
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(b.toByteArray()))
          .toString();
    } catch (CharacterCodingException e) {
      throw new IllegalArgumentException("percent-encoding that is not UTF-8 in \"" + s + "\"", e);
    }
  }
}
