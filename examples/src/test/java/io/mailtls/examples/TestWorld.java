package io.mailtls.examples;

import io.mailtls.core.DnssecResolver;
import io.mailtls.core.TrustAnchors;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.SampleDomains;
import io.mailtls.testkit.TestDnsServer;
import io.mailtls.testkit.TestPki;
import java.time.Duration;

/**
 * The testkit's {@link SampleDomains} as the examples use them, with a resolver that validates the
 * signed tree. One world per test class; {@link #close()} stops everything.
 */
public final class TestWorld implements AutoCloseable {

  /** A message for the tests. */
  public static final byte[] MESSAGE = SampleDomains.message();

  private final SampleDomains domains = new SampleDomains();

  /** The SMTP port every mock server listens on (each on its own loopback address). */
  public int smtpPort() {
    return domains.smtpPort();
  }

  /** The MTA-STS policy host's HTTPS port. */
  public int mtaStsPort() {
    return domains.mtaStsPort();
  }

  /** The test PKI. */
  public TestPki pki() {
    return domains.pki();
  }

  /** The server of {@code good.test}. */
  public MockSmtpServer good() {
    return domains.good();
  }

  /** The server of {@code mixed.test}. */
  public MockSmtpServer mixed() {
    return domains.mixed();
  }

  /** The server of {@code dane-ee.test} (DANE-EE TLSA records). */
  public MockSmtpServer daneEe() {
    return domains.daneEe();
  }

  /** The signed DNS server: its address and trust anchor. */
  public TestDnsServer dns() {
    return domains.dns();
  }

  /** A resolver validating the signed tree from its trust anchor. */
  public DnssecResolver resolver() {
    return DnssecResolver.builder()
        .upstream(domains.dns().socketAddress())
        .trustAnchors(TrustAnchors.parse(domains.dns().trustAnchor()))
        .queryTimeout(Duration.ofSeconds(2))
        .lookupTimeout(Duration.ofSeconds(8))
        .build();
  }

  @Override
  public void close() {
    domains.close();
  }
}
