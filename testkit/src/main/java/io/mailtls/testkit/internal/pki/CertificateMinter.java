package io.mailtls.testkit.internal.pki;

import java.io.IOException;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.Date;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.GeneralSubtree;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.NameConstraints;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Makes X.509 v3 certificates with Bouncy Castle's builders, signing and converting through the
 * JDK's default JCA providers (no Bouncy Castle provider is installed: that would be a JVM-global
 * change).
 *
 * <p>Thread-safe: stateless apart from a {@link SecureRandom}.
 */
public final class CertificateMinter {

  /** The organisation every test certificate names, so a stray one is easy to recognise. */
  public static final String ORGANISATION = "mailtls testkit";

  private static final SecureRandom RANDOM = new SecureRandom();

  private CertificateMinter() {}

  /** Makes and signs the certificate that {@code spec} describes. */
  public static X509Certificate mint(CertificateSpec spec) {
    try {
      X500Name subject =
          new X500NameBuilder(BCStyle.INSTANCE)
              .addRDN(BCStyle.O, ORGANISATION)
              .addRDN(BCStyle.CN, spec.commonName())
              .build();
      X509Certificate issuerCertificate = spec.issuerCertificate(); // null when self-signed
      X500Name issuer =
          issuerCertificate == null
              ? subject
              : X500Name.getInstance(issuerCertificate.getSubjectX500Principal().getEncoded());
      // RFC 5280 §4.1.2.2: a positive integer of at most 20 octets, unique per issuer.
      BigInteger serial = new BigInteger(64, RANDOM).add(BigInteger.ONE);
      X509v3CertificateBuilder builder =
          new X509v3CertificateBuilder(
              issuer,
              serial,
              Date.from(spec.notBefore()),
              Date.from(spec.notAfter()),
              subject,
              subjectPublicKeyInfo(spec));
      addExtensions(builder, spec);
      ContentSigner signer =
          new JcaContentSignerBuilder(signatureAlgorithm(spec.issuerKey())).build(spec.issuerKey());
      return new JcaX509CertificateConverter().getCertificate(builder.build(signer));
    } catch (GeneralSecurityException | OperatorCreationException | IOException e) {
      throw new IllegalStateException("cannot mint certificate for " + spec.commonName(), e);
    }
  }

  /**
   * The SubjectPublicKeyInfo to certify: the key as the JDK encodes it, or for {@link
   * CertificateSpec#rsaParametersAbsent()} the same key bits under an rsaEncryption
   * AlgorithmIdentifier without parameters, which the JDK reads but re-encodes with NULL.
   */
  private static SubjectPublicKeyInfo subjectPublicKeyInfo(CertificateSpec spec) {
    SubjectPublicKeyInfo encoded =
        SubjectPublicKeyInfo.getInstance(spec.subjectPublicKey().getEncoded());
    if (!spec.rsaParametersAbsent()) {
      return encoded;
    }
    return new SubjectPublicKeyInfo(
        new AlgorithmIdentifier(PKCSObjectIdentifiers.rsaEncryption),
        encoded.getPublicKeyData().getBytes());
  }

  private static void addExtensions(X509v3CertificateBuilder builder, CertificateSpec spec)
      throws GeneralSecurityException, CertIOException {
    JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
    // RFC 5280 §4.2.1.2 and §4.2.1.1: key identifiers let path building find the issuer.
    builder.addExtension(
        Extension.subjectKeyIdentifier,
        false,
        utils.createSubjectKeyIdentifier(spec.subjectPublicKey()));
    X509Certificate issuerCertificate = spec.issuerCertificate(); // null when self-signed
    if (issuerCertificate != null) {
      builder.addExtension(
          Extension.authorityKeyIdentifier,
          false,
          utils.createAuthorityKeyIdentifier(issuerCertificate.getPublicKey()));
    }
    // RFC 5280 §4.2.1.9: basicConstraints is critical in CA certificates.
    if (spec.basicConstraints()) {
      BasicConstraints constraints =
          spec.ca() && spec.pathLength() >= 0
              ? new BasicConstraints(spec.pathLength())
              : new BasicConstraints(spec.ca());
      builder.addExtension(Extension.basicConstraints, true, constraints);
    }
    // RFC 5280 §4.2.1.3: keyCertSign for CAs; the leaf usage depends on the key type.
    int usage;
    if (spec.ca()) {
      usage = KeyUsage.keyCertSign | KeyUsage.cRLSign | KeyUsage.digitalSignature;
    } else if ("RSA".equals(spec.subjectPublicKey().getAlgorithm())) {
      usage = KeyUsage.digitalSignature | KeyUsage.keyEncipherment;
    } else {
      usage = KeyUsage.digitalSignature;
    }
    builder.addExtension(Extension.keyUsage, true, new KeyUsage(usage));
    if (!spec.permittedDnsNames().isEmpty()) {
      GeneralSubtree[] permitted =
          spec.permittedDnsNames().stream()
              .map(name -> new GeneralSubtree(new GeneralName(GeneralName.dNSName, name)))
              .toArray(GeneralSubtree[]::new);
      // RFC 5280 §4.2.1.10: conforming CAs mark nameConstraints critical.
      builder.addExtension(Extension.nameConstraints, true, new NameConstraints(permitted, null));
    }
    if (!spec.dnsNames().isEmpty()) {
      GeneralName[] names =
          spec.dnsNames().stream()
              .map(name -> new GeneralName(GeneralName.dNSName, name))
              .toArray(GeneralName[]::new);
      // RFC 5280 §4.2.1.6: non-critical when the subject DN is not empty.
      builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
    }
    if (spec.serverAuth()) {
      builder.addExtension(
          Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
    }
  }

  private static String signatureAlgorithm(PrivateKey key) {
    switch (key.getAlgorithm()) {
      case "EC":
        return "SHA256withECDSA";
      case "RSA":
        return "SHA256withRSA";
      default:
        throw new IllegalArgumentException(
            "unsupported issuer key algorithm " + key.getAlgorithm());
    }
  }
}
