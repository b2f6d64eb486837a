package io.mailtls.mtasts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailtls.core.DnsResolver;
import io.mailtls.core.DnssecResolver;
import io.mailtls.core.DomainName;
import io.mailtls.core.FailureType;
import io.mailtls.core.MtaStsMode;
import io.mailtls.core.MtaStsPolicy;
import io.mailtls.core.TrustAnchors;
import io.mailtls.testkit.MtaStsServer;
import io.mailtls.testkit.MtaStsServer.Fault;
import io.mailtls.testkit.TestDnsServer;
import io.mailtls.testkit.TestPki;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import okhttp3.Cache;
import okhttp3.Cookie;
import okhttp3.CookieJar;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * RFC 8461 §3.3: fetching the policy over HTTPS, against the testkit's {@link MtaStsServer} on
 * loopback, resolved through a validating {@link DnssecResolver} against the testkit's signed DNS.
 */
class OkHttpPolicyFetcherTest {

  private static final TestPki PKI = TestPki.create();
  private static final String ZONE = "example.test";
  private static final List<String> DOMAINS =
      List.of(
          "ok",
          "types",
          "redirect",
          "notfound",
          "error",
          "html",
          "bigcl",
          "bigchunked",
          "exact",
          "stall",
          "stall2",
          "wrongname",
          "untrusted",
          "selfsigned",
          "expired",
          "malformed",
          "cache",
          "verifier",
          "auth",
          "cookie",
          "intercepted",
          "selfredirect",
          "dnsfail");

  private static MtaStsServer sts;
  private static TestDnsServer dns;
  private static DnsResolver resolver;

  @BeforeAll
  static void startServers() {
    sts = MtaStsServer.builder().pki(PKI).stall(Duration.ofSeconds(30)).start();
    for (String d : DOMAINS) {
      sts.policy(
          domain(d),
          MtaStsServer.policyText("enforce", 86400, "mx1." + domain(d), "*.mx." + domain(d)));
    }
    dns =
        TestDnsServer.builder()
            .zone(
                ZONE,
                z -> {
                  for (String d : DOMAINS) {
                    sts.publish(z, domain(d), "id" + d);
                  }
                  // A TXT record but no policy host address.
                  z.txt("_mta-sts.nohost." + ZONE, MtaStsServer.stsRecord("1"));
                  // A policy host at the unspecified address (a connect reaches this host).
                  z.txt("_mta-sts.zero." + ZONE, MtaStsServer.stsRecord("1"))
                      .a("mta-sts.zero." + ZONE, "0.0.0.0")
                      .aaaa("mta-sts.zero." + ZONE, "::");
                })
            .start();
    dns.servfail("mta-sts." + domain("dnsfail"));
    resolver =
        DnssecResolver.builder()
            .upstream(dns.socketAddress())
            .trustAnchors(TrustAnchors.parse(dns.trustAnchor()))
            .queryTimeout(Duration.ofSeconds(2))
            .lookupTimeout(Duration.ofSeconds(5))
            .build();
  }

  @AfterAll
  static void stopServers() {
    sts.close();
    dns.close();
  }

  private static String domain(String label) {
    return label + "." + ZONE;
  }

  /** A client that trusts the test root, as a user would supply it. */
  private static OkHttpClient.Builder trustingClient() {
    return new OkHttpClient.Builder()
        .sslSocketFactory(PKI.clientSslContext().getSocketFactory(), PKI.trustManager());
  }

  private static OkHttpPolicyFetcher fetcher() {
    return fetcher(b -> b.readTimeout(Duration.ofSeconds(5)).callTimeout(Duration.ofSeconds(10)));
  }

  private static OkHttpPolicyFetcher fetcher(UnaryOperator<OkHttpPolicyFetcher.Builder> config) {
    return config
        .apply(
            OkHttpPolicyFetcher.builder()
                .dns(resolver)
                .port(sts.port())
                .connectTimeout(Duration.ofSeconds(2)))
        .build();
  }

  private static FetchResult fetch(OkHttpPolicyFetcher fetcher, String label) throws Exception {
    return fetcher
        .fetchAsync(DomainName.of(domain(label)), "id" + label)
        .toCompletableFuture()
        .get(20, TimeUnit.SECONDS);
  }

  private static FetchResult.Failure assertFailure(FetchResult result, FailureType type) {
    assertThat(result).isInstanceOf(FetchResult.Failure.class);
    FetchResult.Failure failure = (FetchResult.Failure) result;
    assertThat(failure.reason()).doesNotContain("\n");
    assertThat(failure.type()).as(failure.reason()).isEqualTo(type);
    return failure;
  }

  private static OkHttpPolicyFetcher fetcherWithClient(OkHttpClient client) {
    return fetcher(b -> b.client(client).callTimeout(Duration.ofSeconds(10)));
  }

  @Test
  void section3_3FetchesAndParsesThePolicy() throws Exception {
    FetchResult result = fetch(fetcherWithClient(trustingClient().build()), "ok");
    assertThat(result).isInstanceOf(FetchResult.Success.class);
    MtaStsPolicy policy = ((FetchResult.Success) result).policy();
    assertThat(policy.id()).isEqualTo("idok");
    assertThat(policy.mode()).isEqualTo(MtaStsMode.ENFORCE);
    assertThat(policy.mxPatterns()).containsExactly("mx1.ok.example.test", "*.mx.ok.example.test");
    assertThat(policy.maxAge()).isEqualTo(Duration.ofDays(1));
    assertThat(sts.requestCount(domain("ok"))).isEqualTo(1);
    MtaStsServer.Request request = sts.requests(domain("ok")).get(0);
    assertThat(request.method()).isEqualTo("GET");
    assertThat(request.path()).isEqualTo(OkHttpPolicyFetcher.WELL_KNOWN_PATH);
    // RFC 8461 §3.3 and §7: the policy host is named by SNI.
    assertThat(request.serverNames()).containsExactly("mta-sts.ok.example.test");
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(
      strings = {
        "text/plain",
        "TEXT/PLAIN",
        "text/plain; charset=utf-8",
        "Text/Plain;charset=US-ASCII",
        "text/plain ; format=flowed",
        "text/plain; charset=latin1"
      })
  void section3_2MediaTypeTextPlainWithAnyParameters(String contentType) throws Exception {
    sts.contentType(domain("types"), contentType);
    assertThat(fetch(fetcherWithClient(trustingClient().build()), "types"))
        .isInstanceOf(FetchResult.Success.class);
  }

  @Test
  void section3_2OtherMediaTypesAreFetchErrors() throws Exception {
    sts.fault(domain("html"), Fault.WRONG_CONTENT_TYPE);
    FetchResult.Failure f =
        assertFailure(
            fetch(fetcherWithClient(trustingClient().build()), "html"),
            FailureType.STS_POLICY_FETCH_ERROR);
    assertThat(f.reason()).contains("Content-Type text/html; charset=utf-8").contains("§3.2");
  }

  @Test
  void section3_3RedirectsAreFailuresAndNeverFollowed() throws Exception {
    sts.fault(domain("redirect"), Fault.REDIRECT);
    // Even a client built to follow redirects does not follow them here.
    OkHttpClient following =
        trustingClient().followRedirects(true).followSslRedirects(true).build();
    FetchResult.Failure f =
        assertFailure(
            fetch(fetcherWithClient(following), "redirect"), FailureType.STS_POLICY_FETCH_ERROR);
    assertThat(f.reason())
        .contains("HTTP 301 redirect to https://mta-sts.redirect.example.test")
        .contains("not followed");
    assertThat(sts.redirectTargetRequested(domain("redirect"))).isFalse();
    assertThat(sts.requests(domain("redirect"))).hasSize(1);
  }

  @Test
  void section3_3OnlyStatus200IsValid() throws Exception {
    sts.fault(domain("notfound"), Fault.NOT_FOUND);
    sts.fault(domain("error"), Fault.SERVER_ERROR);
    OkHttpPolicyFetcher fetcher = fetcherWithClient(trustingClient().build());
    assertThat(
            assertFailure(fetch(fetcher, "notfound"), FailureType.STS_POLICY_FETCH_ERROR).reason())
        .contains("HTTP 404")
        .contains("only 200");
    assertThat(assertFailure(fetch(fetcher, "error"), FailureType.STS_POLICY_FETCH_ERROR).reason())
        .contains("HTTP 500");
  }

  @Test
  void section3_3BodyOverTheLimitWithContentLength() throws Exception {
    sts.fault(domain("bigcl"), Fault.OVERSIZE_BODY);
    FetchResult.Failure f =
        assertFailure(
            fetch(fetcherWithClient(trustingClient().build()), "bigcl"),
            FailureType.STS_POLICY_FETCH_ERROR);
    assertThat(f.reason())
        .contains("Content-Length " + MtaStsServer.OVERSIZE_BODY_BYTES)
        .contains("65536");
  }

  @Test
  void section3_3BodyOverTheLimitChunked() throws Exception {
    sts.fault(domain("bigchunked"), Fault.OVERSIZE_CHUNKED_BODY);
    FetchResult.Failure f =
        assertFailure(
            fetch(fetcherWithClient(trustingClient().build()), "bigchunked"),
            FailureType.STS_POLICY_FETCH_ERROR);
    assertThat(f.reason()).contains("body exceeds the limit of 65536 bytes");
  }

  @Test
  void section3_3ABodyOfExactlyTheLimitIsRead() throws Exception {
    String policy = MtaStsServer.policyText("testing", 60, "mx.exact.example.test");
    OkHttpPolicyFetcher fetcher = fetcherWithClient(trustingClient().build());
    sts.policy(domain("exact"), padTo(policy, OkHttpPolicyFetcher.MAX_BODY_BYTES));
    assertThat(fetch(fetcher, "exact")).isInstanceOf(FetchResult.Success.class);
    sts.policy(domain("exact"), padTo(policy, OkHttpPolicyFetcher.MAX_BODY_BYTES + 1));
    assertFailure(fetch(fetcher, "exact"), FailureType.STS_POLICY_FETCH_ERROR);
  }

  /** The policy followed by extension lines, exactly {@code size} bytes of ASCII. */
  private static String padTo(String policy, int size) {
    StringBuilder sb = new StringBuilder(policy);
    while (sb.length() < size) {
      int room = size - sb.length();
      if (room >= 120) {
        sb.append("x-pad: ").append("p".repeat(100)).append("\r\n");
      } else {
        // The last line: "x: " + at least one character + CRLF is 6 bytes at the least.
        sb.append("x: ").append("q".repeat(Math.max(1, room - 5))).append("\r\n");
      }
    }
    assertThat(sb.length()).isEqualTo(size);
    return sb.toString();
  }

  @Test
  @Timeout(60)
  void section3_3AStalledServerHitsTheReadTimeout() throws Exception {
    sts.fault(domain("stall"), Fault.STALL);
    OkHttpPolicyFetcher fetcher =
        fetcher(
            b ->
                b.client(trustingClient().build())
                    .readTimeout(Duration.ofMillis(500))
                    .callTimeout(Duration.ofSeconds(10)));
    FetchResult.Failure f =
        assertFailure(fetch(fetcher, "stall"), FailureType.STS_POLICY_FETCH_ERROR);
    // The read timeout ended the fetch, not the call timeout 20 times longer.
    assertThat(f.reason())
        .contains("timed out")
        .contains("read timeout PT0.5S")
        .doesNotContain("call timeout");
    assertThat(sts.requestCount(domain("stall"))).isEqualTo(1);
  }

  @Test
  @Timeout(60)
  void section3_3TheCallTimeoutBoundsTheWholeFetch() throws Exception {
    sts.fault(domain("stall2"), Fault.STALL);
    OkHttpPolicyFetcher fetcher =
        fetcher(
            b ->
                b.client(trustingClient().build())
                    .readTimeout(Duration.ofSeconds(20))
                    .callTimeout(Duration.ofMillis(800)));
    FetchResult.Failure f =
        assertFailure(fetch(fetcher, "stall2"), FailureType.STS_POLICY_FETCH_ERROR);
    // The call timeout ended the fetch, not the read timeout 25 times longer.
    assertThat(f.reason()).contains("call timeout of PT0.8S");
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(
      value = Fault.class,
      names = {
        "WRONG_NAME_CERTIFICATE",
        "UNTRUSTED_CERTIFICATE",
        "SELF_SIGNED_CERTIFICATE",
        "EXPIRED_CERTIFICATE"
      })
  void section3_3CertificateFailuresAreWebPkiInvalid(Fault fault) throws Exception {
    String label =
        switch (fault) {
          case WRONG_NAME_CERTIFICATE -> "wrongname";
          case UNTRUSTED_CERTIFICATE -> "untrusted";
          case SELF_SIGNED_CERTIFICATE -> "selfsigned";
          default -> "expired";
        };
    sts.fault(domain(label), fault);
    FetchResult.Failure f =
        assertFailure(
            fetch(fetcherWithClient(trustingClient().build()), label),
            FailureType.STS_WEBPKI_INVALID);
    assertThat(f.reason()).contains("https://mta-sts." + domain(label)).contains("§3.3");
    if (fault == Fault.WRONG_NAME_CERTIFICATE) {
      assertThat(f.reason()).contains("not valid for the policy host");
    } else {
      assertThat(f.reason()).contains("does not verify");
    }
    assertThat(sts.requestCount(domain(label))).isZero();
    assertThat(sts.handshakeCount(domain(label))).isPositive();
  }

  @Test
  void section3_3APermissiveHostnameVerifierIsReplaced() throws Exception {
    sts.fault(domain("verifier"), Fault.WRONG_NAME_CERTIFICATE);
    OkHttpClient permissive = trustingClient().hostnameVerifier((host, session) -> true).build();
    assertFailure(fetch(fetcherWithClient(permissive), "verifier"), FailureType.STS_WEBPKI_INVALID);
  }

  @Test
  void section3_2AMalformedPolicyIsInvalid() throws Exception {
    sts.fault(domain("malformed"), Fault.MALFORMED_POLICY);
    FetchResult.Failure f =
        assertFailure(
            fetch(fetcherWithClient(trustingClient().build()), "malformed"),
            FailureType.STS_POLICY_INVALID);
    assertThat(f.reason()).contains("line 2").contains("mode must be").contains("\"sometimes\"");
  }

  @Test
  void section3_3NoHttpCaching(@TempDir Path cacheDir) throws Exception {
    sts.cacheControl(domain("cache"), "max-age=86400, public");
    OkHttpClient cachingClient =
        trustingClient().cache(new Cache(cacheDir.toFile(), 1024 * 1024)).build();
    OkHttpPolicyFetcher fetcher = fetcherWithClient(cachingClient);
    assertThat(fetcher.client().cache()).isNull();
    assertThat(fetch(fetcher, "cache")).isInstanceOf(FetchResult.Success.class);
    assertThat(fetch(fetcher, "cache")).isInstanceOf(FetchResult.Success.class);
    assertThat(sts.requestCount(domain("cache"))).isEqualTo(2);
    assertThat(sts.requests(domain("cache")))
        .allSatisfy(r -> assertThat(r.header("If-None-Match")).isEmpty());
  }

  /**
   * The policy host is named by the recipient domain, anyone's: a shared client's {@code
   * Authenticator} must not hand it credentials in answer to a 401. Only status 200 is valid (RFC
   * 8461 §3.3), and the fetch is one request, no retry with credentials.
   */
  @Test
  void section3_3A401IsAFailureAndNoCredentialsAreSent() throws Exception {
    sts.fault(domain("auth"), Fault.UNAUTHORIZED);
    AtomicInteger asked = new AtomicInteger();
    OkHttpClient withAuthenticator =
        trustingClient()
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
    FetchResult result = fetch(fetcherWithClient(withAuthenticator), "auth");
    assertThat(sts.requests(domain("auth")))
        .as("requests to the policy host")
        .hasSize(1)
        .allSatisfy(r -> assertThat(r.header("Authorization")).isEmpty());
    assertThat(asked).as("the shared client's authenticator was asked").hasValue(0);
    assertThat(assertFailure(result, FailureType.STS_POLICY_FETCH_ERROR).reason())
        .contains("HTTP 401")
        .contains("only 200");
  }

  /**
   * A shared client's cookie jar is not the policy fetch's: no cookie goes to the policy host, and
   * none it sets is kept (the host is named by the recipient domain, RFC 8461 §3.3).
   */
  @Test
  void section3_3NoCookiesAreSentOrKept() throws Exception {
    List<HttpUrl> consulted = new ArrayList<>();
    CookieJar jar =
        new CookieJar() {
          @Override
          public synchronized void saveFromResponse(HttpUrl url, List<Cookie> cookies) {
            consulted.add(url);
          }

          @Override
          public synchronized List<Cookie> loadForRequest(HttpUrl url) {
            consulted.add(url);
            return List.of(
                new Cookie.Builder().name("session").value("secret").domain(url.host()).build());
          }
        };
    FetchResult result =
        fetch(fetcherWithClient(trustingClient().cookieJar(jar).build()), "cookie");
    assertThat(result).isInstanceOf(FetchResult.Success.class);
    assertThat(sts.requests(domain("cookie")))
        .hasSize(1)
        .allSatisfy(r -> assertThat(r.header("Cookie")).isEmpty());
    synchronized (jar) {
      assertThat(consulted).as("the shared client's cookie jar was consulted").isEmpty();
    }
  }

  /**
   * A shared client's interceptors are the application's, not the policy fetch's: the policy host
   * is named by the recipient domain, anyone's (RFC 8461 §3.3), so a header an interceptor adds
   * (here an application's bearer token, and a network interceptor's) must not reach it.
   */
  @Test
  void section3_3ASharedClientsInterceptorsAddNothingToTheFetch() throws Exception {
    AtomicInteger intercepted = new AtomicInteger();
    OkHttpClient withInterceptors =
        trustingClient()
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
    FetchResult result = fetch(fetcherWithClient(withInterceptors), "intercepted");
    assertThat(sts.requests(domain("intercepted")))
        .as("requests to the policy host")
        .hasSize(1)
        .allSatisfy(
            r -> {
              assertThat(r.header("Authorization")).isEmpty();
              assertThat(r.header("X-Api-Key")).isEmpty();
            });
    assertThat(intercepted).as("the shared client's interceptors were called").hasValue(0);
    assertThat(result).isInstanceOf(FetchResult.Success.class);
  }

  /**
   * An application interceptor that follows redirects itself (as some shared clients' do) must not
   * turn a 3xx into a policy: RFC 8461 §3.3, "HTTP 3xx redirects MUST NOT be followed".
   */
  @Test
  void section3_3AnInterceptorCannotFollowARedirect() throws Exception {
    sts.fault(domain("selfredirect"), Fault.REDIRECT);
    OkHttpClient following =
        trustingClient()
            .addInterceptor(
                chain -> {
                  okhttp3.Response first = chain.proceed(chain.request());
                  String location = first.header("Location");
                  if (!first.isRedirect() || location == null) {
                    return first;
                  }
                  first.close();
                  return chain.proceed(chain.request().newBuilder().url(location).build());
                })
            .build();
    FetchResult.Failure f =
        assertFailure(
            fetch(fetcherWithClient(following), "selfredirect"),
            FailureType.STS_POLICY_FETCH_ERROR);
    assertThat(f.reason()).contains("HTTP 301 redirect").contains("not followed");
    assertThat(sts.redirectTargetRequested(domain("selfredirect"))).isFalse();
  }

  @Test
  void aDnsFailureOfThePolicyHostIsAFetchError() throws Exception {
    FetchResult.Failure f =
        assertFailure(fetch(fetcher(), "dnsfail"), FailureType.STS_POLICY_FETCH_ERROR);
    assertThat(f.reason()).contains("DNS lookup of mta-sts.dnsfail.example.test failed");
    assertThat(sts.requestCount(domain("dnsfail"))).isZero();
  }

  @Test
  void aPolicyHostWithoutAddressIsAFetchError() throws Exception {
    FetchResult.Failure f =
        assertFailure(
            fetcher().fetchAsync(DomainName.of(domain("nohost")), "1").get(),
            FailureType.STS_POLICY_FETCH_ERROR);
    assertThat(f.reason()).contains("mta-sts.nohost.example.test has no A or AAAA records");
  }

  /**
   * The policy host's name is the recipient domain's input: at 0.0.0.0 or :: a connect would reach
   * this host's own HTTPS server. Such addresses are dropped, and a host with no other is a fetch
   * error, never a connection.
   */
  @Test
  void aPolicyHostAtTheUnspecifiedAddressIsAFetchErrorNeverAConnection() throws Exception {
    FetchResult.Failure f =
        assertFailure(
            fetcher().fetchAsync(DomainName.of(domain("zero")), "1").get(),
            FailureType.STS_POLICY_FETCH_ERROR);
    assertThat(f.reason())
        .contains("mta-sts.zero.example.test has no unicast address")
        .contains("0.0.0.0");
  }

  @Test
  void aRefusedConnectionIsAFetchError() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0, 1, sts.address())) {
      closedPort = s.getLocalPort();
    }
    OkHttpPolicyFetcher fetcher =
        OkHttpPolicyFetcher.builder()
            .client(trustingClient().build())
            .dns(resolver)
            .port(closedPort)
            .build();
    FetchResult.Failure f = assertFailure(fetch(fetcher, "ok"), FailureType.STS_POLICY_FETCH_ERROR);
    assertThat(f.reason()).containsIgnoringCase("connect");
  }

  @Test
  void aDomainTooLongForThePolicyHostIsAFetchError() throws Exception {
    String label = "a".repeat(60);
    DomainName longest = DomainName.of(label + "." + label + "." + label + "." + label + ".test");
    FetchResult.Failure f =
        assertFailure(fetcher().fetchAsync(longest, "1").get(), FailureType.STS_POLICY_FETCH_ERROR);
    assertThat(f.reason()).contains("no policy host");
  }

  @Test
  void concurrentFetchesAllComplete() throws Exception {
    OkHttpPolicyFetcher fetcher = fetcherWithClient(trustingClient().build());
    List<CompletableFuture<FetchResult>> results = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      results.add(fetcher.fetchAsync(DomainName.of(domain("ok")), "idok"));
    }
    for (CompletableFuture<FetchResult> r : results) {
      assertThat(r.get(20, TimeUnit.SECONDS)).isInstanceOf(FetchResult.Success.class);
    }
  }

  @Test
  void theClientIsRebuiltForRfc8461() {
    okhttp3.EventListener.Factory listeners = call -> okhttp3.EventListener.NONE;
    OkHttpClient user =
        trustingClient()
            .followRedirects(true)
            .addInterceptor(chain -> chain.proceed(chain.request()))
            .addNetworkInterceptor(chain -> chain.proceed(chain.request()))
            .eventListenerFactory(listeners)
            .build();
    OkHttpPolicyFetcher fetcher = OkHttpPolicyFetcher.builder().client(user).dns(resolver).build();
    OkHttpClient client = fetcher.client();
    assertThat(client.followRedirects()).isFalse();
    assertThat(client.followSslRedirects()).isFalse();
    assertThat(client.cache()).isNull();
    assertThat(client.connectTimeoutMillis()).isEqualTo(10_000);
    assertThat(client.readTimeoutMillis()).isEqualTo(10_000);
    assertThat(client.callTimeoutMillis()).isEqualTo(30_000);
    assertThat(client.sslSocketFactory()).isSameAs(user.sslSocketFactory());
    assertThat(client.interceptors()).isEmpty();
    assertThat(client.networkInterceptors()).isEmpty();
    assertThat(client.eventListenerFactory()).as("observes only: kept").isSameAs(listeners);
    assertThat(user.followRedirects()).isTrue();
    assertThat(user.interceptors()).hasSize(1);
  }

  @Test
  void builderChecksItsArguments() {
    assertThatThrownBy(() -> OkHttpPolicyFetcher.builder().build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("dns");
    assertThatThrownBy(() -> OkHttpPolicyFetcher.builder().port(1).port(2))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("port");
    assertThatThrownBy(() -> OkHttpPolicyFetcher.builder().dns(resolver).port(0).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("0");
    assertThatThrownBy(
            () -> OkHttpPolicyFetcher.builder().dns(resolver).callTimeout(Duration.ZERO).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("callTimeout");
    assertThatThrownBy(
            () ->
                OkHttpPolicyFetcher.builder()
                    .dns(resolver)
                    .readTimeout(Duration.ofMillis(-1))
                    .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("readTimeout");
    assertThatThrownBy(
            () ->
                OkHttpPolicyFetcher.builder()
                    .dns(resolver)
                    .connectTimeout(Duration.ofDays(30))
                    .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("connectTimeout");
    assertThatThrownBy(() -> OkHttpPolicyFetcher.builder().dns(null))
        .isInstanceOf(NullPointerException.class);
    OkHttpPolicyFetcher fetcher = OkHttpPolicyFetcher.builder().dns(resolver).build();
    assertThatThrownBy(() -> fetcher.fetchAsync(DomainName.ROOT, "1"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> fetcher.fetchAsync(DomainName.of("example.test"), null))
        .isInstanceOf(NullPointerException.class);
  }
}
