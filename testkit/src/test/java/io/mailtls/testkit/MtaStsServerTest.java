package io.mailtls.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.SocketTimeoutException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLPeerUnverifiedException;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.Type;

/** The MTA-STS HTTPS fixture itself, seen through a plain OkHttp client. */
class MtaStsServerTest {

  private static final TestPki PKI = TestPki.create();
  private static final String POLICY =
      MtaStsServer.policyText("enforce", 86400, "mx1.example.test");
  private static MtaStsServer sts;

  @BeforeAll
  static void start() {
    sts =
        MtaStsServer.builder()
            .pki(PKI)
            .stall(Duration.ofSeconds(30))
            .domain("example.test", POLICY)
            .start();
  }

  @AfterAll
  static void stop() {
    sts.close();
  }

  @BeforeEach
  void reset() {
    sts.clearFault("example.test");
    sts.clearRequests();
  }

  /** A client that resolves every name to the fixture and trusts the test root. */
  private static OkHttpClient client(Duration readTimeout) {
    return new OkHttpClient.Builder()
        .dns(host -> List.of(sts.address()))
        .sslSocketFactory(PKI.clientSslContext().getSocketFactory(), PKI.trustManager())
        .followRedirects(false)
        .readTimeout(readTimeout)
        .build();
  }

  private static Response get(String url) throws IOException {
    return client(Duration.ofSeconds(5)).newCall(new Request.Builder().url(url).build()).execute();
  }

  @Test
  void servesThePolicyAsTheDomainsPolicyHostWithSni() throws IOException {
    try (Response r = get(sts.policyUrl("example.test"))) {
      assertThat(r.code()).isEqualTo(200);
      assertThat(r.header("Content-Type")).isEqualTo("text/plain; charset=utf-8");
      assertThat(r.body().string()).isEqualTo(POLICY);
      X509Certificate leaf = (X509Certificate) r.handshake().peerCertificates().get(0);
      assertThat(leaf.getSubjectX500Principal().getName()).contains("CN=mta-sts.example.test");
    }
    assertThat(sts.requestCount("example.test")).isEqualTo(1);
    MtaStsServer.Request recorded = sts.requests("example.test").get(0);
    assertThat(recorded.path()).isEqualTo(MtaStsServer.POLICY_PATH);
    assertThat(recorded.method()).isEqualTo("GET");
    assertThat(recorded.domain()).hasValue("example.test");
    assertThat(recorded.serverNames()).containsExactly("mta-sts.example.test");
    assertThat(sts.handshakeServerNames()).containsExactly("mta-sts.example.test");
    assertThat(sts.handshakeCount("example.test")).isEqualTo(1);
  }

  @Test
  void unknownHostsAndPathsAre404() throws IOException {
    try (Response r = get("https://mta-sts.example.test:" + sts.port() + "/other")) {
      assertThat(r.code()).isEqualTo(404);
    }
    sts.policy("other.test", POLICY);
    try (Response r = get(sts.policyUrl("other.test"))) {
      assertThat(r.code()).isEqualTo(200);
    }
    sts.removeDomain("other.test");
    // The fallback certificate does not name the host: the client refuses it.
    assertThatThrownBy(() -> get(sts.policyUrl("other.test")))
        .isInstanceOf(SSLPeerUnverifiedException.class);
  }

  @Test
  void redirectIsRecordedAndItsTargetOnlyWhenFollowed() throws IOException {
    sts.fault("example.test", MtaStsServer.Fault.REDIRECT);
    String location;
    try (Response r = get(sts.policyUrl("example.test"))) {
      assertThat(r.code()).isEqualTo(301);
      location = r.header("Location");
    }
    assertThat(location)
        .isEqualTo(
            "https://mta-sts.example.test:" + sts.port() + MtaStsServer.REDIRECT_TARGET_PATH);
    assertThat(sts.redirectTargetRequested("example.test")).isFalse();
    try (Response r = get(location)) {
      assertThat(r.code()).isEqualTo(200);
    }
    assertThat(sts.redirectTargetRequested("example.test")).isTrue();
    assertThat(sts.requestCount("example.test")).isEqualTo(1);
  }

  @Test
  void statusAndContentFaults() throws IOException {
    sts.fault("example.test", MtaStsServer.Fault.NOT_FOUND);
    try (Response r = get(sts.policyUrl("example.test"))) {
      assertThat(r.code()).isEqualTo(404);
    }
    sts.fault("example.test", MtaStsServer.Fault.SERVER_ERROR);
    try (Response r = get(sts.policyUrl("example.test"))) {
      assertThat(r.code()).isEqualTo(500);
    }
    sts.fault("example.test", MtaStsServer.Fault.WRONG_CONTENT_TYPE);
    try (Response r = get(sts.policyUrl("example.test"))) {
      assertThat(r.header("Content-Type")).startsWith("text/html");
    }
    sts.fault("example.test", MtaStsServer.Fault.MALFORMED_POLICY);
    try (Response r = get(sts.policyUrl("example.test"))) {
      assertThat(r.body().string()).contains("mode: sometimes");
    }
    sts.clearFault("example.test");
    sts.contentType("example.test", "TEXT/PLAIN");
    sts.cacheControl("example.test", "max-age=86400");
    try (Response r = get(sts.policyUrl("example.test"))) {
      assertThat(r.header("Content-Type")).isEqualTo("TEXT/PLAIN");
      assertThat(r.header("Cache-Control")).isEqualTo("max-age=86400");
      assertThat(r.header("ETag")).isNotNull();
    }
    sts.contentType("example.test", MtaStsServer.DEFAULT_CONTENT_TYPE);
    sts.cacheControl("example.test", null);
  }

  @Test
  void oversizeBodiesWithAndWithoutContentLength() throws IOException {
    sts.fault("example.test", MtaStsServer.Fault.OVERSIZE_BODY);
    try (Response r = get(sts.policyUrl("example.test"))) {
      assertThat(r.header("Content-Length"))
          .isEqualTo(String.valueOf(MtaStsServer.OVERSIZE_BODY_BYTES));
      String body = r.body().string();
      assertThat(body).hasSize(MtaStsServer.OVERSIZE_BODY_BYTES).startsWith(POLICY);
    }
    sts.fault("example.test", MtaStsServer.Fault.OVERSIZE_CHUNKED_BODY);
    try (Response r = get(sts.policyUrl("example.test"))) {
      assertThat(r.header("Content-Length")).isNull();
      assertThat(r.header("Transfer-Encoding")).isEqualTo("chunked");
      assertThat(r.body().string()).hasSize(MtaStsServer.OVERSIZE_BODY_BYTES);
    }
  }

  @Test
  void truncatedBodyEndsBeforeItsContentLength() throws IOException {
    sts.fault("example.test", MtaStsServer.Fault.TRUNCATED_BODY);
    try (Response r = get(sts.policyUrl("example.test"))) {
      assertThat(r.code()).isEqualTo(200);
      assertThat(r.header("Content-Length")).isEqualTo(String.valueOf(POLICY.length()));
      assertThatThrownBy(() -> r.body().string()).isInstanceOf(IOException.class);
    }
  }

  @Test
  @Timeout(60)
  void stallHoldsTheResponse() {
    sts.fault("example.test", MtaStsServer.Fault.STALL);
    assertThatThrownBy(
            () ->
                client(Duration.ofMillis(300))
                    .newCall(new Request.Builder().url(sts.policyUrl("example.test")).build())
                    .execute())
        .isInstanceOf(SocketTimeoutException.class);
    assertThat(sts.requestCount("example.test")).isEqualTo(1);
  }

  @Test
  void certificateFaultsFollowTheSni() {
    sts.fault("example.test", MtaStsServer.Fault.WRONG_NAME_CERTIFICATE);
    assertThatThrownBy(() -> get(sts.policyUrl("example.test")))
        .isInstanceOf(SSLPeerUnverifiedException.class)
        .hasMessageContaining("www.example.test");
    sts.fault("example.test", MtaStsServer.Fault.UNTRUSTED_CERTIFICATE);
    assertThatThrownBy(() -> get(sts.policyUrl("example.test")))
        .isInstanceOf(SSLHandshakeException.class);
    sts.fault("example.test", MtaStsServer.Fault.SELF_SIGNED_CERTIFICATE);
    assertThatThrownBy(() -> get(sts.policyUrl("example.test")))
        .isInstanceOf(SSLHandshakeException.class);
    sts.fault("example.test", MtaStsServer.Fault.EXPIRED_CERTIFICATE);
    assertThatThrownBy(() -> get(sts.policyUrl("example.test")))
        .isInstanceOf(SSLHandshakeException.class);
    assertThat(sts.requestCount("example.test")).isZero();
    assertThat(sts.handshakeCount("example.test")).isEqualTo(4);
  }

  @Test
  void aFaultChangeIsNotMaskedBySessionResumption() throws IOException {
    OkHttpClient client = client(Duration.ofSeconds(5));
    Request request = new Request.Builder().url(sts.policyUrl("example.test")).build();
    try (Response r = client.newCall(request).execute()) {
      assertThat(r.code()).isEqualTo(200);
    }
    sts.fault("example.test", MtaStsServer.Fault.UNTRUSTED_CERTIFICATE);
    assertThatThrownBy(() -> client.newCall(request).execute())
        .isInstanceOf(SSLHandshakeException.class);
  }

  @Test
  void publishesTheTxtRecordAndTheHostAddress() throws Exception {
    try (TestDnsServer dns =
        TestDnsServer.builder()
            .zone("example.test", z -> sts.publish(z, "example.test", "20240101"))
            .start()) {
      SimpleResolver resolver = new SimpleResolver(dns.socketAddress());
      Message txt =
          resolver.send(
              Message.newQuery(
                  Record.newRecord(
                      Name.fromString("_mta-sts.example.test."), Type.TXT, DClass.IN)));
      assertThat(txt.getSection(Section.ANSWER))
          .singleElement()
          .isInstanceOfSatisfying(
              TXTRecord.class,
              r -> assertThat(r.getStrings()).containsExactly("v=STSv1; id=20240101;"));
      Message a =
          resolver.send(
              Message.newQuery(
                  Record.newRecord(Name.fromString("mta-sts.example.test."), Type.A, DClass.IN)));
      assertThat(a.getSection(Section.ANSWER))
          .singleElement()
          .isInstanceOfSatisfying(
              ARecord.class, r -> assertThat(r.getAddress()).isEqualTo(sts.address()));
    }
  }

  @Test
  void onlyLoopbackAddresses() throws Exception {
    assertThatThrownBy(
            () ->
                MtaStsServer.builder().address(InetAddress.getByAddress(new byte[] {10, 0, 0, 1})))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> sts.policy("b\u00fccher.test", POLICY))
        .isInstanceOf(IllegalArgumentException.class);
  }

  /** {@code tlsProtocols} restricts the server; each request records the version negotiated. */
  @Test
  void tlsProtocolsRestrictTheServerAndRequestsRecordTheVersion() throws IOException {
    try (Response r = get(sts.policyUrl("example.test"))) {
      assertThat(r.code()).isEqualTo(200);
    }
    assertThat(sts.requests("example.test"))
        .singleElement()
        .extracting(MtaStsServer.Request::tlsVersion)
        .isEqualTo("TLSv1.3");
    try (MtaStsServer onlyTls12 =
        MtaStsServer.builder()
            .pki(PKI)
            .tlsProtocols("TLSv1.2")
            .domain("example.test", POLICY)
            .start()) {
      OkHttpClient c =
          new OkHttpClient.Builder()
              .dns(host -> List.of(onlyTls12.address()))
              .sslSocketFactory(PKI.clientSslContext().getSocketFactory(), PKI.trustManager())
              .build();
      try (Response r =
          c.newCall(new Request.Builder().url(onlyTls12.policyUrl("example.test")).build())
              .execute()) {
        assertThat(r.code()).isEqualTo(200);
        assertThat(r.handshake()).isNotNull();
        assertThat(r.handshake().tlsVersion().javaName()).isEqualTo("TLSv1.2");
      }
      assertThat(onlyTls12.requests("example.test"))
          .singleElement()
          .extracting(MtaStsServer.Request::tlsVersion)
          .isEqualTo("TLSv1.2");
    }
    assertThatThrownBy(() -> MtaStsServer.builder().tlsProtocols())
        .isInstanceOf(IllegalArgumentException.class);
  }
}
