package io.mailtls.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bad input to {@code check} and {@code send}, case by case: one line on stderr naming the problem,
 * the exit code, and never a stack trace (unless {@code -v}).
 */
class BadInputTest {

  private static TestWorld world;
  private static Path garbage;
  private static Path badList;
  private static Path longLine;
  private static String deadResolver;

  @BeforeAll
  static void start() throws IOException {
    world = new TestWorld();
    garbage = world.dir().resolve("garbage.txt");
    Files.writeString(
        garbage, "this is not a certificate, nor a DS record\n", StandardCharsets.US_ASCII);
    badList = world.dir().resolve("bad-list.txt");
    Files.writeString(badList, "good.test\nexa..mple.test\n", StandardCharsets.US_ASCII);
    longLine = world.dir().resolve("long-line.txt");
    Files.writeString(
        longLine,
        "# one long line\n" + "a".repeat(5_000) + "@good.test\n",
        StandardCharsets.US_ASCII);
    try (DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
      // A port nothing listens on once this socket is closed.
      deadResolver = "127.0.0.1:" + s.getLocalPort();
    }
  }

  @AfterAll
  static void stop() {
    world.close();
  }

  /**
   * Each case: the arguments (with {@code $GARBAGE}, {@code $LIST}, {@code $LONG}, {@code $DEAD}),
   * code, text (with {@code $LONG}).
   */
  static Stream<Arguments> cases() {
    return Stream.of(
        Arguments.of("check", 64, "give a DOMAIN or --input FILE"),
        Arguments.of("check exa..mple.test", 64, "DOMAIN: invalid domain \"exa..mple.test\""),
        Arguments.of("check _tcp.example.test", 64, "not a mail domain"),
        Arguments.of("check a.test --input $LIST", 64, "not both"),
        Arguments.of(
            "check --input /nonexistent/domains.txt",
            64,
            "cannot read --input /nonexistent/domains.txt: no such file"),
        Arguments.of("check --input $LIST", 64, "line 2: invalid domain \"exa..mple.test\""),
        Arguments.of("check --input $GARBAGE", 64, "line 1: invalid domain"),
        Arguments.of("check a.test --json --json-lines", 64, "exclude each other"),
        Arguments.of("check a.test --parallel 0", 64, "--parallel must be 1..64"),
        Arguments.of("check a.test --bogus", 64, "Unknown option: '--bogus'"),
        Arguments.of("check a.test --port 0", 64, "--port must be 1..65535, not 0"),
        Arguments.of("check a.test --port many", 64, "Invalid value for option '--port'"),
        Arguments.of("check a.test --mta-sts-port 70000", 64, "--mta-sts-port must be 1..65535"),
        Arguments.of(
            "check a.test --timeout 0", 64, "invalid duration \"0\": must be more than zero"),
        Arguments.of("check a.test --timeout 2x", 64, "invalid duration \"2x\": give 10s"),
        Arguments.of("check a.test --timeout 2h", 64, "--timeout must be at most 1h, not 2h"),
        Arguments.of("check a.test --data-timeout PT-5S", 64, "invalid duration \"PT-5S\""),
        Arguments.of("check a.test --fail-on nothing", 64, "unknown condition \"nothing\"; one of"),
        Arguments.of(
            "send --from a@sender.test --to b@good.test --implicit-tls", 64, "need --relay"),
        Arguments.of(
            "send --from a@sender.test --to b@good.test --relay r.test --auth-user u",
            64,
            "--auth-user needs exactly one of --auth-password-env NAME and --auth-password-file"),
        Arguments.of(
            "send --from a@sender.test --to b@good.test --relay r.test:x", 64, "invalid port"),
        Arguments.of(
            "send --from a@sender.test --to b@good.test --relay r.test --auth-user u"
                + " --auth-password-env MAILTLS_TEST_SURELY_UNSET_VARIABLE",
            64,
            "MAILTLS_TEST_SURELY_UNSET_VARIABLE is unset or empty"),
        Arguments.of(
            "check a.test --truststore s.p12 --truststore-password secret",
            64,
            "--truststore-password is no longer accepted"),
        Arguments.of(
            "check a.test --truststore-password-env MAILTLS_TEST_SURELY_UNSET_VARIABLE",
            64,
            "--truststore-password-env and -file need --truststore"),
        Arguments.of(
            "check a.test --truststore /nonexistent/s.p12"
                + " --truststore-password-env MAILTLS_TEST_SURELY_UNSET_VARIABLE",
            64,
            "--truststore-password-env: the environment variable"
                + " MAILTLS_TEST_SURELY_UNSET_VARIABLE is unset or empty"),
        Arguments.of(
            "check a.test --truststore /nonexistent/s.p12 --truststore-password-env X"
                + " --truststore-password-file /nonexistent/pw",
            64,
            "give one of --truststore-password-env and --truststore-password-file, not both"),
        Arguments.of(
            "send --from a@sender.test --to-file /nonexistent/rcpts",
            64,
            "cannot read --to-file /nonexistent/rcpts: no such file"),
        Arguments.of(
            "send --from a@sender.test --to-file $LONG",
            64,
            "--to-file $LONG line 2: longer than 1024 characters"),
        Arguments.of(
            "check --input $LONG", 64, "--input $LONG line 2: longer than 1024 characters"),
        Arguments.of(
            "inspect /nonexistent/m.eml", 64, "cannot read /nonexistent/m.eml: no such file"),
        Arguments.of("check a.test --dnssec maybe", 64, "--dnssec must be validate or trust-ad"),
        Arguments.of(
            "check a.test --resolver dns.example",
            64,
            "--resolver: resolver must be an IP address"),
        Arguments.of("check a.test --resolver 127.0.0.1:x", 64, "invalid resolver port"),
        Arguments.of("check a.test --dnssec trust-ad --resolver 192.0.2.1", 64, "non-loopback"),
        Arguments.of(
            "check a.test --trust-anchor /nonexistent/anchor",
            64,
            "cannot read --trust-anchor /nonexistent/anchor: no such file"),
        Arguments.of("check a.test --trust-anchor $GARBAGE", 64, "--trust-anchor"),
        Arguments.of(
            "check a.test --ca-file /nonexistent/ca.pem",
            64,
            "cannot read --ca-file /nonexistent/ca.pem: no such file"),
        Arguments.of("check a.test --ca-file $GARBAGE", 64, "--ca-file"),
        Arguments.of("check a.test --ca-only", 64, "--ca-only needs --ca-file or --truststore"),
        Arguments.of(
            "check a.test --truststore /nonexistent/ts.p12",
            64,
            "cannot read --truststore /nonexistent/ts.p12"),
        Arguments.of("check a.test --truststore $GARBAGE", 64, "cannot read --truststore"),
        Arguments.of("check a.test --helo bad_name!", 64, "--helo"),
        Arguments.of(
            "check a.test --helo localhost",
            64,
            "--helo \"localhost\" is not a fully qualified domain name"),
        Arguments.of(
            "send --from a@sender.test --to b@good.test --helo mail",
            64,
            "--helo \"mail\" is not a fully qualified domain name"),
        Arguments.of("check a.test --resolver $DEAD --timeout 1", 75, "DNS resolver 127.0.0.1:"),
        Arguments.of("mx a.test --resolver $DEAD --timeout 1", 75, "DNS resolver 127.0.0.1:"),
        Arguments.of("send --to b@good.test", 64, "Missing required option: '--from=ADDRESS'"),
        Arguments.of("send --from a@sender.test", 64, "give at least one recipient: --to ADDRESS"),
        Arguments.of(
            "send --from a@sender.test --to not-an-address",
            64,
            "--to: not a mailbox (local@domain): \"not-an-address\""),
        Arguments.of(
            "send --from a..b@sender.test --to b@good.test", 64, "--from: invalid mailbox"),
        Arguments.of(
            "send --from a@sender.test --to b@exa..mple.test",
            64,
            "--to: invalid mailbox \"b@exa..mple.test\""),
        Arguments.of(
            "send --from a@sender.test --to b@good.test --level paranoid",
            64,
            "--level: unknown TLS level \"paranoid\""),
        Arguments.of(
            "send --from a@sender.test --to b@good.test --file /nonexistent/m.eml",
            64,
            "cannot read --file /nonexistent/m.eml: no such file"),
        Arguments.of("send --from a@sender.test --to b@good.test", 64, "standard input is empty"),
        Arguments.of(
            "send --from a@sender.test --to b@good.test --file $GARBAGE"
                + " --resolver $DEAD --timeout 1 --helo client.sender.test",
            75,
            "unreachable"));
  }

  private static List<String> args(String line) {
    List<String> out = new ArrayList<>();
    for (String a : line.split(" ", -1)) {
      out.add(
          a.replace("$GARBAGE", garbage.toString())
              .replace("$LIST", badList.toString())
              .replace("$LONG", longLine.toString())
              .replace("$DEAD", deadResolver));
    }
    return out;
  }

  /**
   * The option that took a password on the command line is gone; an old script is told the way out,
   * and its password is not printed back (picocli's "Unknown options" would quote it).
   */
  @Test
  void theRemovedPasswordOptionIsRefusedWithoutEchoingThePassword() {
    CliRun run =
        CliRun.run(
            List.of(
                "check", "a.test", "--truststore", "s.p12", "--truststore-password", "hunter2x"));
    assertThat(run.exit()).isEqualTo(64);
    assertThat(run.err())
        .contains("--truststore-password-env NAME or --truststore-password-file PATH")
        .doesNotContain("hunter2x");
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @MethodSource("cases")
  void oneLineNamingTheProblem(String line, int exit, String message) {
    CliRun run = CliRun.run(args(line));
    message = message.replace("$LONG", longLine.toString());
    assertThat(run.exit()).as(run.err()).isEqualTo(exit);
    assertThat(run.err())
        .startsWith("mailtls: ")
        .contains(message)
        .doesNotContain("Exception:")
        .doesNotContain("\tat ");
    assertThat(run.err().lines()).as(run.err()).hasSize(1);
    assertThat(run.out()).isEmpty();
  }

  @Test
  void verboseAddsTheStackTrace() {
    CliRun run = CliRun.run(args("check a.test --resolver $DEAD --timeout 1 -v"));
    assertThat(run.exit()).isEqualTo(75);
    assertThat(run.err()).contains("mailtls: DNS resolver", "\tat ");
  }

  @Test
  void anUnreachableResolverWithGoodOptionsOtherwise() {
    List<String> options = new ArrayList<>(world.cliOptions());
    options.set(options.indexOf("--resolver") + 1, deadResolver);
    options.set(options.indexOf("--timeout") + 1, "1");
    CliRun run = CliRun.run(List.of("check", "good.test"), options);
    assertThat(run.exit()).as("a temporary failure, EX_TEMPFAIL").isEqualTo(75);
    assertThat(run.err()).startsWith("mailtls: DNS resolver " + deadResolver + " unreachable: ");
    assertThat(run.err().lines()).hasSize(1);
  }
}
