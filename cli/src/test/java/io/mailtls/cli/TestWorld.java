package io.mailtls.cli;

import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.SampleDomains;
import io.mailtls.testkit.TestPki;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;

/**
 * The testkit's {@link SampleDomains} as the command line sees them: the trust anchor and the test
 * PKI's root written to files, and the options that point the command line at this world. One world
 * per test class; {@link #close()} stops everything and removes the files.
 */
public final class TestWorld implements AutoCloseable {

  /** A message for the tests. */
  public static final byte[] MESSAGE = SampleDomains.message();

  private final SampleDomains domains = new SampleDomains();
  private final Path dir;

  /** Starts every fixture. */
  public TestWorld() {
    try {
      dir = Files.createTempDirectory("mailtls-world-");
      Files.writeString(
          dir.resolve("anchor.txt"), domains.dns().trustAnchor(), StandardCharsets.US_ASCII);
      Files.writeString(
          dir.resolve("ca.pem"), domains.pki().root().certificatePem(), StandardCharsets.US_ASCII);
    } catch (IOException e) {
      domains.close();
      throw new UncheckedIOException(e);
    }
  }

  /** The SMTP port every mock server listens on (each on its own loopback address). */
  public int smtpPort() {
    return domains.smtpPort();
  }

  /** The MTA-STS policy host's HTTPS port. */
  public int mtaStsPort() {
    return domains.mtaStsPort();
  }

  /** {@code HOST:PORT} of the signed DNS server. */
  public String resolverAddress() {
    return domains.dns().address().getHostAddress() + ":" + domains.dns().port();
  }

  /** A file holding the DNS tree's trust anchor (a DS record for the root). */
  public Path trustAnchorFile() {
    return dir.resolve("anchor.txt");
  }

  /** A PEM file holding the test PKI's root certificate. */
  public Path caFile() {
    return dir.resolve("ca.pem");
  }

  /** A scratch directory, removed by {@link #close()}. */
  public Path dir() {
    return dir;
  }

  /** The test PKI. */
  public TestPki pki() {
    return domains.pki();
  }

  /** The server of {@code good.test}. */
  public MockSmtpServer good() {
    return domains.good();
  }

  /** The server of {@code sts.test} (MTA-STS {@code enforce}; a TLS-RPT record). */
  public MockSmtpServer sts() {
    return domains.sts();
  }

  /**
   * The command line's options pointing at this world: resolver and trust anchor, SMTP and MTA-STS
   * ports, the PKI's root as a CA file, a short timeout and an EHLO name.
   */
  public List<String> cliOptions() {
    return List.of(
        "--resolver",
        resolverAddress(),
        "--trust-anchor",
        trustAnchorFile().toString(),
        "--port",
        String.valueOf(smtpPort()),
        "--mta-sts-port",
        String.valueOf(mtaStsPort()),
        "--ca-file",
        caFile().toString(),
        "--timeout",
        "5",
        "--helo",
        "client.sender.test");
  }

  @Override
  public void close() {
    domains.close();
    try (var files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // A leftover temporary directory fails no test.
    }
  }
}
