package io.mailtls.dane;

import io.mailtls.testkit.TestPki;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.GeneralSubtree;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.NameConstraints;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Certificates {@link TestPki} does not make: a leaf whose extendedKeyUsage allows client
 * authentication only (RFC 5280 §4.2.1.12), to prove DANE-TA checks serverAuth, a CA whose
 * nameConstraints extension cannot be decoded, one that excludes a dNSName subtree (RFC 5280
 * §4.2.1.10) and the expired certificate of a CA since renewed. (A certificate whose
 * SubjectPublicKeyInfo the JDK re-encodes is {@code TestPki.KeyType.RSA_2048_ABSENT_PARAMETERS}.)
 */
final class Minting {

  private Minting() {}

  /** A leaf for {@code dnsName} issued by {@code issuer}, EKU id-kp-clientAuth only. */
  static X509Certificate clientAuthLeaf(TestPki.Ca issuer, String dnsName) throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair keys = generator.generateKeyPair();
    Instant now = Instant.now();
    JcaX509v3CertificateBuilder builder =
        new JcaX509v3CertificateBuilder(
            issuer.certificate().getSubjectX500Principal(),
            BigInteger.valueOf(now.toEpochMilli()),
            Date.from(now.minus(Duration.ofHours(1))),
            Date.from(now.plus(Duration.ofDays(30))),
            new X500Principal("CN=" + dnsName),
            keys.getPublic());
    builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
    builder.addExtension(
        Extension.subjectAlternativeName,
        false,
        new GeneralNames(new GeneralName(GeneralName.dNSName, dnsName)));
    builder.addExtension(
        Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_clientAuth));
    return new JcaX509CertificateConverter()
        .getCertificate(
            builder.build(
                new JcaContentSignerBuilder("SHA256withECDSA").build(issuer.privateKey())));
  }

  /**
   * A second certificate for {@code ca}: its subject and key, issued by {@code issuer}, with a
   * non-critical nameConstraints extension whose value is a SEQUENCE holding an INTEGER, which is
   * no NameConstraints. The JDK parses the certificate and keeps the extension as unparseable.
   */
  static X509Certificate withMalformedNameConstraints(TestPki.Ca ca, TestPki.Ca issuer)
      throws Exception {
    Instant now = Instant.now();
    return caCopy(
        ca,
        issuer,
        now.minus(Duration.ofDays(1)),
        now.plus(Duration.ofDays(30)),
        b ->
            b.addExtension(
                Extension.nameConstraints, false, new byte[] {0x30, 0x03, 0x02, 0x01, 0x05}));
  }

  /**
   * A second certificate for {@code ca}: its subject and key, issued by {@code issuer}, with a
   * critical nameConstraints extension that excludes the dNSName subtree {@code excluded} and
   * permits everything else.
   */
  static X509Certificate withExcludedDnsName(TestPki.Ca ca, TestPki.Ca issuer, String excluded)
      throws Exception {
    Instant now = Instant.now();
    return caCopy(
        ca,
        issuer,
        now.minus(Duration.ofDays(1)),
        now.plus(Duration.ofDays(30)),
        b ->
            b.addExtension(
                Extension.nameConstraints,
                true,
                new NameConstraints(
                    null,
                    new GeneralSubtree[] {
                      new GeneralSubtree(new GeneralName(GeneralName.dNSName, excluded))
                    })));
  }

  /**
   * A second certificate for {@code ca}: its subject, key and extensions of a CA, issued by {@code
   * issuer}, but outside its validity period (it expired a month ago): the certificate a CA had
   * before its renewal, which a server may still send beside the renewed one.
   */
  static X509Certificate expiredCopy(TestPki.Ca ca, TestPki.Ca issuer) throws Exception {
    Instant now = Instant.now();
    return caCopy(
        ca, issuer, now.minus(Duration.ofDays(400)), now.minus(Duration.ofDays(30)), b -> {});
  }

  /** What a copy adds beside a CA's basicConstraints and keyUsage. */
  private interface Extensions {
    void add(JcaX509v3CertificateBuilder builder) throws Exception;
  }

  /**
   * A certificate with {@code ca}'s subject and key, issued and signed by {@code issuer}, valid
   * from {@code notBefore} to {@code notAfter}: a CA's basicConstraints and keyUsage, then {@code
   * more}.
   */
  private static X509Certificate caCopy(
      TestPki.Ca ca, TestPki.Ca issuer, Instant notBefore, Instant notAfter, Extensions more)
      throws Exception {
    JcaX509v3CertificateBuilder builder =
        new JcaX509v3CertificateBuilder(
            issuer.certificate().getSubjectX500Principal(),
            BigInteger.valueOf(Instant.now().toEpochMilli()),
            Date.from(notBefore),
            Date.from(notAfter),
            ca.certificate().getSubjectX500Principal(),
            ca.keyPair().getPublic());
    builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
    builder.addExtension(
        Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
    more.add(builder);
    return new JcaX509CertificateConverter()
        .getCertificate(
            builder.build(
                new JcaContentSignerBuilder("SHA256withECDSA").build(issuer.privateKey())));
  }
}
