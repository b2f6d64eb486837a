package io.mailtls.core.internal.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.testkit.TestPki;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v1CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v1CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;

/** The SubjectPublicKeyInfo octets cut out of real certificates (RFC 5280 §4.1). */
class CertificateKeysTest {

  @Test
  void aVersion3CertificatesKeyIsItsOwnOctets() throws Exception {
    X509Certificate c =
        TestPki.create().root().leaf().dnsNames("mx.example.test").issue().certificate();
    byte[] spki = new X509CertificateHolder(c.getEncoded()).getSubjectPublicKeyInfo().getEncoded();
    assertThat(CertificateKeys.subjectPublicKeyInfo(c))
        .hasValueSatisfying(k -> assertThat(k).isEqualTo(spki));
  }

  /** An RSA key without NULL parameters, which the JDK re-encodes with them, as it is sent. */
  @Test
  void aKeyTheJdkReencodesIsReadAsTheCertificateHoldsIt() {
    TestPki.Issued leaf =
        TestPki.selfSigned(TestPki.KeyType.RSA_2048_ABSENT_PARAMETERS, "mx.example.test");
    assertThat(CertificateKeys.subjectPublicKeyInfo(leaf.certificate()))
        .hasValueSatisfying(
            k ->
                assertThat(k)
                    .isEqualTo(leaf.spkiDer())
                    .isNotEqualTo(leaf.publicKey().getEncoded()));
  }

  /** A version 1 certificate has no {@code [0]} version field before its serial number. */
  @Test
  void aVersion1CertificateHasNoVersionField() throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(256);
    KeyPair keys = generator.generateKeyPair();
    Instant now = Instant.now();
    X500Name name = new X500Name("CN=v1.example.test");
    X509v1CertificateBuilder builder =
        new JcaX509v1CertificateBuilder(
            name,
            BigInteger.TEN,
            Date.from(now),
            Date.from(now.plus(Duration.ofDays(1))),
            name,
            keys.getPublic());
    X509CertificateHolder holder =
        builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate()));
    X509Certificate c = new JcaX509CertificateConverter().getCertificate(holder);
    assertThat(c.getVersion()).isEqualTo(1);
    assertThat(CertificateKeys.subjectPublicKeyInfo(c))
        .hasValueSatisfying(k -> assertThat(k).isEqualTo(keys.getPublic().getEncoded()));
  }

  @Test
  void octetsWithoutTheShapeOfACertificateHaveNone() throws Exception {
    byte[] der =
        TestPki.create()
            .root()
            .leaf()
            .dnsNames("mx.example.test")
            .issue()
            .certificate()
            .getEncoded();
    assertThat(CertificateKeys.subjectPublicKeyInfo(new byte[0])).isEmpty();
    assertThat(CertificateKeys.subjectPublicKeyInfo(Arrays.copyOf(der, der.length - 1))).isEmpty();
    assertThat(CertificateKeys.subjectPublicKeyInfo(Arrays.copyOf(der, der.length + 1))).isEmpty();
    assertThat(CertificateKeys.subjectPublicKeyInfo(Arrays.copyOf(der, 40))).isEmpty();
  }
}
