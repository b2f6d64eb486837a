package io.mailtls.core;

import java.util.List;
import java.util.Objects;

/**
 * What one connection to an MX host requires of TLS. Immutable.
 *
 * <p>Wherever TLS is required it is TLS 1.2 or newer; TLS 1.0 and 1.1 are never offered.
 */
public sealed interface TlsRequirement
    permits TlsRequirement.Opportunistic, TlsRequirement.Encrypted, TlsRequirement.Pkix {

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
   * TLS mandatory, the certificate chain verified against the trust store (WebPKI) and matching
   * one of the reference names as a DNS-ID (RFC 6125 §6.4; wildcard only as the whole left-most
   * label; the subject CN only when the certificate has no DNS-ID).
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
}
