package io.mailtls.core;

/** How {@link DnssecResolver} learns the DNSSEC state of an answer. */
public enum DnssecMode {
  /**
   * Validate in process (dnsjava's {@code ValidatingResolver}) from explicitly given {@link
   * TrustAnchors}, over any upstream recursive resolver; the upstream needs no DNSSEC support of
   * its own beyond passing DNSSEC records. Safe over any network path.
   */
  VALIDATE,
  /**
   * Trust the AD bit of a validating recursive resolver (as Postfix does). Safe only when the path
   * to that resolver cannot be tampered with, that is over loopback: anyone on the path can set the
   * AD bit. {@link DnssecResolver.Builder#build()} refuses non-loopback upstreams in this mode
   * unless {@link DnssecResolver.Builder#allowRemoteAdTrust()} is called, and wants the resolver
   * named: the system's resolvers are not a default here, since a loopback forwarding stub (a
   * caching daemon that does not validate) copies the AD bit of whatever answered it. Loopback
   * alone does not prove validation: run {@link DnssecSelfCheck} at start-up.
   */
  TRUST_AD
}
