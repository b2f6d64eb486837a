package io.mailtls.core;

import java.util.List;
import java.util.Objects;

/**
 * What one connection to an MX host requires of TLS. Immutable.
 *
 * <p>Wherever TLS is required it is TLS 1.2 or newer; TLS 1.0 and 1.1 are never offered.
 */
public sealed interface TlsRequirement
    permits TlsRequirement.Opportunistic,
        TlsRequirement.Encrypted,
        TlsRequirement.Pkix,
        TlsRequirement.Dane,
        TlsRequirement.Fingerprint {

  /** Whether delivery without TLS is forbidden. */
  boolean requiresTls();

  /** Whether the peer must be authenticated. */
  default boolean requiresAuthentication() {
    return false;
  }

  /**
   * STARTTLS when offered, peer not authenticated; without STARTTLS or after a failed handshake,
   * plaintext on a fresh connection (RFC 7435; Postfix {@code may}).
   */
  record Opportunistic() implements TlsRequirement {
    @Override
    public boolean requiresTls() {
      return false;
    }
  }

  /** TLS mandatory, peer not authenticated (Postfix {@code encrypt}). */
  record Encrypted() implements TlsRequirement {
    @Override
    public boolean requiresTls() {
      return true;
    }
  }

  /**
   * TLS mandatory, the certificate chain verified against the trust store (WebPKI) and matching one
   * of the reference names as a subjectAltName DNS-ID (RFC 6125 §6.4; wildcard only as the whole
   * left-most label); the subject CN never counts (RFC 8461 §4.2, RFC 9525 §6.3).
   *
   * @param referenceNames the names the certificate must match, e.g. the MX host name
   */
  record Pkix(List<DomainName> referenceNames) implements TlsRequirement {
    public Pkix {
      referenceNames = List.copyOf(referenceNames);
      if (referenceNames.isEmpty()) {
        throw new IllegalArgumentException("PKIX needs at least one reference name");
      }
      referenceNames.forEach(n -> Objects.requireNonNull(n, "reference name"));
    }

    @Override
    public boolean requiresTls() {
      return true;
    }

    @Override
    public boolean requiresAuthentication() {
      return true;
    }
  }

  /**
   * TLS mandatory, the peer authenticated by DANE (RFC 7672 §3): a usable TLSA record must match
   * (DANE-EE: the leaf; DANE-TA: a CA of the chain, then a verified path and the name check of RFC
   * 7672 §3.2.2). PKIX roots play no part.
   *
   * @param records the usable TLSA records (RFC 7672 §3.1), at least one
   * @param baseDomain the TLSA base domain, which is also the SNI name (RFC 7672 §8.1)
   * @param referenceNames the names a DANE-TA certificate must match (RFC 7672 §3.2.2)
   * @param mxSecure whether the MX answer was DNSSEC-secure: the peer is then {@code VERIFIED};
   *     through an insecure MX answer it is only {@code TRUSTED} (RFC 7672 §2.2.1)
   */
  record Dane(
      List<DnsRecord.Tlsa> records,
      DomainName baseDomain,
      List<DomainName> referenceNames,
      boolean mxSecure)
      implements TlsRequirement {
    public Dane {
      records = List.copyOf(records);
      if (records.isEmpty()) {
        throw new IllegalArgumentException("DANE needs at least one usable TLSA record");
      }
      Objects.requireNonNull(baseDomain, "baseDomain");
      referenceNames = List.copyOf(referenceNames);
      if (referenceNames.isEmpty()) {
        throw new IllegalArgumentException("DANE needs at least one reference name");
      }
    }

    @Override
    public boolean requiresTls() {
      return true;
    }

    @Override
    public boolean requiresAuthentication() {
      return true;
    }
  }

  /**
   * TLS mandatory, the leaf certificate, or its public key, matching one of the pinned SHA-256
   * digests (Postfix {@code fingerprint}). No WebPKI chain and no name is checked: the pin is the
   * authentication.
   *
   * @param pins the accepted digests, at least one
   */
  record Fingerprint(List<CertificatePin> pins) implements TlsRequirement {
    public Fingerprint {
      pins = List.copyOf(pins);
      if (pins.isEmpty()) {
        throw new IllegalArgumentException("a fingerprint requirement needs at least one pin");
      }
    }

    @Override
    public boolean requiresTls() {
      return true;
    }

    @Override
    public boolean requiresAuthentication() {
      return true;
    }
  }
}
