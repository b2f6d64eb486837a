package io.mailtls.interop;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.Authentication;
import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DnsResolver;
import io.mailtls.core.Envelope;
import io.mailtls.core.MessageContent;
import io.mailtls.core.PolicySource;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SenderPolicy;
import io.mailtls.core.TlsLevel;
import io.mailtls.dane.DaneResolver;
import io.mailtls.interop.InteropEnv.Stored;
import io.mailtls.interop.InteropEnv.TestMessage;
import io.mailtls.mtasts.MtaStsResolver;
import io.mailtls.mtasts.OkHttpPolicyFetcher;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * SecureSmtpTransport through its public API against Postfix, with DNS from Unbound validated in
 * process, checking every DELIVERED message byte-for-byte in Postfix's maildir.
 */
class DeliveryInteropTest {

  private static final String SENDER = "sender@interop.mailtls.test";

  @BeforeAll
  static void environment() {
    InteropEnv.requireUp();
  }

  private static SecureSmtpTransport.Builder transport(DnsResolver dns, TlsLevel level) {
    return SecureSmtpTransport.builder()
        .dns(dns)
        .dane(DaneResolver.builder().dns(dns).build())
        .senderPolicy(SenderPolicy.uniform(level))
        .heloName("client.interop.mailtls.test")
        .port(25)
        .noConnectionReuse();
  }

  private static RecipientResult send(SecureSmtpTransport t, TestMessage m) {
    DeliveryReport report = t.send(Envelope.of(SENDER, m.recipient()),
        MessageContent.of(m.wire()));
    assertThat(report.recipients()).hasSize(1);
    return report.recipients().get(0);
  }

  /** The message is in the maildir byte-for-byte after Postfix's headers, received with ESMTPS. */
  private static void assertInMaildir(String domain, TestMessage m, RecipientResult r)
      throws Exception {
    Path file = InteropEnv.awaitInMaildir(domain, m.id(), Duration.ofSeconds(10));
    Stored stored = InteropEnv.split(Files.readAllBytes(file));
    assertThat(stored.received()).as("Received: headers in %s", file).isNotEmpty();
    String received = stored.received().get(0);
    String protocol = r.tls().orElseThrow().protocol();
    assertThat(protocol).isIn("TLSv1.2", "TLSv1.3");
    assertThat(received).as(file.toString())
        .contains("with ESMTPS")
        .contains("using " + protocol + " with cipher");
    assertThat(new String(stored.rest(), StandardCharsets.ISO_8859_1))
        .as("message as stored in %s", file)
        .isEqualTo(new String(m.stored(), StandardCharsets.ISO_8859_1));
    assertThat(stored.rest()).isEqualTo(m.stored());
  }

  private static void assertNotInMaildir(String domain, TestMessage m) throws Exception {
    Thread.sleep(500); // give a (wrong) delivery time to land
    assertThat(InteropEnv.findInMaildir(domain, m.id())).as("maildir of %s", domain).isEmpty();
  }

  // -------------------------------------------------------------------------------------------
  // dane-ee.test: signed zone, TLSA 3 1 1 of the Postfix listener's key
  // -------------------------------------------------------------------------------------------

  @ParameterizedTest
  @EnumSource(value = TlsLevel.class, names = {"OPPORTUNISTIC", "ENFORCED", "DANE_REQUIRED"})
  void daneEeIsDeliveredVerified(TlsLevel level) throws Exception {
    TestMessage m = InteropEnv.message("dane-ee.test", "dane-ee-" + level.token());
    RecipientResult r;
    try (SecureSmtpTransport t = transport(InteropEnv.validatingResolver(), level).build()) {
      r = send(t, m);
    }
    assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DELIVERED);
    assertThat(r.authentication()).as("%s", r).contains(Authentication.VERIFIED);
    assertThat(r.attempt().orElseThrow().source()).as("%s", r).isEqualTo(PolicySource.DANE);
    assertThat(r.mxHost().map(Object::toString).orElseThrow()).startsWith("mx.dane-ee.test");
    assertInMaildir("dane-ee.test", m, r);
  }

  @Test
  void daneEeWithTrustAdResolverIsDeliveredVerified() throws Exception {
    TestMessage m = InteropEnv.message("dane-ee.test", "dane-ee-trust-ad");
    RecipientResult r;
    try (SecureSmtpTransport t =
        transport(InteropEnv.trustAdResolver(), TlsLevel.DANE_REQUIRED).build()) {
      r = send(t, m);
    }
    assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DELIVERED);
    assertThat(r.authentication()).as("%s", r).contains(Authentication.VERIFIED);
    assertInMaildir("dane-ee.test", m, r);
  }

  @Test
  void daneEeStsRequiredBouncesWithoutPolicy() throws Exception {
    TestMessage m = InteropEnv.message("dane-ee.test", "dane-ee-sts-required");
    RecipientResult r;
    DnsResolver dns = InteropEnv.validatingResolver();
    try (MtaStsResolver sts = mtaSts(dns);
        SecureSmtpTransport t = transport(dns, TlsLevel.STS_REQUIRED).mtaSts(sts).build()) {
      r = send(t, m);
    }
    assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.BOUNCED);
    assertNotInMaildir("dane-ee.test", m);
  }

  @Test
  void daneEeAgreesWithPostTlsFinger() throws Exception {
    String out = InteropEnv.postTlsFinger("-l", "dane", "dane-ee.test");
    assertThat(out).as("posttls-finger -l dane dane-ee.test")
        .contains("Verified TLS connection established to mx.dane-ee.test");

    TestMessage m = InteropEnv.message("dane-ee.test", "dane-ee-finger");
    RecipientResult r;
    try (SecureSmtpTransport t =
        transport(InteropEnv.validatingResolver(), TlsLevel.OPPORTUNISTIC).build()) {
      r = send(t, m);
    }
    assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DELIVERED);
    assertThat(r.authentication()).as("mailtls vs posttls-finger Verified: %s", r)
        .contains(Authentication.VERIFIED);
    assertInMaildir("dane-ee.test", m, r);
  }

  // -------------------------------------------------------------------------------------------
  // unsigned.test: unsigned zone whose TLSA must be ignored
  // -------------------------------------------------------------------------------------------

  @Test
  void unsignedOpportunisticIsDeliveredEncrypted() throws Exception {
    TestMessage m = InteropEnv.message("unsigned.test", "unsigned-opportunistic");
    RecipientResult r;
    try (SecureSmtpTransport t =
        transport(InteropEnv.validatingResolver(), TlsLevel.OPPORTUNISTIC).build()) {
      r = send(t, m);
    }
    assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DELIVERED);
    assertThat(r.tls()).as("%s", r).isPresent();
    assertThat(r.authentication()).as("%s", r).contains(Authentication.ENCRYPTED);
    assertThat(r.attempt().orElseThrow().source()).as("TLSA of an unsigned zone ignored: %s", r)
        .isNotEqualTo(PolicySource.DANE);
    assertInMaildir("unsigned.test", m, r);
  }

  @Test
  void unsignedDaneRequiredIsDeferred() throws Exception {
    TestMessage m = InteropEnv.message("unsigned.test", "unsigned-dane-required");
    RecipientResult r;
    try (SecureSmtpTransport t =
        transport(InteropEnv.validatingResolver(), TlsLevel.DANE_REQUIRED).build()) {
      r = send(t, m);
    }
    assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DEFERRED);
    assertNotInMaildir("unsigned.test", m);
  }

  // -------------------------------------------------------------------------------------------
  // sts.test: MTA-STS enforce served by nginx with the private CA
  // -------------------------------------------------------------------------------------------

  private static MtaStsResolver mtaSts(DnsResolver dns) {
    try {
      KeyStore ks = InteropEnv.caTrustStore();
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(ks);
      X509TrustManager tm = (X509TrustManager) tmf.getTrustManagers()[0];
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, new javax.net.ssl.TrustManager[] {tm}, null);
      OkHttpClient client = new OkHttpClient.Builder()
          .sslSocketFactory(ctx.getSocketFactory(), tm)
          .build();
      return MtaStsResolver.builder()
          .dns(dns)
          .fetcher(OkHttpPolicyFetcher.builder().dns(dns).client(client).port(443).build())
          .build();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @ParameterizedTest
  @EnumSource(value = TlsLevel.class, names = {"OPPORTUNISTIC", "STS_REQUIRED"})
  void stsEnforceIsDeliveredVerified(TlsLevel level) throws Exception {
    TestMessage m = InteropEnv.message("sts.test", "sts-" + level.token());
    DnsResolver dns = InteropEnv.validatingResolver();
    RecipientResult r;
    try (MtaStsResolver sts = mtaSts(dns);
        SecureSmtpTransport t = transport(dns, level).mtaSts(sts)
            .trustStore(InteropEnv.caTrustStore()).build()) {
      r = send(t, m);
    }
    assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DELIVERED);
    assertThat(r.authentication()).as("%s", r).contains(Authentication.VERIFIED);
    assertThat(r.attempt().orElseThrow().source()).as("%s", r).isEqualTo(PolicySource.MTA_STS);
    assertThat(r.plan().mtaSts()).as("%s", r.plan()).isPresent();
    assertInMaildir("sts.test", m, r);
  }

  @Test
  void stsAgreesWithPostTlsFingerSecure() throws Exception {
    String out = InteropEnv.postTlsFinger("-l", "secure", "-F",
        InteropEnv.STATE.resolve("pki/ca.crt").toString(), "sts.test");
    assertThat(out).as("posttls-finger -l secure sts.test")
        .contains("Verified TLS connection established to mx.sts.test");
  }
}
