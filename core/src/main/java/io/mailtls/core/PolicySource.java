package io.mailtls.core;

/** Which policy decided the TLS requirement for an MX host. */
public enum PolicySource {
  /** No policy beyond the default opportunistic behaviour. */
  NONE,
  /** The sender's own level (enforced, sts-required, dane-required). */
  SENDER,
  /** The recipient's MTA-STS policy (RFC 8461). */
  MTA_STS,
  /** The recipient's DANE TLSA records (RFC 7672). */
  DANE,
  /** The operator's entry for the destination in a {@link DestinationPolicyMap}. */
  POLICY_MAP
}
