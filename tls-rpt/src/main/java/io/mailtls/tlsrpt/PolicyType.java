package io.mailtls.tlsrpt;

/** The {@code policy-type} of an applied policy (RFC 8460 §4.3). */
public enum PolicyType {
  /** An MTA-STS policy (RFC 8461). */
  STS("sts"),
  /** DANE TLSA records (RFC 7672). */
  TLSA("tlsa"),
  /** Neither: the sender applied no recipient policy. */
  NO_POLICY_FOUND("no-policy-found");

  private final String value;

  PolicyType(String value) {
    this.value = value;
  }

  /** The value in the report, e.g. {@code no-policy-found}. */
  public String value() {
    return value;
  }

  /** The type whose {@link #value()} is {@code value}. */
  public static PolicyType of(String value) {
    for (PolicyType t : values()) {
      if (t.value.equals(value)) {
        return t;
      }
    }
    throw new IllegalArgumentException("no TLS-RPT policy type " + value);
  }
}
