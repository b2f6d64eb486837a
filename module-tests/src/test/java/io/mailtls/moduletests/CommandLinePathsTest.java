package io.mailtls.moduletests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mailtls.cli.Mailtls;
import io.mailtls.core.DomainName;
import io.mailtls.testkit.MtaStsServer;
import io.mailtls.testkit.TestDnsServer;
import io.mailtls.testkit.TestPki;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The jars run on both paths: the command line, in a JVM of its own, runs its embedded demo on the
 * module path (every mailtls module at work, with OkHttp, Bouncy Castle and dnsjava as modules),
 * and writes the same JSON check report on the module path and on the class path. On the module
 * path that needs the reflective access its descriptor opens to picocli and Jackson.
 */
class CommandLinePathsTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path dir;

  private static MtaStsServer policies;
  private static TestDnsServer dns;
  private static List<String> checkOptions;

  /** sts.test: a signed zone with an MX and an MTA-STS {@code enforce} policy served over HTTPS. */
  @BeforeAll
  static void startFixtures() throws IOException {
    TestPki pki = TestPki.create();
    policies =
        MtaStsServer.builder()
            .pki(pki)
            .domain("sts.test", MtaStsServer.policyText("enforce", 86400, "mx.sts.test"))
            .start();
    dns =
        TestDnsServer.builder()
            .zone(
                "sts.test",
                z ->
                    policies.publish(
                        z.mx("sts.test", 10, "mx.sts.test").a("mx.sts.test", "127.0.0.1"),
                        "sts.test",
                        "id1"))
            .start();
    Path anchor =
        Files.writeString(dir.resolve("anchor.txt"), dns.trustAnchor(), StandardCharsets.US_ASCII);
    Path ca =
        Files.writeString(
            dir.resolve("ca.pem"), pki.root().certificatePem(), StandardCharsets.US_ASCII);
    checkOptions =
        List.of(
            "check",
            "sts.test",
            "--json",
            "--resolver",
            dns.address().getHostAddress() + ":" + dns.port(),
            "--trust-anchor",
            anchor.toString(),
            "--mta-sts-port",
            String.valueOf(policies.port()),
            "--ca-file",
            ca.toString(),
            "--timeout",
            "5");
  }

  @AfterAll
  static void stopFixtures() {
    if (dns != null) {
      dns.close();
    }
    if (policies != null) {
      policies.close();
    }
  }

  @Test
  void theDemoRunsOnTheModulePath() throws Exception {
    Run run = onModulePath(List.of("demo"));
    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(run.out())
        // (not the "§" of "docs/design.md §1": this JVM's output encoding may lack it)
        .contains("all as the RFCs require", "all as docs/design.md")
        .contains("dane-ee.test", "DELIVERED VERIFIED")
        .doesNotContain("MISMATCH (required");
  }

  @Test
  void theCheckReportIsTheSameOnTheModulePathAndOnTheClassPath() throws Exception {
    Run modular = onModulePath(checkOptions);
    Run classic = onClassPath(checkOptions);

    assertThat(modular.exit()).as(modular.err()).isZero();
    assertThat(classic.exit()).as(classic.err()).isZero();
    JsonNode doc = JSON.readTree(withoutTimes(modular.out()));
    assertThat(doc.get("domain").asText()).isEqualTo("sts.test");
    assertThat(doc.get("mx").get("dnssec").asText()).isEqualTo("SECURE");
    assertThat(doc.get("mtaSts").get("policy").get("status").asText()).isEqualTo("found");
    assertThat(doc.get("mtaSts").get("policy").get("mode").asText()).isEqualTo("enforce");
    assertThat(doc.get("hosts").get(0).get("name").asText()).isEqualTo("mx.sts.test");
    assertThat(doc.get("mtaSts").get("policy").get("reason").asText())
        .isEqualTo("fetched policy id id1, cached until <time>");
    assertThat(JSON.readTree(withoutTimes(classic.out()))).isEqualTo(doc);
  }

  /** The report with its clock readings (when the cached policy expires) replaced. */
  private static String withoutTimes(String report) {
    return report.replaceAll("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?Z", "<time>");
  }

  @Test
  void theseTestsThemselvesRunOnTheClassPath() {
    // Here the module descriptors in the jars are ignored: every class is in the unnamed module.
    assertThat(DomainName.class.getModule().isNamed()).isFalse();
    assertThat(Mailtls.class.getModule()).isSameAs(DomainName.class.getModule());
  }

  private record Run(int exit, String out, String err) {}

  private static Run onModulePath(List<String> args) throws Exception {
    List<String> command =
        new ArrayList<>(
            List.of(
                "--module-path",
                MailtlsModules.modulePathString(),
                "--module",
                "io.mailtls.cli/" + Mailtls.class.getName()));
    command.addAll(args);
    return java(command);
  }

  private static Run onClassPath(List<String> args) throws Exception {
    List<String> command =
        new ArrayList<>(List.of("-cp", MailtlsModules.modulePathString(), Mailtls.class.getName()));
    command.addAll(args);
    return java(command);
  }

  private static Run java(List<String> args) throws Exception {
    List<String> command =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Duser.language=tr",
                "-Duser.country=TR"));
    command.addAll(args);
    Path out = Files.createTempFile(dir, "out", ".txt");
    Path err = Files.createTempFile(dir, "err", ".txt");
    Process p =
        new ProcessBuilder(command)
            .redirectOutput(out.toFile())
            .redirectError(err.toFile())
            .redirectInput(ProcessBuilder.Redirect.PIPE)
            .start();
    p.getOutputStream().close();
    if (!p.waitFor(3, TimeUnit.MINUTES)) {
      p.destroyForcibly().waitFor();
      throw new AssertionError(
          "still running after 3 minutes: " + command + "\n" + Files.readString(err));
    }
    return new Run(
        p.exitValue(),
        Files.readString(out, StandardCharsets.UTF_8),
        Files.readString(err, StandardCharsets.UTF_8));
  }
}
