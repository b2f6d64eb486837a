package io.mailtls.dane.internal;

import static io.mailtls.core.DnsRecord.Tlsa.CERT;
import static io.mailtls.core.DnsRecord.Tlsa.FULL;
import static io.mailtls.core.DnsRecord.Tlsa.SHA2_256;
import static io.mailtls.core.DnsRecord.Tlsa.SHA2_512;
import static io.mailtls.core.DnsRecord.Tlsa.SPKI;

import io.mailtls.core.DnsRecord;
import io.mailtls.core.internal.tls.CertificateKeys;
import java.io.ByteArrayInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.Certificate;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Optional;

/**
 * Certificate association data (RFC 6698 §2.1.2-§2.1.3): what a selector picks from a certificate,
 * its digests, and whether a TLSA record matches a certificate. The field values are the constants
 * of {@link DnsRecord.Tlsa}. Stateless and thread-safe.
 */
public final class TlsaData {

  /** Association data longer than this many octets is abbreviated in messages. */
  private static final int SHOWN_OCTETS = 32;

  private static final HexFormat HEX = HexFormat.of();

  private TlsaData() {}

  /**
   * The content {@code selector} picks from {@code certificate} (RFC 6698 §2.1.2), or empty when
   * the selector is unknown or the certificate cannot be encoded.
   *
   * <p>SPKI(1) is the SubjectPublicKeyInfo octets of the certificate itself (RFC 6698 §2.1.2, RFC
   * 5280 §4.1.2.7), never {@code getPublicKey().getEncoded()}: the JDK re-encodes the key it
   * parsed, and for some valid certificates (an RSA key whose AlgorithmIdentifier omits the NULL
   * parameters) the re-encoding differs, so a record over the certificate's key would not match and
   * one over octets the certificate does not contain would.
   */
  public static Optional<byte[]> selected(X509Certificate certificate, int selector) {
    try {
      switch (selector) {
        case CERT:
          return Optional.of(certificate.getEncoded());
        case SPKI:
          return CertificateKeys.subjectPublicKeyInfo(certificate);
        default:
          return Optional.empty();
      }
    } catch (CertificateEncodingException | RuntimeException e) {
      return Optional.empty();
    }
  }

  /**
   * The association data a record with {@code selector} and {@code matchingType} would carry for
   * {@code certificate} (RFC 6698 §2.1.3), or empty for an unknown selector or matching type.
   */
  public static Optional<byte[]> associationData(
      X509Certificate certificate, int selector, int matchingType) {
    Optional<byte[]> content = selected(certificate, selector);
    if (content.isEmpty()) {
      return Optional.empty();
    }
    switch (matchingType) {
      case FULL:
        return content;
      case SHA2_256:
        return Optional.of(digest("SHA-256", content.get()));
      case SHA2_512:
        return Optional.of(digest("SHA-512", content.get()));
      default:
        return Optional.empty();
    }
  }

  /**
   * Whether {@code record}'s association data equals what its selector and matching type give for
   * {@code certificate} (RFC 6698 §2.1; the usage is the caller's business).
   */
  public static boolean matches(DnsRecord.Tlsa record, X509Certificate certificate) {
    Optional<byte[]> data = associationData(certificate, record.selector(), record.matchingType());
    // Constant-time comparison: nothing here is secret, but nothing is lost either.
    return data.isPresent() && MessageDigest.isEqual(data.get(), record.data());
  }

  /** The hex SHA-256 of the certificate's SubjectPublicKeyInfo: the data of an {@code x 1 1}. */
  public static String spkiSha256Hex(X509Certificate certificate) {
    return associationData(certificate, SPKI, SHA2_256).map(HEX::formatHex).orElse("(no key)");
  }

  /**
   * A record in presentation form for messages, e.g. {@code 3 1 1 ab12…}; long data (full
   * certificates and keys) is shortened to its first octets and length.
   */
  public static String describe(DnsRecord.Tlsa record) {
    byte[] data = record.data();
    String hex =
        data.length <= SHOWN_OCTETS
            ? HEX.formatHex(data)
            : HEX.formatHex(data, 0, SHOWN_OCTETS) + "…(" + data.length + " octets)";
    return record.usage() + " " + record.selector() + " " + record.matchingType() + " " + hex;
  }

  /**
   * Whether {@code der} is exactly one DER X.509 certificate (no trailing octets): what the data of
   * a full Cert(0) record must be (RFC 6698 §2.1.2).
   */
  public static boolean isCertificate(byte[] der) {
    try {
      Certificate c =
          CertificateFactory.getInstance("X.509")
              .generateCertificate(new ByteArrayInputStream(der));
      return c instanceof X509Certificate x && Arrays.equals(x.getEncoded(), der);
    } catch (CertificateException | RuntimeException e) {
      return false;
    }
  }

  /**
   * Whether {@code der} has the shape of a DER SubjectPublicKeyInfo (RFC 5280 §4.1): a SEQUENCE of
   * an AlgorithmIdentifier SEQUENCE and a BIT STRING, nothing after them. Only the shape: a key of
   * an algorithm this JDK does not know still matches byte for byte (DANE-EE {@code 3 1 0}).
   */
  public static boolean isSubjectPublicKeyInfo(byte[] der) {
    int[] outer = CertificateKeys.tlv(der, 0, der.length);
    if (outer == null || outer[0] != 0x30 || outer[2] != der.length) {
      return false;
    }
    int[] algorithm = CertificateKeys.tlv(der, outer[1], der.length);
    if (algorithm == null || algorithm[0] != 0x30) {
      return false;
    }
    int[] key = CertificateKeys.tlv(der, algorithm[2], der.length);
    return key != null && key[0] == 0x03 && key[2] == outer[2] && key[2] - key[1] >= 1;
  }

  private static byte[] digest(String algorithm, byte[] data) {
    try {
      return MessageDigest.getInstance(algorithm).digest(data);
    } catch (NoSuchAlgorithmException e) {
      // Every Java SE platform must provide SHA-256 and SHA-512 (MessageDigest Javadoc).
      throw new IllegalStateException(algorithm + " missing from this JDK", e);
    }
  }
}
