package io.mailtls.core.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.Authentication;
import io.mailtls.core.CertificatePin;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DestinationPolicy;
import io.mailtls.core.DestinationPolicyMap;
import io.mailtls.core.DomainName;
import io.mailtls.core.FailureType;
import io.mailtls.core.PolicySource;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.TlsRequirement;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.TestPki;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15, per-destination policy map, against real peers: the testkit's signed DNS and mock SMTP
 * servers with STARTTLS. {@code fingerprint} and {@code verify} entries against testkit
 * certificates (a match delivers, a mismatch defers), pins in the connection and session keys, an
 * entry's relay, and a map reloaded from its file without a restart.
 */
class PolicyMapDeliveryTest {

  private static final String MX = "mx.example.test";
  private static final TestPki.Issued SELF_SIGNED = TestPki.selfSigned(MX);
  private static final TestPki.Issued OTHER_SELF_SIGNED = TestPki.selfSigned(MX);

  private static final CertificatePin CERT_PIN =
      CertificatePin.of(CertificatePin.Kind.CERTIFICATE, SELF_SIGNED.certificateSha256());
  private static final CertificatePin SPKI_PIN =
      CertificatePin.of(CertificatePin.Kind.PUBLIC_KEY, SELF_SIGNED.spkiSha256());
  private static final CertificatePin WRONG_PIN =
      CertificatePin.of(CertificatePin.Kind.CERTIFICATE, OTHER_SELF_SIGNED.certificateSha256());

  /** An MX host with a self-signed certificate for {@code example.test} and {@code other.test}. */
  private static void selfSignedMx(Fixture f) {
    MockSmtpServer s =
        f.server("127.0.0.2", b -> b.hostname(MX).tls(SELF_SIGNED.serverSslContext()));
    f.dns(
        d ->
            d.zone("example.test", z -> z.mailHost("example.test", 10, MX, s))
                .zone("other.test", z -> z.mx("other.test", 10, MX)));
  }

  private static SecureSmtpTransport transport(Fixture f, DestinationPolicyMap map) {
    return f.transport(
        TlsLevel.OPPORTUNISTIC,
        b -> b.destinationPolicies(map).trustStore(Fixture.PKI.trustStore()));
  }

  private static RecipientResult send(SecureSmtpTransport t, String rcpt) {
    return Fixture.send(t, rcpt).result(rcpt);
  }

  @Test
  void aFingerprintEntryDeliversToTheServerWhoseCertificateOrKeyIsPinned() throws Exception {
    try (Fixture f = new Fixture()) {
      selfSignedMx(f);
      DestinationPolicyMap map =
          DestinationPolicyMap.builder()
              .put("example.test", DestinationPolicy.fingerprint(WRONG_PIN, CERT_PIN))
              .put("other.test", DestinationPolicy.fingerprint(SPKI_PIN))
              .build();
      SecureSmtpTransport t = transport(f, map);
      for (String rcpt : new String[] {"b@example.test", "c@other.test"}) {
        RecipientResult r = send(t, rcpt);
        assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DELIVERED);
        assertThat(r.authentication()).contains(Authentication.VERIFIED);
        assertThat(r.attempt().orElseThrow().source()).isEqualTo(PolicySource.POLICY_MAP);
        assertThat(r.attempt().orElseThrow().requirement())
            .isInstanceOf(TlsRequirement.Fingerprint.class);
        assertThat(r.plan().reasons())
            .anyMatch(l -> l.startsWith("policy map entry " + r.recipient().domain() + ": "));
      }
    }
  }

  @Test
  void aFingerprintMismatchDefersAndNeverReusesAConnectionVerifiedUnderOtherPins()
      throws Exception {
    try (Fixture f = new Fixture()) {
      selfSignedMx(f);
      DestinationPolicyMap map =
          DestinationPolicyMap.builder()
              .put("example.test", DestinationPolicy.fingerprint(CERT_PIN))
              .put("other.test", DestinationPolicy.fingerprint(WRONG_PIN))
              .build();
      SecureSmtpTransport t = transport(f, map);
      // the first leaves a connection verified by CERT_PIN in the pool, and a resumable session
      assertThat(send(t, "b@example.test").status()).isEqualTo(DeliveryStatus.DELIVERED);
      RecipientResult r = send(t, "c@other.test");
      assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(r.attempt().orElseThrow().failure()).contains(FailureType.VALIDATION_FAILURE);
      assertThat(r.attempt().orElseThrow().detail()).contains("pinned fingerprint");
      // one message delivered, over one session; the second domain's handshake was its own
      assertThat(f.lastServer().messages()).hasSize(1);
    }
  }

  @Test
  void aVerifyEntryChecksTheNamesItListsOrElseTheMxHostName() throws Exception {
    try (Fixture f = new Fixture()) {
      // A WebPKI certificate naming the provider, not the MX host (a hosted mail service).
      MockSmtpServer s =
          f.server("127.0.0.2", b -> b.hostname(MX).tls(Fixture.certFor("smtp.provider.test")));
      f.dns(
          d ->
              d.zone("example.test", z -> z.mailHost("example.test", 10, MX, s))
                  .zone("other.test", z -> z.mx("other.test", 10, MX)));
      DestinationPolicyMap map =
          DestinationPolicyMap.builder()
              .put("example.test", DestinationPolicy.verify(DomainName.of("smtp.provider.test")))
              .put(".test", DestinationPolicy.verify())
              .build();
      SecureSmtpTransport t = transport(f, map);
      RecipientResult ok = send(t, "b@example.test");
      assertThat(ok.status()).as("%s", ok).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(ok.authentication()).contains(Authentication.VERIFIED);
      assertThat(ok.attempt().orElseThrow().requirement())
          .isEqualTo(
              new TlsRequirement.Pkix(java.util.List.of(DomainName.of("smtp.provider.test"))));
      // other.test falls under the parent-domain entry .test: verify against the MX host name
      RecipientResult mismatch = send(t, "c@other.test");
      assertThat(mismatch.status()).as("%s", mismatch).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(mismatch.attempt().orElseThrow().failure())
          .contains(FailureType.CERTIFICATE_HOST_MISMATCH);
      assertThat(mismatch.plan().reasons()).anyMatch(l -> l.startsWith("policy map entry .test: "));
    }
  }

  @Test
  void anEntrysRelayTakesTheDestinationsMailOnItsPort() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = f.server("127.0.0.2", b -> b.hostname(MX).tls(Fixture.certFor(MX)));
      try (MockSmtpServer relay =
          MockSmtpServer.builder()
              .address(Fixture.inet("127.0.0.3"))
              .hostname("relay.example.test")
              .tls(Fixture.certFor("relay.example.test"))
              .start()) {
        f.dns(
            d ->
                d.zone(
                    "example.test",
                    z ->
                        z.mailHost("example.test", 10, MX, mx)
                            .a("relay.example.test", "127.0.0.3")));
        DestinationPolicyMap map =
            DestinationPolicyMap.builder()
                .put(
                    "example.test",
                    DestinationPolicy.verify()
                        .withRelay(
                            DestinationPolicy.Relay.parse("relay.example.test:" + relay.port())))
                .build();
        RecipientResult r = send(transport(f, map), "b@example.test");
        assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DELIVERED);
        assertThat(r.mxHost()).contains(DomainName.of("relay.example.test"));
        assertThat(r.attempt().orElseThrow().address().getPort()).isEqualTo(relay.port());
        assertThat(r.authentication()).contains(Authentication.VERIFIED);
        assertThat(r.plan().reasons())
            .anyMatch(l -> l.startsWith("policy map relay relay.example.test:" + relay.port()));
        assertThat(relay.messages()).hasSize(1);
        assertThat(mx.sessions()).isEmpty();
      }
    }
  }

  @Test
  void aReloadedMapAppliesWithoutARestartAndABrokenFileKeepsTheLastGoodOne(@TempDir Path dir)
      throws Exception {
    try (Fixture f = new Fixture()) {
      selfSignedMx(f);
      Path file = dir.resolve("tls_policy");
      Files.writeString(file, "# pinned\nexample.test fingerprint " + WRONG_PIN + "\n");
      DestinationPolicyMap.Reloading map = DestinationPolicyMap.reloading(file, Duration.ZERO);
      SecureSmtpTransport t = transport(f, map);
      assertThat(send(t, "b@example.test").status()).isEqualTo(DeliveryStatus.DEFERRED);

      Files.writeString(file, "example.test fingerprint " + CERT_PIN + "\n");
      touch(file, 1);
      assertThat(send(t, "b@example.test").status()).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(map.lastError()).isEmpty();

      Files.writeString(file, "example.test fingerprint sha256:00\n", StandardCharsets.UTF_8);
      touch(file, 2);
      RecipientResult r = send(t, "b@example.test");
      assertThat(r.status()).isEqualTo(DeliveryStatus.DELIVERED); // the last good map
      assertThat(map.lastError().orElseThrow().line()).isEqualTo(1);
      assertThat(map.lastError().orElseThrow().getMessage())
          .contains("line 1:")
          .endsWith("keeping the last good map");
    }
  }

  /**
   * A modification time of its own, whatever the file system's resolution, and far enough in the
   * past that the reloading map takes the file at once (a file modified within its settle time may
   * still be being written).
   */
  static void touch(Path file, int seconds) throws java.io.IOException {
    Files.setLastModifiedTime(
        file,
        java.nio.file.attribute.FileTime.fromMillis(
            Files.getLastModifiedTime(file).toMillis() - 60_000L + seconds * 1000L));
  }
}
