package io.mailtls.dane;

import static io.mailtls.dane.DaneTrustManagerTest.INTER;
import static io.mailtls.dane.DaneTrustManagerTest.LEAF;
import static io.mailtls.dane.DaneTrustManagerTest.MX;
import static io.mailtls.dane.DaneTrustManagerTest.ROOT;
import static io.mailtls.dane.DaneTrustManagerTest.record;
import static io.mailtls.dane.DaneTrustManagerTest.requirement;
import static io.mailtls.dane.DaneTrustManagerTest.wrong;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailtls.core.DnsRecord;
import io.mailtls.core.FailureType;
import io.mailtls.core.internal.tls.CertificateFailure;
import io.mailtls.testkit.TestPki;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The trust manager inside real JSSE handshakes on loopback, configured as the transport does (SNI
 * = TLSA base domain, endpoint identification off): it is consulted, a match completes the
 * handshake, and a rejection surfaces as core's typed {@link CertificateFailure}.
 */
class DaneHandshakeTest {

  /** Runs one handshake: the server presents {@code server}; returns the client's manager. */
  private static DaneTrustManager handshake(
      SSLContext server, String protocol, DnsRecord.Tlsa... records) throws Exception {
    DaneTrustManager tm = new DaneTrustManager(requirement(List.of(MX), records));
    try (SSLServerSocket listener =
        (SSLServerSocket)
            server
                .getServerSocketFactory()
                .createServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Thread peer =
          new Thread(
              () -> {
                try (SSLSocket s = (SSLSocket) listener.accept()) {
                  s.setSoTimeout(5000);
                  s.startHandshake();
                  InputStream in = s.getInputStream();
                  while (in.read() >= 0) {
                    // until the client closes
                  }
                } catch (IOException expectedWhenTheClientRejects) {
                  // the client's verdict is what the test checks
                }
              },
              "dane-test-tls-server");
      peer.setDaemon(true);
      peer.start();
      SSLContext client = SSLContext.getInstance("TLS");
      client.init(null, new TrustManager[] {tm}, null);
      try (SSLSocket socket =
          (SSLSocket)
              client
                  .getSocketFactory()
                  .createSocket(InetAddress.getLoopbackAddress(), listener.getLocalPort())) {
        socket.setSoTimeout(5000);
        SSLParameters params = socket.getSSLParameters();
        params.setProtocols(new String[] {protocol});
        params.setServerNames(List.of(new SNIHostName(MX))); // RFC 7672 §8.1
        params.setEndpointIdentificationAlgorithm(null); // names are DANE's business
        socket.setSSLParameters(params);
        socket.startHandshake();
      } finally {
        peer.join(10_000);
      }
    }
    return tm;
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
  void daneEeAuthenticatesASelfSignedExpiredMisnamedServer(String protocol) throws Exception {
    TestPki.Issued self = TestPki.selfSignedLeaf().dnsNames("nobody.invalid").expired().issue();
    DnsRecord.Tlsa ee = record(3, 1, 1, self);
    DaneTrustManager tm = handshake(self.serverSslContext(), protocol, wrong(3, 1, 1), ee);
    assertThat(tm.matchedRecord()).contains(ee);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
  void daneTaAuthenticatesThroughTheIntermediate(String protocol) throws Exception {
    DnsRecord.Tlsa ta = record(2, 0, 1, INTER);
    DaneTrustManager tm = handshake(LEAF.serverSslContext(), protocol, ta);
    assertThat(tm.matchedRecord()).contains(ta);
  }

  @Test
  void daneTaWithTheAnchorOnlyInDns() throws Exception {
    DnsRecord.Tlsa full = record(2, 0, 0, ROOT);
    DaneTrustManager tm = handshake(LEAF.serverSslContext(LEAF.chain()), "TLSv1.3", full);
    assertThat(tm.matchedRecord()).contains(full);
  }

  @Test
  void aMismatchAbortsTheHandshakeWithATypedFailure() {
    assertThatThrownBy(() -> handshake(LEAF.serverSslContext(), "TLSv1.3", wrong(3, 1, 1)))
        .isInstanceOf(SSLHandshakeException.class)
        .satisfies(
            e -> {
              CertificateFailure f = CertificateFailure.find(e);
              assertThat(f).isNotNull();
              assertThat(f.type()).isEqualTo(FailureType.CERTIFICATE_NOT_TRUSTED);
              assertThat(f.getMessage()).contains("Peer certificate chain");
            });
  }

  @Test
  void aDaneTaNameMismatchAbortsTheHandshake() {
    TestPki.Issued misnamed = INTER.leaf().dnsNames("other.example.test").issue();
    assertThatThrownBy(
            () -> handshake(misnamed.serverSslContext(), "TLSv1.2", record(2, 1, 1, INTER)))
        .isInstanceOf(SSLHandshakeException.class)
        .satisfies(
            e ->
                assertThat(CertificateFailure.find(e).type())
                    .isEqualTo(FailureType.CERTIFICATE_HOST_MISMATCH));
  }

  /**
   * RFC 5280 §4.2.1.9, §6.1.4 (l): a pathLenConstraint limits only the intermediates that are not
   * self-issued, in DANE-TA's anchor too (RFC 7671 §5.2, as OpenSSL counts them). During a CA key
   * rollover the server sends its leaf, issued under the CA's new key, with the link certificate
   * that carries the new key under the same name, signed by the old one (self-issued), while the
   * DANE-TA record still names the old certificate, whose pathLenConstraint is 0.
   */
  @Test
  void aSelfIssuedRolloverCertificateDoesNotCountAgainstTheAnchorsPathLength() throws Exception {
    TestPki.Ca old = ROOT.newIntermediate("mailtls Rollover CA").pathLength(0).issue();
    TestPki.Ca renewed = old.intermediate("mailtls Rollover CA");
    assertThat(renewed.certificate().getSubjectX500Principal())
        .isEqualTo(renewed.certificate().getIssuerX500Principal());
    TestPki.Issued leaf = renewed.leaf().dnsNames(MX).issue();
    DnsRecord.Tlsa ta = record(2, 0, 1, old);
    DaneTrustManager tm =
        handshake(
            leaf.serverSslContext(
                List.of(leaf.certificate(), renewed.certificate(), old.certificate())),
            "TLSv1.3",
            ta);
    assertThat(tm.matchedRecord()).contains(ta);
  }

  /**
   * RFC 6698 §2.1.2: selector SPKI(1) is the certificate's own DER SubjectPublicKeyInfo. A server
   * whose RSA key is encoded with absent AlgorithmIdentifier parameters (the JDK re-encodes it with
   * NULL) is authenticated by a record over the octets in its certificate, and not by one over the
   * re-encoding, which the certificate does not contain.
   */
  @ParameterizedTest(name = "3 1 {0}")
  @ValueSource(ints = {0, 1, 2})
  void spkiIsTheCertificatesOwnEncoding(int matching) throws Exception {
    TestPki.Issued server = TestPki.selfSigned(TestPki.KeyType.RSA_2048_ABSENT_PARAMETERS, MX);
    byte[] reEncoded = server.certificate().getPublicKey().getEncoded();
    assertThat(reEncoded).as("the JDK re-encodes this key").isNotEqualTo(server.spkiDer());
    DnsRecord.Tlsa own = new DnsRecord.Tlsa(3, 1, matching, data(server.spkiDer(), matching));
    DaneTrustManager tm = handshake(server.serverSslContext(), "TLSv1.3", own);
    assertThat(tm.matchedRecord()).contains(own);

    DnsRecord.Tlsa other = new DnsRecord.Tlsa(3, 1, matching, data(reEncoded, matching));
    assertThatThrownBy(() -> handshake(server.serverSslContext(), "TLSv1.2", other))
        .isInstanceOf(SSLHandshakeException.class)
        .satisfies(
            e -> {
              CertificateFailure f = CertificateFailure.find(e);
              assertThat(f).isNotNull();
              assertThat(f.type()).isEqualTo(FailureType.CERTIFICATE_NOT_TRUSTED);
              // The diagnostic offers the digest of the octets a record must be made of.
              assertThat(f.getMessage()).contains(HexFormat.of().formatHex(server.spkiSha256()));
            });
  }

  private static byte[] data(byte[] selected, int matching) throws Exception {
    return matching == 0
        ? selected
        : MessageDigest.getInstance(matching == 1 ? "SHA-256" : "SHA-512").digest(selected);
  }
}
