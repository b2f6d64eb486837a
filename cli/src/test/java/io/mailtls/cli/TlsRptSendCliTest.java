package io.mailtls.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mailtls.testkit.SmtpMessage;
import io.mailtls.tlsrpt.AppliedPolicy;
import io.mailtls.tlsrpt.FileAggregateStore;
import io.mailtls.tlsrpt.PolicyCounts;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code mailtls tlsrpt send} (RFC 8460 §5) in-process against the testkit: the counts of real
 * deliveries, kept for a day that has ended, are reported to {@code sts.test}'s {@code rua}: by
 * DKIM-signed mail to {@code tlsrpt@sts.test} (delivered to the domain's mock MX) and by HTTPS to
 * {@code reports.sts.test}, which has no address, so that report is kept to be tried again.
 */
class TlsRptSendCliTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static TestWorld world;
  private static Path dkimKey;

  @BeforeAll
  static void start() throws IOException, NoSuchAlgorithmException {
    world = new TestWorld();
    KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
    rsa.initialize(2048);
    dkimKey = world.dir().resolve("dkim.pk8");
    Files.write(dkimKey, rsa.generateKeyPair().getPrivate().getEncoded());
  }

  @AfterAll
  static void stop() {
    world.close();
  }

  private static CliRun tlsrptSend(Path store, String... args) {
    List<String> all = new ArrayList<>(List.of("tlsrpt", "send", "--store", store.toString()));
    all.addAll(List.of(args));
    all.addAll(
        List.of(
            "--submitter",
            "sender.test",
            "--dkim-key",
            dkimKey.toString(),
            "--dkim-selector",
            "rpt2026"));
    all.addAll(world.cliOptions());
    return CliRun.run(all);
  }

  /** Today's counts of one real send to sts.test, as a store would hold them. */
  private static Map<AppliedPolicy, PolicyCounts> countsOfOneSendToSts() throws IOException {
    Path today = world.dir().resolve("rpt-today");
    List<String> send =
        new ArrayList<>(
            List.of(
                "send",
                "--from",
                "a@sender.test",
                "--to",
                "someone@sts.test",
                "--tlsrpt-store",
                today.toString()));
    send.addAll(world.cliOptions());
    CliRun run = CliRun.run(new ByteArrayInputStream(TestWorld.MESSAGE), send);
    assertThat(run.exit()).as(run.err()).isZero();
    try (FileAggregateStore s = FileAggregateStore.open(today.resolve("aggregate.log"))) {
      Map<AppliedPolicy, PolicyCounts> counts = s.read(s.days().first());
      assertThat(counts).hasSize(1);
      return counts;
    }
  }

  @Test
  void reportsAnEndedDayByMailAndKeepsTheHttpsReportThatFailed() throws Exception {
    Map<AppliedPolicy, PolicyCounts> counts = countsOfOneSendToSts();
    LocalDate yesterday = LocalDate.now(ZoneOffset.UTC).minusDays(1);
    Path store = world.dir().resolve("rpt-ended");
    Files.createDirectories(store);
    try (FileAggregateStore s = FileAggregateStore.open(store.resolve("aggregate.log"))) {
      s.merge(yesterday, counts);
    }

    CliRun run = tlsrptSend(store, "--day", yesterday.toString(), "--json");
    assertThat(run.exit()).as("the HTTPS report is kept: %s", run.err()).isEqualTo(75);
    JsonNode doc = JSON.readTree(run.out());
    assertThat(doc.get("reports")).hasSize(1);
    JsonNode report = doc.get("reports").get(0);
    assertThat(report.get("policyDomain").asText()).isEqualTo("sts.test");
    assertThat(report.get("stage").asText()).isEqualTo("delivering");
    String reportId = report.get("reportId").asText();
    JsonNode mail = destination(report, "mailto:tlsrpt@sts.test");
    assertThat(mail.get("state").asText()).isEqualTo("delivered");
    assertThat(mail.at("/lastOutcome/detail").asText()).contains("250");
    JsonNode https = destination(report, "https://reports.sts.test/tlsrpt");
    assertThat(https.get("state").asText()).isEqualTo("pending");
    assertThat(https.get("attempts").asInt()).isEqualTo(1);
    assertThat(https.at("/lastOutcome/detail").asText()).contains("reports.sts.test");
    assertThat(https.get("nextAttempt").asText()).isNotEmpty();
    assertThat(doc.get("settledDays")).isEmpty();
    try (Stream<Path> kept = Files.list(store.resolve("pending"))) {
      assertThat(kept.map(p -> p.getFileName().toString())).contains(yesterday + "_sts.test.json");
    }

    SmtpMessage m =
        world.sts().awaitMessages(2, Duration.ofSeconds(10)).stream()
            .filter(x -> x.recipients().contains("tlsrpt@sts.test"))
            .findFirst()
            .orElseThrow();
    String text = m.dataAsString();
    assertThat(m.tls()).isTrue();
    assertThat(text)
        .contains("TLS-Report-Domain: sts.test")
        .contains("TLS-Report-Submitter: sender.test")
        .contains("TLS-Required: No")
        .contains("report-type=\"tlsrpt\"")
        .contains("d=sender.test; s=rpt2026;");
    assertThat(text.replaceAll("\r\n\\s+", " "))
        .contains(
            "Subject: Report Domain: sts.test Submitter: sender.test Report-ID: <" + reportId);
    JsonNode sent = JSON.readTree(gunzipAttachment(text));
    assertThat(sent.get("report-id").asText()).isEqualTo(reportId);
    PolicyCounts expected = counts.values().iterator().next();
    JsonNode summary = sent.get("policies").get(0).get("summary");
    assertThat(summary.get("total-successful-session-count").asLong())
        .isEqualTo(expected.successfulSessions());
    assertThat(summary.get("total-failure-session-count").asLong())
        .isEqualTo(expected.failedSessions());

    // The retry is not due yet (RFC 8460 §5.5: 15 minutes): nothing is posted or mailed again,
    // and the report stays kept with the same report-id.
    CliRun again = tlsrptSend(store, "--due");
    assertThat(again.exit()).as(again.out() + again.err()).isEqualTo(75);
    assertThat(again.out() + again.err())
        .contains(yesterday + " sts.test")
        .contains("https://reports.sts.test/tlsrpt pending, 1 attempt: ")
        .contains("; next at ")
        .doesNotContain("2 attempts");
    if (again.out().contains("report-id")) {
      assertThat(again.out()).contains(reportId);
    }
  }

  @Test
  void aDayThatHasNotEndedIsRefused() throws IOException {
    Path store = world.dir().resolve("rpt-today-refused");
    Files.createDirectories(store);
    CliRun run = tlsrptSend(store, "--day", LocalDate.now(ZoneOffset.UTC).plusDays(1).toString());
    assertThat(run.exit()).isEqualTo(64);
    assertThat(run.err()).contains("has not ended");
  }

  @Test
  void aDayWithoutCountsHasNothingToReport() throws IOException {
    Path store = world.dir().resolve("rpt-empty");
    Files.createDirectories(store);
    CliRun run = tlsrptSend(store, "--day", "2026-01-01");
    assertThat(run.exit()).as(run.err()).isEqualTo(69);
    assertThat(run.err()).contains("nothing to report for 2026-01-01");
  }

  private static JsonNode destination(JsonNode report, String uri) {
    for (JsonNode d : report.get("destinations")) {
      if (d.get("uri").asText().equals(uri)) {
        return d;
      }
    }
    throw new AssertionError("no destination " + uri + " in " + report);
  }

  /** The base64 body of the application/tlsrpt+gzip part, gunzipped. */
  private static byte[] gunzipAttachment(String message) throws IOException {
    int part = message.indexOf("Content-Type: application/tlsrpt+gzip");
    assertThat(part).as("the report part").isNotNegative();
    int body = message.indexOf("\r\n\r\n", part) + 4;
    int end = message.indexOf("\r\n--", body);
    byte[] gz = Base64.getMimeDecoder().decode(message.substring(body, end));
    try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(gz))) {
      return in.readAllBytes();
    }
  }
}
