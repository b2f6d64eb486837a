package io.mailtls.core;

/** What a DNS lookup established about the question (RFC 2308 for the negative cases). */
public enum DnsOutcome {
  /** Records of the asked type exist (after following CNAMEs). */
  DATA,
  /** The name exists but has no records of the asked type (NOERROR/NODATA). */
  NODATA,
  /** The name does not exist (NXDOMAIN). */
  NXDOMAIN,
  /** Nothing was established; see {@link DnsAnswer#failure()}. */
  FAILURE
}
