package io.mailtls.tlsrpt;

import io.mailtls.core.DnsResolver;
import io.mailtls.core.DnssecResolver;
import io.mailtls.core.TrustAnchors;
import io.mailtls.mtasts.MtaStsResolver;
import io.mailtls.mtasts.OkHttpPolicyFetcher;
import io.mailtls.testkit.TestDnsServer;
import io.mailtls.testkit.TestPki;
import java.time.Duration;
import okhttp3.OkHttpClient;

/** The resolver, HTTPS client and MTA-STS resolver the TLS-RPT test worlds set up alike. */
final class RptFixtures {

  private RptFixtures() {}

  /** Validates from {@code dns}'s trust anchor, with short bounds. */
  static DnssecResolver resolver(TestDnsServer dns) {
    return resolverBuilder(dns).build();
  }

  /** {@link #resolver}, with no answer cache: every lookup sees the zone as it is then. */
  static DnssecResolver uncachedResolver(TestDnsServer dns) {
    return resolverBuilder(dns).cacheSize(0).build();
  }

  private static DnssecResolver.Builder resolverBuilder(TestDnsServer dns) {
    return DnssecResolver.builder()
        .upstream(dns.socketAddress())
        .trustAnchors(TrustAnchors.parse(dns.trustAnchor()))
        .queryTimeout(Duration.ofSeconds(2))
        .lookupTimeout(Duration.ofSeconds(10));
  }

  /** Trusts {@code pki}'s root only. */
  static OkHttpClient http(TestPki pki) {
    return new OkHttpClient.Builder()
        .sslSocketFactory(pki.clientSslContext().getSocketFactory(), pki.trustManager())
        .build();
  }

  /** Fetches policies over {@code http} from the policy server's {@code port}. */
  static MtaStsResolver mtaSts(DnssecResolver resolver, OkHttpClient http, int port) {
    return mtaSts(resolver, resolver, http, port);
  }

  /**
   * The same, reading the {@code _mta-sts} TXT records through {@code txt} and resolving the policy
   * host through {@code resolver}.
   */
  static MtaStsResolver mtaSts(
      DnsResolver txt, DnssecResolver resolver, OkHttpClient http, int port) {
    return MtaStsResolver.builder()
        .dns(txt)
        .fetcher(
            OkHttpPolicyFetcher.builder()
                .client(http)
                .dns(resolver)
                .port(port)
                .connectTimeout(Duration.ofSeconds(2))
                .callTimeout(Duration.ofSeconds(10))
                .build())
        .build();
  }
}
