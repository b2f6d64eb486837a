package io.mailtls.dane;

import io.mailtls.core.DnsRecord;
import java.util.Optional;

/**
 * Which TLSA records an SMTP client can use (RFC 7672 §3.1, RFC 6698 §2.1, RFC 7671 §4-§5).
 * Stateless and thread-safe.
 *
 * <p>Usable: certificate usage DANE-TA(2) or DANE-EE(3), selector Cert(0) or SPKI(1), matching
 * type Full(0), SHA2-256(1) or SHA2-512(2), with association data of the right shape (32 or 64
 * octets for a digest, a DER SEQUENCE for full data). PKIX-TA(0) and PKIX-EE(1) are not usable
 * for SMTP (RFC 7672 §3.1.3): a client has no agreed set of public roots for MX hosts. A secure
 * TLSA RRset with no usable record still makes TLS mandatory, unauthenticated (RFC 7672 §2.2).
 */
public final class TlsaUsability {

  /** Certificate usage DANE-TA (RFC 7218 acronym). */
  public static final int DANE_TA = 2;
  /** Certificate usage DANE-EE. */
  public static final int DANE_EE = 3;
  /** Selector: the full certificate. */
  public static final int CERT = 0;
  /** Selector: the SubjectPublicKeyInfo. */
  public static final int SPKI = 1;
  /** Matching type: the full data. */
  public static final int FULL = 0;
  /** Matching type: SHA2-256. */
  public static final int SHA2_256 = 1;
  /** Matching type: SHA2-512. */
  public static final int SHA2_512 = 2;

  private TlsaUsability() {}

  /** Whether an SMTP client can authenticate with this record. */
  public static boolean isUsable(DnsRecord.Tlsa record) {
    return whyUnusable(record).isEmpty();
  }

  /** Why the record cannot be used, or empty when it can. */
  public static Optional<String> whyUnusable(DnsRecord.Tlsa r) {
    switch (r.usage()) {
      case 0, 1:
        return Optional.of("certificate usage " + usageName(r.usage())
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
        return isDerSequence(data)
            ? Optional.empty()
            : Optional.of("full association data is not a DER SEQUENCE (RFC 6698 §2.1.3)");
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
      case 0 -> "PKIX-TA";
      case 1 -> "PKIX-EE";
      case 2 -> "DANE-TA";
      case 3 -> "DANE-EE";
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
