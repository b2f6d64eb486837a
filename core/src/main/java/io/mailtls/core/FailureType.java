package io.mailtls.core;

import java.util.Optional;

/**
 * Why a connection attempt, or a host, did not lead to delivery. The TLS and policy failures
 * mirror the RFC 8460 §4.3 result types (see {@link #tlsRptResultType()}).
 */
public enum FailureType {
  /** TCP connection refused, unreachable or timed out. */
  CONNECTION_FAILED(null),
  /** The server stopped answering within the RFC 5321 §4.5.3.2 time bound. */
  TIMEOUT(null),
  /** The connection closed before the transaction ended. */
  CONNECTION_LOST(null),
  /** The server's greeting was not 220. */
  GREETING_REJECTED(null),
  /** The server said 421: service closing (RFC 5321 §3.8). */
  SERVICE_CLOSING(null),
  /** The relay refused the SMTP AUTH credentials (RFC 4954 §6), or offered no usable mechanism. */
  AUTHENTICATION_FAILED(null),
  /** The server broke the protocol (malformed or oversized replies, injected data). */
  PROTOCOL_ERROR(null),
  /** TLS was required but the server did not offer STARTTLS, or refused it. */
  STARTTLS_NOT_SUPPORTED("starttls-not-supported"),
  /** The TLS handshake failed (no shared protocol of TLS 1.2 or newer, no shared cipher, abort). */
  TLS_HANDSHAKE_FAILED("validation-failure"),
  /** The certificate does not name the host (RFC 6125). */
  CERTIFICATE_HOST_MISMATCH("certificate-host-mismatch"),
  /** The certificate (or one in its chain) is outside its validity period. */
  CERTIFICATE_EXPIRED("certificate-expired"),
  /** The chain does not lead to a trusted root, or does not match any TLSA record. */
  CERTIFICATE_NOT_TRUSTED("certificate-not-trusted"),
  /** Another verification failure. */
  VALIDATION_FAILURE("validation-failure"),
  /** The TLSA records were unusable or malformed. */
  TLSA_INVALID("tlsa-invalid"),
  /** DNSSEC validation failed, or the DNSSEC state could not be determined. */
  DNSSEC_INVALID("dnssec-invalid"),
  /** DANE was required by the sender but the host had no usable TLSA records. */
  DANE_REQUIRED("dane-required"),
  /** The MTA-STS policy could not be fetched. */
  STS_POLICY_FETCH_ERROR("sts-policy-fetch-error"),
  /** The MTA-STS policy did not parse, or no MX matched it. */
  STS_POLICY_INVALID("sts-policy-invalid"),
  /** The MTA-STS policy host's certificate did not verify. */
  STS_WEBPKI_INVALID("sts-webpki-invalid"),
  /** A policy required something this configuration cannot do (e.g. no MTA-STS provider). */
  POLICY_UNAVAILABLE(null),
  /** DNS did not give a usable answer (SERVFAIL, timeout) for data delivery depends on. */
  DNS_FAILURE(null);

  private final String tlsRpt;

  FailureType(String tlsRpt) {
    this.tlsRpt = tlsRpt;
  }

  /** The RFC 8460 §4.3 result type, for TLS and policy failures. */
  public Optional<String> tlsRptResultType() {
    return Optional.ofNullable(tlsRpt);
  }
}
