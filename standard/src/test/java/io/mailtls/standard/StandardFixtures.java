package io.mailtls.standard;

import io.mailtls.core.DnssecResolver;
import io.mailtls.core.TrustAnchors;
import io.mailtls.testkit.TestDnsServer;
import io.mailtls.testkit.TestPki;
import java.time.Duration;
import okhttp3.OkHttpClient;

/** The set-up the standard module's end-to-end tests share: a resolver and an HTTPS client. */
final class StandardFixtures {

  private StandardFixtures() {}

  /** A validating resolver asking only {@code dns}, from its trust anchor. */
  static DnssecResolver resolver(TestDnsServer dns) {
    return DnssecResolver.builder()
        .upstream(dns.socketAddress())
        .trustAnchors(TrustAnchors.parse(dns.trustAnchor()))
        .queryTimeout(Duration.ofSeconds(2))
        .build();
  }

  /** An HTTPS client (for MTA-STS policy hosts) trusting only {@code pki}'s root. */
  static OkHttpClient http(TestPki pki) {
    return new OkHttpClient.Builder()
        .sslSocketFactory(pki.clientSslContext().getSocketFactory(), pki.trustManager())
        .build();
  }
}
