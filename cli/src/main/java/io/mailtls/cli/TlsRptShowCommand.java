package io.mailtls.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.mailtls.tlsrpt.AppliedPolicy;
import io.mailtls.tlsrpt.FailureDetail;
import io.mailtls.tlsrpt.FileAggregateStore;
import io.mailtls.tlsrpt.PolicyCounts;
import io.mailtls.tlsrpt.TlsRptReport;
import io.mailtls.tlsrpt.TlsRptReportWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mailtls tlsrpt show --day D --store DIR [--json]}: the counts of one UTC day in a local
 * aggregate store, per policy domain and applied policy (RFC 8460 §4.3); with {@code --json} the
 * §4.4 report of each policy domain, as {@link TlsRptReportWriter} writes it for delivery.
 */
@Command(
    name = "show",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Print one UTC day's TLS-RPT counts from a local store.",
      "%nPer policy domain and policy: successful and failed sessions and the failure details."
          + " With --json: the RFC 8460 report of each policy domain, as a JSON array.%n"
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      " 0:the day's counts were printed",
      Mailtls.EXIT_64,
      "69:the store holds no counts for that day",
      Mailtls.EXIT_70,
      "75:the store could not be opened (another process holds it, or it cannot be read)"
    })
final class TlsRptShowCommand implements Callable<Integer>, Mailtls.Verbosity {

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  @Spec CommandSpec spec;

  @Option(
      names = "--day",
      required = true,
      paramLabel = "YYYY-MM-DD",
      description = "the UTC day (RFC 8460 §4.1: reports cover whole UTC days)")
  String day;

  @Option(
      names = "--store",
      required = true,
      paramLabel = "DIR",
      description = "the store directory (what send --tlsrpt-store DIR recorded into)")
  Path store;

  @Option(names = "--json", description = "print the RFC 8460 §4.4 reports, one per policy domain")
  boolean json;

  @Mixin TlsRptWriterOptions writerOptions = new TlsRptWriterOptions();

  @Option(
      names = {"-v", "--verbose"},
      description = "stack traces with errors")
  boolean verbose;

  @Override
  public boolean verbose() {
    return verbose;
  }

  @Override
  public Integer call() throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    LocalDate date;
    try {
      date = LocalDate.parse(day);
    } catch (DateTimeParseException e) {
      throw CliException.usage("--day \"" + day + "\": not a date YYYY-MM-DD", e);
    }
    TlsRptReportWriter writer = json ? writerOptions.writer() : null;
    Map<AppliedPolicy, PolicyCounts> counts;
    Optional<FileAggregateStore> opened = TlsRptStoreDir.openExisting("--store", store);
    if (opened.isEmpty()) {
      counts = Map.of();
    } else {
      try (FileAggregateStore s = opened.get()) {
        s.recovery().ifPresent(r -> err.println("mailtls: warning: " + Mailtls.oneLine(r)));
        counts = s.read(date);
      }
    }
    if (counts.isEmpty()) {
      err.println(
          "mailtls: no TLS-RPT counts for "
              + date
              + " in "
              + store
              + (opened.isEmpty() ? " (no " + TlsRptStoreDir.LOG + " in it)" : ""));
      err.flush();
      if (json) {
        out.println("[]");
        out.flush();
      }
      return Mailtls.EX_UNAVAILABLE;
    }
    if (writer != null) {
      ArrayNode reports = JSON.createArrayNode();
      for (TlsRptReport r : writer.write(date, counts)) {
        JsonNode node = JSON.readTree(r.json());
        reports.add(node);
      }
      out.println(JSON.writeValueAsString(reports));
    } else {
      printText(out, date, counts);
    }
    out.flush();
    return Mailtls.EX_OK;
  }

  private void printText(PrintWriter out, LocalDate date, Map<AppliedPolicy, PolicyCounts> counts) {
    out.printf(
        Locale.ROOT,
        "TLS-RPT counts for %s (%sT00:00:00Z to %sT23:59:59Z) in %s%n",
        date,
        date,
        date,
        TlsRptStoreDir.log(store));
    List<Map.Entry<AppliedPolicy, PolicyCounts>> entries = new ArrayList<>(counts.entrySet());
    entries.sort(Map.Entry.comparingByKey(POLICY_ORDER));
    String domain = null;
    for (Map.Entry<AppliedPolicy, PolicyCounts> e : entries) {
      AppliedPolicy p = e.getKey();
      PolicyCounts c = e.getValue();
      if (!p.policyDomain().toString().equals(domain)) {
        domain = p.policyDomain().toString();
        out.printf(Locale.ROOT, "%n%s%n", domain);
      }
      out.printf(Locale.ROOT, "  policy    %s%n", p.type().value());
      for (String line : p.policyString()) {
        out.printf(Locale.ROOT, "            %s%n", CheckText.printable(line));
      }
      if (!p.mxHosts().isEmpty()) {
        out.printf(Locale.ROOT, "  mx-host   %s%n", String.join(", ", p.mxHosts()));
      }
      out.printf(
          Locale.ROOT,
          "  sessions  %d successful, %d failed%n",
          c.successfulSessions(),
          c.failedSessions());
      List<Map.Entry<FailureDetail, Long>> details = new ArrayList<>(c.failures().entrySet());
      details.sort(Map.Entry.comparingByKey(DETAIL_ORDER));
      for (Map.Entry<FailureDetail, Long> d : details) {
        FailureDetail f = d.getKey();
        StringBuilder line = new StringBuilder();
        line.append(String.format(Locale.ROOT, "  %8d x %s", d.getValue(), f.resultType()));
        f.receivingMxHostname().ifPresent(v -> line.append(" mx ").append(v));
        f.receivingIp().ifPresent(v -> line.append(" [").append(v).append(']'));
        f.receivingMxHelo().ifPresent(v -> line.append(" helo ").append(v));
        f.sendingMtaIp().ifPresent(v -> line.append(" from ").append(v));
        f.failureReasonCode().ifPresent(v -> line.append(" (").append(v).append(')'));
        f.additionalInformation().ifPresent(v -> line.append(" see ").append(v));
        out.println(CheckText.printable(line.toString()));
      }
    }
  }

  private static final Comparator<AppliedPolicy> POLICY_ORDER =
      Comparator.comparing((AppliedPolicy p) -> p.policyDomain().toString())
          .thenComparing(AppliedPolicy::type)
          .thenComparing(p -> String.join("\n", p.policyString()))
          .thenComparing(p -> String.join("\n", p.mxHosts()));

  private static final Comparator<FailureDetail> DETAIL_ORDER =
      Comparator.comparing(FailureDetail::resultType)
          .thenComparing(f -> f.receivingMxHostname().orElse(""))
          .thenComparing(f -> f.receivingIp().orElse(""))
          .thenComparing(f -> f.receivingMxHelo().orElse(""))
          .thenComparing(f -> f.sendingMtaIp().orElse(""))
          .thenComparing(f -> f.failureReasonCode().orElse(""))
          .thenComparing(f -> f.additionalInformation().orElse(""));
}
