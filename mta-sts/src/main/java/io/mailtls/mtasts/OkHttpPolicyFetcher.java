package io.mailtls.mtasts;

import io.mailtls.core.DnsResolver;
import io.mailtls.core.DomainName;
import io.mailtls.core.FailureType;
import io.mailtls.mtasts.internal.HttpsHardening;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.jspecify.annotations.Nullable;

/**
 * Fetches MTA-STS policies over HTTPS with OkHttp: {@code GET
 * https://mta-sts.<domain>/.well-known/mta-sts.txt} (RFC 8461 §3.3), parsed as RFC 8461 §3.2 says.
 * Immutable and thread-safe; build it once and share it.
 *
 * <pre>{@code
 * PolicyFetcher fetcher = OkHttpPolicyFetcher.builder()
 *     .dns(dnsResolver)                       // required: resolves mta-sts.<domain>
 *     .client(sharedOkHttpClient)             // optional: pool, dispatcher, trust
 *     .build();
 * fetcher.fetchAsync(DomainName.of("example.com"), "20240101").thenAccept(...);
 * }</pre>
 *
 * <p>What RFC 8461 requires of the fetch, and how it is done:
 *
 * <ul>
 *   <li>§3.3: redirects are never followed: the client is rebuilt with {@code
 *       followRedirects(false)} and {@code followSslRedirects(false)}, and any status other than
 *       200 (3xx included) is {@link FailureType#STS_POLICY_FETCH_ERROR}.
 *   <li>§3.3: no HTTP caching: the client is rebuilt with {@code cache(null)}, so {@code
 *       Cache-Control}, {@code Expires} or validators change nothing; caching policies is {@code
 *       max_age}'s business (§5.1).
 *   <li>§3.3: no credentials and no cookies: the client is rebuilt with {@code Authenticator.NONE}
 *       and {@code CookieJar.NO_COOKIES}, so a 401 is a {@link FailureType#STS_POLICY_FETCH_ERROR}
 *       like any status but 200, never a second request with the supplied client's credentials, and
 *       no cookie goes to or comes from the policy host (named by the recipient domain, anyone's).
 *   <li>§3.3: the supplied client's application and network interceptors are removed: none can add
 *       the application's credentials or headers to the request, follow a redirect or answer from a
 *       cache of its own. Its {@code EventListener.Factory}, which only observes, is kept.
 *   <li>§3.3: the certificate must chain to a trusted root (the client's trust manager; the
 *       system's by default) and be valid for {@code mta-sts.<domain>}, which is sent as SNI.
 *       OkHttp's own host name verifier is always used, whatever the supplied client had.
 *       Certificate failures are {@link FailureType#STS_WEBPKI_INVALID}.
 *   <li>TLS 1.2 or newer (RFC 8996 deprecates 1.0 and 1.1): the client is rebuilt with the supplied
 *       client's TLS connection specs cut to TLS 1.3 and 1.2 (their cipher suites kept; no
 *       cleartext spec), so a client built with {@code ConnectionSpec.COMPATIBLE_TLS}, in a JVM
 *       that re-enables the old versions, cannot fetch a policy over them. A policy host that
 *       speaks nothing newer is a {@link FailureType#STS_POLICY_FETCH_ERROR}.
 *   <li>§3.2: the media type must be {@code text/plain} (case-insensitive; parameters such as
 *       {@code charset} are ignored and the body is always read as UTF-8).
 *   <li>§3.3: the body is bounded to {@value #MAX_BODY_BYTES} bytes whatever {@code Content-Length}
 *       or the chunking says (at most one byte more is read); the whole call is bounded by the call
 *       timeout.
 *   <li>The body must be valid UTF-8 and parse (§3.2); otherwise {@link
 *       FailureType#STS_POLICY_INVALID}.
 * </ul>
 *
 * <p>The host {@code mta-sts.<domain>} is resolved through the configured {@link DnsResolver} (A
 * and AAAA); a DNS failure is {@link FailureType#STS_POLICY_FETCH_ERROR}. Calls run on the client's
 * dispatcher ({@link Call#enqueue}); the returned stage always completes normally, within the call
 * timeout.
 */
public final class OkHttpPolicyFetcher implements PolicyFetcher {

  /** RFC 8461 §3.3: the well-known path of the policy. */
  public static final String WELL_KNOWN_PATH = "/.well-known/mta-sts.txt";

  /** RFC 8461 §3.3's suggested bound on the policy body: 64 KiB. */
  public static final int MAX_BODY_BYTES = 64 * 1024;

  /** Default bound on establishing the TCP connection: 10 s. */
  public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);

  /** Default bound on each read (and write) once connected: 10 s. */
  public static final Duration DEFAULT_READ_TIMEOUT = Duration.ofSeconds(10);

  /**
   * Default bound on the whole fetch, DNS to the last body byte: 30 s (RFC 8461 §3.3 suggests at
   * most a minute).
   */
  public static final Duration DEFAULT_CALL_TIMEOUT = Duration.ofSeconds(30);

  /** Default HTTPS port. */
  public static final int DEFAULT_PORT = 443;

  private final OkHttpClient client;
  private final int port;
  private final Duration connectTimeout;
  private final Duration readTimeout;
  private final Duration callTimeout;

  private OkHttpPolicyFetcher(Builder b, OkHttpClient base) {
    this.port = b.port;
    this.connectTimeout = b.connectTimeout;
    this.readTimeout = b.readTimeout;
    this.callTimeout = b.callTimeout;
    this.client =
        // RFC 8461 §3.3: no redirects, no HTTP cache, only a 200 is a policy; the policy host is
        // named by the recipient domain, anyone's, so nothing of the application's client (its
        // credentials, cookies, interceptors) reaches it; its certificate must be valid for the
        // policy host's DNS-ID; TLS 1.2 or newer.
        HttpsHardening.rebuild(base)
            .dns(new ResolverDns(Objects.requireNonNull(b.dns, "dns"), b.callTimeout)) // checked
            .connectTimeout(b.connectTimeout)
            .readTimeout(b.readTimeout)
            .writeTimeout(b.readTimeout)
            .callTimeout(b.callTimeout)
            .build();
  }

  /** Starts configuring a fetcher; {@link Builder#dns(DnsResolver)} is required. */
  public static Builder builder() {
    return new Builder();
  }

  /** The client that fetches, as rebuilt from the supplied one (for inspection). */
  public OkHttpClient client() {
    return client;
  }

  /**
   * Fetches and parses the policy of {@code policyDomain} (RFC 8461 §3.3), without blocking.
   *
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if {@code policyDomain} is the root
   */
  @Override
  public CompletableFuture<FetchResult> fetchAsync(DomainName policyDomain, String id) {
    Objects.requireNonNull(policyDomain, "policyDomain");
    Objects.requireNonNull(id, "id");
    if (policyDomain.isRoot()) {
      throw new IllegalArgumentException("the root has no MTA-STS policy host");
    }
    DomainName host;
    try {
      // RFC 8461 §3.3: the policy host is "mta-sts" prepended to the policy domain.
      host = policyDomain.prefixed("mta-sts");
    } catch (IllegalArgumentException e) {
      return CompletableFuture.completedFuture(
          new FetchResult.Failure(
              FailureType.STS_POLICY_FETCH_ERROR,
              "no policy host for " + policyDomain + ": " + e.getMessage()));
    }
    HttpUrl url =
        new HttpUrl.Builder()
            .scheme("https")
            .host(host.toString())
            .port(port)
            .encodedPath(WELL_KNOWN_PATH)
            .build();
    Request request = new Request.Builder().url(url).get().build();
    Call call = client.newCall(request);
    CompletableFuture<FetchResult> result = new CompletableFuture<>();
    FetchResult.Failure timedOut =
        new FetchResult.Failure(
            FailureType.STS_POLICY_FETCH_ERROR,
            "GET " + url + ": no complete answer within the call timeout of " + callTimeout);
    // OkHttp's call timeout starts when the dispatcher runs the call; this one starts now, so a
    // busy dispatcher cannot stretch the fetch either.
    result.completeOnTimeout(timedOut, callTimeout.toMillis(), TimeUnit.MILLISECONDS);
    // Only cancels the call; the caller gets result itself.
    var unused =
        result.whenComplete(
            (r, e) -> {
              if (r == timedOut) {
                call.cancel();
              }
            });
    call.enqueue(
        new Callback() {
          @Override
          public void onFailure(Call c, IOException e) {
            result.complete(
                PolicyResponses.failure(
                    e, url.toString(), connectTimeout, readTimeout, callTimeout));
          }

          @Override
          public void onResponse(Call c, Response response) {
            try (response) {
              result.complete(PolicyResponses.read(response, id, MAX_BODY_BYTES));
            } catch (IOException e) {
              result.complete(
                  PolicyResponses.failure(
                      e, url.toString(), connectTimeout, readTimeout, callTimeout));
            } catch (RuntimeException e) {
              result.complete(
                  new FetchResult.Failure(
                      FailureType.STS_POLICY_FETCH_ERROR,
                      "GET " + url + ": unexpected failure: " + e));
            }
          }
        });
    return result;
  }

  @Override
  public String toString() {
    return "OkHttpPolicyFetcher{port="
        + port
        + ", connectTimeout="
        + connectTimeout
        + ", readTimeout="
        + readTimeout
        + ", callTimeout="
        + callTimeout
        + "}";
  }

  /**
   * Configures an {@link OkHttpPolicyFetcher}. Each setter may be called once; values are checked
   * in {@link #build()}.
   *
   * <p>Not thread-safe.
   */
  public static final class Builder {
    private final List<String> called = new ArrayList<>();
    private @Nullable OkHttpClient client;
    private @Nullable DnsResolver dns;
    private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
    private Duration readTimeout = DEFAULT_READ_TIMEOUT;
    private Duration callTimeout = DEFAULT_CALL_TIMEOUT;
    private int port = DEFAULT_PORT;

    private Builder() {}

    private void once(String setter) {
      if (called.contains(setter)) {
        throw new IllegalStateException(setter + " already set");
      }
      called.add(setter);
    }

    /**
     * The client to build on (its connection pool, dispatcher, proxy, TLS socket factory and trust
     * manager); default a new {@code OkHttpClient}. It is rebuilt with {@code newBuilder()}:
     * redirects off, no cache, no authenticator, no cookie jar, this fetcher's DNS, OkHttp's host
     * name verifier, its TLS connection specs cut to TLS 1.3 and 1.2, timeouts, and none of its
     * interceptors (application or network): the policy host is named by the recipient domain,
     * anyone's, and an interceptor could add credentials, follow redirects or cache (RFC 8461
     * §3.3). Its event listener factory is kept.
     */
    public Builder client(OkHttpClient client) {
      once("client");
      this.client = Objects.requireNonNull(client, "client");
      return this;
    }

    /** The resolver for {@code mta-sts.<domain>}; required. */
    public Builder dns(DnsResolver dns) {
      once("dns");
      this.dns = Objects.requireNonNull(dns, "dns");
      return this;
    }

    /** Bound on the TCP connect; default {@link #DEFAULT_CONNECT_TIMEOUT}. */
    public Builder connectTimeout(Duration timeout) {
      once("connectTimeout");
      this.connectTimeout = Objects.requireNonNull(timeout, "connectTimeout");
      return this;
    }

    /** Bound on each read and write; default {@link #DEFAULT_READ_TIMEOUT}. */
    public Builder readTimeout(Duration timeout) {
      once("readTimeout");
      this.readTimeout = Objects.requireNonNull(timeout, "readTimeout");
      return this;
    }

    /** Bound on the whole fetch, DNS included; default {@link #DEFAULT_CALL_TIMEOUT}. */
    public Builder callTimeout(Duration timeout) {
      once("callTimeout");
      this.callTimeout = Objects.requireNonNull(timeout, "callTimeout");
      return this;
    }

    /** The HTTPS port; default 443. Tests point it at a fixture's ephemeral port. */
    public Builder port(int port) {
      once("port");
      this.port = port;
      return this;
    }

    /**
     * Builds the fetcher.
     *
     * @throws IllegalStateException if no {@link #dns(DnsResolver)} was given
     * @throws IllegalArgumentException if a timeout is not positive or the port not in 1..65535
     */
    public OkHttpPolicyFetcher build() {
      if (dns == null) {
        throw new IllegalStateException("dns(...) is required");
      }
      requirePositive("connectTimeout", connectTimeout);
      requirePositive("readTimeout", readTimeout);
      requirePositive("callTimeout", callTimeout);
      if (port < 1 || port > 65535) {
        throw new IllegalArgumentException("port out of range 1..65535: " + port);
      }
      return new OkHttpPolicyFetcher(this, client != null ? client : new OkHttpClient());
    }

    private static void requirePositive(String what, Duration d) {
      // OkHttp keeps timeouts as int milliseconds.
      if (d.compareTo(Duration.ofMillis(1)) < 0
          || d.compareTo(Duration.ofMillis(Integer.MAX_VALUE)) > 0) {
        throw new IllegalArgumentException(
            what + " out of range 1 ms.." + Integer.MAX_VALUE + " ms: " + d);
      }
    }
  }
}
