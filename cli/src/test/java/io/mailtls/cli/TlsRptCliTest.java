package io.mailtls.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import io.mailtls.tlsrpt.FileAggregateStore;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The TLS-RPT parts of the command line (RFC 8460), in-process against the testkit's signed DNS and
 * mock SMTP servers: {@code check}'s {@code _smtp._tls} record, {@code send --tlsrpt-store}, and
 * {@code tlsrpt show} in text and as the §4.4 reports, whose counts match the deliveries.
 */
class TlsRptCliTest {

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

  private static JsonNode tlsRpt(String domain) throws IOException {
    CliRun run = check(domain, "--json");
    assertThat(run.exit()).as(run.err()).isZero();
    return JSON.readTree(run.out()).get("tlsRpt");
  }

  private static List<String> texts(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }

  @Test
  void checkShowsThePublishedRecordAndItsRua() throws IOException {
    JsonNode t = tlsRpt("sts.test");
    assertThat(t.get("status").asText()).isEqualTo("valid");
    assertThat(t.get("record").asText())
        .isEqualTo("v=TLSRPTv1; rua=mailto:tlsrpt@sts.test, https://reports.sts.test/tlsrpt");
    assertThat(texts(t.get("rua")))
        .containsExactly("mailto:tlsrpt@sts.test", "https://reports.sts.test/tlsrpt");
    assertThat(texts(t.get("txt"))).hasSize(1);
    assertThat(t.get("dnssec").asText()).isEqualTo("SECURE");
    assertThat(t.get("ignored")).isEmpty();
    assertThat(t.get("reason").isNull()).isTrue();

    CliRun text = check("sts.test");
    assertThat(text.exit()).as(text.err()).isZero();
    assertThat(text.out())
        .contains(
            "TLS-RPT   _smtp._tls record valid (SECURE): v=TLSRPTv1;"
                + " rua=mailto:tlsrpt@sts.test, https://reports.sts.test/tlsrpt")
        .contains("rua mailto:tlsrpt@sts.test, https://reports.sts.test/tlsrpt");
  }

  @Test
  void checkReportsTwoRecordsAsNoReporting() throws IOException {
    JsonNode t = tlsRpt("plain.test");
    assertThat(t.get("status").asText()).isEqualTo("several");
    assertThat(t.get("record").isNull()).isTrue();
    assertThat(texts(t.get("txt")))
        .containsExactlyInAnyOrder(
            "v=TLSRPTv1; rua=mailto:a@plain.test", "v=TLSRPTv1; rua=mailto:b@plain.test");
    assertThat(t.get("rua")).isEmpty();
    assertThat(t.get("reason").asText()).contains("2 TXT records").contains("exactly one");

    CliRun text = check("plain.test");
    assertThat(text.out())
        .contains("TLS-RPT   _smtp._tls record several (SECURE): 2 TXT records")
        .contains("TXT v=TLSRPTv1; rua=mailto:a@plain.test")
        .contains("TXT v=TLSRPTv1; rua=mailto:b@plain.test");
  }

  @Test
  void checkReportsNoRecordAndJsonLinesCarryIt() throws IOException {
    JsonNode t = tlsRpt("good.test");
    assertThat(t.get("status").asText()).isEqualTo("absent");
    assertThat(t.get("txt")).isEmpty();
    assertThat(t.get("reason").asText()).contains("_smtp._tls.good.test");

    Path input = world.dir().resolve("rpt-domains.txt");
    Files.writeString(input, "sts.test\nplain.test\n[127.0.4.1]\n");
    CliRun run = check("--input", input.toString(), "--json-lines");
    assertThat(run.exit()).as(run.err()).isZero();
    List<String> lines = run.out().lines().toList();
    assertThat(lines).hasSize(3);
    assertThat(JSON.readTree(lines.get(0)).get("tlsRpt").get("status").asText()).isEqualTo("valid");
    assertThat(JSON.readTree(lines.get(1)).get("tlsRpt").get("status").asText())
        .isEqualTo("several");
    // An address literal has no policy domain.
    assertThat(JSON.readTree(lines.get(2)).get("tlsRpt").isNull()).isTrue();
  }

  private static CliRun send(Path store, String... to) {
    List<String> all =
        new ArrayList<>(
            List.of("send", "--from", "a@sender.test", "--tlsrpt-store", store.toString()));
    for (String t : to) {
      all.add("--to");
      all.add(t);
    }
    all.addAll(world.cliOptions());
    return CliRun.run(new ByteArrayInputStream(TestWorld.MESSAGE), all);
  }

  private static LocalDate onlyDay(Path store) throws IOException {
    try (FileAggregateStore s = FileAggregateStore.open(store.resolve("aggregate.log"))) {
      SortedSet<LocalDate> days = s.days();
      assertThat(days).hasSize(1);
      return days.first();
    }
  }

  private static Map<String, JsonNode> byDomain(JsonNode reports) {
    Map<String, JsonNode> out = new LinkedHashMap<>();
    for (JsonNode r : reports) {
      JsonNode policies = r.get("policies");
      assertThat(policies).as("one policy per report here: %s", r).hasSize(1);
      out.put(policies.get(0).get("policy").get("policy-domain").asText(), policies.get(0));
    }
    return out;
  }

  @Test
  void sendRecordsIntoTheStoreAndShowPrintsReportsWhoseCountsMatch() throws IOException {
    Path store = world.dir().resolve("rpt-store");
    // One session to good.test for two recipients, one plaintext session to plain.test.
    CliRun first = send(store, "b@good.test", "c@good.test", "x@plain.test");
    assertThat(first.exit()).as(first.err()).isZero();
    // Another run, another session to good.test; one to sts.test under its enforce policy.
    CliRun second = send(store, "d@good.test", "e@sts.test");
    assertThat(second.exit()).as(second.err()).isZero();
    LocalDate day = onlyDay(store);

    CliRun show =
        CliRun.run(
            List.of(
                "tlsrpt",
                "show",
                "--day",
                day.toString(),
                "--store",
                store.toString(),
                "--json",
                "--submitter",
                "sender.test",
                "--organization",
                "Sender Org",
                "--contact",
                "tlsrpt@sender.test"));
    assertThat(show.exit()).as(show.err()).isZero();
    JsonNode reports = JSON.readTree(show.out());
    assertThat(reports.isArray()).isTrue();
    assertThat(reports).hasSize(3);
    Schema schema = schema();
    for (JsonNode r : reports) {
      assertThat(schema.validate(r)).as("%s", r).isEmpty();
      assertThat(r.get("organization-name").asText()).isEqualTo("Sender Org");
      assertThat(r.get("contact-info").asText()).isEqualTo("tlsrpt@sender.test");
      assertThat(r.get("report-id").asText()).startsWith(day + "_").endsWith("@sender.test");
      assertThat(r.get("date-range").get("start-datetime").asText()).isEqualTo(day + "T00:00:00Z");
    }
    Map<String, JsonNode> policies = byDomain(reports);
    assertThat(policies.keySet()).containsExactly("good.test", "plain.test", "sts.test");

    JsonNode good = policies.get("good.test");
    assertThat(good.get("policy").get("policy-type").asText()).isEqualTo("no-policy-found");
    assertThat(good.get("summary").get("total-successful-session-count").asLong()).isEqualTo(2);
    assertThat(good.get("summary").get("total-failure-session-count").asLong()).isZero();
    assertThat(good.has("failure-details")).isFalse();

    JsonNode plain = policies.get("plain.test");
    assertThat(plain.get("summary").get("total-successful-session-count").asLong()).isZero();
    assertThat(plain.get("summary").get("total-failure-session-count").asLong()).isEqualTo(1);
    JsonNode detail = plain.get("failure-details").get(0);
    assertThat(plain.get("failure-details")).hasSize(1);
    assertThat(detail.get("result-type").asText()).isEqualTo("starttls-not-supported");
    assertThat(detail.get("receiving-mx-hostname").asText()).isEqualTo("mx.plain.test");
    assertThat(detail.get("receiving-ip").asText()).isEqualTo("127.0.4.2");
    assertThat(detail.get("failed-session-count").asLong()).isEqualTo(1);
    assertThat(detail.get("failure-reason-code").asText()).isEqualTo("PLAINTEXT");
    assertThat(detail.get("receiving-mx-helo").asText()).isEqualTo("mx.plain.test");
    assertThat(java.net.InetAddress.getByName(detail.get("sending-mta-ip").asText()))
        .matches(java.net.InetAddress::isLoopbackAddress);
    assertThat(detail.get("additional-information").asText())
        .isEqualTo("https://www.rfc-editor.org/rfc/rfc8460#section-4.3.1");

    JsonNode sts = policies.get("sts.test");
    assertThat(sts.get("policy").get("policy-type").asText()).isEqualTo("sts");
    assertThat(texts(sts.get("policy").get("policy-string")))
        .containsExactly("version: STSv1", "mode: enforce", "mx: mx.sts.test", "max_age: 86400");
    assertThat(texts(sts.get("policy").get("mx-host"))).containsExactly("mx.sts.test");
    assertThat(sts.get("summary").get("total-successful-session-count").asLong()).isEqualTo(1);
    assertThat(sts.get("summary").get("total-failure-session-count").asLong()).isZero();

    CliRun text =
        CliRun.run(List.of("tlsrpt", "show", "--day", day.toString(), "--store", store.toString()));
    assertThat(text.exit()).as(text.err()).isZero();
    assertThat(text.out())
        .contains("TLS-RPT counts for " + day)
        .contains("good.test\n  policy    no-policy-found\n  sessions  2 successful, 0 failed")
        .contains("plain.test\n  policy    no-policy-found\n  sessions  0 successful, 1 failed")
        .contains(
            "       1 x starttls-not-supported mx mx.plain.test [127.0.4.2] helo mx.plain.test"
                + " from ")
        .contains("sts.test\n  policy    sts\n            version: STSv1")
        .contains("  mx-host   mx.sts.test\n  sessions  1 successful, 0 failed");
  }

  @Test
  void aDayWithoutCountsIsAClearMessageAndExit69() throws IOException {
    Path store = world.dir().resolve("rpt-empty");
    CliRun none =
        CliRun.run(List.of("tlsrpt", "show", "--day", "2001-02-03", "--store", store.toString()));
    assertThat(none.exit()).isEqualTo(Mailtls.EX_USAGE);
    assertThat(none.err()).contains("--store " + store + ": no such directory");

    Files.createDirectories(store);
    CliRun empty =
        CliRun.run(List.of("tlsrpt", "show", "--day", "2001-02-03", "--store", store.toString()));
    assertThat(empty.exit()).isEqualTo(Mailtls.EX_UNAVAILABLE);
    assertThat(empty.err()).contains("no TLS-RPT counts for 2001-02-03 in " + store);
    assertThat(empty.out()).isEmpty();
    // Showing creates nothing.
    assertThat(store.resolve("aggregate.log")).doesNotExist();

    CliRun json =
        CliRun.run(
            List.of(
                "tlsrpt", "show", "--day", "2001-02-03", "--store", store.toString(), "--json"));
    assertThat(json.exit()).isEqualTo(Mailtls.EX_UNAVAILABLE);
    assertThat(JSON.readTree(json.out())).isEmpty();

    CliRun badDay =
        CliRun.run(List.of("tlsrpt", "show", "--day", "yesterday", "--store", store.toString()));
    assertThat(badDay.exit()).isEqualTo(Mailtls.EX_USAGE);
    assertThat(badDay.err()).contains("--day \"yesterday\": not a date YYYY-MM-DD");

    CliRun bare = CliRun.run(List.of("tlsrpt"));
    assertThat(bare.exit()).isEqualTo(Mailtls.EX_USAGE);
    assertThat(bare.err()).contains("give a subcommand: show");
  }

  /** RFC 8460 §4.4, §5.1, §5.3: contact-info is an address in the submitter's domain. */
  @Test
  void aContactThatIsNotAnAddressInTheSubmittersDomainIsAUsageError() throws IOException {
    Path store = world.dir().resolve("rpt-contact");
    Files.createDirectories(store);
    for (String contact : List.of("mailto:tlsrpt@sender.test", "tlsrpt@other.test")) {
      CliRun show =
          CliRun.run(
              List.of(
                  "tlsrpt",
                  "show",
                  "--day",
                  "2001-02-03",
                  "--store",
                  store.toString(),
                  "--json",
                  "--submitter",
                  "sender.test",
                  "--contact",
                  contact));
      assertThat(show.exit()).as(show.err()).isEqualTo(Mailtls.EX_USAGE);
      assertThat(show.err()).contains("contactInfo \"" + contact + "\"");
    }
  }

  @Test
  void completionKnowsTheNewCommandAndOptions() {
    CliRun run = CliRun.run(List.of("completion"));
    assertThat(run.exit()).isZero();
    assertThat(run.out())
        .contains("tlsrpt")
        .contains("--tlsrpt-store")
        .contains("--day")
        .contains("--store");
  }

  private static Schema schema() throws IOException {
    return SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12)
        .getSchema(
            Files.readString(Path.of("..", "docs", "tlsrpt-report.schema.json")), InputFormat.JSON);
  }
}
