package io.mailtls.standard;

import io.mailtls.core.DnssecResolver;
import io.mailtls.core.TrustAnchors;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.TestDnsServer;
import io.mailtls.testkit.TestPki;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import okhttp3.OkHttpClient;

/**
 * The set-up the standard module's end-to-end tests share: SMTP hosts, a resolver and an HTTPS
 * client.
 */
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

  /**
   * An SMTP host at {@code ip} named {@code name}, with STARTTLS by {@code tls}, on {@code port} (0
   * for any free one; hosts of one test share a port, the client's MX port): a builder, for the
   * caller to script further and start.
   */
  static MockSmtpServer.Builder smtpHost(String ip, int port, String name, SSLContext tls)
      throws UnknownHostException {
    MockSmtpServer.Builder b =
        MockSmtpServer.builder().address(InetAddress.getByName(ip)).hostname(name).tls(tls);
    return port == 0 ? b : b.port(port);
  }

  /** {@link #smtpHost(String, int, String, SSLContext)} with a certificate for {@code name}. */
  static MockSmtpServer.Builder smtpHost(TestPki pki, String ip, int port, String name)
      throws UnknownHostException {
    return smtpHost(ip, port, name, pki.root().leaf().dnsNames(name).issue().serverSslContext());
  }
}
