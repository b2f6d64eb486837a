package io.mailtls.spring;

import io.mailtls.testkit.SampleDomains;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import okhttp3.OkHttpClient;

/**
 * The testkit's {@link SampleDomains} as a Spring application sees them: the properties that point
 * mailtls at the signed test DNS (a trust-anchor file and the resolver's address), and the two
 * customizers a test application registers for what only tests change (the SMTP port of the mock
 * servers, the test PKI's root for PKIX, the MTA-STS host's HTTPS port and trust).
 */
final class SpringTestWorld implements AutoCloseable {

  final SampleDomains domains = new SampleDomains();
  final Path anchors;

  SpringTestWorld(Path directory) {
    try {
      anchors = Files.writeString(directory.resolve("anchors.zone"), domains.dns().trustAnchor());
    } catch (IOException e) {
      domains.close();
      throw new UncheckedIOException(e);
    }
  }

  /** The properties that make mailtls use the test DNS, and a HELO name. */
  String[] properties(Path storeDirectory) {
    InetSocketAddress dns = domains.dns().socketAddress();
    return new String[] {
      "mailtls.helo-name=client.sender.test",
      "mailtls.dns.resolvers=" + dns.getAddress().getHostAddress() + ":" + dns.getPort(),
      "mailtls.dns.trust-anchors=" + anchors,
      "mailtls.dns.query-timeout=2s",
      "mailtls.mta-sts.store-directory=" + storeDirectory,
      "mailtls.health.signed-name=good.test",
      "mailtls.health.bogus-name=bogus.test",
      "mailtls.timeouts.connect=10s",
      "mailtls.timeouts.command=30s"
    };
  }

  /** The mock servers' SMTP port and the test PKI's root. */
  MailtlsTransportCustomizer transportCustomizer() {
    return b -> b.port(domains.smtpPort()).trustStore(domains.pki().trustStore());
  }

  /** The MTA-STS policy host's port, trusted through the test PKI. */
  MailtlsPolicyFetcherCustomizer fetcherCustomizer() {
    return b ->
        b.port(domains.mtaStsPort())
            .client(
                new OkHttpClient.Builder()
                    .sslSocketFactory(
                        domains.pki().clientSslContext().getSocketFactory(),
                        domains.pki().trustManager())
                    .build());
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public void close() {
    domains.close();
  }
}
