package io.mailtls.core;

/**
 * How well a delivery was protected in transit, weakest first: what {@link DowngradeMemory}
 * remembers per recipient domain (docs/design.md §1, "Downgrade memory").
 */
public enum TransportSecurity {
  /** No TLS. */
  PLAINTEXT,
  /** TLS without authentication of the peer ({@link Authentication#ENCRYPTED}). */
  TLS,
  /**
   * TLS with the peer authenticated by DANE or PKIX ({@link Authentication#VERIFIED} or {@link
   * Authentication#TRUSTED}).
   */
  AUTHENTICATED_TLS;

  /** The security of a session that authenticated its peer as {@code authentication} says. */
  public static TransportSecurity of(Authentication authentication) {
    return switch (authentication) {
      case VERIFIED, TRUSTED -> AUTHENTICATED_TLS;
      case ENCRYPTED -> TLS;
      case PLAINTEXT -> PLAINTEXT;
    };
  }

  /** Whether this is at least as strong as {@code other}. */
  public boolean atLeast(TransportSecurity other) {
    return compareTo(other) >= 0;
  }
}
