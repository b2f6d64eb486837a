package io.mailtls.core.internal.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailtls.core.CertificatePin;
import io.mailtls.core.FailureType;
import io.mailtls.core.TlsRequirement;
import io.mailtls.testkit.TestPki;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Postfix {@code fingerprint} on testkit certificates: the leaf's certificate or SPKI digest must
 * be pinned; nothing else (chain, name, issuer) counts, and the pins are the verification's
 * identity.
 */
class FingerprintTrustManagerTest {

  private static final TestPki PKI = TestPki.create();
  private static final TestPki.Issued LEAF = PKI.root().leaf().dnsNames("mx.example.test").issue();
  private static final TestPki.Issued OTHER = TestPki.selfSigned("mx.example.test");

  private static X509Certificate[] chain(TestPki.Issued issued) {
    return issued.chain().toArray(X509Certificate[]::new);
  }

  @Test
  void aPinnedCertificateDigestMatchesTheLeafOnly() {
    var tm =
        new FingerprintTrustManager(
            List.of(CertificatePin.of(CertificatePin.Kind.CERTIFICATE, LEAF.certificateSha256())));
    assertThatCode(() -> tm.checkServerTrusted(chain(LEAF), "UNKNOWN")).doesNotThrowAnyException();
    assertThatThrownBy(() -> tm.checkServerTrusted(chain(OTHER), "UNKNOWN"))
        .isInstanceOfSatisfying(
            CertificateFailure.class,
            f -> assertThat(f.type()).isEqualTo(FailureType.VALIDATION_FAILURE))
        .hasMessageContaining("matches none of the 1 pinned fingerprint(s)")
        .hasMessageContaining(
            CertificatePin.of(CertificatePin.Kind.CERTIFICATE, OTHER.certificateSha256())
                .toString());
    // the issuer's digest pins the issuer, not a leaf it signed
    var issuerPinned =
        new FingerprintTrustManager(
            List.of(
                CertificatePin.of(
                    CertificatePin.Kind.CERTIFICATE, PKI.root().certificateSha256())));
    assertThatThrownBy(() -> issuerPinned.checkServerTrusted(chain(LEAF), "UNKNOWN"))
        .isInstanceOf(CertificateFailure.class);
  }

  @Test
  void aPinnedPublicKeyMatchesAnyCertificateForThatKeyButNotItsCertificateDigest() {
    var spki =
        new FingerprintTrustManager(
            List.of(CertificatePin.of(CertificatePin.Kind.PUBLIC_KEY, LEAF.spkiSha256())));
    assertThatCode(() -> spki.checkServerTrusted(chain(LEAF), "UNKNOWN"))
        .doesNotThrowAnyException();
    // the SPKI digest written as a certificate digest matches nothing
    var confused =
        new FingerprintTrustManager(
            List.of(CertificatePin.of(CertificatePin.Kind.CERTIFICATE, LEAF.spkiSha256())));
    assertThatThrownBy(() -> confused.checkServerTrusted(chain(LEAF), "UNKNOWN"))
        .isInstanceOf(CertificateFailure.class);
    assertThatThrownBy(() -> spki.checkServerTrusted(new X509Certificate[0], "UNKNOWN"))
        .isInstanceOf(CertificateFailure.class)
        .hasMessageContaining("no server certificate");
  }

  @Test
  void thePinsAreTheVerificationSoOtherPinsNeverShareASessionOrConnection() {
    CertificatePin a = CertificatePin.of(CertificatePin.Kind.CERTIFICATE, LEAF.certificateSha256());
    CertificatePin b = CertificatePin.of(CertificatePin.Kind.PUBLIC_KEY, LEAF.spkiSha256());
    TlsVerification ab = TlsVerification.of(new TlsRequirement.Fingerprint(List.of(a, b)));
    assertThat(ab).isEqualTo(new TlsVerification.Fingerprint(Set.of(b, a)));
    assertThat(ab).isEqualTo(TlsVerification.of(new TlsRequirement.Fingerprint(List.of(b, a))));
    assertThat(ab).isNotEqualTo(TlsVerification.of(new TlsRequirement.Fingerprint(List.of(a))));
    assertThat(ab.authenticates()).isTrue();
    assertThat(ab).isNotEqualTo(TlsVerification.UNAUTHENTICATED);
  }

  @Test
  void pinsParseInBothWrittenForms() {
    String colons =
        CertificatePin.of(CertificatePin.Kind.CERTIFICATE, LEAF.certificateSha256()).toString();
    assertThat(colons).startsWith("sha256:").matches("sha256:([0-9A-F]{2}:){31}[0-9A-F]{2}");
    assertThat(
            CertificatePin.parse(
                colons
                    .toLowerCase(java.util.Locale.ROOT)
                    .replace(":", "")
                    .replaceFirst("sha256", "sha256:")))
        .isEqualTo(CertificatePin.parse(colons));
    assertThatThrownBy(() -> CertificatePin.parse("sha1:" + "ab".repeat(20)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  /**
   * A public-key pin is the SHA-256 of the leaf's own DER SubjectPublicKeyInfo, as Postfix computes
   * it, not of the JDK's re-encoding of the key: for an RSA key whose AlgorithmIdentifier omits the
   * NULL parameters (the JDK adds them back), the pin of the certificate's octets matches and the
   * pin of the re-encoding, octets the certificate does not hold, does not.
   */
  @Test
  void aPublicKeyPinIsOfTheCertificatesOwnKeyOctets() throws Exception {
    TestPki.Issued rsa =
        TestPki.selfSigned(TestPki.KeyType.RSA_2048_ABSENT_PARAMETERS, "mx.example.test");
    X509Certificate leaf = rsa.certificate();
    byte[] own = rsa.spkiSha256();
    byte[] reEncoded =
        MessageDigest.getInstance("SHA-256").digest(leaf.getPublicKey().getEncoded());
    assertThat(reEncoded).as("the JDK re-encodes this key").isNotEqualTo(own);
    X509Certificate[] sent = {leaf};
    var pinned =
        new FingerprintTrustManager(
            List.of(CertificatePin.of(CertificatePin.Kind.PUBLIC_KEY, own)));
    assertThatCode(() -> pinned.checkServerTrusted(sent, "UNKNOWN")).doesNotThrowAnyException();
    var other =
        new FingerprintTrustManager(
            List.of(CertificatePin.of(CertificatePin.Kind.PUBLIC_KEY, reEncoded)));
    assertThatThrownBy(() -> other.checkServerTrusted(sent, "UNKNOWN"))
        .isInstanceOf(CertificateFailure.class);
  }
}
