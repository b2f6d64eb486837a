package io.mailtls.dane;

import static io.mailtls.core.DnsRecord.Tlsa.CERT;
import static io.mailtls.core.DnsRecord.Tlsa.DANE_EE;
import static io.mailtls.core.DnsRecord.Tlsa.DANE_TA;
import static io.mailtls.core.DnsRecord.Tlsa.FULL;
import static io.mailtls.core.DnsRecord.Tlsa.PKIX_EE;
import static io.mailtls.core.DnsRecord.Tlsa.PKIX_TA;
import static io.mailtls.core.DnsRecord.Tlsa.SHA2_256;
import static io.mailtls.core.DnsRecord.Tlsa.SHA2_512;
import static io.mailtls.core.DnsRecord.Tlsa.SPKI;

import io.mailtls.core.DnsRecord;
import io.mailtls.dane.internal.TlsaData;
import java.util.Optional;

/**
 * Which TLSA records an SMTP client can use (RFC 7672 §3.1, RFC 6698 §2.1, RFC 7671 §4-§5).
 * Stateless and thread-safe.
 *
 * <p>Usable: certificate usage DANE-TA(2) or DANE-EE(3), selector Cert(0) or SPKI(1), matching type
 * Full(0), SHA2-256(1) or SHA2-512(2), with association data of the right shape (32 or 64 octets
 * for a digest, a DER certificate or SubjectPublicKeyInfo for full data). PKIX-TA(0) and PKIX-EE(1)
 * are not usable for SMTP (RFC 7672 §3.1.3): a client has no agreed set of public roots for MX
 * hosts. A secure TLSA RRset with no usable record still makes TLS mandatory, unauthenticated (RFC
 * 7672 §2.2). The field values are named by the constants of {@link DnsRecord.Tlsa}.
 */
public final class TlsaUsability {

  private TlsaUsability() {}

  /** Whether an SMTP client can authenticate with this record. */
  public static boolean isUsable(DnsRecord.Tlsa record) {
    return whyUnusable(record).isEmpty();
  }

  /** Why the record cannot be used, or empty when it can. */
  public static Optional<String> whyUnusable(DnsRecord.Tlsa r) {
    switch (r.usage()) {
      case PKIX_TA, PKIX_EE:
        return Optional.of(
            "certificate usage "
                + usageName(r.usage())
                + " is not usable for SMTP (RFC 7672 §3.1.3)");
      case DANE_TA, DANE_EE:
        break;
      default:
        return Optional.of("unknown certificate usage " + r.usage() + " (RFC 6698 §2.1.1)");
    }
    if (r.selector() != CERT && r.selector() != SPKI) {
      return Optional.of("unknown selector " + r.selector() + " (RFC 6698 §2.1.2)");
    }
    byte[] data = r.data();
    switch (r.matchingType()) {
      case FULL:
        if (!isDerSequence(data)) {
          return Optional.of("full association data is not a DER SEQUENCE (RFC 6698 §2.1.3)");
        }
        // RFC 7672 §3.1: malformed association data makes a record unusable; full data is a whole
        // certificate or SubjectPublicKeyInfo (RFC 6698 §2.1.2), else it can match nothing.
        if (r.selector() == CERT && !TlsaData.isCertificate(data)) {
          return Optional.of(
              "full association data is not a DER X.509 certificate (RFC 6698 §2.1.2)");
        }
        if (r.selector() == SPKI && !TlsaData.isSubjectPublicKeyInfo(data)) {
          return Optional.of(
              "full association data is not a DER SubjectPublicKeyInfo (RFC 6698 §2.1.2)");
        }
        return Optional.empty();
      case SHA2_256:
        return data.length == 32
            ? Optional.empty()
            : Optional.of("SHA2-256 data of " + data.length + " octets, not 32 (RFC 6698 §2.1.3)");
      case SHA2_512:
        return data.length == 64
            ? Optional.empty()
            : Optional.of("SHA2-512 data of " + data.length + " octets, not 64 (RFC 6698 §2.1.3)");
      default:
        return Optional.of("unknown matching type " + r.matchingType() + " (RFC 6698 §2.1.3)");
    }
  }

  /** The RFC 7218 acronym of a certificate usage, e.g. {@code DANE-EE}. */
  public static String usageName(int usage) {
    return switch (usage) {
      case PKIX_TA -> "PKIX-TA";
      case PKIX_EE -> "PKIX-EE";
      case DANE_TA -> "DANE-TA";
      case DANE_EE -> "DANE-EE";
      default -> "usage(" + usage + ")";
    };
  }

  /** A DER SEQUENCE whose definite length covers exactly the data (X.690 §8.1.3). */
  private static boolean isDerSequence(byte[] d) {
    if (d.length < 2 || d[0] != 0x30) {
      return false;
    }
    int first = d[1] & 0xff;
    long length;
    int header;
    if (first < 0x80) {
      length = first;
      header = 2;
    } else {
      int octets = first & 0x7f;
      if (octets == 0 || octets > 4 || d.length < 2 + octets) {
        return false;
      }
      length = 0;
      for (int i = 0; i < octets; i++) {
        length = (length << 8) | (d[2 + i] & 0xff);
      }
      header = 2 + octets;
    }
    return header + length == d.length;
  }
}
