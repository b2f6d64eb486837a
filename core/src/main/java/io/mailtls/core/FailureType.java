package io.mailtls.core;

import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Why a connection attempt, or a host, did not lead to delivery. The TLS and policy failures mirror
 * the RFC 8460 §4.3 result types (see {@link #tlsRptResultType()}).
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
  /**
   * DNSSEC data that decides security could not be had: the MX answer failed validation (bogus), or
   * the TLSA lookup failed in any way (bogus, SERVFAIL, timeout: RFC 7672 §2.2 makes the host
   * unusable, and RFC 8460 §4.3.1 reads "no valid records were returned"). A SERVFAIL or timeout on
   * the MX lookup is {@link #DNS_FAILURE}: it stops delivery whatever the TLS policy.
   */
  DNSSEC_INVALID("dnssec-invalid"),
  /** DANE was required by the sender but the host had no usable TLSA records. */
  DANE_REQUIRED("dane-required"),
  /** The MTA-STS policy could not be fetched. */
  STS_POLICY_FETCH_ERROR("sts-policy-fetch-error"),
  /** The MTA-STS policy did not parse, or no MX matched it. */
  STS_POLICY_INVALID("sts-policy-invalid"),
  /** The MTA-STS policy host's certificate did not verify. */
  STS_WEBPKI_INVALID("sts-webpki-invalid"),
  /**
   * The sender's level is {@code sts-required} and the recipient domain has no MTA-STS policy in
   * {@code enforce} mode (no record, an unusable record, a policy in mode {@code testing} or {@code
   * none}, or an address literal). The sender's own requirement was not met; the recipient's policy
   * did not fail, so there is no RFC 8460 result type (a report would tell a domain with a correct
   * {@code testing} policy that it is invalid).
   */
  STS_REQUIRED(null),
  /**
   * The message asked for REQUIRETLS (RFC 8689) and this hop cannot meet it: no MX host reached
   * through a DNSSEC-secure MX answer or matching an MTA-STS policy and authenticated by DANE or
   * PKIX (RFC 8689 §4.2.1), or the server did not advertise REQUIRETLS after STARTTLS. The message
   * was not sent (RFC 8689 §4.2.1: 5.7.30). A requirement of the message's sender, not a failure of
   * a recipient policy, so there is no RFC 8460 result type.
   */
  REQUIRETLS_UNAVAILABLE(null),
  /**
   * The message needs SMTPUTF8 for every recipient left, and the server did not offer it: its
   * header fields carry UTF-8 (RFC 6532), its sender address is not ASCII, or no recipient address
   * left is (RFC 6531 §3.3). RFC 6531 §3.2 forbids sending it there, so not even {@code MAIL FROM}
   * was sent, and the next MX host was tried. When no host offered it, the message was returned
   * (RFC 6531 §3.5: 550 5.6.9 for header fields, 550 5.6.7 for the sender's address, 553 5.6.7 for
   * a recipient's). A server without SMTPUTF8 that could take some recipients (ASCII addresses) is
   * no failure: those are delivered, and the attempt's detail tells of the others, left for the
   * next host. A limit of the server, not a TLS or policy failure: no RFC 8460 result type.
   */
  SMTPUTF8_UNAVAILABLE(null),
  /**
   * The sender's own TLS level could not be looked up (the application's {@link SenderPolicy}
   * lookup failed): the message is deferred, never sent at a default level.
   */
  SENDER_POLICY_UNAVAILABLE(null),
  /** A policy required something this configuration cannot do (e.g. no MTA-STS provider). */
  POLICY_UNAVAILABLE(null),
  /** DNS did not give a usable answer (SERVFAIL, timeout) for data delivery depends on. */
  DNS_FAILURE(null),
  /**
   * Downgrade memory ({@link DowngradeProtection}): the delivery would have been weaker than one
   * this domain achieved within the configured period (plaintext after TLS, or an unauthenticated
   * session after authenticated TLS), so it was deferred, 451 4.7.4, before the message was sent.
   * The sender's own memory, not a recipient policy: no RFC 8460 result type.
   */
  DOWNGRADE_DETECTED(null),

  /**
   * The operator's entry for the destination ({@link DestinationPolicyMap}) cannot be met for a
   * host, e.g. {@code authenticated} with neither usable DANE nor an MTA-STS {@code enforce}
   * policy. The sender's side decided, not the recipient's policy: no RFC 8460 result type.
   */
  DESTINATION_POLICY(null),

  /**
   * The sending side could not go on before any connection was made: the message content could not
   * be read, or no delivery slot or thread was given. Nothing was sent and no server was asked; no
   * RFC 8460 result type.
   */
  LOCAL_FAILURE(null);

  private final @Nullable String tlsRpt;

  FailureType(@Nullable String tlsRpt) {
    this.tlsRpt = tlsRpt;
  }

  /** The RFC 8460 §4.3 result type, for TLS and policy failures. */
  public Optional<String> tlsRptResultType() {
    return Optional.ofNullable(tlsRpt);
  }
}
