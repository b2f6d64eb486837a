package io.mailtls.core;

import java.util.List;
import java.util.Objects;

/**
 * What DANE discovery (RFC 7672 §2.2) established for one MX host. Immutable.
 *
 * <p>A lookup failure is its own outcome and makes the host unusable; it is never read as "no DANE"
 * (the downgrade RFC 7672 §2.1.1 forbids).
 */
public sealed interface TlsaLookup
    permits TlsaLookup.Usable, TlsaLookup.Unusable, TlsaLookup.None, TlsaLookup.Failed {

  /** The MX host. */
  DomainName host();

  /**
   * Secure TLSA records, at least one usable (RFC 7672 §3.1): DANE authentication is mandatory.
   *
   * @param requirement the requirement to connect with
   * @param note how the base domain and reference names were chosen (CNAMEs, insecure MX)
   */
  record Usable(DomainName host, TlsRequirement.Dane requirement, String note)
      implements TlsaLookup {
    public Usable {
      Objects.requireNonNull(host, "host");
      Objects.requireNonNull(requirement, "requirement");
      Objects.requireNonNull(note, "note");
    }
  }

  /**
   * Secure TLSA records, none usable: TLS is mandatory but unauthenticated (RFC 7672 §2.2, {@code
   * tlsa-invalid}).
   *
   * @param records the records found
   * @param reasons why each is unusable
   */
  record Unusable(DomainName host, List<DnsRecord.Tlsa> records, List<String> reasons)
      implements TlsaLookup {
    public Unusable {
      Objects.requireNonNull(host, "host");
      records = List.copyOf(records);
      reasons = List.copyOf(reasons);
    }
  }

  /**
   * No DANE for this host: its address or TLSA records are insecure, or TLSA records are proved
   * absent (RFC 7672 §2.2).
   */
  record None(DomainName host, String reason) implements TlsaLookup {
    public None {
      Objects.requireNonNull(host, "host");
      Objects.requireNonNull(reason, "reason");
    }
  }

  /**
   * DNS data that decides DANE was bogus or could not be obtained (SERVFAIL, timeout): the host is
   * unusable ({@code dnssec-invalid}, RFC 7672 §2.1.1).
   */
  record Failed(DomainName host, String reason) implements TlsaLookup {
    public Failed {
      Objects.requireNonNull(host, "host");
      Objects.requireNonNull(reason, "reason");
    }
  }
}
