package io.mailtls.core;

/** The DNS record types that mailtls asks for, with their IANA codes. */
public enum DnsRecordType {
  A(1),
  CNAME(5),
  MX(15),
  TXT(16),
  AAAA(28),
  TLSA(52);

  private final int code;

  DnsRecordType(int code) {
    this.code = code;
  }

  /** The IANA RR type code (RFC 1035 §3.2.2 and later registrations). */
  public int code() {
    return code;
  }
}
