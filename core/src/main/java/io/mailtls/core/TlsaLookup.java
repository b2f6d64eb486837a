package io.mailtls.core;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

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
   * How long a plan made with this result may be reused, counted from when the lookup began; empty
   * when the provider does not say, and always for {@link Failed}, whose plans are not reused.
   */
  Optional<Duration> ttl();

  /**
   * Secure TLSA records, at least one usable (RFC 7672 §3.1): DANE authentication is mandatory.
   *
   * @param requirement the requirement to connect with
   * @param note how the base domain and reference names were chosen (CNAMEs, insecure MX)
   * @param ttl how long a plan made with this result may be reused, counted from when the lookup
   *     began: no longer than the TTLs of the DNS answers it was decided from (TLSA, CNAME); empty
   *     when the provider does not say, and then a plan is reused only briefly
   */
  record Usable(
      DomainName host, TlsRequirement.Dane requirement, String note, Optional<Duration> ttl)
      implements TlsaLookup {
    public Usable {
      Objects.requireNonNull(host, "host");
      Objects.requireNonNull(requirement, "requirement");
      Objects.requireNonNull(note, "note");
      Objects.requireNonNull(ttl, "ttl");
    }

    /** A result that says nothing of how long it holds (an empty {@code ttl}). */
    public Usable(DomainName host, TlsRequirement.Dane requirement, String note) {
      this(host, requirement, note, Optional.empty());
    }
  }

  /**
   * Secure TLSA records, none usable: TLS is mandatory but unauthenticated (RFC 7672 §2.2, {@code
   * tlsa-invalid}).
   *
   * @param records the records found
   * @param reasons why each is unusable
   * @param ttl how long a plan made with this result may be reused, counted from when the lookup
   *     began: no longer than the TTLs of the DNS answers it was decided from (TLSA, CNAME); empty
   *     when the provider does not say, and then a plan is reused only briefly
   */
  record Unusable(
      DomainName host, List<DnsRecord.Tlsa> records, List<String> reasons, Optional<Duration> ttl)
      implements TlsaLookup {
    public Unusable {
      Objects.requireNonNull(host, "host");
      records = List.copyOf(records);
      reasons = List.copyOf(reasons);
      Objects.requireNonNull(ttl, "ttl");
    }

    /** A result that says nothing of how long it holds (an empty {@code ttl}). */
    public Unusable(DomainName host, List<DnsRecord.Tlsa> records, List<String> reasons) {
      this(host, records, reasons, Optional.empty());
    }
  }

  /**
   * No DANE for this host: its address or TLSA records are insecure, or TLSA records are proved
   * absent (RFC 7672 §2.2).
   *
   * @param ttl how long a plan made with this result may be reused, counted from when the lookup
   *     began: no longer than the TTLs of the DNS answers it was decided from (TLSA, CNAME); empty
   *     when the provider does not say, and then a plan is reused only briefly
   */
  record None(DomainName host, String reason, Optional<Duration> ttl) implements TlsaLookup {
    public None {
      Objects.requireNonNull(host, "host");
      Objects.requireNonNull(reason, "reason");
      Objects.requireNonNull(ttl, "ttl");
    }

    /** A result that says nothing of how long it holds (an empty {@code ttl}). */
    public None(DomainName host, String reason) {
      this(host, reason, Optional.empty());
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

    /** Always empty: a plan made with a failed lookup is not reused. */
    @Override
    public Optional<Duration> ttl() {
      return Optional.empty();
    }
  }
}
