package io.mailtls.core;

/**
 * What a {@link StarttlsProbe} concluded for one address under one {@link TlsRequirement}: what
 * delivery there would do, since the probe opens its session exactly as the transport does.
 */
public enum ProbeVerdict {
  /** TLS, and a usable TLSA record authenticated the server (RFC 7672 §3); DANE required it. */
  VERIFIED_DANE("verified-dane"),
  /**
   * TLS, and the server's chain and name pass PKIX for the host name (RFC 6125 §6.4, as MTA-STS
   * checks it, RFC 8461 §4.2): required by the requirement, or not asked for but passed.
   */
  VERIFIED_PKIX("verified-pkix"),
  /** TLS without an authenticated server, and the requirement does not ask for one. */
  ENCRYPTED("encrypted"),
  /** No TLS (STARTTLS not offered, or refused), and the requirement allows plaintext. */
  PLAINTEXT("plaintext"),
  /**
   * No session that delivery could use: unreachable, a refused greeting, a protocol error, a failed
   * handshake (for an opportunistic requirement delivery would then retry in plaintext on a fresh
   * connection), or short of what the requirement demands.
   */
  FAILED("failed");

  private final String token;

  ProbeVerdict(String token) {
    this.token = token;
  }

  /** The verdict as a lower-case token, e.g. {@code verified-dane}. */
  public String token() {
    return token;
  }
}
