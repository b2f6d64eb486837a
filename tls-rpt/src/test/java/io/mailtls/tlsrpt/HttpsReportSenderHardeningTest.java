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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.Cookie;
import okhttp3.CookieJar;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link HttpsReportSender}'s class comment: "the hardening of the MTA-STS fetch: no redirects
 * followed, no cookies". The MTA-STS fetch puts its own host name verifier and no cookie jar on the
 * client it derives; the report sender keeps the given client's, so a client shared with the
 * application (with a cookie jar, or a lenient verifier for some internal endpoint) carries them
 * into the delivery of reports to destinations a peer's DNS names.
 */
class HttpsReportSenderHardeningTest {

  private static final String HOST = ReportHostDns.HOST;
  private static final InetAddress LOOPBACK = ReportHostDns.LOOPBACK;
  @RegisterExtension static final TestkitExtension testkit = new TestkitExtension();
  private static final DnssecResolver resolver = testkit.closeAfter(ReportHostDns.start()).resolver;
  private final TestPki pki = TestPki.create();
  private MockWebServer server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
  }

  private void start(String certName) throws IOException {
    server = new MockWebServer();
    server.useHttps(
        pki.root().leaf().dnsNames(certName).issue().serverSslContext().getSocketFactory());
    server.start(LOOPBACK, 0);
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

  private HttpsReportSender sender(OkHttpClient client) {
    return HttpsReportSender.builder()
        .client(client)
        .dns(resolver)
        .maxAttempts(1)
        .callTimeout(Duration.ofSeconds(10))
        .build();
  }

  /** A destination whose certificate names another host is not delivered to (RFC 6125). */
  @Test
  void theEndpointNameIsVerifiedWhateverTheGivenClientSays() throws Exception {
    start("elsewhere.rpt.test");
    server.enqueue(new MockResponse.Builder().code(200).build());
    OkHttpClient lenient =
        new OkHttpClient.Builder()
            .sslSocketFactory(pki.clientSslContext().getSocketFactory(), pki.trustManager())
            .hostnameVerifier((host, session) -> true)
            .build();
    ReportOutcome outcome =
        sender(lenient)
            .deliver(URI.create("https://" + HOST + ":" + server.getPort() + "/r"), report());
    assertThat(outcome).as("%s", outcome).isInstanceOf(ReportOutcome.NotDelivered.class);
  }

  /** No cookies: what one endpoint sets is not sent back with the next report. */
  @Test
  void noCookiesGoWithAReport() throws Exception {
    start(HOST);
    server.enqueue(
        new MockResponse.Builder().code(200).addHeader("Set-Cookie", "track=me; Path=/").build());
    server.enqueue(new MockResponse.Builder().code(200).build());
    List<Cookie> jar = new ArrayList<>();
    OkHttpClient withJar =
        new OkHttpClient.Builder()
            .sslSocketFactory(pki.clientSslContext().getSocketFactory(), pki.trustManager())
            .cookieJar(
                new CookieJar() {
                  @Override
                  public synchronized void saveFromResponse(HttpUrl url, List<Cookie> cookies) {
                    jar.addAll(cookies);
                  }

                  @Override
                  public synchronized List<Cookie> loadForRequest(HttpUrl url) {
                    return List.copyOf(jar);
                  }
                })
            .build();
    HttpsReportSender s = sender(withJar);
    URI dest = URI.create("https://" + HOST + ":" + server.getPort() + "/r");
    assertThat(s.deliver(dest, report())).isInstanceOf(ReportOutcome.Delivered.class);
    assertThat(s.deliver(dest, report())).isInstanceOf(ReportOutcome.Delivered.class);
    server.takeRequest(5, TimeUnit.SECONDS);
    RecordedRequest second = server.takeRequest(5, TimeUnit.SECONDS);
    assertThat(second.getHeaders().get("Cookie")).isNull();
  }

  /**
   * The given client's interceptors are the application's: a destination a peer's DNS names gets
   * none of the headers they add (here an application's bearer token and a network interceptor's
   * key).
   */
  @Test
  void theGivenClientsInterceptorsAddNothingToAReport() throws Exception {
    start(HOST);
    server.enqueue(new MockResponse.Builder().code(200).build());
    AtomicInteger intercepted = new AtomicInteger();
    OkHttpClient withInterceptors =
        new OkHttpClient.Builder()
            .sslSocketFactory(pki.clientSslContext().getSocketFactory(), pki.trustManager())
            .addInterceptor(
                chain -> {
                  intercepted.incrementAndGet();
                  return chain.proceed(
                      chain
                          .request()
                          .newBuilder()
                          .header("Authorization", "Bearer application-secret")
                          .build());
                })
            .addNetworkInterceptor(
                chain -> {
                  intercepted.incrementAndGet();
                  return chain.proceed(
                      chain.request().newBuilder().header("X-Api-Key", "application-key").build());
                })
            .build();
    ReportOutcome outcome =
        sender(withInterceptors)
            .deliver(URI.create("https://" + HOST + ":" + server.getPort() + "/r"), report());
    RecordedRequest received = server.takeRequest(5, TimeUnit.SECONDS);
    assertThat(received).isNotNull();
    assertThat(received.getHeaders().get("Authorization")).isNull();
    assertThat(received.getHeaders().get("X-Api-Key")).isNull();
    assertThat(intercepted).as("the given client's interceptors were called").hasValue(0);
    assertThat(outcome).isInstanceOf(ReportOutcome.Delivered.class);
  }

  /**
   * The given client's authenticator does not answer a destination's 401 with the application's
   * credentials: the 401 is a failed attempt, after one request.
   */
  @Test
  void aDestinationsChallengeGetsNoCredentials() throws Exception {
    start(HOST);
    server.enqueue(
        new MockResponse.Builder()
            .code(401)
            .addHeader("WWW-Authenticate", "Basic realm=\"reports\"")
            .build());
    server.enqueue(new MockResponse.Builder().code(200).build());
    AtomicInteger asked = new AtomicInteger();
    OkHttpClient withAuthenticator =
        new OkHttpClient.Builder()
            .sslSocketFactory(pki.clientSslContext().getSocketFactory(), pki.trustManager())
            .authenticator(
                (route, response) -> {
                  asked.incrementAndGet();
                  return response
                      .request()
                      .newBuilder()
                      .header("Authorization", "Basic dXNlcjpzZWNyZXQ=")
                      .build();
                })
            .build();
    ReportOutcome outcome =
        sender(withAuthenticator)
            .deliver(URI.create("https://" + HOST + ":" + server.getPort() + "/r"), report());
    assertThat(asked).as("the given client's authenticator was asked").hasValue(0);
    assertThat(server.getRequestCount()).as("requests to the destination").isEqualTo(1);
    assertThat(outcome).as("%s", outcome).isInstanceOf(ReportOutcome.NotDelivered.class);
    assertThat(((ReportOutcome.NotDelivered) outcome).detail()).contains("HTTP 401");
  }
}
