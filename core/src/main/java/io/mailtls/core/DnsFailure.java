package io.mailtls.core;

/**
 * Why a DNS lookup produced no usable answer. A failure is never "no records": callers that need
 * security treat every failure as temporary (RFC 7672 §2.1.1).
 */
public enum DnsFailure {
  /** The resolver answered SERVFAIL without saying that validation failed. */
  SERVFAIL,
  /** DNSSEC validation failed (the answer's state is {@link DnssecState#BOGUS}). */
  VALIDATION_FAILED,
  /**
   * The server refused the query (REFUSED), answered another error rcode, or did not resolve the
   * name: a referral, or an empty answer that is no denial (RFC 2308 §2.2), as a server that does
   * not recurse sends.
   */
  REFUSED,
  /** No answer within the per-query or per-lookup time bound. */
  TIMEOUT,
  /** A network error talking to the resolver. */
  NETWORK,
  /** The response could not be parsed, or did not match the question. */
  MALFORMED,
  /** The response exceeded the configured size or record-count bound. */
  TOO_LARGE,
  /** A CNAME chain looped or exceeded the configured length (RFC 1034 §3.6.2). */
  CNAME_CHAIN
}
