package io.mailtls.testkit.internal.pki;

import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Everything {@link CertificateMinter} needs to make one X.509 v3 certificate.
 *
 * <p>Immutable and thread-safe.
 *
 * @param commonName the subject CN
 * @param subjectKeys the key pair being certified
 * @param issuerCertificate the issuer's certificate, or {@code null} for a self-signed certificate
 * @param issuerKey the key that signs, the subject's own private key when self-signed
 * @param notBefore start of the validity window (RFC 5280 §4.1.2.5)
 * @param notAfter end of the validity window, inclusive
 * @param ca {@code true} for a CA (basicConstraints cA=TRUE, keyCertSign), RFC 5280 §4.2.1.9
 * @param basicConstraints whether to write the basicConstraints extension at all
 * @param pathLength the pathLenConstraint, or -1 for none
 * @param permittedDnsNames the permitted dNSName subtrees of a critical nameConstraints extension
 *     (RFC 5280 §4.2.1.10); empty for none, and only for a CA
 * @param dnsNames the subjectAltName dNSName entries; empty for no SAN extension
 * @param serverAuth whether to add extendedKeyUsage id-kp-serverAuth (RFC 5280 §4.2.1.12)
 * @param rsaParametersAbsent whether the SubjectPublicKeyInfo's AlgorithmIdentifier (RFC 5280
 *     §4.1.2.7) leaves out the NULL parameters that RFC 3279 §2.3.1 asks for with rsaEncryption;
 *     only for an RSA key
 */
public record CertificateSpec(
    String commonName,
    KeyPair subjectKeys,
    @Nullable X509Certificate issuerCertificate,
    PrivateKey issuerKey,
    Instant notBefore,
    Instant notAfter,
    boolean ca,
    boolean basicConstraints,
    int pathLength,
    List<String> permittedDnsNames,
    List<String> dnsNames,
    boolean serverAuth,
    boolean rsaParametersAbsent) {

  /** Validates the fields and copies the name lists. */
  public CertificateSpec {
    Objects.requireNonNull(commonName, "commonName");
    Objects.requireNonNull(subjectKeys, "subjectKeys");
    Objects.requireNonNull(issuerKey, "issuerKey");
    Objects.requireNonNull(notBefore, "notBefore");
    Objects.requireNonNull(notAfter, "notAfter");
    permittedDnsNames = List.copyOf(permittedDnsNames);
    dnsNames = List.copyOf(dnsNames);
    if (!notAfter.isAfter(notBefore)) {
      throw new IllegalArgumentException(
          "notAfter " + notAfter + " must be after notBefore " + notBefore);
    }
    if (pathLength < -1) {
      throw new IllegalArgumentException("pathLength must be >= 0 (or -1 for none): " + pathLength);
    }
    if (rsaParametersAbsent && !"RSA".equals(subjectKeys.getPublic().getAlgorithm())) {
      throw new IllegalArgumentException("absent key parameters need an RSA key");
    }
    if (!permittedDnsNames.isEmpty() && !ca) {
      throw new IllegalArgumentException("nameConstraints need a CA (RFC 5280 §4.2.1.10)");
    }
  }

  /** The public key being certified. */
  public PublicKey subjectPublicKey() {
    return subjectKeys.getPublic();
  }

  /** Whether the certificate signs itself. */
  public boolean selfSigned() {
    return issuerCertificate == null;
  }
}
