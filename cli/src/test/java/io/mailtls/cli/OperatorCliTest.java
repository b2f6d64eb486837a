package io.mailtls.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The operator-facing commands against the testkit's {@link TestWorld}: {@code check --fail-on}
 * with its exit code and posttls-finger-style verdict lines, {@code check --input -}, {@code mx
 * --json}, {@code inspect} and {@code completion}.
 */
class OperatorCliTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static TestWorld world;

  @BeforeAll
  static void start() {
    world = new TestWorld();
  }

  @AfterAll
  static void stop() {
    world.close();
  }

  private static CliRun run(String... args) {
    return CliRun.run(List.of(args), world.cliOptions());
  }

  @Test
  void verifiedDaneAndPkixVerdictLinesAndNoConditionHeld() {
    CliRun run = run("check", "dane-ee.test", "--fail-on", "dane-mismatch,no-starttls,sts-broken");
    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(run.out())
        .contains("Verdict")
        .containsPattern(
            "Verified TLS connection established to mx\\.dane-ee\\.test\\[127\\.0\\.4\\.3\\]:\\d+:"
                + " TLSv1\\.[23] with cipher \\S+ \\(DANE");
    assertThat(run.err()).doesNotContain("fail-on");

    CliRun good = run("check", "good.test", "--probe");
    assertThat(good.exit()).isZero();
    assertThat(good.out())
        .containsPattern(
            "Verified TLS connection established to mx\\.good\\.test\\[127\\.0\\.4\\.1\\]:\\d+:"
                + " TLSv1\\.[23] with cipher \\S+ \\(PKIX\\)");
  }

  @Test
  void aTrustedChainWithoutTheMxNameIsTrustedNotVerified() {
    // sts-testing.test's MX is good.test's server: a chain from the trusted root, naming
    // mx.good.test, not mx.sts-testing.test
    CliRun run = run("check", "sts-testing.test", "--probe");
    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(run.out())
        .containsPattern(
            "Trusted TLS connection established to mx\\.sts-testing\\.test\\[127\\.0\\.4\\.1\\]:\\d+:")
        .doesNotContain("Verified TLS connection established to mx.sts-testing.test");
  }

  @Test
  void aDaneMismatchFailsTheCheckWithExit1() {
    CliRun run = run("check", "dane-bad.test", "--fail-on", "dane-mismatch");
    assertThat(run.exit()).as(run.err()).isEqualTo(1);
    assertThat(run.err())
        .startsWith("mailtls: fail-on dane-mismatch: dane-bad.test: ")
        .contains("TLS connection established to mx.dane-bad.test[127.0.4.4]");
    assertThat(run.out()).contains("Untrusted TLS connection established to mx.dane-bad.test");
  }

  @Test
  void noStarttlsFailsAndTheVerdictSaysAnonymous() {
    CliRun run = run("check", "plain.test", "--fail-on", "no-starttls", "--fail-on", "no-mx");
    assertThat(run.exit()).as(run.err()).isEqualTo(1);
    assertThat(run.err()).contains("mailtls: fail-on no-starttls: plain.test: ");
    assertThat(run.err()).doesNotContain("fail-on no-mx");
    assertThat(run.out())
        .contains("Anonymous (no TLS) connection established to mx.plain.test[127.0.4.2]");
  }

  @Test
  void dnssecBogusAndNoMxAndTlsaUnusable() {
    CliRun bogus = run("check", "bogus.test", "--fail-on", "dnssec-bogus");
    assertThat(bogus.exit()).as(bogus.err()).isEqualTo(1);
    assertThat(bogus.err()).contains("fail-on dnssec-bogus: bogus.test: MX answer BOGUS");

    CliRun nullMx = run("check", "nullmx.test", "--fail-on", "no-mx");
    assertThat(nullMx.exit()).isEqualTo(1);
    assertThat(nullMx.err()).contains("fail-on no-mx: nullmx.test: MX NULL_MX");

    // dane-ee.test publishes one usable record and one unusable: the RRset is usable
    CliRun usable = run("check", "dane-ee.test", "--fail-on", "tlsa-unusable");
    assertThat(usable.exit()).as(usable.err()).isZero();

    // dane-unusable.test publishes only a PKIX-EE record: secure, and none usable
    CliRun unusable = run("check", "dane-unusable.test", "--fail-on", "tlsa-unusable");
    assertThat(unusable.exit()).as(unusable.err()).isEqualTo(1);
    assertThat(unusable.err()).contains("mailtls: fail-on tlsa-unusable: dane-unusable.test: ");
  }

  @Test
  void stsBrokenHoldsOnlyForABrokenPolicy() {
    CliRun sts = run("check", "sts.test", "--fail-on", "sts-broken");
    assertThat(sts.exit()).as(sts.err()).isZero();
  }

  @Test
  void stsBrokenPkixInvalidAndUnreachableEachHoldOnARealFailure() {
    // the policy host refuses connections: the fetch fails
    List<String> deadPolicyHost = new ArrayList<>(world.cliOptions());
    deadPolicyHost.set(deadPolicyHost.indexOf("--mta-sts-port") + 1, "1");
    CliRun sts =
        CliRun.run(List.of("check", "sts.test", "--fail-on", "sts-broken"), deadPolicyHost);
    assertThat(sts.exit()).as(sts.err()).isEqualTo(1);
    assertThat(sts.err()).contains("mailtls: fail-on sts-broken: sts.test: MTA-STS policy failed");

    // without the test PKI's root, good.test's certificate is untrusted
    List<String> noRoot = new ArrayList<>(world.cliOptions());
    int ca = noRoot.indexOf("--ca-file");
    noRoot.remove(ca + 1);
    noRoot.remove(ca);
    CliRun pkix = CliRun.run(List.of("check", "good.test", "--fail-on", "pkix-invalid"), noRoot);
    assertThat(pkix.exit()).as(pkix.err()).isEqualTo(1);
    assertThat(pkix.err()).contains("fail-on pkix-invalid: good.test: Untrusted TLS connection");

    // nothing listens on port 1 of 127.0.4.1
    List<String> deadPort = new ArrayList<>(world.cliOptions());
    deadPort.set(deadPort.indexOf("--port") + 1, "1");
    CliRun down = CliRun.run(List.of("check", "good.test", "--fail-on", "unreachable"), deadPort);
    assertThat(down.exit()).as(down.err()).isEqualTo(1);
    assertThat(down.err())
        .contains("fail-on unreachable: good.test: Failed connection to mx.good.test[127.0.4.1]:1");
  }

  @Test
  void domainsFromStandardInput() throws IOException {
    List<String> args = new ArrayList<>(List.of("check", "--input", "-", "--json-lines"));
    args.addAll(world.cliOptions());
    byte[] stdin = "# monitored\n\ngood.test\n  plain.test  \n".getBytes(StandardCharsets.UTF_8);
    CliRun run = CliRun.run(new ByteArrayInputStream(stdin), args);
    assertThat(run.exit()).as(run.err()).isZero();
    List<String> domains = new ArrayList<>();
    for (String line : run.out().lines().toList()) {
      domains.add(JSON.readTree(line).get("domain").asText());
    }
    assertThat(domains).containsExactly("good.test", "plain.test");
  }

  @Test
  void helpListsTheConditionsAndLevels() {
    CliRun check = CliRun.run(List.of("check", "--help"));
    assertThat(flat(check.out()))
        .contains(
            "sts-broken, tlsa-unusable, dnssec-bogus, no-mx, dane-mismatch, no-starttls,"
                + " pkix-invalid, unreachable")
        .contains(" 1 a --fail-on condition held")
        .contains("75 the DNS resolver is unreachable");
    CliRun send = CliRun.run(List.of("send", "--help"));
    assertThat(flat(send.out()))
        .contains("opportunistic, enforced, sts-required, dane-required")
        .contains("--relay", "--implicit-tls", "--auth-password-env", "--to-file")
        .contains("--data-timeout");
    assertThat(flat(CliRun.run(List.of("mx", "--help")).out())).contains("validate, trust-ad");
  }

  /** Help text with its line wrapping undone. */
  private static String flat(String help) {
    return help.replaceAll("\\s+", " ");
  }

  @Test
  void mxJsonAndExitCodes() throws IOException {
    CliRun run = run("mx", "good.test", "--json");
    assertThat(run.exit()).as(run.err()).isZero();
    JsonNode doc = JSON.readTree(run.out());
    assertThat(doc.get("schema").asText()).isEqualTo("mailtls.mx/1");
    assertThat(doc.get("outcome").asText()).isEqualTo("MX");
    assertThat(doc.get("dnssec").asText()).isEqualTo("SECURE");
    assertThat(doc.get("hosts").get(0).get("name").asText()).isEqualTo("mx.good.test");
    assertThat(doc.get("hosts").get(0).get("addresses").get(0).asText()).isEqualTo("127.0.4.1");
    assertThat(doc.get("hosts").get(0).get("a").get("dnssec").asText()).isEqualTo("SECURE");

    CliRun nullMx = run("mx", "nullmx.test", "--json");
    assertThat(nullMx.exit()).isEqualTo(69);
    assertThat(JSON.readTree(nullMx.out()).get("exitCode").asInt()).isEqualTo(69);

    CliRun bogus = run("mx", "bogus.test");
    assertThat(bogus.exit()).as("bogus data is a temporary failure").isEqualTo(75);
    assertThat(bogus.out()).contains("TEMPORARY_FAILURE");
  }

  @Test
  void inspectAFileAndStandardInput() throws IOException {
    Path eml = world.dir().resolve("received.eml");
    String header =
        "Received: from drew.franken.de (mail-n.franken.de [193.175.24.27])\r\n"
            + " (using TLSv1.2 with cipher AECDH-AES256-SHA (256/256 bits))\r\n"
            + " by ietfa.amsl.com (Postfix) with ESMTPS id 915DE3A18F8\r\n"
            + " for <tsvwg@ietf.org>; Thu, 18 Feb 2021 14:04:18 -0800 (PST)\r\n"
            + "Received: from [IPv6:2a02:8109:1140:c3d:24:e8:6fea:b904] (unknown\r\n"
            + " [IPv6:2a02:8109:1140:c3d:24:e8:6fea:b904])\r\n"
            + " (Authenticated sender: macmic)\r\n"
            + " by mail-n.franken.de (Postfix) with ESMTPSA id EB9547220B805;\r\n"
            + " Thu, 18 Feb 2021 23:04:14 +0100 (CET)\r\n"
            + "Subject: x\r\n\r\nbody\r\n";
    Files.writeString(eml, header, StandardCharsets.UTF_8);

    CliRun text = CliRun.run(List.of("inspect", eml.toString(), "--require-encrypted"));
    assertThat(text.exit()).as(text.err()).isZero();
    assertThat(text.out())
        .contains("submission", "ESMTPSA", "relay", "ESMTPS", "TLSv1.2", "AECDH-AES256-SHA")
        .contains("verdict: ALL_ENCRYPTED: every one of 1 hops after submission (hop 0)");

    CliRun json =
        CliRun.run(
            new ByteArrayInputStream(header.getBytes(StandardCharsets.UTF_8)),
            List.of("inspect", "-", "--json"));
    assertThat(json.exit()).isZero();
    JsonNode doc = JSON.readTree(json.out());
    assertThat(doc.get("schema").asText()).isEqualTo("mailtls.inspect/1");
    assertThat(doc.get("verdict").asText()).isEqualTo("ALL_ENCRYPTED");
    assertThat(doc.get("hops").get(1).get("role").asText()).isEqualTo("relay");
    assertThat(doc.get("hops").get(1).get("cipher").asText()).isEqualTo("AECDH-AES256-SHA");

    String plain =
        "Received: from a.example ([192.0.2.1]) by b.example with ESMTP; 1 Jan 2020\r\n\r\n";
    CliRun failed =
        CliRun.run(
            new ByteArrayInputStream(plain.getBytes(StandardCharsets.UTF_8)),
            List.of("inspect", "-", "--require-encrypted"));
    assertThat(failed.exit()).isEqualTo(1);
    assertThat(failed.out()).contains("verdict: NOT_ALL_ENCRYPTED: hops [0]");
  }

  @Test
  void inspectNeverFailsOnGarbage() {
    byte[] garbage = new byte[4096];
    new java.util.Random(7).nextBytes(garbage);
    CliRun run = CliRun.run(new ByteArrayInputStream(garbage), List.of("inspect", "-"));
    assertThat(run.exit()).isZero();
    assertThat(run.out()).contains("verdict: NO_HOPS");
  }

  @Test
  void completionScriptCoversCommandsOptionsAndValues() {
    CliRun run = CliRun.run(List.of("completion"));
    assertThat(run.exit()).isZero();
    assertThat(run.out())
        .startsWith("#!/usr/bin/env bash")
        .contains("complete -F _complete_mailtls")
        .contains("inspect", "completion", "--fail-on", "--data-timeout", "--relay")
        .contains("sts-broken", "dane-required", "trust-ad");
  }
}
