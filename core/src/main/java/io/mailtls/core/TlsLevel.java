package io.mailtls.core;

import java.util.Locale;
import java.util.Objects;

/**
 * The sender's TLS level for a sending domain (docs/design.md §1). A recipient's MTA-STS {@code
 * enforce} policy or usable DANE records can raise it per MX host; nothing lowers it.
 */
public enum TlsLevel {
  /**
   * STARTTLS when offered, certificate not checked; without STARTTLS, or when it fails, deliver in
   * plaintext on a fresh connection (RFC 7435 opportunistic security; Postfix {@code may}).
   */
  OPPORTUNISTIC("opportunistic"),
  /** TLS 1.2 or newer is mandatory, certificate not checked (Postfix {@code encrypt}). */
  ENFORCED("enforced"),
  /**
   * The recipient domain must publish a valid MTA-STS policy in {@code enforce} mode (RFC 8461);
   * delivery only to matching MX hosts over PKIX-verified TLS, or DANE where usable.
   */
  STS_REQUIRED("sts-required"),
  /**
   * Every MX used must have DNSSEC-secure, usable TLSA records and pass DANE authentication (RFC
   * 7672 §6; Postfix {@code dane-only}).
   */
  DANE_REQUIRED("dane-required");

  private final String token;

  TlsLevel(String token) {
    this.token = token;
  }

  /** The configuration token, e.g. {@code sts-required}. */
  public String token() {
    return token;
  }

  /**
   * Parses a token ({@code opportunistic}, {@code enforced}, {@code sts-required}, {@code
   * dane-required}; case-insensitive, {@code _} accepted for {@code -}).
   *
   * @throws IllegalArgumentException naming the value when it is none of them
   */
  public static TlsLevel parse(String token) {
    Objects.requireNonNull(token, "token");
    String t = token.trim().toLowerCase(Locale.ROOT).replace('_', '-');
    for (TlsLevel level : values()) {
      if (level.token.equals(t)) {
        return level;
      }
    }
    throw new IllegalArgumentException(
        "unknown TLS level \""
            + token
            + "\" (expected opportunistic, enforced, sts-required or dane-required)");
  }

  @Override
  public String toString() {
    return token;
  }
}
