package io.mailtls.core;

/** How the peer of a delivery was authenticated (the report's {@code authentication}). */
public enum Authentication {
  /**
   * TLS, and the server certificate was verified: by DANE with DNSSEC-secure MX data, or by PKIX
   * with the MX host name (MTA-STS or a relay's name).
   */
  VERIFIED,
  /**
   * TLS, verified by DANE through TLSA records reached via an insecure MX answer: only the MX host
   * name was a reference identifier (Postfix calls such a peer "Trusted", RFC 7672 §2.2.1).
   */
  TRUSTED,
  /** TLS without authentication of the peer (opportunistic or enforced level). */
  ENCRYPTED,
  /** No TLS. */
  PLAINTEXT
}
