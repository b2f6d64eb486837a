package io.mailtls.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mailtls.core.TlsLevel;
import io.mailtls.testkit.TestDnsServer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code mailtls check}, run in-process against the testkit's fixtures: the posture document of
 * docs/cli-json.md with every documented field, the plans per sender level, the live probe's
 * verdicts, the tables, and bulk checks as JSON lines.
 */
class CheckCommandTest {

  static final List<String> TOP_FIELDS =
      List.of("schema", "domain", "error", "mx", "mtaSts", "tlsRpt", "hosts", "levels");
  static final List<String> HOST_FIELDS =
      List.of(
          "name",
          "preference",
          "implicit",
          "addresses",
          "addressDnssec",
          "a",
          "aaaa",
          "tlsa",
          "requirements",
          "probes");
  static final List<String> PROBE_FIELDS =
      List.of(
          "address",
          "port",
          "planned",
          "requirement",
          "serverName",
          "reachable",
          "greeting",
          "starttls",
          "starttlsReply",
          "protocol",
          "cipher",
          "peerChain",
          "pkixVerified",
          "pkixFailure",
          "daneVerified",
          "daneFailure",
          "daneMatched",
          "verdict",
          "reason",
          "millis",
          "summary");
  static final List<String> LEVELS =
      List.of("opportunistic", "enforced", "sts-required", "dane-required");

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

  private static CliRun check(String... args) {
    List<String> all = new ArrayList<>(List.of("check"));
    all.addAll(List.of(args));
    all.addAll(world.cliOptions());
    return CliRun.run(all);
  }

  private static JsonNode checkJson(String domain, String... more) throws IOException {
    List<String> args = new ArrayList<>(List.of(domain, "--json"));
    args.addAll(List.of(more));
    CliRun run = check(args.toArray(String[]::new));
    assertThat(run.exit()).as(run.err()).isZero();
    return JSON.readTree(run.out());
  }

  private static List<String> fields(JsonNode node) {
    List<String> names = new ArrayList<>();
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      names.add(it.next());
    }
    return names;
  }

  private static List<String> statuses(JsonNode doc) {
    List<String> out = new ArrayList<>();
    LEVELS.forEach(l -> out.add(doc.get("levels").get(l).get("status").asText()));
    return out;
  }

  @Test
  void goodDomainHasEveryDocumentedFieldAndAPkixVerifiedProbe() throws IOException {
    JsonNode doc = checkJson("good.test", "--probe");

    assertThat(fields(doc)).containsExactlyElementsOf(TOP_FIELDS);
    assertThat(doc.get("schema").asText()).isEqualTo("mailtls.check/1");
    assertThat(doc.get("error").isNull()).isTrue();
    assertThat(fields(doc.get("mx"))).containsExactly("outcome", "dnssec", "answer", "notes");
    assertThat(doc.get("mx").get("outcome").asText()).isEqualTo("MX");
    assertThat(doc.get("mx").get("dnssec").asText()).isEqualTo("SECURE");
    assertThat(fields(doc.get("mtaSts"))).containsExactly("record", "policy");
    assertThat(fields(doc.get("mtaSts").get("record")))
        .containsExactly("status", "id", "txt", "dnssec", "reason");
    assertThat(doc.get("mtaSts").get("record").get("status").asText()).isEqualTo("absent");
    assertThat(fields(doc.get("mtaSts").get("policy")))
        .containsExactly("status", "id", "mode", "mx", "maxAgeSeconds", "failure", "reason");
    assertThat(doc.get("mtaSts").get("policy").get("status").asText()).isEqualTo("none");

    JsonNode host = doc.get("hosts").get(0);
    assertThat(fields(host)).containsExactlyElementsOf(HOST_FIELDS);
    assertThat(host.get("name").asText()).isEqualTo("mx.good.test");
    assertThat(host.get("addresses").get(0).asText()).isEqualTo("127.0.4.1");
    assertThat(host.get("addressDnssec").asText()).isEqualTo("SECURE");
    assertThat(fields(host.get("a"))).containsExactly("outcome", "dnssec", "failure", "reason");
    assertThat(fields(host.get("tlsa")))
        .containsExactly("status", "baseDomain", "reason", "records");
    assertThat(host.get("tlsa").get("status").asText()).isEqualTo("none");
    assertThat(fields(host.get("requirements"))).containsExactlyElementsOf(LEVELS);
    assertThat(fields(host.get("requirements").get("opportunistic")))
        .containsExactly("action", "requirement", "source", "reportOnly", "failure", "why");
    assertThat(host.get("requirements").get("opportunistic").get("requirement").asText())
        .isEqualTo("opportunistic");
    assertThat(host.get("requirements").get("enforced").get("requirement").asText())
        .isEqualTo("encrypted");
    assertThat(host.get("requirements").get("enforced").get("source").asText()).isEqualTo("sender");
    assertThat(host.get("requirements").get("dane-required").get("action").asText())
        .isEqualTo("skip");
    assertThat(host.get("requirements").get("dane-required").get("failure").asText())
        .isEqualTo("DANE_REQUIRED");

    JsonNode probe = host.get("probes").get(0);
    assertThat(fields(probe)).containsExactlyElementsOf(PROBE_FIELDS);
    assertThat(probe.get("reachable").asBoolean()).isTrue();
    assertThat(probe.get("starttls").asBoolean()).isTrue();
    assertThat(probe.get("protocol").asText()).isIn("TLSv1.3", "TLSv1.2");
    assertThat(probe.get("serverName").asText()).isEqualTo("mx.good.test");
    assertThat(probe.get("peerChain").get(0).get("dnsNames").get(0).asText())
        .isEqualTo("mx.good.test");
    assertThat(probe.get("pkixVerified").asBoolean()).isTrue();
    assertThat(probe.get("daneVerified").isNull()).isTrue();
    assertThat(probe.get("verdict").asText()).isEqualTo("verified-pkix");

    assertThat(fields(doc.get("levels"))).containsExactlyElementsOf(LEVELS);
    assertThat(fields(doc.get("levels").get("opportunistic")))
        .containsExactly("status", "reply", "failure", "hosts", "decision");
    assertThat(statuses(doc)).containsExactly("ATTEMPT", "ATTEMPT", "BOUNCED", "DEFERRED");
    assertThat(doc.get("levels").get("sts-required").get("reply").get("enhanced").asText())
        .isEqualTo("5.7.10");
  }

  @Test
  void withoutTheCaFileThePrivateCaIsOnlyEncrypted() throws IOException {
    List<String> options = new ArrayList<>(world.cliOptions());
    int ca = options.indexOf("--ca-file");
    options.remove(ca + 1);
    options.remove(ca);
    List<String> args = new ArrayList<>(List.of("check", "good.test", "--probe", "--json"));
    args.addAll(options);
    CliRun run = CliRun.run(args);
    assertThat(run.exit()).as(run.err()).isZero();
    JsonNode probe = JSON.readTree(run.out()).get("hosts").get(0).get("probes").get(0);
    assertThat(probe.get("verdict").asText()).isEqualTo("encrypted");
    assertThat(probe.get("pkixVerified").asBoolean()).isFalse();
    assertThat(probe.get("pkixFailure").asText()).isNotBlank();
  }

  @Test
  void aTruststoreWithCaOnlyReplacesTheJdkRoots() throws Exception {
    Path store = world.dir().resolve("roots.p12");
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    ks.setCertificateEntry("test-root", world.pki().root().certificate());
    try (OutputStream out = Files.newOutputStream(store)) {
      ks.store(out, "secret".toCharArray());
    }
    // The password never on the command line, where other users see it (ps) and shells keep it.
    Path secret = world.dir().resolve("truststore-password");
    Files.writeString(secret, "secret\n", java.nio.charset.StandardCharsets.UTF_8);
    List<String> options = new ArrayList<>(world.cliOptions());
    int ca = options.indexOf("--ca-file");
    options.set(ca, "--truststore");
    options.set(ca + 1, store.toString());
    List<String> args =
        new ArrayList<>(
            List.of(
                "check",
                "sts.test",
                "--probe",
                "--json",
                "--ca-only",
                "--truststore-password-file",
                secret.toString(),
                "-v"));
    args.addAll(options);
    CliRun run = CliRun.run(args);
    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(run.err())
        .contains("PKIX roots: 1 certificate(s) from --ca-file/--truststore" + " only (--ca-only)");
    JsonNode doc = JSON.readTree(run.out());
    assertThat(doc.get("mtaSts").get("policy").get("status").asText()).isEqualTo("found");
    assertThat(doc.get("hosts").get(0).get("probes").get(0).get("verdict").asText())
        .isEqualTo("verified-pkix");
  }

  @Test
  void theVerboseTraceShowsThePlansOwnPolicyLookups() {
    CliRun run = check("dane-ee.test", "--json", "-v");
    assertThat(run.exit()).as(run.err()).isZero();
    // one MTA-STS lookup and one TLSA lookup per level's plan, each with its start and end
    assertThat(run.err().lines().filter(l -> l.contains("] mta-sts lookup start dane-ee.test")))
        .hasSize(TlsLevel.values().length);
    assertThat(
            run.err()
                .lines()
                .filter(l -> l.contains("] mta-sts lookup end dane-ee.test: no policy")))
        .hasSize(TlsLevel.values().length);
    assertThat(run.err().lines().filter(l -> l.contains("] tlsa lookup start mx.dane-ee.test")))
        .hasSize(TlsLevel.values().length);
    assertThat(
            run.err()
                .lines()
                .filter(l -> l.contains("] tlsa lookup end mx.dane-ee.test: usable dane")))
        .hasSize(TlsLevel.values().length);
  }

  @Test
  void daneHostListsItsRecordsClassifiedAndVerifiesByDane() throws IOException {
    JsonNode doc = checkJson("dane-ee.test", "--probe");
    JsonNode host = doc.get("hosts").get(0);
    JsonNode tlsa = host.get("tlsa");
    assertThat(tlsa.get("status").asText()).isEqualTo("usable");
    assertThat(tlsa.get("baseDomain").asText()).isEqualTo("mx.dane-ee.test");
    assertThat(tlsa.get("records")).hasSize(2);
    for (JsonNode r : tlsa.get("records")) {
      assertThat(fields(r))
          .containsExactly(
              "usage", "selector", "matchingType", "data", "usageName", "usable", "why");
      boolean daneEe = r.get("usage").asInt() == 3;
      assertThat(r.get("usable").asBoolean()).isEqualTo(daneEe);
      assertThat(r.get("usageName").asText()).isEqualTo(daneEe ? "DANE-EE" : "PKIX-EE");
      assertThat(r.get("why").isNull()).isEqualTo(daneEe);
    }
    for (String level : List.of("opportunistic", "enforced", "dane-required")) {
      assertThat(host.get("requirements").get(level).get("requirement").asText()).isEqualTo("dane");
    }
    assertThat(statuses(doc)).containsExactly("ATTEMPT", "ATTEMPT", "BOUNCED", "ATTEMPT");
    JsonNode probe = host.get("probes").get(0);
    assertThat(probe.get("verdict").asText()).isEqualTo("verified-dane");
    assertThat(probe.get("daneVerified").asBoolean()).isTrue();
    assertThat(probe.get("daneMatched").asText()).startsWith("3 1 1 ");
    assertThat(probe.get("requirement").asText()).isEqualTo("dane");
  }

  @Test
  void mismatchingTlsaFailsTheProbe() throws IOException {
    JsonNode probe = checkJson("dane-bad.test", "--probe").get("hosts").get(0).get("probes").get(0);
    assertThat(probe.get("verdict").asText()).isEqualTo("failed");
    assertThat(probe.get("daneVerified").asBoolean()).isFalse();
    assertThat(probe.get("reason").asText()).contains("DANE required").doesNotContain("\n");
    assertThat(probe.get("daneFailure").asText())
        .contains("no usable TLSA record matches")
        .doesNotContain("\n");
    // The handshake was refused, and the probe still shows what the server presented.
    assertThat(probe.get("protocol").asText()).startsWith("TLSv1.");
    assertThat(probe.get("peerChain").get(0).get("dnsNames").get(0).asText())
        .isEqualTo("mx.dane-bad.test");
  }

  @Test
  void plaintextServerIsReportedAsSuch() throws IOException {
    JsonNode probe = checkJson("plain.test", "--probe").get("hosts").get(0).get("probes").get(0);
    assertThat(probe.get("starttls").asBoolean()).isFalse();
    assertThat(probe.get("protocol").isNull()).isTrue();
    assertThat(probe.get("pkixVerified").isNull()).isTrue();
    assertThat(probe.get("verdict").asText()).isEqualTo("plaintext");
  }

  @Test
  void mtaStsPolicyIsFetchedAndEnforcedForEveryLevelButDaneRequired() throws IOException {
    JsonNode doc = checkJson("sts.test", "--probe");
    JsonNode record = doc.get("mtaSts").get("record");
    assertThat(record.get("status").asText()).isEqualTo("valid");
    assertThat(record.get("id").asText()).isEqualTo("world1");
    assertThat(record.get("txt").get(0).asText()).isEqualTo("v=STSv1; id=world1;");
    JsonNode policy = doc.get("mtaSts").get("policy");
    assertThat(policy.get("status").asText()).isEqualTo("found");
    assertThat(policy.get("mode").asText()).isEqualTo("enforce");
    assertThat(policy.get("mx").get(0).asText()).isEqualTo("mx.sts.test");
    assertThat(policy.get("maxAgeSeconds").asLong()).isEqualTo(86400);
    JsonNode host = doc.get("hosts").get(0);
    for (String level : List.of("opportunistic", "enforced", "sts-required")) {
      assertThat(host.get("requirements").get(level).get("requirement").asText()).isEqualTo("pkix");
      assertThat(host.get("requirements").get(level).get("source").asText()).isEqualTo("mta-sts");
    }
    assertThat(statuses(doc)).containsExactly("ATTEMPT", "ATTEMPT", "ATTEMPT", "DEFERRED");
    assertThat(host.get("probes").get(0).get("verdict").asText()).isEqualTo("verified-pkix");
  }

  @Test
  void mtaStsTestingModeKeepsTheSenderLevelAndReportsPkix() throws IOException {
    JsonNode doc = checkJson("sts-testing.test", "--probe");
    assertThat(doc.get("mtaSts").get("policy").get("mode").asText()).isEqualTo("testing");
    JsonNode opportunistic = doc.get("hosts").get(0).get("requirements").get("opportunistic");
    assertThat(opportunistic.get("requirement").asText()).isEqualTo("opportunistic");
    assertThat(opportunistic.get("reportOnly").asText()).isEqualTo("pkix");
    assertThat(opportunistic.get("why").asText()).contains("MTA-STS testing");
    assertThat(statuses(doc)).containsExactly("ATTEMPT", "ATTEMPT", "BOUNCED", "DEFERRED");
    // The MX presents mx.good.test's certificate: delivery goes ahead unauthenticated.
    JsonNode probe = doc.get("hosts").get(0).get("probes").get(0);
    assertThat(probe.get("verdict").asText()).isEqualTo("encrypted");
    assertThat(probe.get("pkixVerified").asBoolean()).isFalse();
    assertThat(probe.get("pkixFailure").asText()).contains("mx.sts-testing.test");
  }

  @Test
  void bogusAndNullMxAndMissingDomainsAreReportedNotFailed() throws IOException {
    JsonNode bogus = checkJson("bogus.test");
    assertThat(bogus.get("mx").get("outcome").asText()).isEqualTo("TEMPORARY_FAILURE");
    assertThat(bogus.get("mx").get("dnssec").asText()).isEqualTo("BOGUS");
    assertThat(bogus.get("mtaSts").get("record").get("status").asText()).isEqualTo("failed");
    assertThat(statuses(bogus)).containsOnly("DEFERRED");

    JsonNode nullMx = checkJson("nullmx.test");
    assertThat(nullMx.get("mx").get("outcome").asText()).isEqualTo("NULL_MX");
    assertThat(statuses(nullMx)).containsOnly("BOUNCED");

    JsonNode missing = checkJson("nosuch.test");
    assertThat(missing.get("mx").get("outcome").asText()).isEqualTo("NO_SUCH_DOMAIN");
    assertThat(missing.get("hosts")).isEmpty();
  }

  @Test
  void aWrongTrustAnchorIsAWarningAndEveryAnswerReadsBogus() throws IOException {
    Path other = world.dir().resolve("other-anchor.txt");
    try (TestDnsServer stranger = TestDnsServer.builder().build()) {
      Files.writeString(other, stranger.trustAnchor(), StandardCharsets.US_ASCII);
    }
    List<String> args = new ArrayList<>(List.of("check", "good.test", "--json"));
    args.addAll(world.cliOptions());
    args.set(args.indexOf("--trust-anchor") + 1, other.toString());
    CliRun run = CliRun.run(args);
    assertThat(run.exit()).isZero();
    assertThat(run.err()).startsWith("mailtls: warning: the root zone's answer is BOGUS");
    JsonNode doc = JSON.readTree(run.out());
    assertThat(doc.get("mx").get("outcome").asText()).isEqualTo("TEMPORARY_FAILURE");
    assertThat(doc.get("mx").get("dnssec").asText()).isEqualTo("BOGUS");
    assertThat(statuses(doc)).containsOnly("DEFERRED");
  }

  @Test
  void anAddressLiteralIsProbedWithoutSni() throws IOException {
    JsonNode doc = checkJson("[127.0.4.1]", "--probe");
    assertThat(doc.get("mx").get("outcome").asText()).isEqualTo("ADDRESS_LITERAL");
    assertThat(doc.get("mtaSts").isNull()).isTrue();
    assertThat(statuses(doc)).containsExactly("ATTEMPT", "ATTEMPT", "BOUNCED", "DEFERRED");
    JsonNode host = doc.get("hosts").get(0);
    assertThat(fields(host)).containsExactlyElementsOf(HOST_FIELDS);
    JsonNode probe = host.get("probes").get(0);
    assertThat(probe.get("serverName").isNull()).isTrue();
    assertThat(probe.get("protocol").asText()).startsWith("TLSv1.");
    assertThat(probe.get("verdict").asText()).isEqualTo("encrypted");
  }

  /**
   * Delivery to an address literal tries that address (RFC 5321 §4.1.3), with or without {@code
   * --probe}: the literal is the one host, and {@code --fail-on no-mx} ("no usable MX host") does
   * not hold for it.
   */
  @Test
  void anAddressLiteralIsItsOwnHostWithoutAProbe() throws IOException {
    CliRun run = check("[127.0.4.1]", "--json", "--fail-on", "no-mx");
    JsonNode doc = JSON.readTree(run.out());
    assertThat(doc.get("levels").get("opportunistic").get("status").asText()).isEqualTo("ATTEMPT");
    assertThat(doc.get("hosts")).hasSize(1);
    JsonNode host = doc.get("hosts").get(0);
    assertThat(fields(host)).containsExactlyElementsOf(HOST_FIELDS);
    assertThat(host.get("addresses").get(0).asText()).isEqualTo("127.0.4.1");
    assertThat(host.get("requirements").get("opportunistic").get("action").asText())
        .isEqualTo("try");
    assertThat(host.get("probes").isNull()).isTrue();
    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(run.err()).doesNotContain("fail-on");
  }

  @Test
  void tablesByDefault() {
    CliRun run = check("dane-ee.test", "--probe");
    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(run.out())
        .contains(
            "mailtls check dane-ee.test",
            "MX ",
            "MTA-STS",
            "TLSA",
            "Requirement per MX host and sender level",
            "Probe",
            "verified-dane",
            "DANE-EE",
            "unusable: certificate usage PKIX-EE");
    assertThat(run.err()).isEmpty();
  }

  @Test
  void bulkInputGivesOneJsonLinePerDomainInInputOrder() throws IOException {
    Path list = world.dir().resolve("domains.txt");
    Files.writeString(
        list,
        "# recipient domains\ngood.test\n\nsts.test\nnullmx.test\n"
            + "  dane-ee.test  \nbogus.test\n",
        StandardCharsets.UTF_8);
    CliRun run = check("--input", list.toString(), "--json-lines", "--parallel", "3");
    assertThat(run.exit()).as(run.err()).isZero();
    List<String> lines = run.out().lines().toList();
    assertThat(lines).hasSize(5);
    List<String> domains = new ArrayList<>();
    for (String line : lines) {
      JsonNode doc = JSON.readTree(line);
      assertThat(fields(doc)).containsExactlyElementsOf(TOP_FIELDS);
      domains.add(doc.get("domain").asText());
    }
    assertThat(domains)
        .containsExactly("good.test", "sts.test", "nullmx.test", "dane-ee.test", "bogus.test");
    assertThat(run.err()).as("no progress bar without a terminal").isEmpty();
  }

  @Test
  void bulkInputWithJsonIsOneArray() throws IOException {
    Path list = world.dir().resolve("two.txt");
    Files.writeString(list, "good.test\nplain.test\n", StandardCharsets.UTF_8);
    CliRun run = check("--input", list.toString(), "--json");
    assertThat(run.exit()).as(run.err()).isZero();
    JsonNode all = JSON.readTree(run.out());
    assertThat(all.isArray()).isTrue();
    assertThat(all).hasSize(2);
    assertThat(all.get(1).get("domain").asText()).isEqualTo("plain.test");
  }

  @Test
  void aCheckThatCrashesInBulkReportsTheOthersAndExitsAsAnInternalError() throws IOException {
    Path list = world.dir().resolve("crash.txt");
    Files.writeString(list, "good.test\nplain.test\nsts.test\n", StandardCharsets.UTF_8);
    // No input is known to make a check throw; this stands for a bug in one domain's check.
    CliRun run =
        checkWith(
            (checker, hop) -> {
              if (hop.toString().equals("plain.test")) {
                throw new IllegalStateException("a bug");
              }
              return checker.check(hop);
            },
            "--input",
            list.toString(),
            "--json-lines",
            "--fail-on",
            "no-mx",
            "--parallel",
            "2");

    assertThat(run.exit()).as(run.err()).isEqualTo(70);
    List<JsonNode> docs = new ArrayList<>();
    for (String line : run.out().lines().toList()) {
      docs.add(JSON.readTree(line));
    }
    assertThat(docs)
        .extracting(d -> d.get("domain").asText())
        .containsExactly("good.test", "plain.test", "sts.test");
    assertThat(docs.get(0).get("error").isNull()).isTrue();
    assertThat(docs.get(0).get("hosts")).isNotEmpty();
    assertThat(docs.get(1).get("error").asText()).contains("IllegalStateException", "a bug");
    assertThat(docs.get(2).get("error").isNull()).isTrue();
    assertThat(run.err())
        .contains("mailtls: internal error: the check of 1 domain failed")
        .doesNotContain("fail-on");
  }

  @Test
  void aCheckThatCrashesForOneDomainExitsAsAnInternalError() {
    CliRun run =
        checkWith(
            (checker, hop) -> {
              throw new IllegalStateException("a bug");
            },
            "good.test",
            "--json");

    assertThat(run.exit()).isEqualTo(70);
    assertThat(run.out()).isEmpty();
    assertThat(run.err()).contains("mailtls: internal error: java.lang.IllegalStateException");
  }

  /** {@code check} with {@code args} and the world's options, each domain checked by {@code c}. */
  private static CliRun checkWith(CheckCommand.Check c, String... args) {
    List<String> all = new ArrayList<>(List.of("check"));
    all.addAll(List.of(args));
    all.addAll(world.cliOptions());
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = Mailtls.commandLine(new ByteArrayInputStream(new byte[0]));
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    CheckCommand command = cl.getSubcommands().get("check").getCommand();
    command.check = c;
    int exit = cl.execute(all.toArray(String[]::new));
    return new CliRun(exit, out.toString(), err.toString());
  }

  @Test
  void helpDocumentsTheExitCodes() {
    CliRun run = CliRun.run(List.of("check", "--help"));
    assertThat(run.exit()).isZero();
    assertThat(run.out()).contains("Exit codes:", "64", "69", "--json-lines", "--probe");
  }
}
