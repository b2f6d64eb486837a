package io.mailtls.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.testkit.ValidatingResolverServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 11 item 5 on the command line: {@code --dnssec trust-ad} needs a named resolver, and runs
 * the DNSSEC self-check before any work; a loopback server that does not validate is refused.
 */
class TrustAdCliTest {

  private static TestWorld world;
  private static ValidatingResolverServer validator;

  @BeforeAll
  static void start() throws IOException {
    world = new TestWorld();
    String[] hostPort = world.resolverAddress().split(":", -1);
    validator =
        ValidatingResolverServer.start(
            new InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1])),
            Files.readString(world.trustAnchorFile(), StandardCharsets.UTF_8));
  }

  @AfterAll
  static void stop() {
    validator.close();
    world.close();
  }

  /** The world's options, with TRUST_AD through {@code resolver} and the world's test names. */
  private static CliRun run(String command, String domain, String resolver) {
    List<String> args =
        new ArrayList<>(
            List.of(
                command,
                domain,
                "--dnssec",
                "trust-ad",
                "--resolver",
                resolver,
                "--selfcheck-bogus",
                "mx.bogus.test",
                "--selfcheck-signed",
                "good.test"));
    if (!command.equals("mx")) {
      args.addAll(List.of("--port", "1", "--timeout", "5", "--helo", "client.sender.test"));
    }
    return CliRun.run(args);
  }

  private static String validating() {
    return validator.socketAddress().getAddress().getHostAddress()
        + ":"
        + validator.socketAddress().getPort();
  }

  @Test
  void trustAdWithoutANamedResolverIsAUsageError() {
    CliRun run = CliRun.run(List.of("mx", "good.test", "--dnssec", "trust-ad"));
    assertThat(run.exit()).as(run.err()).isEqualTo(64);
    assertThat(run.err()).contains("upstream(...)").contains("forwarding stub");
    CliRun check = CliRun.run(List.of("check", "good.test", "--dnssec", "trust-ad"));
    assertThat(check.exit()).as(check.err()).isEqualTo(64);
  }

  @Test
  void aResolverThatDoesNotValidateIsRefusedBeforeAnyWork() {
    for (String command : List.of("check", "mx")) {
      CliRun run = run(command, "good.test", world.resolverAddress());
      assertThat(run.exit()).as(run.err()).isEqualTo(69);
      assertThat(run.err())
          .startsWith("mailtls: DNS resolver ")
          .contains("failed the DNSSEC self-check that --dnssec trust-ad requires")
          .contains("mx.bogus.test resolved");
      assertThat(run.out()).as("no work done").isEmpty();
    }
  }

  @Test
  void aValidatingResolverPassesAndTheWorkRuns() {
    CliRun mx = run("mx", "good.test", validating());
    assertThat(mx.exit()).as(mx.err()).isZero();
    assertThat(mx.out()).contains("mx.good.test").contains("SECURE");
    CliRun check = run("check", "good.test", validating());
    assertThat(check.err()).doesNotContain("self-check");
    assertThat(check.out()).contains("good.test");
  }
}
