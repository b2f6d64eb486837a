package io.mailtls.core.internal.tls;

import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The DER SubjectPublicKeyInfo of a certificate as the certificate itself encodes it (RFC 5280
 * §4.1.2.7): what a TLSA selector SPKI(1) (RFC 6698 §2.1.2) and a Postfix public-key fingerprint
 * are computed over. Never {@code getPublicKey().getEncoded()}: that is the JDK's re-encoding of
 * the key it parsed, which for some valid certificates differs from the certificate's octets (an
 * RSA key whose AlgorithmIdentifier omits the NULL parameters comes back with them). Stateless and
 * thread-safe.
 */
public final class CertificateKeys {

  private static final int SEQUENCE = 0x30;
  private static final int INTEGER = 0x02;

  /** The tbsCertificate's {@code [0] EXPLICIT Version} (RFC 5280 §4.1). */
  private static final int EXPLICIT_VERSION = 0xa0;

  private CertificateKeys() {}

  /**
   * The SubjectPublicKeyInfo octets of {@code certificate}, or empty when it cannot be encoded or
   * its encoding does not have the shape of RFC 5280 §4.1 (then nothing can match it).
   */
  public static Optional<byte[]> subjectPublicKeyInfo(X509Certificate certificate) {
    try {
      return subjectPublicKeyInfo(certificate.getEncoded());
    } catch (CertificateEncodingException | RuntimeException e) {
      return Optional.empty();
    }
  }

  /**
   * The SubjectPublicKeyInfo inside the DER certificate {@code der}: the seventh field of the
   * tbsCertificate when it has a version, else the sixth; empty when {@code der} does not have that
   * shape.
   */
  static Optional<byte[]> subjectPublicKeyInfo(byte[] der) {
    int[] certificate = tlv(der, 0, der.length);
    if (certificate == null || certificate[0] != SEQUENCE || certificate[2] != der.length) {
      return Optional.empty();
    }
    int[] tbs = tlv(der, certificate[1], certificate[2]);
    if (tbs == null || tbs[0] != SEQUENCE) {
      return Optional.empty();
    }
    int at = tbs[1];
    int[] field = tlv(der, at, tbs[2]);
    if (field != null && field[0] == EXPLICIT_VERSION) {
      at = field[2];
    }
    // serialNumber, signature, issuer, validity, subject; then subjectPublicKeyInfo.
    int[] tags = {INTEGER, SEQUENCE, SEQUENCE, SEQUENCE, SEQUENCE};
    for (int tag : tags) {
      field = tlv(der, at, tbs[2]);
      if (field == null || field[0] != tag) {
        return Optional.empty();
      }
      at = field[2];
    }
    field = tlv(der, at, tbs[2]);
    if (field == null || field[0] != SEQUENCE) {
      return Optional.empty();
    }
    return Optional.of(Arrays.copyOfRange(der, at, field[2]));
  }

  /**
   * The DER tag-length-value at {@code at}, ending by {@code end}: {tag, start of the value, end of
   * the value}, or null when it is not a single-octet tag with a definite length (at most 4 length
   * octets) that ends by {@code end}. The one DER reader of mailtls's certificate code: the
   * SubjectPublicKeyInfo here, a TLSA record's key and a CA's name constraints in {@code dane}.
   */
  public static int @Nullable [] tlv(byte[] der, int at, int end) {
    if (at + 2 > end) {
      return null;
    }
    int tag = der[at] & 0xff;
    int first = der[at + 1] & 0xff;
    int start = at + 2;
    long length = first;
    if (first > 0x7f) {
      int octets = first & 0x7f;
      if (octets == 0 || octets > 4 || start + octets > end) {
        return null;
      }
      length = 0;
      for (int i = 0; i < octets; i++) {
        length = (length << 8) | (der[start++] & 0xff);
      }
    }
    if (length > end - start) {
      return null;
    }
    return new int[] {tag, start, start + (int) length};
  }
}
