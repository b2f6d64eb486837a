package io.mailtls.mtasts;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DnsResolver;
import io.mailtls.core.DnssecResolver;
import io.mailtls.core.DomainName;
import io.mailtls.core.FailureType;
import io.mailtls.core.TrustAnchors;
import io.mailtls.testkit.MtaStsServer;
import io.mailtls.testkit.TestDnsServer;
import io.mailtls.testkit.TestPki;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import okhttp3.ConnectionSpec;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.TlsVersion;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * TLS 1.2 is the floor of the policy fetch whatever the supplied client allows (RFC 8996 deprecates
 * TLS 1.0 and 1.1). Runs in its own surefire execution ({@code legacy-tls-jvm}) whose JVM
 * re-enables TLS 1.0 and 1.1 ({@code src/test/resources/legacy-tls.security}), as an enterprise's
 * JVM may: only then does a client built with {@link ConnectionSpec#COMPATIBLE_TLS} offer them, and
 * only then can a policy host that speaks TLS 1.1 alone complete a handshake.
 */
class PolicyFetchTlsFloorLegacyJvmTest {

  // RSA: a TLS 1.1 handshake needs a CBC suite, and COMPATIBLE_TLS's are ECDHE_RSA and RSA ones.
  private static final TestPki PKI = TestPki.builder().keyType(TestPki.KeyType.RSA_2048).build();
  private static final String DOMAIN = "legacy.example.test";

  private static MtaStsServer tls11Only;
  private static MtaStsServer modern;
  private static TestDnsServer dns;
  private static DnsResolver resolver;

  @BeforeAll
  static void start() {
    tls11Only =
        MtaStsServer.builder()
            .pki(PKI)
            .tlsProtocols("TLSv1.1")
            .domain(DOMAIN, MtaStsServer.policyText("enforce", 86400, "mx1." + DOMAIN))
            .start();
    modern =
        MtaStsServer.builder()
            .pki(PKI)
            .domain(DOMAIN, MtaStsServer.policyText("enforce", 86400, "mx1." + DOMAIN))
            .start();
    dns =
        TestDnsServer.builder()
            .zone("example.test", z -> tls11Only.publish(z, DOMAIN, "id1"))
            .start();
    resolver =
        DnssecResolver.builder()
            .upstream(dns.socketAddress())
            .trustAnchors(TrustAnchors.parse(dns.trustAnchor()))
            .build();
  }

  @AfterAll
  static void stop() {
    tls11Only.close();
    modern.close();
    dns.close();
  }

  /** An application's client that allows TLS 1.0 to 1.3, trusting the test root. */
  private static OkHttpClient compatibleClient() {
    return new OkHttpClient.Builder()
        .sslSocketFactory(PKI.clientSslContext().getSocketFactory(), PKI.trustManager())
        .connectionSpecs(List.of(ConnectionSpec.COMPATIBLE_TLS))
        .build();
  }

  private static FetchResult fetch(MtaStsServer server) throws Exception {
    return OkHttpPolicyFetcher.builder()
        .dns(resolver)
        .port(server.port())
        .client(compatibleClient())
        .connectTimeout(Duration.ofSeconds(5))
        .callTimeout(Duration.ofSeconds(10))
        .build()
        .fetchAsync(DomainName.of(DOMAIN), "id1")
        .get(20, TimeUnit.SECONDS);
  }

  /** The execution's JVM really allows TLS 1.1; without it this class would prove nothing. */
  @Test
  void thisJvmReEnablesTls11() throws Exception {
    assertThat(SSLContext.getDefault().getDefaultSSLParameters().getProtocols())
        .as("legacy-tls.security must be in force (-Djava.security.properties)")
        .contains("TLSv1.1");
  }

  /**
   * The control: the supplied client itself, not rebuilt, fetches from the TLS 1.1-only host over
   * TLS 1.1. Without it the refusal below could come from a broken fixture, not from the floor.
   */
  @Test
  void theSuppliedClientAloneReachesTheTls11OnlyHostOverTls11() throws Exception {
    tls11Only.clearRequests();
    OkHttpClient direct =
        compatibleClient().newBuilder().dns(host -> List.of(tls11Only.address())).build();
    try (Response r =
        direct.newCall(new Request.Builder().url(tls11Only.policyUrl(DOMAIN)).build()).execute()) {
      assertThat(r.code()).isEqualTo(200);
      assertThat(r.handshake()).isNotNull();
      assertThat(r.handshake().tlsVersion()).isEqualTo(TlsVersion.TLS_1_1);
    }
    assertThat(tls11Only.requests())
        .singleElement()
        .extracting(MtaStsServer.Request::tlsVersion)
        .isEqualTo("TLSv1.1");
  }

  @Test
  void aPolicyHostSpeakingOnlyTls11IsAFetchErrorEvenWithACompatibleClient() throws Exception {
    tls11Only.clearRequests();
    FetchResult result = fetch(tls11Only);
    assertThat(tls11Only.requests()).as("requests the TLS 1.1-only policy host answered").isEmpty();
    assertThat(result).as("%s", result).isInstanceOf(FetchResult.Failure.class);
    FetchResult.Failure f = (FetchResult.Failure) result;
    assertThat(f.type()).as(f.reason()).isEqualTo(FailureType.STS_POLICY_FETCH_ERROR);
  }

  @Test
  void aModernPolicyHostIsStillFetchedWithTheSuppliedClient() throws Exception {
    modern.clearRequests();
    FetchResult result = fetch(modern);
    assertThat(result).as("%s", result).isInstanceOf(FetchResult.Success.class);
    assertThat(modern.requests())
        .singleElement()
        .extracting(MtaStsServer.Request::tlsVersion)
        .isIn("TLSv1.3", "TLSv1.2");
  }

  @Test
  void theRebuiltClientOffersOnlyTls13And12() {
    OkHttpClient client =
        OkHttpPolicyFetcher.builder().dns(resolver).client(compatibleClient()).build().client();
    assertThat(client.connectionSpecs())
        .isNotEmpty()
        .allSatisfy(
            spec -> {
              assertThat(spec.isTls()).isTrue();
              assertThat(spec.tlsVersions())
                  .containsExactlyInAnyOrder(TlsVersion.TLS_1_3, TlsVersion.TLS_1_2);
            });
  }
}
