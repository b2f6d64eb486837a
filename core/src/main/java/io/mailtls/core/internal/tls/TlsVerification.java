package io.mailtls.core.internal.tls;

import io.mailtls.core.CertificatePin;
import io.mailtls.core.DnsRecord;
import io.mailtls.core.DomainName;
import io.mailtls.core.TlsRequirement;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The substance of how a handshake under a {@link TlsRequirement} judges the server: exactly the
 * inputs its certificate check and the reported authentication depend on, and nothing else (not the
 * recipient domain that asked, unless it is a reference identifier the check uses). Two
 * requirements with equal verifications accept the same chains and report the same authentication,
 * so a connection or a TLS session verified under one may serve the other. Immutable; value
 * equality.
 *
 * <p>The trust anchors of PKIX are not part of it: they are one per {@link TlsSupport} (one per
 * transport), and so are its session caches.
 */
public sealed interface TlsVerification {

  /** Whether the check authenticates the peer at all. */
  boolean authenticates();

  /** No certificate check: the opportunistic and encrypted levels (RFC 7435). */
  record Unauthenticated() implements TlsVerification {
    @Override
    public boolean authenticates() {
      return false;
    }
  }

  /**
   * WebPKI chain and RFC 6125 name check against {@code referenceNames} (the order of the names
   * does not change the result, so they are a set).
   */
  record Pkix(Set<DomainName> referenceNames) implements TlsVerification {
    public Pkix {
      referenceNames = Set.copyOf(referenceNames);
    }

    // Written out (as Dane's): part of the pool key every message computes.
    @Override
    public boolean equals(@Nullable Object o) {
      return o instanceof Pkix p && referenceNames.equals(p.referenceNames);
    }

    @Override
    public int hashCode() {
      return referenceNames.hashCode();
    }

    @Override
    public boolean authenticates() {
      return true;
    }
  }

  /**
   * DANE (RFC 7672 §3): the TLSA RRset (a set: its order is not data), the base domain (the SNI
   * name, RFC 7672 §8.1), the reference identifiers when a DANE-TA record makes them matter, and
   * whether the MX answer was secure (it decides {@code VERIFIED} or {@code TRUSTED}).
   *
   * @param referenceNames the names DANE-TA checks (RFC 7672 §3.2.2); empty when every record is
   *     DANE-EE, which checks no name (RFC 7672 §3.2.1), so that the recipient domain among them
   *     does not split the connections and sessions of one MX host
   */
  record Dane(
      Set<DnsRecord.Tlsa> records,
      DomainName baseDomain,
      Set<DomainName> referenceNames,
      boolean mxSecure)
      implements TlsVerification {
    public Dane {
      records = Set.copyOf(records);
      referenceNames = Set.copyOf(referenceNames);
    }

    // Written out rather than the record's generated pair, which goes through method handles: part
    // of the pool key every message computes.
    @Override
    public boolean equals(@Nullable Object o) {
      return o instanceof Dane d
          && mxSecure == d.mxSecure
          && baseDomain.equals(d.baseDomain)
          && records.equals(d.records)
          && referenceNames.equals(d.referenceNames);
    }

    @Override
    public int hashCode() {
      return ((records.hashCode() * 31 + baseDomain.hashCode()) * 31 + referenceNames.hashCode())
              * 31
          + Boolean.hashCode(mxSecure);
    }

    @Override
    public boolean authenticates() {
      return true;
    }
  }

  /**
   * Pinned digests (Postfix {@code fingerprint}): the set of pins decides, nothing else (no name,
   * no trust anchor), so a session verified against one set of pins never serves another.
   */
  record Fingerprint(Set<CertificatePin> pins) implements TlsVerification {
    public Fingerprint {
      pins = Set.copyOf(pins);
    }

    @Override
    public boolean authenticates() {
      return true;
    }
  }

  /** The one unauthenticated verification. */
  TlsVerification UNAUTHENTICATED = new Unauthenticated();

  /** The verification {@code requirement} calls for. */
  static TlsVerification of(TlsRequirement requirement) {
    if (requirement instanceof TlsRequirement.Pkix p) {
      return new Pkix(Set.copyOf(p.referenceNames()));
    }
    if (requirement instanceof TlsRequirement.Dane d) {
      boolean namesMatter = d.records().stream().anyMatch(r -> r.usage() != DnsRecord.Tlsa.DANE_EE);
      return new Dane(
          Set.copyOf(d.records()),
          d.baseDomain(),
          namesMatter ? Set.copyOf(d.referenceNames()) : Set.of(),
          d.mxSecure());
    }
    if (requirement instanceof TlsRequirement.Fingerprint f) {
      return new Fingerprint(Set.copyOf(f.pins()));
    }
    if (requirement.requiresAuthentication()) {
      // Fail closed: an authenticating requirement never maps to the unauthenticated space.
      throw new IllegalStateException("no verification for " + requirement);
    }
    return UNAUTHENTICATED;
  }
}
