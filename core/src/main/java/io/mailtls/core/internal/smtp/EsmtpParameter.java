package io.mailtls.core.internal.smtp;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * One ESMTP parameter of {@code MAIL FROM} or {@code RCPT TO}, {@code keyword[=value]} (RFC 5321
 * §4.1.2), such as {@code SIZE=1024}, {@code BODY=8BITMIME} or {@code SMTPUTF8}.
 *
 * <p>The keyword is kept in upper case ({@link Locale#ROOT}). A value is 1 or more characters from
 * {@code '!'} to {@code '~'} except {@code '='}, or non-ASCII characters, which only an SMTPUTF8
 * command may carry (RFC 6531 §3.3); {@link SmtpCommand} checks that.
 *
 * <p>Instances are immutable and thread-safe.
 *
 * @param keyword the keyword, upper case
 * @param value the value, absent for a keyword-only parameter such as {@code SMTPUTF8}
 */
public record EsmtpParameter(String keyword, Optional<String> value) {

  /** The {@code BODY=} values (RFC 6152 §2, RFC 3030 §3). */
  public enum Body {
    /** {@code BODY=7BIT}: the content is 7-bit ASCII (RFC 6152 §2). */
    SEVEN_BIT("7BIT"),
    /** {@code BODY=8BITMIME}: the content has octets above 127 (RFC 6152 §2). */
    EIGHT_BIT_MIME("8BITMIME"),
    /** {@code BODY=BINARYMIME}: binary MIME, only with BDAT (RFC 3030 §3). */
    BINARY_MIME("BINARYMIME");

    private final String token;

    Body(String token) {
      this.token = token;
    }
  }

  /** The {@code RET=} values of delivery status notifications (RFC 3461 §4.3). */
  public enum Ret {
    /** Return the full message in a failure DSN. */
    FULL,
    /** Return only the headers. */
    HDRS
  }

  /** The {@code NOTIFY=} conditions (RFC 3461 §4.1). */
  public enum Notify {
    /** Notify on successful delivery. */
    SUCCESS,
    /** Notify on failure. */
    FAILURE,
    /** Notify on delay. */
    DELAY
  }

  /** RFC 3461 §4.4: the ENVID value is at most 100 characters. */
  private static final int MAX_ENVID = 100;

  /** RFC 3461 §4.2: the ORCPT value is at most 500 characters. */
  private static final int MAX_ORCPT = 500;

  /**
   * Validates the keyword and value.
   *
   * @throws IllegalArgumentException quoting the value when the keyword or value is malformed
   */
  public EsmtpParameter {
    Objects.requireNonNull(keyword, "keyword");
    Objects.requireNonNull(value, "value");
    // RFC 5321 §4.1.2: esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
    if (keyword.isEmpty() || !isKeyword(keyword)) {
      throw new IllegalArgumentException(
          "invalid ESMTP parameter keyword (RFC 5321 §4.1.2): " + SmtpText.quote(keyword));
    }
    keyword = keyword.toUpperCase(Locale.ROOT);
    if (value.isPresent()) {
      checkValue(keyword, value.get());
    }
  }

  /** A parameter without a value, such as {@code SMTPUTF8} or {@code REQUIRETLS}. */
  public static EsmtpParameter of(String keyword) {
    return new EsmtpParameter(keyword, Optional.empty());
  }

  /** A parameter with a value, {@code keyword=value}. */
  public static EsmtpParameter of(String keyword, String value) {
    return new EsmtpParameter(keyword, Optional.of(value));
  }

  /** {@code SIZE=n}: the message size in octets (RFC 1870 §6). */
  public static EsmtpParameter size(long octets) {
    if (octets < 0) {
      throw new IllegalArgumentException("SIZE must not be negative: " + octets);
    }
    return of("SIZE", Long.toString(octets));
  }

  /** {@code BODY=7BIT}, {@code BODY=8BITMIME} or {@code BODY=BINARYMIME}. */
  public static EsmtpParameter body(Body body) {
    return of("BODY", body.token);
  }

  /** {@code SMTPUTF8}: the transaction uses UTF-8 addresses or headers (RFC 6531 §3.4). */
  public static EsmtpParameter smtpUtf8() {
    return of("SMTPUTF8");
  }

  /** {@code REQUIRETLS}: every hop must use TLS (RFC 8689). */
  public static EsmtpParameter requireTls() {
    return of("REQUIRETLS");
  }

  /** {@code RET=FULL} or {@code RET=HDRS} (RFC 3461 §4.3). */
  public static EsmtpParameter ret(Ret ret) {
    return of("RET", ret.name());
  }

  /**
   * {@code ENVID=xtext}: the envelope identifier, printable ASCII, xtext-encoded (RFC 3461 §4.4).
   *
   * @throws IllegalArgumentException when the identifier has non-printable or non-ASCII characters,
   *     or encodes to more than 100 characters
   */
  public static EsmtpParameter envid(String envelopeId) {
    Objects.requireNonNull(envelopeId, "envelopeId");
    for (int i = 0; i < envelopeId.length(); i++) {
      char c = envelopeId.charAt(i);
      // RFC 3461 §4.4: printable (graphic and white space) US-ASCII characters
      if (c < 0x20 || c > 0x7E) {
        throw new IllegalArgumentException(
            "ENVID must be printable US-ASCII (RFC 3461 §4.4): " + SmtpText.quote(envelopeId));
      }
    }
    String encoded = Xtext.encode(envelopeId);
    if (encoded.isEmpty() || encoded.length() > MAX_ENVID) {
      throw new IllegalArgumentException(
          "ENVID must encode to 1.."
              + MAX_ENVID
              + " characters (RFC 3461 §4.4): "
              + SmtpText.quote(envelopeId));
    }
    return of("ENVID", encoded);
  }

  /**
   * {@code NOTIFY=NEVER} for an empty set, else the conditions joined by commas (RFC 3461 §4.1).
   */
  public static EsmtpParameter notify(Set<Notify> conditions) {
    Objects.requireNonNull(conditions, "conditions");
    if (conditions.isEmpty()) {
      return of("NOTIFY", "NEVER");
    }
    return of(
        "NOTIFY",
        EnumSet.copyOf(conditions).stream().map(Enum::name).collect(Collectors.joining(",")));
  }

  /**
   * {@code ORCPT=rfc822;xtext}: the original recipient, an ASCII address (RFC 3461 §4.2).
   *
   * @throws IllegalArgumentException when the address is not ASCII or the value is over 500
   *     characters
   */
  public static EsmtpParameter orcpt(String originalRecipient) {
    Objects.requireNonNull(originalRecipient, "originalRecipient");
    SmtpText.checkArgument(originalRecipient, false, "ORCPT address");
    if (originalRecipient.isEmpty()) {
      throw new IllegalArgumentException("ORCPT address is empty");
    }
    String value = "rfc822;" + Xtext.encode(originalRecipient);
    if (value.length() > MAX_ORCPT) {
      throw new IllegalArgumentException(
          "ORCPT must be at most "
              + MAX_ORCPT
              + " characters (RFC 3461 §4.2): "
              + SmtpText.quote(originalRecipient));
    }
    return of("ORCPT", value);
  }

  /**
   * {@code ORCPT=utf-8;utf-8-addr-xtext}: the original recipient, an address that needs SMTPUTF8
   * (RFC 6533 §3, as Postfix sends it). Every character outside {@code '!'..'~'}, and {@code '+'},
   * {@code '='} and {@code '\'}, becomes {@code \x{HEX}}, its code point in upper-case hex without
   * leading zeros (at least two digits): the value is ASCII, usable as xtext.
   *
   * @throws IllegalArgumentException when the address is empty, has a control character or an
   *     unpaired surrogate, or the value is over 500 characters (RFC 3461 §4.2)
   */
  public static EsmtpParameter orcptUtf8(String originalRecipient) {
    Objects.requireNonNull(originalRecipient, "originalRecipient");
    SmtpText.checkArgument(originalRecipient, true, "ORCPT address");
    if (originalRecipient.isEmpty()) {
      throw new IllegalArgumentException("ORCPT address is empty");
    }
    StringBuilder value = new StringBuilder("utf-8;");
    for (int i = 0; i < originalRecipient.length(); ) {
      int cp = originalRecipient.codePointAt(i);
      if (Character.isSurrogate(originalRecipient.charAt(i)) && cp < 0x10000) {
        throw new IllegalArgumentException(
            "ORCPT address has an unpaired surrogate: " + SmtpText.quote(originalRecipient));
      }
      i += Character.charCount(cp);
      // RFC 6533 §3: QCHAR = %x21-2a / %x2c-3c / %x3e-5b / %x5d-7e; the rest EmbeddedUnicodeChar
      if (cp >= 0x21 && cp <= 0x7E && cp != '+' && cp != '=' && cp != '\\') {
        value.append((char) cp);
      } else {
        value.append("\\x{").append(String.format(Locale.ROOT, "%02X", cp)).append('}');
      }
    }
    if (value.length() > MAX_ORCPT) {
      throw new IllegalArgumentException(
          "ORCPT must be at most "
              + MAX_ORCPT
              + " characters (RFC 3461 §4.2): "
              + SmtpText.quote(originalRecipient));
    }
    return of("ORCPT", value.toString());
  }

  /** Whether the value has a non-ASCII character, which needs an SMTPUTF8 command. */
  boolean isAscii() {
    return value.map(SmtpText::isAscii).orElse(true);
  }

  /** {@code KEYWORD} or {@code KEYWORD=value}, as on the wire. */
  @Override
  public String toString() {
    return value.map(v -> keyword + "=" + v).orElse(keyword);
  }

  private static boolean isKeyword(String keyword) {
    for (int i = 0; i < keyword.length(); i++) {
      char c = keyword.charAt(i);
      boolean alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      if (!alnum && (i == 0 || c != '-')) {
        return false;
      }
    }
    return true;
  }

  private static void checkValue(String keyword, String value) {
    if (value.isEmpty()) {
      throw new IllegalArgumentException(
          "ESMTP parameter " + keyword + " has an empty value (RFC 5321 §4.1.2)");
    }
    SmtpText.checkArgument(value, true, "ESMTP parameter " + keyword);
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      // RFC 5321 §4.1.2: esmtp-value = 1*(%d33-60 / %d62-126); RFC 6531 §3.3 adds UTF8-non-ascii
      if (c == ' ' || c == '=') {
        throw new IllegalArgumentException(
            "ESMTP parameter "
                + keyword
                + " value contains '"
                + c
                + "' (RFC 5321 §4.1.2): "
                + SmtpText.quote(value));
      }
    }
  }
}
