package io.mailtls.core;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A mailbox, {@code local-part@domain} (RFC 5321 §4.1.2), with the domain normalised as a {@link
 * NextHop}. Immutable.
 *
 * <p>The local part is kept as given (it is case-sensitive, RFC 5321 §2.4); it may be a dot-atom or
 * a quoted string, and may hold UTF-8, which then needs SMTPUTF8 (RFC 6531 §3.3). A U-label domain
 * is sent as its A-label, which needs no SMTPUTF8 (RFC 6531 §3.2). A local part with a C1 control
 * character (U+0080 to U+009F) or an unpaired surrogate is refused: neither can go into {@code MAIL
 * FROM} or {@code RCPT TO} (RFC 6531 §3.3 adds UTF-8 characters, RFC 6532 §3.1, and an unpaired
 * surrogate has no UTF-8 form; RFC 5198 §2 keeps control characters out of text on the wire).
 */
public record EmailAddress(String localPart, NextHop domain) {

  private static final int MAX_LOCAL_PART = 64; // RFC 5321 §4.5.3.1.1
  private static final int MAX_PATH = 256; // RFC 5321 §4.5.3.1.3, with the angle brackets

  public EmailAddress {
    Objects.requireNonNull(localPart, "localPart");
    Objects.requireNonNull(domain, "domain");
    checkLocalPart(localPart);
  }

  /**
   * Parses {@code local@domain}; the domain may be an address literal.
   *
   * @throws IllegalArgumentException naming the value when it is not a valid mailbox
   */
  public static EmailAddress parse(String address) {
    Objects.requireNonNull(address, "address");
    int at = address.lastIndexOf('@');
    if (at <= 0 || at == address.length() - 1) {
      throw new IllegalArgumentException("not a mailbox (local@domain): \"" + address + "\"");
    }
    EmailAddress parsed;
    try {
      parsed = new EmailAddress(address.substring(0, at), NextHop.parse(address.substring(at + 1)));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "invalid mailbox \"" + address + "\": " + e.getMessage(), e);
    }
    if (parsed.toPath().getBytes(StandardCharsets.UTF_8).length > MAX_PATH) {
      throw new IllegalArgumentException(
          "mailbox longer than " + MAX_PATH + " octets: \"" + address + "\"");
    }
    return parsed;
  }

  private static void checkLocalPart(String local) {
    int octets = local.getBytes(StandardCharsets.UTF_8).length;
    if (local.isEmpty() || octets > MAX_LOCAL_PART) {
      throw new IllegalArgumentException(
          "local part must be 1.." + MAX_LOCAL_PART + " octets: \"" + local + "\"");
    }
    checkNonAscii(local);
    if (local.startsWith("\"")) {
      checkQuoted(local);
      return;
    }
    // RFC 5321 §4.1.2 Dot-string: atoms separated by single dots; RFC 6531 §3.3 adds UTF-8.
    if (local.startsWith(".") || local.endsWith(".") || local.contains("..")) {
      throw new IllegalArgumentException("invalid dots in local part: \"" + local + "\"");
    }
    for (int i = 0; i < local.length(); i++) {
      char c = local.charAt(i);
      if (!(c == '.' || isAtext(c) || c >= 0x80)) {
        throw new IllegalArgumentException("invalid character in local part: \"" + local + "\"");
      }
    }
  }

  /**
   * Refuses what the transport could not put on the wire under SMTPUTF8 either: C1 controls and
   * unpaired surrogates (RFC 6531 §3.3, RFC 6532 §3.1). Checked here, when the address is made,
   * rather than in the SMTP session, where it failed the whole transaction, every recipient.
   */
  private static void checkNonAscii(String local) {
    for (int i = 0; i < local.length(); i++) {
      char c = local.charAt(i);
      if (c < 0x80) {
        continue;
      }
      if (c <= 0x9F) {
        throw new IllegalArgumentException(
            "control character " + codePoint(c) + " in local part (RFC 5198 §2)");
      }
      if (Character.isHighSurrogate(c)
          && i + 1 < local.length()
          && Character.isLowSurrogate(local.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        throw new IllegalArgumentException(
            "unpaired surrogate "
                + codePoint(c)
                + " in local part, not encodable as UTF-8 (RFC 6532 §3.1)");
      }
    }
  }

  private static String codePoint(char c) {
    return String.format(Locale.ROOT, "U+%04X", (int) c);
  }

  private static void checkQuoted(String local) {
    if (local.length() < 2 || !local.endsWith("\"")) {
      throw new IllegalArgumentException("unterminated quoted local part: \"" + local + "\"");
    }
    if (local.length() == 2) {
      // RFC 5321 §4.1.2's grammar allows "", but no mailbox is named so, and the SMTP path check
      // refuses it: refused here, not after a connection was opened for the whole transaction.
      throw new IllegalArgumentException("empty quoted local part: \"" + local + "\"");
    }
    for (int i = 1; i < local.length() - 1; i++) {
      char c = local.charAt(i);
      if (c == '\\') {
        i++;
        if (i >= local.length() - 1 || local.charAt(i) < 0x20 || local.charAt(i) == 0x7f) {
          throw new IllegalArgumentException("invalid quoted pair in: \"" + local + "\"");
        }
      } else if (c == '"' || (c < 0x20) || c == 0x7f) {
        throw new IllegalArgumentException(
            "invalid character in quoted local part: \"" + local + "\"");
      }
    }
  }

  private static boolean isAtext(char c) {
    return (c >= 'a' && c <= 'z')
        || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9')
        || "!#$%&'*+-/=?^_`{|}~".indexOf(c) >= 0;
  }

  /** Whether sending this address needs the SMTPUTF8 extension (non-ASCII local part). */
  public boolean needsSmtpUtf8() {
    for (int i = 0; i < localPart.length(); i++) {
      if (localPart.charAt(i) >= 0x80) {
        return true;
      }
    }
    return false;
  }

  /** The address as an SMTP path without brackets: the local part and the A-label domain. */
  public String toPath() {
    return localPart + "@" + domain;
  }

  // Written out rather than the record's generated pair: recipients key the maps of every send,
  // and the generated ones go through method handles.
  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof EmailAddress a && localPart.equals(a.localPart) && domain.equals(a.domain);
  }

  @Override
  public int hashCode() {
    return localPart.hashCode() * 31 + domain.hashCode();
  }

  @Override
  public String toString() {
    return toPath();
  }
}
