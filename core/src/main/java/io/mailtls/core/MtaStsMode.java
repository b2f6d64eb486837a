package io.mailtls.core;

/** An MTA-STS policy mode (RFC 8461 §3.2, §5). */
public enum MtaStsMode {
  /** Deliver only to matching MX hosts over PKIX-verified TLS; never downgrade. */
  ENFORCE("enforce"),
  /** Deliver as without a policy, but report every failure (RFC 8460). */
  TESTING("testing"),
  /** As without a policy; published to retire one (RFC 8461 §8.3). */
  NONE("none");

  private final String token;

  MtaStsMode(String token) {
    this.token = token;
  }

  /** The policy-file token, e.g. {@code enforce}. */
  public String token() {
    return token;
  }

  @Override
  public String toString() {
    return token;
  }
}
