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
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
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
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Certificates {@link TestPki} does not make: a leaf whose extendedKeyUsage allows client
 * authentication only (RFC 5280 §4.2.1.12), to prove DANE-TA checks serverAuth, a CA whose
 * nameConstraints extension cannot be decoded, one that excludes a dNSName subtree (RFC 5280
 * §4.2.1.10), the expired certificate of a CA since renewed, and certificates whose
 * SubjectPublicKeyInfo is encoded otherwise than the JDK re-encodes it.
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

  /**
   * A certificate, its private key, and its SubjectPublicKeyInfo exactly as the certificate encodes
   * it (RFC 5280 §4.1.2.7): what an RSA DANE record's selector SPKI(1) is computed over.
   */
  static final class RawSpki {
    private final X509Certificate certificate;
    private final KeyPair keys;
    private final byte[] spki;

    RawSpki(X509Certificate certificate, KeyPair keys, byte[] spki) {
      this.certificate = certificate;
      this.keys = keys;
      this.spki = spki.clone();
    }

    X509Certificate certificate() {
      return certificate;
    }

    KeyPair keys() {
      return keys;
    }

    byte[] spki() {
      return spki.clone();
    }
  }

  /**
   * A self-signed RSA certificate for {@code dnsName} whose SubjectPublicKeyInfo has an
   * AlgorithmIdentifier rsaEncryption with the parameters absent rather than NULL (RFC 3279 §2.3.1
   * asks for NULL; some encoders omit it, and the JDK reads both). The JDK's {@code
   * getPublicKey().getEncoded()} of it re-encodes the key with NULL parameters: two octets more,
   * and another digest. A CA when {@code ca} is true.
   */
  static RawSpki rsaWithoutNullParameters(String dnsName, boolean ca) throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
    generator.initialize(2048);
    KeyPair keys = generator.generateKeyPair();
    SubjectPublicKeyInfo standard = SubjectPublicKeyInfo.getInstance(keys.getPublic().getEncoded());
    SubjectPublicKeyInfo absent =
        new SubjectPublicKeyInfo(
            new AlgorithmIdentifier(PKCSObjectIdentifiers.rsaEncryption),
            standard.getPublicKeyData().getBytes());
    Instant now = Instant.now();
    X500Name name = new X500Name("CN=" + dnsName);
    X509v3CertificateBuilder builder =
        new X509v3CertificateBuilder(
            name,
            BigInteger.valueOf(now.toEpochMilli()),
            Date.from(now.minus(Duration.ofHours(1))),
            Date.from(now.plus(Duration.ofDays(30))),
            name,
            absent);
    builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
    if (ca) {
      builder.addExtension(
          Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
    } else {
      builder.addExtension(
          Extension.subjectAlternativeName,
          false,
          new GeneralNames(new GeneralName(GeneralName.dNSName, dnsName)));
    }
    X509CertificateHolder holder =
        builder.build(new JcaContentSignerBuilder("SHA256withRSA").build(keys.getPrivate()));
    return new RawSpki(
        new JcaX509CertificateConverter().getCertificate(holder),
        keys,
        holder.getSubjectPublicKeyInfo().getEncoded("DER"));
  }

  /** A leaf for {@code dnsName}, EC key, issued and signed by the RSA CA {@code issuer}. */
  static X509Certificate leafIssuedBy(RawSpki issuer, String dnsName) throws Exception {
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
    return new JcaX509CertificateConverter()
        .getCertificate(
            builder.build(
                new JcaContentSignerBuilder("SHA256withRSA").build(issuer.keys().getPrivate())));
  }
}
