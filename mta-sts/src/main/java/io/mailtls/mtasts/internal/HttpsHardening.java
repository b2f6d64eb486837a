package io.mailtls.mtasts.internal;

import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.HostnameVerifier;
import okhttp3.Authenticator;
import okhttp3.ConnectionSpec;
import okhttp3.CookieJar;
import okhttp3.OkHttpClient;
import okhttp3.TlsVersion;

/**
 * The rules the MTA-STS policy fetch (RFC 8461 §3.3) and the TLS-RPT upload (RFC 8460 §5.4) both
 * apply to an application's {@code OkHttpClient}: the host asked is named by someone else's DNS, so
 * nothing of the application's may reach it, and TLS 1.2 is the floor. Each caller adds its own
 * settings (redirects, cache, authenticator, cookies, timeouts) to the builder returned.
 */
public final class HttpsHardening {

  private static final List<TlsVersion> FLOOR = List.of(TlsVersion.TLS_1_3, TlsVersion.TLS_1_2);

  private HttpsHardening() {}

  /**
   * {@code base} to rebuild for a host someone else's DNS names, with what both callers need:
   *
   * <ul>
   *   <li>no redirects followed (RFC 8461 §3.3: "HTTP 3xx redirects MUST NOT be followed"; an
   *       upload's answer is its status);
   *   <li>no HTTP cache (RFC 8461 §3.3), no cookie jar, and {@code Authenticator.NONE}: a 401 never
   *       gets a second request with the application's credentials;
   *   <li>none of its application or network interceptors: none may add the application's
   *       credentials or headers to the request, follow a redirect or answer from a cache of its
   *       own (its event listener factory, which only observes, is kept);
   *   <li>OkHttp's own (RFC 6125) host name verifier, whatever the supplied client had;
   *   <li>TLS connection specs cut to TLS 1.3 and 1.2 ({@link #tls12Floor}).
   * </ul>
   *
   * The caller adds the DNS and the timeouts. The supplied client's pool, dispatcher, proxy, TLS
   * socket factory and trust manager are kept; a client with no TLS spec has none of the last two
   * (OkHttp drops them when it is built), so it gets the platform's, with the system's roots.
   */
  public static OkHttpClient.Builder rebuild(OkHttpClient base) {
    OkHttpClient.Builder rebuilt = base.newBuilder();
    rebuilt.interceptors().clear();
    rebuilt.networkInterceptors().clear();
    return rebuilt
        .followRedirects(false)
        .followSslRedirects(false)
        .cache(null)
        .authenticator(Authenticator.NONE)
        .cookieJar(CookieJar.NO_COOKIES)
        .hostnameVerifier(DefaultVerifier.INSTANCE)
        .connectionSpecs(tls12Floor(base.connectionSpecs()));
  }

  /**
   * The supplied TLS connection specs (their cipher suites kept) with TLS 1.0 and 1.1 cut out (RFC
   * 8996): a spec that allows no version at or above 1.2 gets 1.3 and 1.2. Cleartext goes, the
   * callers speak HTTPS only; with no TLS spec at all, {@link ConnectionSpec#MODERN_TLS}.
   */
  static List<ConnectionSpec> tls12Floor(List<ConnectionSpec> supplied) {
    List<ConnectionSpec> specs = new ArrayList<>();
    for (ConnectionSpec spec : supplied) {
      if (!spec.isTls()) {
        continue;
      }
      List<TlsVersion> allowed = spec.tlsVersions();
      List<TlsVersion> versions =
          allowed == null ? FLOOR : allowed.stream().filter(FLOOR::contains).toList();
      ConnectionSpec floored =
          new ConnectionSpec.Builder(spec)
              .tlsVersions((versions.isEmpty() ? FLOOR : versions).toArray(new TlsVersion[0]))
              .build();
      if (!specs.contains(floored)) {
        specs.add(floored);
      }
    }
    return specs.isEmpty() ? List.of(ConnectionSpec.MODERN_TLS) : List.copyOf(specs);
  }

  /** OkHttp's default (RFC 6125) host name verifier, taken from a default client once. */
  private static final class DefaultVerifier {
    static final HostnameVerifier INSTANCE = new OkHttpClient.Builder().build().hostnameVerifier();
  }
}
