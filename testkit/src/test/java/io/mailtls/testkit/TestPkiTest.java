package io.mailtls.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.Certificate;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.PKIXParameters;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collection;
import java.util.Date;
import java.util.List;
import java.util.Set;
import javax.net.ssl.X509TrustManager;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.junit.jupiter.api.Test;

class TestPkiTest {

  private static final TestPki PKI = TestPki.create();
  private static final TestPki.Ca INTER = PKI.root().intermediate("mailtls Test Intermediate");

  private static void validate(List<X509Certificate> chain, TestPki.Ca anchor, Date at)
      throws Exception {
    PKIXParameters params = new PKIXParameters(Set.of(anchor.trustAnchor()));
    params.setRevocationEnabled(false);
    params.setDate(at);
    CertificateFactory factory = CertificateFactory.getInstance("X.509");
    CertPathValidator.getInstance("PKIX").validate(factory.generateCertPath(chain), params);
  }

  private static void validate(List<X509Certificate> chain) throws Exception {
    validate(chain, PKI.root(), Date.from(Instant.now()));
  }

  private static List<String> dnsNames(X509Certificate certificate) throws Exception {
    List<String> names = new ArrayList<>();
    Collection<List<?>> sans = certificate.getSubjectAlternativeNames();
    if (sans != null) {
      for (List<?> san : sans) {
        if ((Integer) san.get(0) == 2) {
          names.add((String) san.get(1));
        }
      }
    }
    return names;
  }

  @Test
  void leafUnderIntermediateValidatesAgainstRoot() throws Exception {
    TestPki.Issued leaf = INTER.leaf().dnsNames("mx1.example.test").issue();

    assertThat(leaf.chain()).containsExactly(leaf.certificate(), INTER.certificate());
    assertThat(leaf.chainWithRoot())
        .containsExactly(leaf.certificate(), INTER.certificate(), PKI.root().certificate());
    validate(leaf.chain());
  }

  @Test
  void deepChainsValidate() throws Exception {
    TestPki.Ca second = INTER.intermediate("mailtls Second Intermediate");
    TestPki.Ca third = second.newIntermediate("mailtls Third Intermediate").pathLength(0).issue();
    TestPki.Issued leaf = third.leaf().dnsNames("deep.example.test").issue();

    assertThat(leaf.chain()).hasSize(4);
    validate(leaf.chain());
    assertThat(third.certificate().getBasicConstraints()).isZero();
  }

  @Test
  void pathLengthZeroForbidsAnotherCaBelow() throws Exception {
    TestPki.Ca constrained = PKI.root().newIntermediate("constrained").pathLength(0).issue();
    TestPki.Ca below = constrained.intermediate("below the constraint");
    TestPki.Issued leaf = below.leaf().dnsNames("mx.example.test").issue();

    assertThatThrownBy(() -> validate(leaf.chain())).isInstanceOf(CertPathValidatorException.class);
  }

  @Test
  void certificateMarkedNotCaCannotIssue() throws Exception {
    TestPki.Ca fake = PKI.root().newIntermediate("not a CA").notCa().issue();
    TestPki.Issued leaf = fake.leaf().dnsNames("mx.example.test").issue();

    assertThat(fake.certificate().getBasicConstraints()).isEqualTo(-1);
    assertThatThrownBy(() -> validate(leaf.chain())).isInstanceOf(CertPathValidatorException.class);
  }

  @Test
  void permittedDnsNamesConstrainWhatTheCaMayCertify() throws Exception {
    TestPki.Ca constrained =
        PKI.root().newIntermediate("name-constrained").permittedDnsNames("example.test").issue();
    TestPki.Issued inside = constrained.leaf().dnsNames("mx.example.test").issue();
    TestPki.Issued outside = constrained.leaf().dnsNames("mx.other.test").issue();

    assertThat(constrained.certificate().getCriticalExtensionOIDs()).contains("2.5.29.30");
    assertThat(INTER.certificate().getExtensionValue("2.5.29.30")).isNull();
    validate(inside.chain());
    assertThatThrownBy(() -> validate(outside.chain()))
        .isInstanceOf(CertPathValidatorException.class);
    assertThatThrownBy(
            () ->
                PKI.root().newIntermediate("not a CA").notCa().permittedDnsNames("x.test").issue())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("permittedDnsNames");
    assertThatThrownBy(() -> PKI.root().newIntermediate("none").permittedDnsNames())
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void expiredAndNotYetValidAreOutOfWindow() throws Exception {
    TestPki.Issued expired = INTER.leaf().dnsNames("old.example.test").expired().issue();
    TestPki.Issued future = INTER.leaf().dnsNames("new.example.test").notYetValid().issue();
    Instant now = Instant.now();

    assertThat(expired.certificate().getNotAfter()).isBefore(Date.from(now));
    assertThatThrownBy(() -> expired.certificate().checkValidity())
        .isInstanceOf(CertificateExpiredException.class);
    assertThat(future.certificate().getNotBefore()).isAfter(Date.from(now));
    assertThatThrownBy(() -> future.certificate().checkValidity())
        .isInstanceOf(CertificateNotYetValidException.class);
    assertThatThrownBy(() -> validate(expired.chain()))
        .isInstanceOf(CertPathValidatorException.class);
    assertThatThrownBy(() -> validate(future.chain()))
        .isInstanceOf(CertPathValidatorException.class);
    // Inside their own windows they are fine: only the dates are wrong.
    validate(expired.chain(), PKI.root(), Date.from(now.minus(Duration.ofDays(10))));
    validate(future.chain(), PKI.root(), Date.from(now.plus(Duration.ofDays(10))));
  }

  @Test
  void explicitWindowFollowsTheClock() {
    Instant fixed = Instant.parse("2030-01-01T00:00:00Z");
    TestPki pki = TestPki.builder().clock(Clock.fixed(fixed, ZoneOffset.UTC)).build();
    TestPki.Issued leaf =
        pki.root()
            .leaf()
            .dnsNames("mx.example.test")
            .notBefore(fixed.plus(Duration.ofDays(2)))
            .validFor(Duration.ofDays(30))
            .issue();
    TestPki.Issued defaulted = pki.root().leaf().dnsNames("mx.example.test").issue();

    assertThat(leaf.certificate().getNotBefore().toInstant())
        .isEqualTo(fixed.plus(Duration.ofDays(2)));
    assertThat(leaf.certificate().getNotAfter().toInstant())
        .isEqualTo(fixed.plus(Duration.ofDays(32)));
    assertThat(defaulted.certificate().getNotBefore().toInstant())
        .isEqualTo(fixed.minus(Duration.ofHours(1)));
  }

  @Test
  void subjectAltNamesAsRequested() throws Exception {
    TestPki.Issued multi = INTER.leaf().dnsNames("mx1.example.test", "mx2.example.test").issue();
    TestPki.Issued wildcard = INTER.leaf().dnsNames("*.example.test").issue();
    TestPki.Issued cnOnly =
        INTER.leaf().dnsNames("cn-only.example.test").noSubjectAltName().issue();

    assertThat(dnsNames(multi.certificate()))
        .containsExactly("mx1.example.test", "mx2.example.test");
    assertThat(multi.certificate().getSubjectX500Principal().getName())
        .contains("CN=mx1.example.test");
    assertThat(dnsNames(wildcard.certificate())).containsExactly("*.example.test");
    assertThat(cnOnly.certificate().getSubjectAlternativeNames()).isNull();
    assertThat(cnOnly.dnsNames()).isEmpty();
    assertThat(cnOnly.certificate().getSubjectX500Principal().getName())
        .contains("CN=cn-only.example.test");
  }

  @Test
  void extendedKeyUsageServerAuthIsOptional() throws Exception {
    TestPki.Issued with = INTER.leaf().dnsNames("a.example.test").issue();
    TestPki.Issued without = INTER.leaf().dnsNames("b.example.test").noExtendedKeyUsage().issue();

    assertThat(with.certificate().getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.1");
    assertThat(without.certificate().getExtendedKeyUsage()).isNull();
  }

  @Test
  void keyTypesAsRequested() throws Exception {
    TestPki.Issued ec = INTER.leaf().dnsNames("ec.example.test").ec().issue();
    TestPki.Issued rsa = INTER.leaf().dnsNames("rsa.example.test").rsa().issue();

    assertThat(ec.publicKey()).isInstanceOf(ECPublicKey.class);
    assertThat(((ECPublicKey) ec.publicKey()).getParams().getCurve().getField().getFieldSize())
        .isEqualTo(256);
    assertThat(ec.certificate().getSigAlgName()).isEqualTo("SHA256withECDSA");
    assertThat(rsa.publicKey()).isInstanceOf(RSAPublicKey.class);
    assertThat(((RSAPublicKey) rsa.publicKey()).getModulus().bitLength()).isEqualTo(2048);
    validate(rsa.chain());
    // A private key signs what its certificate's public key verifies.
    for (TestPki.Issued issued : List.of(ec, rsa)) {
      String algorithm = issued == ec ? "SHA256withECDSA" : "SHA256withRSA";
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(issued.privateKey());
      signer.update(new byte[] {1, 2, 3});
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(issued.certificate());
      verifier.update(new byte[] {1, 2, 3});
      assertThat(verifier.verify(signature)).isTrue();
    }
  }

  @Test
  void rsaRootSignsWithRsa() throws Exception {
    TestPki pki = TestPki.builder().keyType(TestPki.KeyType.RSA_2048).build();
    TestPki.Issued leaf = pki.root().leaf().dnsNames("mx.example.test").ec().issue();

    assertThat(pki.root().publicKey().getAlgorithm()).isEqualTo("RSA");
    assertThat(leaf.certificate().getSigAlgName()).isEqualTo("SHA256withRSA");
    validate(leaf.chain(), pki.root(), Date.from(Instant.now()));
  }

  @Test
  void digestsMatchAnIndependentComputation() throws Exception {
    TestPki.Issued leaf = INTER.leaf().dnsNames("mx.example.test").issue();
    byte[] der = leaf.certificate().getEncoded();
    byte[] spki = leaf.certificate().getPublicKey().getEncoded();
    MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
    MessageDigest sha512 = MessageDigest.getInstance("SHA-512");

    assertThat(leaf.certificateDer()).isEqualTo(der);
    assertThat(leaf.spkiDer()).isEqualTo(spki);
    assertThat(leaf.certificateSha256()).isEqualTo(sha256.digest(der));
    assertThat(leaf.certificateSha512()).isEqualTo(sha512.digest(der));
    assertThat(leaf.spkiSha256()).isEqualTo(sha256.digest(spki));
    assertThat(leaf.spkiSha512()).isEqualTo(sha512.digest(spki));
    // RFC 6698 §2.1: 3 1 1, 2 0 1 (on the CA), 2 1 1, 2 0 0.
    assertThat(leaf.tlsaAssociationData(1, 1)).isEqualTo(sha256.digest(spki));
    assertThat(INTER.tlsaAssociationData(0, 1))
        .isEqualTo(sha256.digest(INTER.certificate().getEncoded()));
    assertThat(INTER.tlsaAssociationData(1, 1))
        .isEqualTo(sha256.digest(INTER.certificate().getPublicKey().getEncoded()));
    assertThat(PKI.root().tlsaAssociationData(0, 0))
        .isEqualTo(PKI.root().certificate().getEncoded());
    assertThat(leaf.tlsaAssociationData(1, 2)).isEqualTo(sha512.digest(spki));
    assertThatThrownBy(() -> leaf.tlsaAssociationData(2, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("2");
    assertThatThrownBy(() -> leaf.tlsaAssociationData(1, 3))
        .isInstanceOf(IllegalArgumentException.class);
  }

  /**
   * RFC 6698 §2.1.2: selector SPKI(1) is the certificate's own DER SubjectPublicKeyInfo. For a key
   * whose AlgorithmIdentifier leaves out the NULL parameters, which the JDK adds back when it
   * re-encodes the key, {@code spkiDer()}, its digests and the TLSA data are of the octets in the
   * certificate, so that records the tests publish are the records a server's operator would.
   */
  @Test
  void theSpkiIsTheCertificatesOwnOctetsAlsoWhenTheJdkReencodesTheKey() throws Exception {
    TestPki.Issued leaf =
        TestPki.selfSigned(TestPki.KeyType.RSA_2048_ABSENT_PARAMETERS, "mx.example.test");
    byte[] der = leaf.certificate().getEncoded();
    byte[] spki = leaf.spkiDer();
    byte[] reEncoded = leaf.certificate().getPublicKey().getEncoded();
    MessageDigest sha256 = MessageDigest.getInstance("SHA-256");

    assertThat(contains(der, spki)).as("the SPKI octets are the certificate's").isTrue();
    assertThat(contains(der, reEncoded)).as("the JDK's re-encoding is not in it").isFalse();
    assertThat(reEncoded).as("NULL parameters added").hasSize(spki.length + 2);
    assertThat(SubjectPublicKeyInfo.getInstance(spki).getAlgorithm().getParameters()).isNull();
    assertThat(leaf.spkiSha256()).isEqualTo(sha256.digest(spki));
    assertThat(leaf.tlsaAssociationData(1, 0)).isEqualTo(spki);
    assertThat(Tlsa.associationData(leaf.certificate(), 1, 1)).isEqualTo(sha256.digest(spki));
    leaf.certificate().verify(leaf.publicKey());
  }

  /** A CA of that key type issues a chain PKIX accepts; a leaf with a given key is as usual. */
  @Test
  void aCaWhoseKeyLacksNullParametersIssuesValidChains() throws Exception {
    TestPki pki = TestPki.builder().keyType(TestPki.KeyType.RSA_2048_ABSENT_PARAMETERS).build();
    TestPki.Ca inter = pki.root().newIntermediate("mailtls absent parameters").ec().issue();
    TestPki.Issued leaf = inter.leaf().dnsNames("mx.example.test").issue();
    TestPki.Issued direct =
        pki.root().leaf().dnsNames("mx.example.test").key(leaf.keyPair()).issue();

    validate(leaf.chain(), pki.root(), Date.from(Instant.now()));
    validate(direct.chain(), pki.root(), Date.from(Instant.now()));
    assertThat(
            SubjectPublicKeyInfo.getInstance(pki.root().spkiDer()).getAlgorithm().getParameters())
        .isNull();
    assertThat(pki.root().spkiDer()).isNotEqualTo(pki.root().publicKey().getEncoded());
    assertThat(direct.spkiDer()).isEqualTo(leaf.spkiDer());
    assertThat(leaf.spkiDer()).isEqualTo(leaf.publicKey().getEncoded());
  }

  private static boolean contains(byte[] outer, byte[] inner) {
    for (int i = 0; i + inner.length <= outer.length; i++) {
      if (Arrays.equals(outer, i, i + inner.length, inner, 0, inner.length)) {
        return true;
      }
    }
    return false;
  }

  @Test
  void everyCertificateHasItsOwnKeyUnlessOneIsGiven() {
    TestPki.Issued first = INTER.leaf().dnsNames("mx.example.test").issue();
    TestPki.Issued second = INTER.leaf().dnsNames("mx.example.test").issue();
    TestPki.Issued renewed =
        INTER
            .leaf()
            .dnsNames("mx.example.test")
            .key(first.keyPair())
            .validFor(Duration.ofDays(400))
            .issue();

    assertThat(second.spkiSha256()).isNotEqualTo(first.spkiSha256());
    assertThat(renewed.spkiSha256()).isEqualTo(first.spkiSha256());
    assertThat(renewed.certificateSha256()).isNotEqualTo(first.certificateSha256());
    assertThat(PKI.otherCa().spkiSha256()).isNotEqualTo(PKI.root().spkiSha256());
  }

  @Test
  void selfSignedIsItsOwnChain() throws Exception {
    TestPki.Issued self = TestPki.selfSigned("mx.example.test");

    assertThat(self.chain()).containsExactly(self.certificate());
    assertThat(self.certificate().getIssuerX500Principal())
        .isEqualTo(self.certificate().getSubjectX500Principal());
    self.certificate().verify(self.publicKey());
    assertThat(self.certificate().getBasicConstraints()).isEqualTo(-1);
    assertThatThrownBy(() -> validate(self.chain())).isInstanceOf(CertPathValidatorException.class);
  }

  @Test
  void otherCaIsNotTrusted() throws Exception {
    TestPki.Issued foreign = PKI.otherCa().leaf().dnsNames("mx.example.test").issue();
    X509TrustManager trust = PKI.trustManager();

    assertThatThrownBy(() -> validate(foreign.chain()))
        .isInstanceOf(CertPathValidatorException.class);
    assertThatThrownBy(
            () ->
                trust.checkServerTrusted(
                    foreign.chain().toArray(new X509Certificate[0]), "ECDHE_ECDSA"))
        .isInstanceOf(java.security.cert.CertificateException.class);
    TestPki.Issued mine = INTER.leaf().dnsNames("mx.example.test").issue();
    trust.checkServerTrusted(mine.chain().toArray(new X509Certificate[0]), "ECDHE_ECDSA");
  }

  @Test
  void trustStoreHoldsOnlyTheRoot() throws Exception {
    KeyStore store = PKI.trustStore();

    assertThat(store.getType()).isEqualToIgnoringCase("PKCS12");
    assertThat(store.size()).isEqualTo(1);
    String alias = store.aliases().nextElement();
    assertThat(store.isCertificateEntry(alias)).isTrue();
    assertThat(store.getCertificate(alias)).isEqualTo(PKI.root().certificate());
  }

  @Test
  void keyStoreHoldsKeyAndChain() throws Exception {
    TestPki.Issued leaf = INTER.leaf().dnsNames("mx.example.test").issue();
    char[] password = "secret".toCharArray();
    KeyStore store = leaf.keyStore(password);

    assertThat(store.getKey("server", password)).isEqualTo(leaf.privateKey());
    assertThat(store.getCertificateChain("server"))
        .containsExactly(leaf.chain().toArray(new Certificate[0]));
  }

  @Test
  void pemRoundTrips() throws Exception {
    TestPki.Issued leaf = INTER.leaf().dnsNames("mx.example.test").issue();
    CertificateFactory factory = CertificateFactory.getInstance("X.509");

    List<Certificate> parsed =
        new ArrayList<>(
            factory.generateCertificates(
                new ByteArrayInputStream(leaf.chainPem().getBytes(StandardCharsets.US_ASCII))));
    assertThat(parsed).containsExactlyElementsOf(leaf.chain());
    assertThat(leaf.certificatePem()).startsWith("-----BEGIN CERTIFICATE-----\n");

    String pem = leaf.privateKeyPem();
    assertThat(pem)
        .startsWith("-----BEGIN PRIVATE KEY-----\n")
        .endsWith("-----END PRIVATE KEY-----\n");
    String base64 = pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
    PrivateKey key =
        KeyFactory.getInstance("EC")
            .generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(base64)));
    assertThat(key).isEqualTo(leaf.privateKey());
  }

  @Test
  void keyManagerPresentsTheChosenChain() {
    TestPki.Issued leaf = INTER.leaf().dnsNames("mx.example.test").issue();
    List<X509Certificate> withStranger = List.of(leaf.certificate(), PKI.otherCa().certificate());

    assertThat(leaf.keyManager().chooseServerAlias("EC", null, null)).isNotNull();
    assertThat(leaf.keyManager().chooseServerAlias("RSA", null, null)).isNull();
    String alias = leaf.keyManager(withStranger).chooseServerAlias("EC", null, null);
    assertThat(leaf.keyManager(withStranger).getCertificateChain(alias))
        .containsExactly(withStranger.toArray(new X509Certificate[0]));
    assertThatThrownBy(() -> leaf.keyManager(List.of(INTER.certificate())))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void buildersRejectSecondCallsAndContradictions() {
    TestPki.LeafBuilder builder = INTER.leaf().dnsNames("mx.example.test");

    assertThatThrownBy(() -> builder.dnsNames("again.example.test"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("dnsNames");
    builder.expired();
    assertThatThrownBy(() -> builder.notBefore(Instant.now()))
        .isInstanceOf(IllegalStateException.class);
    builder.issue();
    assertThatThrownBy(builder::issue).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> INTER.leaf().issue())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("dnsNames");
    assertThatThrownBy(() -> INTER.leaf().dnsNames("bad name"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(
            () ->
                INTER
                    .leaf()
                    .dnsNames("x.test")
                    .notBefore(Instant.now())
                    .notAfter(Instant.now().minusSeconds(5))
                    .issue())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("notAfter");
    assertThatThrownBy(() -> TestPki.builder().rootName("a").rootName("b"))
        .isInstanceOf(IllegalStateException.class);
  }
}
