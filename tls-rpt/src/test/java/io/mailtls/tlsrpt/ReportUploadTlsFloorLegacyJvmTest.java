package io.mailtls.tlsrpt;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DnssecResolver;
import io.mailtls.core.DomainName;
import io.mailtls.testkit.TestPki;
import io.mailtls.testkit.junit.TestkitExtension;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.time.Duration;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.ConnectionSpec;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.TlsVersion;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * TLS 1.2 is the floor of a report's HTTPS upload whatever the supplied client allows (RFC 8996
 * deprecates TLS 1.0 and 1.1). Runs in its own surefire execution ({@code legacy-tls-jvm}) whose
 * JVM re-enables TLS 1.0 and 1.1 ({@code src/test/resources/legacy-tls.security}), as an
 * enterprise's JVM may: only then does a client built with {@link ConnectionSpec#COMPATIBLE_TLS}
 * offer them, and only then can an endpoint that speaks TLS 1.1 alone complete a handshake.
 */
class ReportUploadTlsFloorLegacyJvmTest {

  private static final String HOST = ReportHostDns.HOST;
  private static final InetAddress LOOPBACK = ReportHostDns.LOOPBACK;
  // RSA: a TLS 1.1 handshake needs a CBC suite, and COMPATIBLE_TLS's are ECDHE_RSA and RSA ones.
  private static final TestPki PKI = TestPki.builder().keyType(TestPki.KeyType.RSA_2048).build();
  @RegisterExtension static final TestkitExtension testkit = new TestkitExtension();
  private static final DnssecResolver resolver = testkit.closeAfter(ReportHostDns.start()).resolver;
  private MockWebServer server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
  }

  /** An HTTPS endpoint for {@link #HOST} that enables only {@code protocols}, answering 200. */
  private URI start(String... protocols) throws IOException {
    server = new MockWebServer();
    server.useHttps(PKI.root().leaf().dnsNames(HOST).issue().serverSocketFactory(protocols));
    server.enqueue(new MockResponse.Builder().code(200).build());
    server.start(LOOPBACK, 0);
    return URI.create("https://" + HOST + ":" + server.getPort() + "/r");
  }

  /** An application's client that allows TLS 1.0 to 1.3, trusting the test root. */
  private static OkHttpClient compatibleClient() {
    return new OkHttpClient.Builder()
        .sslSocketFactory(PKI.clientSslContext().getSocketFactory(), PKI.trustManager())
        .connectionSpecs(List.of(ConnectionSpec.COMPATIBLE_TLS))
        .build();
  }

  private static HttpsReportSender sender() {
    return HttpsReportSender.builder()
        .client(compatibleClient())
        .dns(resolver)
        .maxAttempts(1)
        .callTimeout(Duration.ofSeconds(10))
        .build();
  }

  private static TlsRptReport report() {
    return TlsRptReportWriter.builder()
        .organizationName("Sender Inc.")
        .contactInfo("tlsrpt@sender.test")
        .submitter(DomainName.of("sender.test"))
        .random(new Random(9))
        .build()
        .write(
            LocalDate.parse("2025-03-01"),
            Map.of(
                AppliedPolicy.noPolicy(DomainName.of("good.rpt.test")),
                new PolicyCounts(4, 0, Map.of())))
        .get(0);
  }

  /** The execution's JVM really allows TLS 1.1; without it this class would prove nothing. */
  @Test
  void thisJvmReEnablesTls11() throws Exception {
    assertThat(SSLContext.getDefault().getDefaultSSLParameters().getProtocols())
        .as("legacy-tls.security must be in force (-Djava.security.properties)")
        .contains("TLSv1.1");
  }

  /**
   * The control: the supplied client itself, not rebuilt, posts to the TLS 1.1-only endpoint over
   * TLS 1.1. Without it the refusal below could come from a broken fixture, not from the floor.
   */
  @Test
  void theSuppliedClientAloneReachesTheTls11OnlyEndpointOverTls11() throws Exception {
    URI destination = start("TLSv1.1");
    OkHttpClient direct = compatibleClient().newBuilder().dns(host -> List.of(LOOPBACK)).build();
    try (Response r =
        direct
            .newCall(
                new Request.Builder()
                    .url(destination.toString())
                    .post(RequestBody.create(new byte[] {1}))
                    .build())
            .execute()) {
      assertThat(r.code()).isEqualTo(200);
      assertThat(r.handshake()).isNotNull();
      assertThat(r.handshake().tlsVersion()).isEqualTo(TlsVersion.TLS_1_1);
    }
    RecordedRequest received = server.takeRequest(1, TimeUnit.SECONDS);
    assertThat(received).isNotNull();
    assertThat(received.getHandshake().tlsVersion()).isEqualTo(TlsVersion.TLS_1_1);
  }

  @Test
  void anEndpointSpeakingOnlyTls11GetsNoReportEvenFromACompatibleClient() throws Exception {
    URI destination = start("TLSv1.1");
    ReportOutcome outcome = sender().deliver(destination, report());
    RecordedRequest received = server.takeRequest(1, TimeUnit.SECONDS);
    assertThat(received == null ? null : received.getHandshake())
        .as("the handshake of a report the TLS 1.1-only endpoint received")
        .isNull();
    assertThat(outcome).as("%s", outcome).isInstanceOf(ReportOutcome.NotDelivered.class);
    assertThat(((ReportOutcome.NotDelivered) outcome).permanent())
        .as("tried again later")
        .isFalse();
  }

  @Test
  void aModernEndpointStillGetsTheReportWithTheSuppliedClient() throws Exception {
    URI destination = start("TLSv1.3", "TLSv1.2");
    ReportOutcome outcome = sender().deliver(destination, report());
    assertThat(outcome).as("%s", outcome).isInstanceOf(ReportOutcome.Delivered.class);
    RecordedRequest received = server.takeRequest(1, TimeUnit.SECONDS);
    assertThat(received).isNotNull();
    assertThat(received.getHandshake().tlsVersion()).isIn(TlsVersion.TLS_1_3, TlsVersion.TLS_1_2);
  }
}
