package io.mailtls.tlsrpt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailtls.core.DnssecResolver;
import io.mailtls.core.DomainName;
import io.mailtls.testkit.TestPki;
import io.mailtls.testkit.junit.TestkitExtension;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.time.Duration;
import java.time.LocalDate;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link HttpsReportSender} against a real HTTPS endpoint on loopback (OkHttp's MockWebServer with
 * a certificate from the testkit's PKI): the POST, 2xx, retries, no redirects, bounded time, and an
 * untrusted endpoint.
 */
class HttpsReportSenderTest {

  private static final String HOST = ReportHostDns.HOST;
  private static final InetAddress LOOPBACK = ReportHostDns.LOOPBACK;
  @RegisterExtension static final TestkitExtension testkit = new TestkitExtension();
  private static final DnssecResolver resolver = testkit.closeAfter(ReportHostDns.start()).resolver;
  private final TestPki pki = TestPki.create();
  private MockWebServer server;
  private OkHttpClient client;
  private TlsRptReport report;

  @BeforeEach
  void start() throws IOException {
    server = new MockWebServer();
    server.useHttps(pki.root().leaf().dnsNames(HOST).issue().serverSslContext().getSocketFactory());
    server.start(LOOPBACK, 0);
    client =
        new OkHttpClient.Builder()
            .sslSocketFactory(pki.clientSslContext().getSocketFactory(), pki.trustManager())
            .build();
    report =
        TlsRptReportWriter.builder()
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

  @AfterEach
  void stop() {
    server.close();
    client.dispatcher().executorService().shutdown();
    client.connectionPool().evictAll();
  }

  private URI endpoint(String path) {
    return URI.create("https://" + HOST + ":" + server.getPort() + path);
  }

  private HttpsReportSender sender(int attempts, Duration callTimeout) {
    return HttpsReportSender.builder()
        .client(client)
        .dns(resolver)
        .maxAttempts(attempts)
        .backoff(Duration.ofMillis(10))
        .callTimeout(callTimeout)
        .build();
  }

  @Test
  void postsTheGzippedReport() throws Exception {
    server.enqueue(new MockResponse.Builder().code(200).build());
    HttpsReportSender.Outcome outcome =
        sender(1, Duration.ofSeconds(10)).send(endpoint("/v1/tlsrpt"), report);
    assertThat(outcome).isEqualTo(new HttpsReportSender.Delivered(200, 1));
    RecordedRequest r = server.takeRequest(5, TimeUnit.SECONDS);
    assertThat(r.getMethod()).isEqualTo("POST");
    assertThat(r.getTarget()).isEqualTo("/v1/tlsrpt");
    assertThat(r.getHeaders().get("Content-Type")).isEqualTo("application/tlsrpt+gzip");
    try (GZIPInputStream in =
        new GZIPInputStream(new ByteArrayInputStream(r.getBody().toByteArray()))) {
      assertThat(in.readAllBytes()).isEqualTo(report.json());
    }
  }

  @Test
  void anythingBut2xxIsTriedAgain() {
    server.enqueue(new MockResponse.Builder().code(503).build());
    server.enqueue(new MockResponse.Builder().code(500).build());
    server.enqueue(new MockResponse.Builder().code(202).build());
    assertThat(sender(3, Duration.ofSeconds(10)).send(endpoint("/"), report))
        .isEqualTo(new HttpsReportSender.Delivered(202, 3));
    assertThat(server.getRequestCount()).isEqualTo(3);
  }

  @Test
  void aRedirectIsNeitherFollowedNorSuccess() {
    server.enqueue(
        new MockResponse.Builder()
            .code(307)
            .addHeader("Location", endpoint("/elsewhere").toString())
            .build());
    server.enqueue(new MockResponse.Builder().code(200).build());
    HttpsReportSender.Outcome outcome =
        sender(1, Duration.ofSeconds(10)).send(endpoint("/"), report);
    assertThat(outcome)
        .isInstanceOfSatisfying(
            HttpsReportSender.NotDelivered.class,
            n -> assertThat(n.reason()).contains("HTTP 307").contains("not followed"));
    assertThat(server.getRequestCount()).isEqualTo(1);
  }

  @Test
  void everyAttemptIsBoundedInTime() {
    for (int i = 0; i < 2; i++) {
      server.enqueue(
          new MockResponse.Builder().code(200).headersDelay(10, TimeUnit.SECONDS).build());
    }
    long start = System.nanoTime();
    HttpsReportSender.Outcome outcome =
        sender(2, Duration.ofMillis(500)).send(endpoint("/"), report);
    Duration took = Duration.ofNanos(System.nanoTime() - start);
    assertThat(outcome)
        .isInstanceOfSatisfying(
            HttpsReportSender.NotDelivered.class,
            n -> {
              assertThat(n.reason()).contains("timed out");
              assertThat(n.attempts()).isEqualTo(2);
            });
    assertThat(took).isLessThan(Duration.ofSeconds(5));
  }

  @Test
  void anUntrustedEndpointIsNotDelivered() throws IOException {
    try (MockWebServer other = new MockWebServer()) {
      other.useHttps(
          pki.otherCa().leaf().dnsNames(HOST).issue().serverSslContext().getSocketFactory());
      other.start(LOOPBACK, 0);
      other.enqueue(new MockResponse.Builder().code(200).build());
      HttpsReportSender.Outcome outcome =
          sender(1, Duration.ofSeconds(10))
              .send(URI.create("https://" + HOST + ":" + other.getPort() + "/"), report);
      assertThat(outcome).isInstanceOf(HttpsReportSender.NotDelivered.class);
      assertThat(other.getRequestCount()).isZero();
    }
  }

  @Test
  void theHostIsLookedUpWithMailtlsResolverNotTheJvms() {
    // "localhost" is in the JVM's hosts file, not in the test DNS: the lookup goes to the resolver
    // the sender was given and finds nothing, so nothing is posted.
    HttpsReportSender.Outcome outcome =
        sender(1, Duration.ofSeconds(10))
            .send(URI.create("https://localhost:" + server.getPort() + "/v1/tlsrpt"), report);
    assertThat(outcome)
        .isInstanceOfSatisfying(
            HttpsReportSender.NotDelivered.class,
            n -> assertThat(n.reason()).contains("localhost").contains("no A or AAAA records"));
    assertThat(server.getRequestCount()).isZero();
  }

  @Test
  void onlyHttpsDestinations() {
    assertThatThrownBy(
            () ->
                sender(1, Duration.ofSeconds(1))
                    .send(URI.create("mailto:tlsrpt@good.rpt.test"), report))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(
            () -> sender(1, Duration.ofSeconds(1)).send(URI.create("http://" + HOST + "/"), report))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void asAReportChannelItTakesHttpsOnlyAndMapsTheOutcome() {
    HttpsReportSender sender = sender(1, Duration.ofSeconds(10));
    assertThat(sender.supports(URI.create("https://x.test/"))).isTrue();
    assertThat(sender.supports(URI.create("HTTPS://x.test/"))).isTrue();
    assertThat(sender.supports(URI.create("mailto:a@x.test"))).isFalse();
    assertThat(sender.deliver(URI.create("mailto:a@x.test"), report))
        .isInstanceOfSatisfying(
            ReportOutcome.NotDelivered.class, n -> assertThat(n.permanent()).isTrue());
    server.enqueue(new MockResponse.Builder().code(500).build());
    server.enqueue(new MockResponse.Builder().code(204).build());
    assertThat(sender.deliver(endpoint("/"), report))
        .isEqualTo(new ReportOutcome.NotDelivered("HTTP 500", false));
    assertThat(sender.deliver(endpoint("/"), report))
        .isEqualTo(new ReportOutcome.Delivered("HTTP 204"));
  }
}
