package io.mailtls.core.internal.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DomainName;
import io.mailtls.core.FailureType;
import io.mailtls.core.TlsContextFactory;
import io.mailtls.core.TlsRequirement;
import io.mailtls.testkit.TestPki;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;

/** What a peer may do to {@link TlsSupport} beyond a plain handshake, on real TLS sockets. */
class TlsSupportPeerTest {

  private static final TestPki PKI = TestPki.create();
  private static final DomainName MX = DomainName.of("mx.example.test");

  /**
   * A TLS 1.2 server that asks for a renegotiation after each handshake, refusing to resume: the
   * second, full handshake checks the certificate again (it must pass), but the resuming context,
   * which lives as long as the transport, keeps nothing of a connection once its handshake is
   * finished. Before, each such session left its socket in the trust manager's record for good.
   */
  @Test
  void aRenegotiatingServerLeavesNothingBehindInTheResumingContext() throws Exception {
    int sessions = 4;
    try (SSLServerSocket server =
        (SSLServerSocket)
            PKI.root()
                .leaf()
                .dnsNames(MX.toString())
                .ec()
                .issue()
                .serverSslContext()
                .getServerSocketFactory()
                .createServerSocket(0, 10, InetAddress.getLoopbackAddress())) {
      server.setEnabledProtocols(new String[] {"TLSv1.2"});
      // Each renegotiation under another suite than the session's: it cannot resume (a session
      // ticket would outlive invalidate()), so the client checks the certificate again.
      String first = "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256";
      String second = "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384";
      server.setEnabledCipherSuites(new String[] {first});
      CompletableFuture<Void> peer =
          CompletableFuture.runAsync(
              () -> {
                for (int i = 0; i < sessions; i++) {
                  try (SSLSocket s = (SSLSocket) server.accept()) {
                    s.setSoTimeout(10_000);
                    s.startHandshake();
                    s.setEnabledCipherSuites(new String[] {second});
                    // Once the client has renegotiated, a byte for it to read.
                    s.addHandshakeCompletedListener(
                        done -> {
                          try {
                            OutputStream out = s.getOutputStream();
                            out.write('x');
                            out.flush();
                          } catch (IOException e) {
                            throw new java.io.UncheckedIOException(e);
                          }
                        });
                    s.startHandshake(); // a HelloRequest
                    s.getInputStream().read(); // drives the renegotiation, then the client's byte
                  } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                  }
                }
              });
      TlsSupport tls = new TlsSupport(PKI.trustStore(), TlsContextFactory.JDK, Optional.empty());
      InetSocketAddress address =
          new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort());
      TlsRequirement.Pkix requirement = new TlsRequirement.Pkix(List.of(MX));
      int tracked = -1;
      for (int i = 0; i < sessions; i++) {
        Socket plain = new Socket(address.getAddress(), address.getPort());
        TlsSupport.Handshake h = tls.resumable(plain, address, Optional.of(MX), requirement);
        try (SSLSocket s = h.socket()) {
          s.setSoTimeout(10_000);
          s.startHandshake();
          Optional<TlsSupport.Checked> checked = h.finish();
          if (i == 0) {
            assertThat(checked).as("the first handshake was checked").isPresent();
          }
          InputStream in = s.getInputStream();
          assertThat(in.read()).as("read through the renegotiation").isEqualTo('x');
          s.getOutputStream().write('y');
          s.getOutputStream().flush();
        }
        tracked = h.tracked();
      }
      peer.get(30, TimeUnit.SECONDS);
      assertThat(tracked).as("sockets the resuming context still keeps").isZero();
    }
  }

  /**
   * Whatever the JVM's properties or a provider enable, no suite that authenticates the server by
   * no certificate or encrypts nothing is offered: under one, a handshake ends without a
   * certificate check, or sends the mail in the clear. Signalling suites stay.
   */
  @Test
  void anonymousNullAndExportSuitesAreNeverOffered() {
    String[] kept =
        TlsSupport.authenticatedSuites(
            new String[] {
              "TLS_AES_128_GCM_SHA256",
              "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
              "TLS_ECDH_anon_WITH_AES_128_CBC_SHA",
              "TLS_DH_anon_WITH_AES_256_GCM_SHA384",
              "TLS_ECDHE_ECDSA_WITH_NULL_SHA",
              "TLS_RSA_WITH_NULL_SHA256",
              "SSL_RSA_EXPORT_WITH_RC4_40_MD5",
              "TLS_PSK_WITH_AES_128_GCM_SHA256",
              "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256",
              "TLS_SRP_SHA_WITH_AES_128_CBC_SHA",
              "TLS_KRB5_WITH_3DES_EDE_CBC_SHA",
              "TLS_SHA256_SHA256",
              "TLS_SHA384_SHA384",
              "TLS_EMPTY_RENEGOTIATION_INFO_SCSV",
            });
    assertThat(kept)
        .containsExactly(
            "TLS_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_EMPTY_RENEGOTIATION_INFO_SCSV");
  }

  /**
   * A certificate from a trusted CA naming the MX host only in its subject CN fails a WebPKI check:
   * RFC 8461 §4.2 requires a subjectAltName DNS-ID matching the MX host.
   */
  @Test
  void aWebPkiCheckRefusesACertificateThatNamesTheHostOnlyInItsCommonName() {
    TlsSupport tls = new TlsSupport(PKI.trustStore(), TlsContextFactory.JDK, Optional.empty());
    TestPki.Issued cnOnly = PKI.root().leaf().commonName(MX.toString()).noSubjectAltName().issue();
    CertificateFailure f = tls.audit(cnOnly.chain(), new TlsRequirement.Pkix(List.of(MX)));
    assertThat(f).isNotNull();
    assertThat(f.type()).isEqualTo(FailureType.CERTIFICATE_HOST_MISMATCH);
    TestPki.Issued san = PKI.root().leaf().dnsNames(MX.toString()).issue();
    assertThat(tls.audit(san.chain(), new TlsRequirement.Pkix(List.of(MX)))).isNull();
  }

  /** The MTA-STS testing-mode audit of an empty chain is a failure, never an exception. */
  @Test
  void anAuditOfNoCertificateIsAFailure() {
    TlsSupport tls = new TlsSupport(PKI.trustStore(), TlsContextFactory.JDK, Optional.empty());
    CertificateFailure f = tls.audit(List.of(), new TlsRequirement.Pkix(List.of(MX)));
    assertThat(f).isNotNull();
    assertThat(f.type()).isEqualTo(FailureType.CERTIFICATE_NOT_TRUSTED);
  }
}
