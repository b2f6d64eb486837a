package io.mailtls.core;

/**
 * The DNSSEC security state of a DNS answer (RFC 4035 §4.3, RFC 7672 §2.1.1).
 *
 * <p>Only {@link #SECURE} data may turn on DANE; {@link #BOGUS} and {@link #INDETERMINATE} data
 * must never be read as "no records": a caller that needs security treats them as a temporary
 * failure.
 */
public enum DnssecState {
  /** Validated from a trust anchor down to the data, or proved absent with validated denial. */
  SECURE,
  /** Provably outside any signed zone (an insecure delegation was proved), or not validated. */
  INSECURE,
  /** Validation failed: signatures, keys or denial proofs do not check out. */
  BOGUS,
  /** The state could not be determined: the lookup failed (timeout, SERVFAIL, bad response). */
  INDETERMINATE;

  /**
   * The weaker of two states, for a chain of answers (a CNAME chain is only as secure as its
   * weakest link): {@code BOGUS} below {@code INDETERMINATE} below {@code INSECURE} below {@code
   * SECURE}.
   */
  public DnssecState weakest(DnssecState other) {
    return rank(other) < rank(this) ? other : this;
  }

  private static int rank(DnssecState s) {
    return switch (s) {
      case BOGUS -> 0;
      case INDETERMINATE -> 1;
      case INSECURE -> 2;
      case SECURE -> 3;
    };
  }
}
