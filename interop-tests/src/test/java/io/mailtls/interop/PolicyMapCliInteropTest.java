package io.mailtls.interop;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15: a policy-map file driving {@code mailtls send} (the shaded jar, as a process) against
 * the environment's Postfix listeners, at the sender level {@code opportunistic}, one recipient per
 * entry: an entry raises a destination ({@code enforced} on a host without STARTTLS), pins a
 * self-signed certificate ({@code fingerprint}), sets a broken MTA-STS policy aside ({@code
 * override=sts}) and asks for {@code authenticated} TLS (DANE-only, MTA-STS-only, and neither). The
 * JSON document and Postfix's maildirs must agree.
 */
class PolicyMapCliInteropTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final InteropEnv.Undelivered UNDELIVERED = new InteropEnv.Undelivered();
  private static final String RUN = UUID.randomUUID().toString().substring(0, 8);
  private static final String ID = "policy-map." + RUN + "@interop.mailtls.test";

  private static JsonNode doc;
  private static int exit;

  static String rcpt(Scenario s) {
    return "map-" + RUN + "@" + s.domain;
  }

  @BeforeAll
  static void sendOnceThroughTheMap(@TempDir Path tmp) throws Exception {
    InteropEnv.requireUp();
    Path jar = Path.of(System.getProperty("interop.cliJar"));
    assertThat(jar).as("the CLI jar (built by the cli module)").isRegularFile();
    Path map = tmp.resolve("policy-map");
    Files.writeString(
        map,
        "# the operator's entries, one destination a line (docs/policy-map.md)\n"
            + Scenario.PLAIN.domain
            + "  enforced\n"
            + Scenario.SELF_SIGNED.domain
            + "  fingerprint  sha256:"
            + sha256(InteropEnv.STATE.resolve("pki/self.crt"))
            + "\n"
            + Scenario.STS_NONAME.domain
            + "  opportunistic  override=sts\n"
            + Scenario.DANE_EE.domain
            + "  authenticated\n"
            + Scenario.STS.domain
            + "  authenticated\n"
            + Scenario.UNSIGNED.domain
            + "  authenticated\n",
        StandardCharsets.UTF_8);
    Path eml = tmp.resolve("message.eml");
    Files.writeString(
        eml,
        "From: <"
            + Library.SENDER
            + ">\r\nTo: <map@interop.mailtls.test>\r\n"
            + "Date: Thu, 1 Jan 2026 00:00:00 +0000\r\nMessage-ID: <"
            + ID
            + ">\r\nSubject: interop policy map\r\n\r\nSent through a policy map.\r\n",
        StandardCharsets.US_ASCII);
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> cmd =
        new ArrayList<>(
            List.of(
                java,
                "-jar",
                jar.toString(),
                "send",
                "--from",
                Library.SENDER,
                "--level",
                "opportunistic",
                "--policy-map",
                map.toString(),
                "--file",
                eml.toString(),
                "--resolver",
                InteropEnv.UNBOUND,
                "--trust-anchor",
                InteropEnv.STATE.resolve("root-anchor.ds").toString(),
                "--ca-file",
                InteropEnv.STATE.resolve("pki/ca.crt").toString(),
                "--ca-only",
                "--helo",
                "cli.interop.mailtls.test",
                "--timeout",
                "10s",
                "--json"));
    for (Scenario s :
        List.of(
            Scenario.PLAIN,
            Scenario.SELF_SIGNED,
            Scenario.STS_NONAME,
            Scenario.DANE_EE,
            Scenario.STS,
            Scenario.UNSIGNED)) {
      cmd.addAll(List.of("--to", rcpt(s)));
    }
    InteropEnv.ProcessResult r =
        InteropEnv.runBounded(new ProcessBuilder(cmd), Duration.ofMinutes(3), "mailtls send");
    assertThat(r.stdout()).as(r.stderr()).isNotBlank();
    doc = JSON.readTree(r.stdout());
    exit = r.exit();
  }

  @AfterAll
  static void nothingUndeliveredArrivedLater() throws Exception {
    UNDELIVERED.assertNoneArrived();
  }

  private static String sha256(Path pem) throws Exception {
    try (InputStream in = Files.newInputStream(pem)) {
      X509Certificate c =
          (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(c.getEncoded()));
    }
  }

  private static JsonNode recipient(Scenario s) {
    for (JsonNode r : doc.get("recipients")) {
      if (r.get("recipient").asText().equals(rcpt(s))) {
        return r;
      }
    }
    throw new AssertionError("no recipient " + rcpt(s) + " in " + doc);
  }

  private static void delivered(Scenario s, String authentication) throws Exception {
    JsonNode r = recipient(s);
    assertThat(r.get("status").asText()).as("%s", r).isEqualTo("DELIVERED");
    assertThat(r.get("authentication").asText()).as("%s", r).isEqualTo(authentication);
    assertThat(r.get("decision").toString()).as("%s", r).contains("policy map");
    assertThat(InteropEnv.awaitInMaildir(s.domain, ID, Duration.ofSeconds(10))).exists();
  }

  private static void deferred(Scenario s, String failure) throws Exception {
    JsonNode r = recipient(s);
    assertThat(r.get("status").asText()).as("%s", r).isEqualTo("DEFERRED");
    assertThat(r.toString()).as("%s", r).contains(failure);
    UNDELIVERED.record(
        s.domain, ID, InteropEnv.deliveredNeedle(rcpt(s)), "policy map, " + s.domain);
  }

  @Test
  void theRunDeferredSomeAndExited75() {
    assertThat(exit).as("%s", doc).isEqualTo(75);
  }

  @Test
  void enforcedOnAHostWithoutStarttlsDefers() throws Exception {
    deferred(Scenario.PLAIN, "starttls-not-supported");
  }

  @Test
  void aPinnedSelfSignedCertificateDelivers() throws Exception {
    delivered(Scenario.SELF_SIGNED, "VERIFIED");
    assertThat(recipient(Scenario.SELF_SIGNED).get("attempts").toString()).contains("fingerprint");
  }

  @Test
  void overrideStsDeliversPastABrokenPolicyAndTheRecordSaysSo() throws Exception {
    JsonNode r = recipient(Scenario.STS_NONAME);
    assertThat(r.get("status").asText()).as("%s", r).isEqualTo("DELIVERED");
    assertThat(r.get("decision").toString()).contains("override=sts").contains("lowering");
    assertThat(InteropEnv.awaitInMaildir(Scenario.STS_NONAME.domain, ID, Duration.ofSeconds(10)))
        .exists();
  }

  @Test
  void authenticatedUsesDaneOrMtaStsAndDefersWithNeither() throws Exception {
    delivered(Scenario.DANE_EE, "VERIFIED");
    assertThat(recipient(Scenario.DANE_EE).get("policy").get("source").asText()).isEqualTo("dane");
    delivered(Scenario.STS, "VERIFIED");
    assertThat(recipient(Scenario.STS).get("policy").get("source").asText()).isEqualTo("mta-sts");
    deferred(Scenario.UNSIGNED, "DESTINATION_POLICY");
  }
}
