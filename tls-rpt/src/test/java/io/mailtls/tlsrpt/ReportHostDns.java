package io.mailtls.tlsrpt;

import io.mailtls.core.DnssecResolver;
import io.mailtls.core.TrustAnchors;
import io.mailtls.testkit.TestDnsServer;
import java.net.InetAddress;

/**
 * Signed test DNS that publishes {@link #HOST}, an HTTPS report destination, on the loopback
 * address, and a validating resolver that asks it: the name the upload tests' endpoints answer for,
 * resolved through mailtls as a real destination is.
 */
final class ReportHostDns implements AutoCloseable {

  /** The report destination's host name. */
  static final String HOST = "reports.rpt.test";

  /** Where the destination's endpoint listens. */
  static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

  private final TestDnsServer dns;

  /** The resolver the report sender is given. */
  final DnssecResolver resolver;

  private ReportHostDns() {
    dns =
        TestDnsServer.builder().zone("rpt.test", z -> z.a(HOST, LOOPBACK.getHostAddress())).start();
    resolver =
        DnssecResolver.builder()
            .upstream(dns.socketAddress())
            .trustAnchors(TrustAnchors.parse(dns.trustAnchor()))
            .build();
  }

  /** Starts the DNS server; close it after the test class. */
  static ReportHostDns start() {
    return new ReportHostDns();
  }

  @Override
  public void close() {
    dns.close();
  }
}
