package io.mailtls.core;

import java.util.Objects;
import java.util.Optional;

/**
 * An enhanced mail system status code, {@code class.subject.detail} (RFC 3463 §2), as servers send
 * it in replies when they advertise ENHANCEDSTATUSCODES (RFC 2034) and as delivery reports carry
 * it.
 *
 * <p>The class is 2 (success), 4 (persistent transient failure) or 5 (permanent failure); subject
 * and detail are 0 to 999 (RFC 3463 §2: {@code 1*3digit}). Two codes are equal when their numbers
 * are, so {@code 5.01.1} parses to the same value as {@code 5.1.1}; {@link #toString()} gives the
 * canonical form without leading zeros.
 *
 * <p>Instances are immutable and thread-safe.
 *
 * @param statusClass 2, 4 or 5
 * @param subject 0 to 999
 * @param detail 0 to 999
 */
public record EnhancedStatus(int statusClass, int subject, int detail) {

  /** {@code 4.4.1}: no answer from host (RFC 3463 §3.5): connect failed or timed out. */
  public static final EnhancedStatus NO_ANSWER_FROM_HOST = new EnhancedStatus(4, 4, 1);

  /** {@code 4.4.2}: bad connection (RFC 3463 §3.5): the connection dropped mid-session. */
  public static final EnhancedStatus BAD_CONNECTION = new EnhancedStatus(4, 4, 2);

  /** {@code 4.4.3}: directory server failure (RFC 3463 §3.5): DNS failed, try later. */
  public static final EnhancedStatus DIRECTORY_SERVER_FAILURE = new EnhancedStatus(4, 4, 3);

  /** {@code 5.4.4}: unable to route (RFC 3463 §3.5): the domain has no usable mail host. */
  public static final EnhancedStatus UNABLE_TO_ROUTE = new EnhancedStatus(5, 4, 4);

  /** {@code 4.5.0}: other or undefined protocol status (RFC 3463 §3.6): the server misbehaved. */
  public static final EnhancedStatus PROTOCOL_ERROR = new EnhancedStatus(4, 5, 0);

  /** {@code 5.1.10}: the recipient's domain publishes a null MX (RFC 7505). */
  public static final EnhancedStatus NULL_MX = new EnhancedStatus(5, 1, 10);

  /** {@code 5.3.4}: message too big for the system (RFC 3463 §3.4), e.g. over the SIZE limit. */
  public static final EnhancedStatus MESSAGE_TOO_BIG = new EnhancedStatus(5, 3, 4);

  /**
   * {@code 5.6.3}: conversion required but not supported (RFC 3463 §3.7): 8-bit content for a
   * server without 8BITMIME (RFC 6152).
   */
  public static final EnhancedStatus CONVERSION_NOT_SUPPORTED = new EnhancedStatus(5, 6, 3);

  /**
   * {@code 5.6.7}: non-ASCII addresses not permitted for that sender or recipient (RFC 6531 §3.5,
   * in the RFC 5248 registry): no server offered SMTPUTF8.
   */
  public static final EnhancedStatus NON_ASCII_ADDRESS_NOT_PERMITTED = new EnhancedStatus(5, 6, 7);

  /**
   * {@code 5.6.9}: UTF-8 header message cannot be transferred to one or more recipients (RFC 6531
   * §3.5, §4.2): header fields carry UTF-8 (RFC 6532), and no server offered SMTPUTF8.
   */
  public static final EnhancedStatus UTF8_HEADERS_NOT_TRANSFERABLE = new EnhancedStatus(5, 6, 9);

  /**
   * {@code 4.7.4}: security features not supported (RFC 3463 §3.8): TLS is required but the server
   * does not offer STARTTLS.
   */
  public static final EnhancedStatus SECURITY_FEATURES_NOT_SUPPORTED = new EnhancedStatus(4, 7, 4);

  /**
   * {@code 4.7.5}: cryptographic failure (RFC 3463 §3.8): the TLS handshake or the peer's
   * authentication (DANE, PKIX) failed.
   */
  public static final EnhancedStatus CRYPTOGRAPHIC_FAILURE = new EnhancedStatus(4, 7, 5);

  /** {@code 5.7.30}: REQUIRETLS support required (RFC 8689). */
  public static final EnhancedStatus REQUIRETLS_NEEDED = new EnhancedStatus(5, 7, 30);

  /** The longest text form, {@code "5.999.999"} with leading zeros allowed: 1 + 1 + 3 + 1 + 3. */
  private static final int MAX_TEXT_LENGTH = 9;

  /**
   * Validates the three numbers.
   *
   * @throws IllegalArgumentException naming the value when a number is out of range
   */
  public EnhancedStatus {
    // RFC 3463 §2: class = "2" / "4" / "5"; subject and detail = 1*3digit.
    if (statusClass != 2 && statusClass != 4 && statusClass != 5) {
      throw new IllegalArgumentException("enhanced status class must be 2, 4 or 5: " + statusClass);
    }
    if (subject < 0 || subject > 999) {
      throw new IllegalArgumentException("enhanced status subject must be 0..999: " + subject);
    }
    if (detail < 0 || detail > 999) {
      throw new IllegalArgumentException("enhanced status detail must be 0..999: " + detail);
    }
  }

  /**
   * Parses {@code class.subject.detail}, e.g. {@code "5.1.1"}.
   *
   * @throws IllegalArgumentException quoting the text when it is not an enhanced status code
   */
  public static EnhancedStatus parse(String text) {
    Objects.requireNonNull(text, "text");
    return tryParse(text)
        .orElseThrow(
            () ->
                new IllegalArgumentException(
                    "not an enhanced status code (RFC 3463 §2 class.subject.detail): \""
                        + text
                        + "\""));
  }

  /**
   * Parses {@code class.subject.detail}, or returns empty when the text is anything else (with no
   * surrounding space, sign or non-ASCII digit accepted).
   */
  public static Optional<EnhancedStatus> tryParse(String text) {
    Objects.requireNonNull(text, "text");
    int length = text.length();
    if (length < 5 || length > MAX_TEXT_LENGTH) {
      return Optional.empty();
    }
    // RFC 3463 §2: status-code = class "." subject "." detail
    char first = text.charAt(0);
    if ((first != '2' && first != '4' && first != '5') || text.charAt(1) != '.') {
      return Optional.empty();
    }
    int secondDot = text.indexOf('.', 2);
    if (secondDot < 0) {
      return Optional.empty();
    }
    int subject = digits(text, 2, secondDot);
    int detail = digits(text, secondDot + 1, length);
    if (subject < 0 || detail < 0) {
      return Optional.empty();
    }
    return Optional.of(new EnhancedStatus(first - '0', subject, detail));
  }

  /** The value of 1 to 3 ASCII digits in {@code text[from, to)}, or -1. */
  private static int digits(String text, int from, int to) {
    int count = to - from;
    if (count < 1 || count > 3) {
      return -1;
    }
    int value = 0;
    for (int i = from; i < to; i++) {
      char c = text.charAt(i);
      // Not Character.isDigit: it accepts non-ASCII digits such as U+0665.
      if (c < '0' || c > '9') {
        return -1;
      }
      value = value * 10 + (c - '0');
    }
    return value;
  }

  /** Whether the class is 2 (success, RFC 3463 §2). */
  public boolean isSuccess() {
    return statusClass == 2;
  }

  /** Whether the class is 4 (persistent transient failure, RFC 3463 §2). */
  public boolean isTransientFailure() {
    return statusClass == 4;
  }

  /** Whether the class is 5 (permanent failure, RFC 3463 §2). */
  public boolean isPermanentFailure() {
    return statusClass == 5;
  }

  /**
   * The same subject and detail with another class, e.g. the transient {@code 4.4.4} from {@link
   * #UNABLE_TO_ROUTE}.
   *
   * @throws IllegalArgumentException when the class is not 2, 4 or 5
   */
  public EnhancedStatus withStatusClass(int newClass) {
    return newClass == statusClass ? this : new EnhancedStatus(newClass, subject, detail);
  }

  /** The canonical text form, e.g. {@code "5.1.1"}. */
  @Override
  public String toString() {
    return statusClass + "." + subject + "." + detail;
  }
}
