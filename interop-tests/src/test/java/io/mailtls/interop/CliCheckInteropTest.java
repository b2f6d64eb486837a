package io.mailtls.interop;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code mailtls check --input FILE --json-lines --probe} (the shaded jar, as a process) over every
 * scenario domain: the posture it reads from Unbound and nginx, and a live STARTTLS probe of every
 * MX address against Postfix, as the table below says.
 */
class CliCheckInteropTest {

  /**
   * Per domain: MX outcome and DNSSEC state | {@code _mta-sts} record status | policy status (with
   * mode or failure) | TLSA status per MX host | probe verdict per MX host (first label).
   */
  private static final String EXPECTED =
      """
      dane-ee.test             | MX SECURE                | absent  | none                          | usable         | mx=verified-dane
      dane-ta.test             | MX SECURE                | absent  | none                          | usable         | mx=verified-dane
      dane-ta-spki.test        | MX SECURE                | absent  | none                          | usable         | mx=verified-dane
      dane-ta-noname.test      | MX SECURE                | absent  | none                          | usable         | mx=failed
      dane-wrong.test          | MX SECURE                | absent  | none                          | usable         | mx=failed
      dane-unusable.test       | MX SECURE                | absent  | none                          | unusable       | mx=verified-pkix
      dane-unusable-plain.test | MX SECURE                | absent  | none                          | unusable       | mx=failed
      dane-nostarttls.test     | MX SECURE                | absent  | none                          | usable         | mx=failed
      dane-self.test           | MX SECURE                | absent  | none                          | usable         | mx=verified-dane
      failover.test            | MX SECURE                | absent  | none                          | usable,usable  | mx1=failed mx2=verified-dane
      unsigned.test            | MX INSECURE              | absent  | none                          | none           | mx=verified-pkix
      plain.test               | MX INSECURE              | absent  | none                          | none           | mx=plaintext
      selfsigned.test          | MX INSECURE              | absent  | none                          | none           | mx=encrypted
      hostile-data.test        | MX INSECURE              | absent  | none                          | none           | mx=plaintext
      hostile-ehlo.test        | MX INSECURE              | absent  | none                          | none           | mx=failed
      insecure-mx.test         | MX INSECURE              | absent  | none                          | usable         | mx=verified-dane
      insecure-mx-sts.test     | MX INSECURE              | valid   | found enforce                 | usable         | mx=verified-pkix
      bogus-expired.test       | TEMPORARY_FAILURE BOGUS  | failed  | failed DNS_FAILURE            |                |
      bogus-ds.test            | TEMPORARY_FAILURE BOGUS  | failed  | failed DNS_FAILURE            |                |
      bogus-mx-sig.test        | TEMPORARY_FAILURE BOGUS  | absent  | none                          |                |
      bogus-tlsa-sig.test      | MX SECURE                | absent  | none                          | failed         | mx=verified-pkix
      sts.test                 | MX SECURE                | valid   | found enforce                 | none           | mx=verified-pkix
      sts-testing.test         | MX SECURE                | valid   | found testing                 | none           | mx=encrypted
      sts-none.test            | MX SECURE                | valid   | found none                    | none           | mx=verified-pkix
      sts-wildcard.test        | MX SECURE                | valid   | found enforce                 | none,none      | a=verified-pkix mx1=verified-pkix
      sts-mx-mismatch.test     | MX SECURE                | valid   | found enforce                 | none           | mx=verified-pkix
      sts-redirect.test        | MX SECURE                | valid   | failed STS_POLICY_FETCH_ERROR | none           | mx=verified-pkix
      sts-ctype.test           | MX SECURE                | valid   | failed STS_POLICY_FETCH_ERROR | none           | mx=verified-pkix
      sts-malformed.test       | MX SECURE                | valid   | failed STS_POLICY_INVALID     | none           | mx=verified-pkix
      sts-404.test             | MX SECURE                | valid   | failed STS_POLICY_FETCH_ERROR | none           | mx=verified-pkix
      sts-untrusted.test       | MX SECURE                | valid   | failed STS_WEBPKI_INVALID     | none           | mx=verified-pkix
      sts-nohost.test          | MX SECURE                | valid   | failed STS_POLICY_FETCH_ERROR | none           | mx=verified-pkix
      sts-badtxt.test          | MX SECURE                | invalid | none                          | none           | mx=verified-pkix
      sts-selfsigned.test      | MX SECURE                | valid   | found enforce                 | none           | mx=failed
      sts-noname.test          | MX SECURE                | valid   | found enforce                 | none           | mx=failed
      sts-nostarttls.test      | MX SECURE                | valid   | found enforce                 | none           | mx=failed
      """;

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Map<String, JsonNode> CHECKS = new HashMap<>();
  private static int exit;

  @BeforeAll
  static void runCheckOnce(@TempDir Path tmp) throws Exception {
    InteropEnv.requireUp();
    Path input = tmp.resolve("domains.txt");
    Files.writeString(
        input,
        Stream.of(Scenario.values())
            .map(s -> s.domain)
            .collect(Collectors.joining("\n", "# every scenario domain\n", "\n")));
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> cmd =
        new ArrayList<>(
            List.of(
                java,
                "-jar",
                System.getProperty("interop.cliJar"),
                "check",
                "--input",
                input.toString(),
                "--json-lines",
                "--probe",
                "--resolver",
                InteropEnv.UNBOUND,
                "--trust-anchor",
                InteropEnv.STATE.resolve("root-anchor.ds").toString(),
                "--ca-file",
                InteropEnv.STATE.resolve("pki/ca.crt").toString(),
                "--ca-only",
                "--helo",
                "check.interop.mailtls.test",
                "--timeout",
                "10"));
    InteropEnv.ProcessResult r =
        InteropEnv.runBounded(new ProcessBuilder(cmd), Duration.ofMinutes(4), "mailtls check");
    exit = r.exit();
    for (String line : r.stdout().split("\n", -1)) {
      if (!line.isBlank()) {
        JsonNode d = JSON.readTree(line);
        CHECKS.put(d.get("domain").asText(), d);
      }
    }
  }

  private static Map<String, String[]> expected() {
    Map<String, String[]> out = new HashMap<>();
    for (String line : EXPECTED.strip().split("\n", -1)) {
      String[] f = line.split("\\|", -1);
      for (int i = 0; i < f.length; i++) {
        f[i] = f[i].strip();
      }
      out.put(f[0], f);
    }
    return out;
  }

  @Test
  void everyScenarioHasARowAndTheCheckCompleted() {
    assertThat(expected().keySet())
        .containsExactlyInAnyOrderElementsOf(
            Stream.of(Scenario.values()).map(s -> s.domain).toList());
    assertThat(exit).as("check's exit code (a bogus zone is a result, not an error)").isZero();
    assertThat(CHECKS).hasSize(Scenario.values().length);
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(Scenario.class)
  void postureAndProbes(Scenario s) {
    String[] e = expected().get(s.domain);
    JsonNode d = CHECKS.get(s.domain);
    assertThat(d).as("check output for %s", s.domain).isNotNull();
    String what = s.domain + ": " + d;
    assertThat(d.get("error").isNull()).as(what).isTrue();
    assertThat(d.get("mx").get("outcome").asText() + " " + d.get("mx").get("dnssec").asText())
        .as("mx, " + what)
        .isEqualTo(e[1]);
    JsonNode sts = d.get("mtaSts");
    assertThat(sts.get("record").get("status").asText()).as("record, " + what).isEqualTo(e[2]);
    JsonNode policy = sts.get("policy");
    String p =
        policy.get("status").asText()
            + (policy.get("mode").isNull() ? "" : " " + policy.get("mode").asText())
            + (policy.get("failure").isNull() ? "" : " " + policy.get("failure").asText());
    assertThat(p).as("policy, " + what).isEqualTo(e[3]);
    List<String> tlsa = new ArrayList<>();
    List<String> probes = new ArrayList<>();
    for (JsonNode h : d.get("hosts")) {
      tlsa.add(h.get("tlsa").get("status").asText());
      String label = h.get("name").asText().split("\\.", -1)[0];
      assertThat(h.get("probes")).as("probes of %s", h.get("name")).isNotEmpty();
      for (JsonNode probe : h.get("probes")) {
        probes.add(label + "=" + probe.get("verdict").asText());
        if (probe.get("reachable").asBoolean() && !probe.get("protocol").isNull()) {
          assertThat(probe.get("protocol").asText()).isIn("TLSv1.2", "TLSv1.3");
          assertThat(probe.get("peerChain")).isNotEmpty();
        }
      }
    }
    assertThat(String.join(",", tlsa)).as("tlsa, " + what).isEqualTo(e[4]);
    assertThat(String.join(" ", probes)).as("probes, " + what).isEqualTo(e[5]);
  }
}
