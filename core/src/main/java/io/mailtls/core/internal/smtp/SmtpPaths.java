package io.mailtls.core.internal.smtp;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.Locale;
import java.util.Objects;

/**
 * Checks and helpers for SMTP paths (mailboxes in {@code MAIL FROM} and {@code RCPT TO}) and for
 * the client's EHLO name.
 *
 * <p>The checks are deliberately lenient about what real senders and recipients use (dots anywhere
 * in the local part, underscores in domains, long local parts: the server decides) and strict about
 * what could break the command line or the angle brackets around a path: controls, unquoted spaces,
 * brackets, and non-ASCII text without SMTPUTF8.
 *
 * <p>Stateless and thread-safe.
 */
public final class SmtpPaths {

  /** RFC 5321 §4.5.3.1.2: a domain is at most 255 octets. */
  private static final int MAX_DOMAIN = 255;

  private SmtpPaths() {}

  /**
   * Whether sending to or from this address needs the SMTPUTF8 extension: its local part or domain
   * contains a non-ASCII character (RFC 6531 §3.3).
   */
  public static boolean needsSmtpUtf8(String address) {
    Objects.requireNonNull(address, "address");
    return !SmtpText.isAscii(address);
  }

  /**
   * The address literal for an IP address, {@code [192.0.2.1]} or {@code
   * [IPv6:2001:db8:0:0:0:0:0:1]} (RFC 5321 §4.1.3), usable as the EHLO argument when the client has
   * no domain name.
   */
  public static String addressLiteral(InetAddress address) {
    Objects.requireNonNull(address, "address");
    if (address instanceof Inet4Address) {
      return "[" + address.getHostAddress() + "]";
    }
    if (address instanceof Inet6Address) {
      String text = address.getHostAddress();
      int scope = text.indexOf('%');
      // RFC 5321 §4.1.3: IPv6-address-literal = "IPv6:" IPv6-addr (no zone index).
      return "[IPv6:" + (scope < 0 ? text : text.substring(0, scope)) + "]";
    }
    throw new IllegalArgumentException("not an IPv4 or IPv6 address: " + address);
  }

  /**
   * Checks the EHLO/HELO argument: a domain in ASCII (A-labels) or an address literal (RFC 5321
   * §4.1.1.1, §4.1.3).
   *
   * @throws IllegalArgumentException quoting the value when it is neither
   */
  static void checkClientName(String name) {
    Objects.requireNonNull(name, "name");
    SmtpText.checkArgument(name, false, "EHLO name");
    if (name.isEmpty() || name.length() > MAX_DOMAIN) {
      throw new IllegalArgumentException(
          "EHLO name must be 1.." + MAX_DOMAIN + " characters: " + SmtpText.quote(name));
    }
    if (name.charAt(0) == '[') {
      checkAddressLiteral(name, "EHLO name");
      return;
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      // RFC 5321 §4.1.2: Domain = sub-domain *("." sub-domain); Let-dig and '-' only.
      if (!isLetterOrDigit(c) && c != '-' && c != '.') {
        throw new IllegalArgumentException(
            "EHLO name is not a domain (RFC 5321 §4.1.2): " + SmtpText.quote(name));
      }
    }
    if (name.startsWith(".") || name.endsWith(".") || name.contains("..")) {
      throw new IllegalArgumentException(
          "EHLO name has an empty label (RFC 5321 §4.1.2): " + SmtpText.quote(name));
    }
  }

  /**
   * Checks a mailbox for {@code MAIL FROM} or {@code RCPT TO}, given without angle brackets.
   *
   * @param path the mailbox, {@code local-part "@" domain}
   * @param utf8Allowed whether non-ASCII is allowed (SMTPUTF8 in use, RFC 6531 §3.3)
   * @param postmasterAllowed whether the bare {@code postmaster} of RFC 5321 §4.1.1.3 is allowed
   * @throws IllegalArgumentException quoting the value when it is not a usable mailbox
   */
  static void checkMailbox(
      String path, boolean utf8Allowed, boolean postmasterAllowed, String what) {
    Objects.requireNonNull(path, what);
    SmtpText.checkArgument(path, utf8Allowed, what);
    if (path.isEmpty()) {
      throw new IllegalArgumentException(what + " is empty");
    }
    // RFC 5321 §4.1.1.3: RCPT TO:<Postmaster> without a domain must be accepted by servers.
    // ASCII only: equalsIgnoreCase would also match "poſtmaster" (U+017F upper-cases to 'S').
    if (postmasterAllowed
        && SmtpText.isAscii(path)
        && path.toLowerCase(Locale.ROOT).equals("postmaster")) {
      return;
    }
    int at = localPartEnd(path, what);
    if (at >= path.length() || path.charAt(at) != '@') {
      throw new IllegalArgumentException(
          what + " must be local-part@domain (RFC 5321 §4.1.2): " + SmtpText.quote(path));
    }
    String domain = path.substring(at + 1);
    if (domain.isEmpty() || domain.length() > MAX_DOMAIN) {
      throw new IllegalArgumentException(
          what + " needs a domain of 1.." + MAX_DOMAIN + " characters: " + SmtpText.quote(path));
    }
    if (domain.charAt(0) == '[') {
      checkAddressLiteral(domain, what);
      return;
    }
    for (int i = 0; i < domain.length(); i++) {
      char c = domain.charAt(i);
      // RFC 5321 §4.1.2 Domain, with '_' tolerated and U-labels under SMTPUTF8 (RFC 6531 §3.3).
      if (!isLetterOrDigit(c) && c != '-' && c != '.' && c != '_' && c <= 0x7F) {
        throw new IllegalArgumentException(
            what + " has an invalid domain character '" + c + "': " + SmtpText.quote(path));
      }
    }
  }

  /**
   * The index just past the local part: past the closing quote of a Quoted-string, or at the first
   * {@code '@'} of a Dot-string (RFC 5321 §4.1.2).
   */
  private static int localPartEnd(String path, String what) {
    if (path.charAt(0) == '"') {
      // RFC 5321 §4.1.2: Quoted-string = DQUOTE *QcontentSMTP DQUOTE; quoted-pairSMTP = "\"
      // %d32-126
      for (int i = 1; i < path.length(); i++) {
        char c = path.charAt(i);
        if (c == '\\') {
          i++;
        } else if (c == '"') {
          if (i == 1) {
            throw new IllegalArgumentException(
                what + " has an empty quoted local part: " + SmtpText.quote(path));
          }
          return i + 1;
        }
      }
      throw new IllegalArgumentException(
          what + " has an unterminated quoted local part: " + SmtpText.quote(path));
    }
    int at = path.indexOf('@');
    int end = at < 0 ? path.length() : at;
    if (end == 0) {
      throw new IllegalArgumentException(
          what + " has an empty local part: " + SmtpText.quote(path));
    }
    for (int i = 0; i < end; i++) {
      char c = path.charAt(i);
      // RFC 5321 §4.1.2: Dot-string = Atom *("." Atom), atext of RFC 5322 §3.2.3; dots tolerated
      // anywhere because such addresses exist. RFC 6531 §3.3 adds UTF8-non-ascii.
      if (c <= 0x7F && !isAtext(c) && c != '.') {
        throw new IllegalArgumentException(
            what + " has '" + c + "' in an unquoted local part: " + SmtpText.quote(path));
      }
    }
    return end;
  }

  private static void checkAddressLiteral(String literal, String what) {
    // RFC 5321 §4.1.3: address-literal = "[" ( IPv4 / IPv6 / General-address-literal ) "]";
    // dcontent = %d33-90 / %d94-126 (no '[', '\' or ']' inside).
    if (literal.length() < 3 || literal.charAt(literal.length() - 1) != ']') {
      throw new IllegalArgumentException(
          what + " has an unterminated address literal: " + SmtpText.quote(literal));
    }
    for (int i = 1; i < literal.length() - 1; i++) {
      char c = literal.charAt(i);
      if (c < 33 || c > 126 || c == '[' || c == '\\' || c == ']') {
        throw new IllegalArgumentException(
            what + " has an invalid address literal: " + SmtpText.quote(literal));
      }
    }
  }

  private static boolean isLetterOrDigit(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  }

  /** RFC 5322 §3.2.3 atext: ALPHA / DIGIT / {@code !#$%&'*+-/=?^_`{|}~}. */
  private static boolean isAtext(char c) {
    return isLetterOrDigit(c) || "!#$%&'*+-/=?^_`{|}~".indexOf(c) >= 0;
  }
}
