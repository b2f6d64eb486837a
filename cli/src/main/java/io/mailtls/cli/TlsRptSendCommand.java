package io.mailtls.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mailtls.core.DomainName;
import io.mailtls.core.EmailAddress;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.TlsLevel;
import io.mailtls.tlsrpt.DeliveryRun;
import io.mailtls.tlsrpt.DkimKey;
import io.mailtls.tlsrpt.FileAggregateStore;
import io.mailtls.tlsrpt.FilePendingReportStore;
import io.mailtls.tlsrpt.HttpsReportSender;
import io.mailtls.tlsrpt.MailReportSender;
import io.mailtls.tlsrpt.PendingReport;
import io.mailtls.tlsrpt.ReportOutcome;
import io.mailtls.tlsrpt.TlsRptDiscovery;
import io.mailtls.tlsrpt.TlsRptReporter;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mailtls tlsrpt send (--day D | --due) --store DIR ...}: delivers the TLS-RPT reports (RFC
 * 8460 §5) of a local store with {@link TlsRptReporter}: {@code --day D} reports that ended UTC day
 * (and retries what of it is due), {@code --due} reports every ended day the store holds and
 * retries every kept report whose time has come (for cron). Reports go by HTTPS (§5.4) and by mail
 * (§5.3, DKIM-signed, {@code TLS-Required: No}); what is not delivered is kept in the pending
 * directory and tried again by a later run, on the §5.5 schedule.
 */
@Command(
    name = "send",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Deliver the TLS-RPT reports of a local store (RFC 8460 §5).",
      "%nOne report per policy domain, to every rua destination of its _smtp._tls record, by"
          + " HTTPS and by DKIM-signed mail. What is not delivered is kept (--pending) and tried"
          + " again by a later run (--due), for 24 hours (RFC 8460 §5.5).%n"
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      " 0:every report looked at was delivered (or its domain asks for none)",
      Mailtls.EXIT_64 + "; the day has not ended in UTC",
      "69:the store holds nothing to report for that day, or a report was given up",
      Mailtls.EXIT_70,
      "75:a report is kept to be tried again, or a store could not be opened"
    })
final class TlsRptSendCommand implements Callable<Integer>, Mailtls.Verbosity {

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** The pending directory's name under the store directory, by default. */
  static final String PENDING = "pending";

  @Spec CommandSpec spec;

  /** Which reports: one day's, or everything due. */
  static final class When {
    @Option(
        names = "--day",
        required = true,
        paramLabel = "YYYY-MM-DD",
        description = "report this ended UTC day (RFC 8460 §4.1) and retry what of it is due")
    @Nullable String day;

    @Option(
        names = "--due",
        required = true,
        description = "report every ended day in the store and retry every kept report now due")
    boolean due;
  }

  @ArgGroup(exclusive = true, multiplicity = "1")
  When when = new When();

  @Option(
      names = "--store",
      required = true,
      paramLabel = "DIR",
      description = "the store directory (what send --tlsrpt-store DIR recorded into)")
  Path store;

  @Option(
      names = "--pending",
      paramLabel = "DIR",
      description = "where undelivered reports are kept (default: DIR/pending of --store)")
  @Nullable Path pending;

  @Mixin TlsRptWriterOptions writerOptions = new TlsRptWriterOptions();

  @Option(
      names = "--from",
      paramLabel = "ADDRESS",
      description = "the report mail's sender (default: tlsrpt-noreply@SUBMITTER)")
  @Nullable String from;

  @Option(
      names = "--dkim-key",
      required = true,
      paramLabel = "FILE",
      description = "the DKIM private key, PKCS#8 in PEM or DER (RSA or Ed25519; RFC 8460 §5.3)")
  Path dkimKey;

  @Option(
      names = "--dkim-selector",
      required = true,
      paramLabel = "SELECTOR",
      description = "the DKIM selector: the key is published at SELECTOR._domainkey.DOMAIN")
  String dkimSelector;

  @Option(
      names = "--dkim-domain",
      paramLabel = "DOMAIN",
      description = "the DKIM signing domain, d= (default: the submitter)")
  @Nullable String dkimDomain;

  @Option(names = "--json", description = "print what the run did as one JSON document")
  boolean json;

  @Mixin CommonOptions common;

  @Override
  public boolean verbose() {
    return common != null && common.verbose;
  }

  @Override
  public Integer call() throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    LocalDate date = null;
    if (when.day != null) {
      try {
        date = LocalDate.parse(when.day);
      } catch (DateTimeParseException e) {
        throw CliException.usage("--day \"" + when.day + "\": not a date YYYY-MM-DD", e);
      }
    }
    DomainName submitter = writerOptions.submitter();
    EmailAddress sender = address(from != null ? from : "tlsrpt-noreply@" + submitter);
    DkimKey key = dkimKey(dkimDomain != null ? domain("--dkim-domain", dkimDomain) : submitter);
    Path pendingDir = pending != null ? pending : store.resolve(PENDING);
    DeliveryRun run;
    List<PendingReport> stillKept;
    try (FileAggregateStore counts = TlsRptStoreDir.openForWriting("--store", store);
        FilePendingReportStore kept = openPending(pendingDir);
        CliContext ctx = CliContext.open(common, Mailtls.env(spec), err);
        SecureSmtpTransport transport = ctx.transport(TlsLevel.OPPORTUNISTIC);
        TlsRptReporter reporter =
            TlsRptReporter.builder()
                .aggregateStore(counts)
                .pendingStore(kept)
                .discovery(TlsRptDiscovery.builder().dns(ctx.dns()).build())
                .writer(writerOptions.writer())
                .channels(
                    List.of(
                        HttpsReportSender.builder()
                            .client(ctx.http())
                            .dns(ctx.dns())
                            .connectTimeout(common.timeout())
                            .maxAttempts(1)
                            .build(),
                        MailReportSender.builder()
                            .transport(transport)
                            .from(sender)
                            .submitter(submitter)
                            .dkim(key)
                            .build()))
                .build()) {
      counts.recovery().ifPresent(r -> err.println("mailtls: warning: " + Mailtls.oneLine(r)));
      run = date != null ? reporter.flush(date) : reporter.runDue();
      stillKept = reporter.pending().stream().filter(r -> !r.settled()).toList();
    }
    if (run.refused().isPresent()) {
      throw CliException.usage("--day " + date + ": " + run.refused().get());
    }
    if (json) {
      out.println(JSON.writeValueAsString(json(run)));
    } else {
      printText(out, run);
    }
    out.flush();
    if (run.reports().isEmpty()) {
      if (!stillKept.isEmpty() || !run.claimedElsewhere().isEmpty()) {
        // nothing was due now; what is kept is tried by a later run
        for (PendingReport r : stillKept) {
          err.println(
              "mailtls: kept: "
                  + r.day()
                  + " "
                  + r.policyDomain()
                  + r.nextAttempt().map(t -> ", next attempt at " + t).orElse(""));
        }
        run.claimedElsewhere().forEach(k -> err.println("mailtls: held by another process: " + k));
        err.flush();
        return Mailtls.EX_TEMPFAIL;
      }
      err.println(
          "mailtls: nothing to report" + (date != null ? " for " + date : "") + " in " + store);
      err.flush();
      return Mailtls.EX_UNAVAILABLE;
    }
    return exitCode(run);
  }

  /** 75 while a report is kept to be tried again; else 69 if one was given up; else 0. */
  static int exitCode(DeliveryRun run) {
    boolean kept = false;
    boolean givenUp = false;
    for (PendingReport r : run.reports()) {
      if (!r.settled()) {
        kept = true;
      }
      if (r.stage() == PendingReport.Stage.ABANDONED
          || r.destinations().stream()
              .anyMatch(d -> d.state() == PendingReport.DestinationState.ABANDONED)) {
        givenUp = true;
      }
    }
    if (kept || !run.claimedElsewhere().isEmpty()) {
      return Mailtls.EX_TEMPFAIL;
    }
    return givenUp ? Mailtls.EX_UNAVAILABLE : Mailtls.EX_OK;
  }

  private static FilePendingReportStore openPending(Path dir) {
    try {
      Files.createDirectories(dir);
      return FilePendingReportStore.open(dir);
    } catch (IOException e) {
      throw new CliException(
          Mailtls.EX_TEMPFAIL,
          "cannot open the pending reports --pending " + dir + ": " + TrustConfig.describe(e),
          e);
    }
  }

  private DkimKey dkimKey(DomainName domain) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(dkimKey);
    } catch (IOException e) {
      throw CliException.usage("--dkim-key " + dkimKey + ": " + TrustConfig.describe(e), e);
    }
    try {
      return DkimKey.fromPkcs8(domain, dkimSelector, bytes);
    } catch (IllegalArgumentException e) {
      throw CliException.usage("--dkim-key " + dkimKey + ": " + e.getMessage(), e);
    }
  }

  private static EmailAddress address(String text) {
    try {
      return EmailAddress.parse(text);
    } catch (IllegalArgumentException e) {
      throw CliException.usage("--from \"" + text + "\": " + e.getMessage(), e);
    }
  }

  private static DomainName domain(String option, String text) {
    try {
      return DomainName.of(text);
    } catch (IllegalArgumentException e) {
      throw CliException.usage(option + " \"" + text + "\": " + e.getMessage(), e);
    }
  }

  private static void printText(PrintWriter out, DeliveryRun run) {
    for (PendingReport r : run.reports()) {
      out.printf(
          Locale.ROOT,
          "%s %s: %s%s%n",
          r.day(),
          r.policyDomain(),
          r.stage().name().toLowerCase(Locale.ROOT).replace('_', '-'),
          r.report().map(t -> " (report-id " + t.reportId() + ")").orElse(""));
      if (!r.detail().isEmpty()) {
        out.println(CheckText.printable("  " + r.detail()));
      }
      r.nextLookup().ifPresent(t -> out.printf(Locale.ROOT, "  lookup again at %s%n", t));
      for (PendingReport.Destination d : r.destinations()) {
        StringBuilder line = new StringBuilder("  ");
        line.append(d.uri())
            .append(' ')
            .append(d.state().name().toLowerCase(Locale.ROOT))
            .append(", ")
            .append(d.attempts())
            .append(d.attempts() == 1 ? " attempt" : " attempts");
        d.lastOutcome().ifPresent(o -> line.append(": ").append(Mailtls.oneLine(o.detail())));
        d.nextAttempt().ifPresent(t -> line.append("; next at ").append(t));
        out.println(CheckText.printable(line.toString()));
      }
    }
    for (LocalDate settled : run.settledDays()) {
      out.printf(
          Locale.ROOT, "%s: every report settled; the day's counts are discarded%n", settled);
    }
  }

  private static ObjectNode json(DeliveryRun run) {
    ObjectNode root = JSON.createObjectNode();
    root.put("at", run.at().toString());
    ArrayNode reports = root.putArray("reports");
    for (PendingReport r : run.reports()) {
      ObjectNode n = reports.addObject();
      n.put("day", r.day().toString());
      n.put("policyDomain", r.policyDomain().toString());
      n.put("stage", r.stage().name().toLowerCase(Locale.ROOT).replace('_', '-'));
      n.put("reportId", r.report().map(t -> t.reportId()).orElse(null));
      n.put("fileName", r.report().map(t -> t.fileName(true)).orElse(null));
      n.put("detail", r.detail());
      n.put("nextLookup", r.nextLookup().map(Object::toString).orElse(null));
      ArrayNode destinations = n.putArray("destinations");
      for (PendingReport.Destination d : r.destinations()) {
        ObjectNode dn = destinations.addObject();
        dn.put("uri", d.uri().toString());
        dn.put("state", d.state().name().toLowerCase(Locale.ROOT));
        dn.put("attempts", d.attempts());
        dn.put("nextAttempt", d.nextAttempt().map(Object::toString).orElse(null));
        if (d.lastOutcome().isPresent()) {
          ReportOutcome o = d.lastOutcome().get();
          ObjectNode on = dn.putObject("lastOutcome");
          on.put("delivered", o instanceof ReportOutcome.Delivered);
          on.put("permanent", o instanceof ReportOutcome.NotDelivered nd && nd.permanent());
          on.put("detail", o.detail());
        } else {
          dn.putNull("lastOutcome");
        }
      }
    }
    ArrayNode claimed = root.putArray("claimedElsewhere");
    run.claimedElsewhere().forEach(claimed::add);
    ArrayNode settled = root.putArray("settledDays");
    run.settledDays().forEach(d -> settled.add(d.toString()));
    return root;
  }
}
