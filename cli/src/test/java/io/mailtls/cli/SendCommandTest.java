package io.mailtls.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mailtls.testkit.SmtpMessage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code mailtls send}, run in-process against the testkit's signed DNS, mock SMTP servers and
 * MTA-STS host: the JSON document of docs/cli-json.md (every documented field, right statuses) and
 * the exit codes 0, 75 and 69.
 */
class SendCommandTest {

  /** The fields docs/cli-json.md documents for a recipient of {@code send}, in order. */
  static final List<String> RECIPIENT_FIELDS =
      List.of(
          "recipient",
          "status",
          "reply",
          "mx",
          "address",
          "port",
          "tls",
          "authentication",
          "dsn",
          "policy",
          "reason",
          "decision",
          "skipped",
          "attempts",
          "policyFailures");

  static final List<String> POLICY_FAILURE_FIELDS =
      List.of("source", "enforced", "mx", "address", "failure", "tlsRpt", "detail");
  static final List<String> ATTEMPT_FIELDS =
      List.of(
          "mx",
          "address",
          "port",
          "requirement",
          "source",
          "tls",
          "authentication",
          "failure",
          "tlsRpt",
          "reply",
          "detail");
  static final List<String> TLS_FIELDS = List.of("protocol", "cipher", "serverName", "peerChain");
  static final List<String> CERT_FIELDS =
      List.of(
          "subject",
          "issuer",
          "serial",
          "notBefore",
          "notAfter",
          "dnsNames",
          "sha256",
          "spkiSha256");

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

  private static CliRun send(byte[] stdin, String... args) {
    List<String> all = new ArrayList<>(List.of("send", "--from", "a@sender.test"));
    all.addAll(List.of(args));
    all.addAll(world.cliOptions());
    return CliRun.run(new ByteArrayInputStream(stdin), all);
  }

  private static JsonNode json(CliRun run) throws IOException {
    return JSON.readTree(run.out());
  }

  private static List<String> fields(JsonNode node) {
    List<String> names = new ArrayList<>();
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      names.add(it.next());
    }
    return names;
  }

  private static JsonNode recipient(JsonNode doc, String address) {
    for (JsonNode r : doc.get("recipients")) {
      if (r.get("recipient").asText().equals(address)) {
        return r;
      }
    }
    throw new AssertionError("no result for " + address + " in " + doc);
  }

  @Test
  void deliversFromFileWithEveryDocumentedFieldAndExitsZero() throws IOException {
    Path eml = world.dir().resolve("message.eml");
    Files.write(eml, TestWorld.MESSAGE);
    CliRun run =
        send(
            new byte[0],
            "--to",
            "x@good.test",
            "--to",
            "y@sts.test",
            "--to",
            "z@dane-ee.test",
            "--file",
            eml.toString(),
            "--json");

    assertThat(run.exit()).as(run.err()).isZero();
    JsonNode doc = json(run);
    assertThat(fields(doc))
        .containsExactly("schema", "from", "level", "exitCode", "summary", "recipients");
    assertThat(doc.get("schema").asText()).isEqualTo("mailtls.send/1");
    assertThat(doc.get("exitCode").asInt()).isZero();
    assertThat(doc.get("summary").get("delivered").asInt()).isEqualTo(3);
    for (JsonNode r : doc.get("recipients")) {
      assertThat(fields(r)).containsExactlyElementsOf(RECIPIENT_FIELDS);
      assertThat(r.get("status").asText()).isEqualTo("DELIVERED");
      assertThat(fields(r.get("reply"))).containsExactly("code", "enhanced", "text", "local");
      assertThat(r.get("reply").get("code").asInt()).isEqualTo(250);
      assertThat(r.get("reply").get("local").asBoolean()).isFalse();
      assertThat(fields(r.get("tls"))).containsExactlyElementsOf(TLS_FIELDS);
      assertThat(r.get("tls").get("protocol").asText()).isIn("TLSv1.3", "TLSv1.2");
      assertThat(fields(r.get("tls").get("peerChain").get(0)))
          .containsExactlyElementsOf(CERT_FIELDS);
      assertThat(fields(r.get("policy"))).containsExactly("source", "mode", "level", "mtaSts");
      assertThat(r.get("attempts")).isNotEmpty();
      assertThat(fields(r.get("attempts").get(0))).containsExactlyElementsOf(ATTEMPT_FIELDS);
      assertThat(r.get("port").asInt()).isEqualTo(world.smtpPort());
    }
    JsonNode good = recipient(doc, "x@good.test");
    assertThat(good.get("mx").asText()).isEqualTo("mx.good.test");
    assertThat(good.get("address").asText()).isEqualTo("127.0.4.1");
    assertThat(good.get("authentication").asText()).isEqualTo("ENCRYPTED");
    assertThat(good.get("policy").get("source").asText()).isEqualTo("none");
    assertThat(good.get("policy").get("mode").asText()).isEqualTo("opportunistic");
    assertThat(good.get("policy").get("mtaSts").isNull()).isTrue();

    JsonNode sts = recipient(doc, "y@sts.test");
    assertThat(sts.get("authentication").asText()).isEqualTo("VERIFIED");
    assertThat(sts.get("policy").get("source").asText()).isEqualTo("mta-sts");
    assertThat(sts.get("policy").get("mode").asText()).isEqualTo("pkix");
    assertThat(sts.get("policy").get("mtaSts").get("mode").asText()).isEqualTo("enforce");
    assertThat(sts.get("policy").get("mtaSts").get("id").asText()).isEqualTo("world1");

    JsonNode dane = recipient(doc, "z@dane-ee.test");
    assertThat(dane.get("authentication").asText()).isEqualTo("VERIFIED");
    assertThat(dane.get("policy").get("source").asText()).isEqualTo("dane");
    assertThat(dane.get("policy").get("mode").asText()).isEqualTo("dane");
    assertThat(dane.get("tls").get("serverName").asText()).isEqualTo("mx.dane-ee.test");
  }

  @Test
  void readsTheMessageFromStandardInput() throws Exception {
    byte[] message =
        ("From: a@sender.test\r\nTo: stdin@good.test\r\nSubject: via stdin\r\n\r\n"
                + "Piped in.\r\n")
            .getBytes(StandardCharsets.US_ASCII);
    CliRun run = send(message, "--to", "stdin@good.test");

    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(run.out())
        .contains("stdin@good.test: DELIVERED 250", "1 delivered, 0 deferred, 0 bounced");
    SmtpMessage received =
        world.good().messages().stream()
            .filter(m -> m.recipients().contains("stdin@good.test"))
            .findFirst()
            .orElseThrow();
    assertThat(received.dataAsString()).contains("Subject: via stdin", "Piped in.");
    assertThat(received.tls()).isTrue();
  }

  /**
   * A message typed or piped with Unix line ends, and a line of a single dot: on the wire every
   * line ends in CRLF (RFC 5321 §2.3.8) and the dot line is stuffed (RFC 5321 §4.5.2), so the
   * server receives the whole message, the dot line and what follows it included.
   */
  @Test
  void bareLineFeedsBecomeCrlfAndALoneDotIsStuffed() throws Exception {
    byte[] message =
        ("From: a@sender.test\nTo: lf@good.test\nSubject: unix lines\n\n"
                + "first line\n.\n..two dots\nlast line\n")
            .getBytes(StandardCharsets.US_ASCII);
    CliRun run = send(message, "--to", "lf@good.test", "--json");

    assertThat(run.exit()).as(run.err() + run.out()).isZero();
    SmtpMessage received =
        world.good().messages().stream()
            .filter(m -> m.recipients().contains("lf@good.test"))
            .findFirst()
            .orElseThrow();
    assertThat(received.dataAsString())
        .isEqualTo(
            "From: a@sender.test\r\nTo: lf@good.test\r\nSubject: unix lines\r\n\r\n"
                + "first line\r\n.\r\n..two dots\r\nlast line\r\n");
    assertThat(received.accepted()).isTrue();
  }

  @Test
  void theNullReversePathIsAccepted() throws IOException {
    List<String> args =
        new ArrayList<>(List.of("send", "--from", "<>", "--to", "n@good.test", "--json"));
    args.addAll(world.cliOptions());
    CliRun run = CliRun.run(new ByteArrayInputStream(TestWorld.MESSAGE), args);
    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(json(run).get("from").asText()).isEqualTo("<>");
    assertThat(world.good().messages())
        .anySatisfy(
            m -> {
              assertThat(m.recipients()).containsExactly("n@good.test");
              assertThat(m.mailFrom()).isEmpty();
            });
  }

  @Test
  void plaintextDeliveryHasNullTls() throws IOException {
    JsonNode r =
        recipient(json(send(TestWorld.MESSAGE, "--to", "p@plain.test", "--json")), "p@plain.test");
    assertThat(r.get("status").asText()).isEqualTo("DELIVERED");
    assertThat(r.has("tls")).isTrue();
    assertThat(r.get("tls").isNull()).isTrue();
    assertThat(r.get("authentication").asText()).isEqualTo("PLAINTEXT");
  }

  @Test
  void requireTlsSendsNothingToAServerWithoutTheExtensionAndBounces5730() throws IOException {
    // dane-ee.test: DANE-authenticated, but the testkit server does not advertise REQUIRETLS (the
    // core tests check at the server that no MAIL FROM was sent)
    CliRun run = send(TestWorld.MESSAGE, "--to", "r@dane-ee.test", "--requiretls", "--json");
    assertThat(run.exit()).as(run.err()).isEqualTo(69);
    JsonNode r = recipient(json(run), "r@dane-ee.test");
    assertThat(r.get("status").asText()).isEqualTo("BOUNCED");
    assertThat(r.get("reply").get("code").asInt()).isEqualTo(550);
    assertThat(r.get("reply").get("enhanced").asText()).isEqualTo("5.7.30");
    assertThat(r.get("decision").toString()).contains("REQUIRETLS");
    assertThat(r.get("attempts").toString()).contains("REQUIRETLS");
  }

  @Test
  void aDsnRequestToAServerWithoutTheExtensionDeliversAndSaysItWasNotPassedOn() throws Exception {
    // good.test's server does not advertise DSN (RFC 3461 §5.2.2): the message goes, without
    // the parameters, and the report says no notification will come from further along.
    int before = world.good().sessions().size();
    CliRun run =
        send(
            TestWorld.MESSAGE,
            "--to",
            "n@good.test",
            "--dsn-notify",
            "success,failure",
            "--dsn-ret",
            "HDRS",
            "--envid",
            "q1",
            "--json");
    assertThat(run.exit()).as(run.err()).isZero();
    JsonNode r = recipient(json(run), "n@good.test");
    assertThat(r.get("status").asText()).isEqualTo("DELIVERED");
    assertThat(r.get("dsn").asText()).isEqualTo("NOT_PASSED_ON");
    assertThat(
            world
                .good()
                .awaitSessions(before + 1, Duration.ofSeconds(5))
                .get(before)
                .commandLines())
        .filteredOn(l -> l.startsWith("MAIL") || l.startsWith("RCPT"))
        .noneMatch(l -> l.contains("RET=") || l.contains("NOTIFY=") || l.contains("ENVID="));
    assertThat(
            recipient(json(send(TestWorld.MESSAGE, "--to", "n@good.test", "--json")), "n@good.test")
                .get("dsn")
                .asText())
        .isEqualTo("NOT_REQUESTED");
  }

  /**
   * A condition given twice is a usage error naming the option, as the Jakarta provider's {@code
   * mail.smtp.dsn.notify} (RFC 3461 §4.1's notify-list-element list names each condition once).
   */
  @Test
  void aRepeatedDsnNotifyConditionIsAUsageErrorNamingTheOption() {
    CliRun twice =
        send(TestWorld.MESSAGE, "--to", "n@good.test", "--dsn-notify", "success,SUCCESS");
    assertThat(twice.exit()).isEqualTo(64);
    assertThat(twice.err()).contains("--dsn-notify").contains("success").contains("RFC 3461");
  }

  @Test
  void badDsnOptionsAreUsageErrorsNamingTheOption() {
    CliRun both = send(TestWorld.MESSAGE, "--to", "n@good.test", "--dsn-notify", "never,success");
    assertThat(both.exit()).isEqualTo(64);
    assertThat(both.err()).contains("--dsn-notify").contains("RFC 3461");
    CliRun word = send(TestWorld.MESSAGE, "--to", "n@good.test", "--dsn-notify", "sometimes");
    assertThat(word.exit()).isEqualTo(64);
    assertThat(word.err()).contains("--dsn-notify").contains("sometimes");
    CliRun ret = send(TestWorld.MESSAGE, "--to", "n@good.test", "--dsn-ret", "body");
    assertThat(ret.exit()).isEqualTo(64);
    assertThat(ret.err()).contains("--dsn-ret").contains("[full, hdrs]");
    CliRun id = send(TestWorld.MESSAGE, "--to", "n@good.test", "--envid", "x".repeat(101));
    assertThat(id.exit()).isEqualTo(64);
    assertThat(id.err()).contains("--envid");
  }

  @Test
  void aPolicyMapFileRaisesOneDestinationAndLeavesTheOthers() throws IOException {
    Path map = world.dir().resolve("policy-map");
    Files.writeString(
        map,
        "# plain.test must not get mail in plaintext\n"
            + "plain.test   enforced\n"
            + "good.test    opportunistic\n");
    CliRun run =
        send(
            TestWorld.MESSAGE,
            "--to",
            "m@plain.test",
            "--to",
            "m@good.test",
            "--policy-map",
            map.toString(),
            "--json");
    assertThat(run.exit()).as(run.err()).isEqualTo(75);
    JsonNode plain = recipient(json(run), "m@plain.test");
    assertThat(plain.get("status").asText()).isEqualTo("DEFERRED");
    assertThat(plain.get("decision").toString()).contains("plain.test");
    assertThat(recipient(json(run), "m@good.test").get("status").asText()).isEqualTo("DELIVERED");

    Files.writeString(map, "plain.test   no-such-level\n");
    CliRun bad = send(TestWorld.MESSAGE, "--to", "m@plain.test", "--policy-map", map.toString());
    assertThat(bad.exit()).isEqualTo(64);
    assertThat(bad.err()).contains("--policy-map").contains("line 1");
  }

  @Test
  void aDeferredRecipientExits75() throws IOException {
    CliRun run = send(TestWorld.MESSAGE, "--to", "busy@mixed.test", "--json");
    assertThat(run.exit()).isEqualTo(75);
    JsonNode r = recipient(json(run), "busy@mixed.test");
    assertThat(r.get("status").asText()).isEqualTo("DEFERRED");
    assertThat(r.get("reply").get("code").asInt()).isEqualTo(451);
    assertThat(r.get("reply").get("enhanced").asText()).isEqualTo("4.2.1");
    assertThat(r.get("reply").get("local").asBoolean()).isFalse();
    assertThat(r.get("reason").asText()).contains("mx.mixed.test answered 451 4.2.1");
  }

  @Test
  void aBouncedRecipientExits69() throws IOException {
    CliRun run =
        send(TestWorld.MESSAGE, "--to", "nobody@mixed.test", "--to", "n@nullmx.test", "--json");
    assertThat(run.exit()).isEqualTo(69);
    JsonNode doc = json(run);
    assertThat(doc.get("exitCode").asInt()).isEqualTo(69);
    JsonNode nobody = recipient(doc, "nobody@mixed.test");
    assertThat(nobody.get("status").asText()).isEqualTo("BOUNCED");
    assertThat(nobody.get("reply").get("code").asInt()).isEqualTo(550);
    JsonNode nullMx = recipient(doc, "n@nullmx.test");
    assertThat(nullMx.get("status").asText()).isEqualTo("BOUNCED");
    assertThat(nullMx.get("reply").get("enhanced").asText()).isEqualTo("5.1.10");
    assertThat(nullMx.get("reply").get("local").asBoolean()).isTrue();
    assertThat(nullMx.get("mx").isNull()).isTrue();
    assertThat(nullMx.get("tls").isNull()).isTrue();
    assertThat(nullMx.get("authentication").isNull()).isTrue();
    assertThat(nullMx.get("attempts")).isEmpty();
  }

  @Test
  void deferredWinsOverBouncedAndDeliveredRecipientsStillCount() throws IOException {
    CliRun run =
        send(
            TestWorld.MESSAGE,
            "--to",
            "ok@mixed.test",
            "--to",
            "busy@mixed.test",
            "--to",
            "nobody@mixed.test",
            "--json");
    assertThat(run.exit()).isEqualTo(75);
    JsonNode summary = json(run).get("summary");
    assertThat(summary.get("delivered").asInt()).isEqualTo(1);
    assertThat(summary.get("deferred").asInt()).isEqualTo(1);
    assertThat(summary.get("bounced").asInt()).isEqualTo(1);
  }

  @Test
  void policyFailuresCarryWhatTlsRptWouldReport() throws IOException {
    // MTA-STS testing whose policy does not name the MX: delivered, and the failure reported
    CliRun run =
        send(TestWorld.MESSAGE, "--to", "t@sts-testing.test", "--to", "g@good.test", "--json");
    assertThat(run.exit()).isZero();
    JsonNode testing = recipient(json(run), "t@sts-testing.test");
    assertThat(testing.get("status").asText()).isEqualTo("DELIVERED");
    JsonNode failures = testing.get("policyFailures");
    assertThat(failures).isNotEmpty();
    List<String> types = new ArrayList<>();
    for (JsonNode f : failures) {
      assertThat(fields(f)).containsExactlyElementsOf(POLICY_FAILURE_FIELDS);
      assertThat(f.get("source").asText()).isEqualTo("mta-sts");
      assertThat(f.get("enforced").asBoolean()).isFalse();
      assertThat(f.get("mx").asText()).isEqualTo("mx.sts-testing.test");
      types.add(f.get("failure").asText() + " " + f.get("tlsRpt").asText());
    }
    // the MX is not in the policy (planning), and its certificate names mx.good.test (handshake)
    assertThat(types)
        .containsExactly(
            "STS_POLICY_INVALID sts-policy-invalid",
            "CERTIFICATE_HOST_MISMATCH certificate-host-mismatch");
    // another domain's failures are not listed under good.test
    assertThat(recipient(json(run), "g@good.test").get("policyFailures")).isEmpty();

    // DANE: the mismatch is reported as enforced
    CliRun dane = send(TestWorld.MESSAGE, "--to", "x@dane-bad.test", "--json");
    JsonNode bad = recipient(json(dane), "x@dane-bad.test").get("policyFailures");
    assertThat(bad).isNotEmpty();
    assertThat(bad.get(0).get("source").asText()).isEqualTo("dane");
    assertThat(bad.get(0).get("enforced").asBoolean()).isTrue();
    assertThat(bad.get(0).get("mx").asText()).isEqualTo("mx.dane-bad.test");
    assertThat(bad.get(0).get("tlsRpt").asText()).isEqualTo("certificate-not-trusted");
  }

  @Test
  void senderLevelsAreHonoured() throws IOException {
    CliRun enforced =
        send(TestWorld.MESSAGE, "--to", "p@plain.test", "--level", "enforced", "--json");
    assertThat(enforced.exit()).isEqualTo(75);
    JsonNode plain = recipient(json(enforced), "p@plain.test");
    assertThat(plain.get("status").asText()).isEqualTo("DEFERRED");
    assertThat(plain.get("policy").get("source").asText()).isEqualTo("sender");
    assertThat(plain.get("attempts").get(0).get("failure").asText())
        .isEqualTo("STARTTLS_NOT_SUPPORTED");
    assertThat(plain.get("attempts").get(0).get("tlsRpt").asText())
        .isEqualTo("starttls-not-supported");

    CliRun sts =
        send(TestWorld.MESSAGE, "--to", "x@good.test", "--level", "sts-required", "--json");
    assertThat(sts.exit()).isEqualTo(69);
    JsonNode good = recipient(json(sts), "x@good.test");
    assertThat(good.get("status").asText()).isEqualTo("BOUNCED");
    assertThat(good.get("policy").get("source").asText()).isEqualTo("sender");
    assertThat(good.get("policy").get("mode").isNull()).isTrue();
    assertThat(good.get("reason").asText()).startsWith("STS_REQUIRED:");

    CliRun dane =
        send(TestWorld.MESSAGE, "--to", "x@dane-bad.test", "--level", "dane-required", "--json");
    assertThat(dane.exit()).isEqualTo(75);
    JsonNode bad = recipient(json(dane), "x@dane-bad.test");
    assertThat(bad.get("status").asText()).isEqualTo("DEFERRED");
    assertThat(bad.get("policy").get("source").asText()).isEqualTo("dane");
    assertThat(bad.get("attempts").get(0).get("failure").asText())
        .isEqualTo("CERTIFICATE_NOT_TRUSTED");
  }

  @Test
  void aBogusZoneIsDeferredNeverDelivered() throws IOException {
    CliRun run = send(TestWorld.MESSAGE, "--to", "x@bogus.test", "--json");
    assertThat(run.exit()).isEqualTo(75);
    JsonNode r = recipient(json(run), "x@bogus.test");
    assertThat(r.get("status").asText()).isEqualTo("DEFERRED");
    assertThat(r.get("reply").get("local").asBoolean()).isTrue();
    assertThat(r.get("reason").asText()).startsWith("DNSSEC_INVALID: MX lookup failed");
    assertThat(r.get("policy").get("source").asText()).isEqualTo("dane");
    // what TLS-RPT would report for the domain: dnssec-invalid (RFC 8460 §4.3.1)
    assertThat(r.get("policyFailures"))
        .singleElement()
        .satisfies(
            f -> {
              assertThat(f.get("source").asText()).isEqualTo("dane");
              assertThat(f.get("failure").asText()).isEqualTo("DNSSEC_INVALID");
              assertThat(f.get("tlsRpt").asText()).isEqualTo("dnssec-invalid");
              assertThat(f.get("mx").isNull()).isTrue();
            });
  }

  @Test
  void verboseTracesEventsOnStderrAndKeepsStdoutJson() throws IOException {
    CliRun run = send(TestWorld.MESSAGE, "--to", "x@good.test", "--json", "-v");
    assertThat(run.exit()).isZero();
    assertThat(run.err())
        .contains(
            "plan start good.test at level opportunistic",
            "handshake end mx.good.test",
            "recipient end x@good.test: DELIVERED");
    assertThat(json(run).get("recipients")).hasSize(1);
  }

  @Test
  void helpDocumentsTheExitCodes() {
    CliRun run = CliRun.run(List.of("send", "--help"));
    assertThat(run.exit()).isZero();
    assertThat(run.out()).contains("Exit codes:", "64", "69", "75", "docs/cli-json.md");
  }
}
