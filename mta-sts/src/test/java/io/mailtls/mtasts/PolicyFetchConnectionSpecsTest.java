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
import java.util.stream.Stream;
import okhttp3.ConnectionSpec;
import okhttp3.OkHttpClient;
import okhttp3.TlsVersion;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The TLS 1.2 floor keeps every connection spec an application may supply usable: whatever its
 * specs allow at or above TLS 1.2, the rebuilt client still fetches from a policy host that speaks
 * TLS 1.3 alone and from one that speaks TLS 1.2 alone (RFC 8996 deprecates only 1.0 and 1.1).
 */
class PolicyFetchConnectionSpecsTest {

  private static final TestPki PKI = TestPki.create();
  private static final String DOMAIN = "specs.example.test";

  private static MtaStsServer tls13Only;
  private static MtaStsServer tls12Only;
  private static TestDnsServer dns;
  private static DnsResolver resolver;

  @BeforeAll
  static void start() {
    String policy = MtaStsServer.policyText("enforce", 86400, "mx1." + DOMAIN);
    tls13Only =
        MtaStsServer.builder().pki(PKI).tlsProtocols("TLSv1.3").domain(DOMAIN, policy).start();
    tls12Only =
        MtaStsServer.builder().pki(PKI).tlsProtocols("TLSv1.2").domain(DOMAIN, policy).start();
    dns =
        TestDnsServer.builder()
            .zone("example.test", z -> tls13Only.publish(z, DOMAIN, "id1"))
            .start();
    resolver =
        DnssecResolver.builder()
            .upstream(dns.socketAddress())
            .trustAnchors(TrustAnchors.parse(dns.trustAnchor()))
            .build();
  }

  @AfterAll
  static void stop() {
    tls13Only.close();
    tls12Only.close();
    dns.close();
  }

  static Stream<Arguments> specsAndServers() {
    ConnectionSpec allVersions =
        new ConnectionSpec.Builder(ConnectionSpec.MODERN_TLS).allEnabledTlsVersions().build();
    ConnectionSpec allEnabled =
        new ConnectionSpec.Builder(ConnectionSpec.MODERN_TLS)
            .allEnabledTlsVersions()
            .allEnabledCipherSuites()
            .build();
    List<List<ConnectionSpec>> lists =
        List.of(
            List.of(ConnectionSpec.RESTRICTED_TLS),
            List.of(ConnectionSpec.MODERN_TLS),
            List.of(ConnectionSpec.COMPATIBLE_TLS),
            List.of(ConnectionSpec.MODERN_TLS, ConnectionSpec.CLEARTEXT),
            List.of(allVersions),
            List.of(allEnabled));
    return lists.stream()
        .flatMap(l -> Stream.of(Arguments.of(l, "TLSv1.3"), Arguments.of(l, "TLSv1.2")));
  }

  @ParameterizedTest(name = "[{index}] a {1}-only host")
  @MethodSource("specsAndServers")
  void theFlooredSpecsStillReachATls13OrTls12OnlyHost(List<ConnectionSpec> specs, String version)
      throws Exception {
    MtaStsServer server = version.equals("TLSv1.3") ? tls13Only : tls12Only;
    server.clearRequests();
    OkHttpClient supplied =
        new OkHttpClient.Builder()
            .sslSocketFactory(PKI.clientSslContext().getSocketFactory(), PKI.trustManager())
            .connectionSpecs(specs)
            .build();
    OkHttpPolicyFetcher fetcher = fetcher(supplied, server);
    assertThat(fetcher.client().connectionSpecs())
        .isNotEmpty()
        .allSatisfy(
            s -> {
              assertThat(s.isTls()).isTrue();
              assertThat(s.tlsVersions())
                  .isNotNull()
                  .isSubsetOf(TlsVersion.TLS_1_3, TlsVersion.TLS_1_2);
            });
    FetchResult result = fetcher.fetchAsync(DomainName.of(DOMAIN), "id1").get(20, TimeUnit.SECONDS);
    assertThat(result).as("%s", result).isInstanceOf(FetchResult.Success.class);
    assertThat(server.requests())
        .singleElement()
        .extracting(MtaStsServer.Request::tlsVersion)
        .isEqualTo(version);
  }

  /**
   * A cleartext-only client: OkHttp itself drops its TLS socket factory and trust manager when it
   * is built, so the rebuilt client (MODERN_TLS) trusts the system's roots only and still never
   * fetches in cleartext: the test root's certificate is not trusted.
   */
  @Test
  void aCleartextOnlyClientGetsModernTlsWithTheSystemsTrust() throws Exception {
    OkHttpClient supplied =
        new OkHttpClient.Builder().connectionSpecs(List.of(ConnectionSpec.CLEARTEXT)).build();
    OkHttpPolicyFetcher fetcher = fetcher(supplied, tls13Only);
    assertThat(fetcher.client().connectionSpecs()).containsExactly(ConnectionSpec.MODERN_TLS);
    FetchResult result = fetcher.fetchAsync(DomainName.of(DOMAIN), "id1").get(20, TimeUnit.SECONDS);
    assertThat(result).as("%s", result).isInstanceOf(FetchResult.Failure.class);
    assertThat(((FetchResult.Failure) result).type()).isEqualTo(FailureType.STS_WEBPKI_INVALID);
  }

  private static OkHttpPolicyFetcher fetcher(OkHttpClient supplied, MtaStsServer server) {
    return OkHttpPolicyFetcher.builder()
        .dns(resolver)
        .port(server.port())
        .client(supplied)
        .connectTimeout(Duration.ofSeconds(5))
        .callTimeout(Duration.ofSeconds(10))
        .build();
  }
}
