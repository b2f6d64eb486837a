package io.mailtls.cli;

import io.mailtls.core.NextHop;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code mailtls check DOMAIN} and {@code mailtls check --input FILE}: the transport-security
 * posture of recipient domains (see {@link DomainChecker}), as tables, one JSON document, or JSON
 * lines; many domains are checked concurrently with bounded parallelism.
 */
@Command(
    name = "check",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Check the transport security of recipient domains.",
      "%nMX hosts with DNSSEC states, the MTA-STS record and policy, TLSA records per MX, the"
          + " requirement per MX under each sender level, and with --probe a live STARTTLS"
          + " probe of every MX address. JSON schema: docs/cli-json.md.%n"
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      " 0:the check completed (whatever the posture; no --fail-on condition held)",
      " 1:a --fail-on condition held (each listed on stderr: \"mailtls: fail-on COND: ...\")",
      Mailtls.EXIT_64,
      "69:the --dnssec trust-ad resolver failed its self-check",
      "70:internal error (run with -v for the stack trace); with --input, after every other"
          + " domain is reported, when the check of one failed that way",
      "75:the DNS resolver is unreachable (a temporary failure)"
    })
final class CheckCommand implements Callable<Integer>, Mailtls.Verbosity {

  /** The most domains checked at once. */
  static final int MAX_PARALLEL = 64;

  /**
   * The most probe connections of one run open at once: the recipients' DNS decides how many
   * addresses an MX host has (thousands fit in one answer), so one thread and connection per
   * address would let a checked domain decide how many threads and sockets the run takes.
   */
  static final int MAX_PROBES = 32;

  /** The longest {@code --input} line read: a domain name has at most 253 characters. */
  static final int MAX_INPUT_LINE = 1024;

  /** How one domain is checked: {@link DomainChecker#check}, unless a test replaces it. */
  @FunctionalInterface
  interface Check {
    /** The report on {@code hop}; throws only on a bug. */
    CheckReport run(DomainChecker checker, NextHop hop);
  }

  /**
   * The check of one domain. A seam for tests only: no input is known to make a check throw, so a
   * test puts a throwing check here to show what a bug in one domain's check does to the others and
   * to the exit code.
   */
  Check check = DomainChecker::check;

  @Spec CommandSpec spec;

  @ParentCommand Mailtls parent;

  @Parameters(
      arity = "0..1",
      paramLabel = "DOMAIN",
      description = "the recipient domain (or an address literal such as [192.0.2.1])")
  @Nullable String domain;

  @Option(
      names = "--input",
      paramLabel = "FILE",
      description =
          "check every domain in FILE, or on standard input for -, one a line (blank lines and"
              + " # comments skipped)")
  @Nullable Path input;

  @Option(names = "--json", description = "print one JSON document (with --input: an array)")
  boolean json;

  @Option(names = "--json-lines", description = "print one JSON document per line and domain")
  boolean jsonLines;

  @Option(
      names = "--probe",
      description =
          "connect to every MX address: STARTTLS, protocol, cipher, certificate chain"
              + " and verdict")
  boolean probe;

  @Option(
      names = "--parallel",
      paramLabel = "N",
      defaultValue = "8",
      description = "domains checked at once with --input (default ${DEFAULT-VALUE})")
  int parallel;

  @Option(
      names = "--fail-on",
      paramLabel = "COND",
      split = ",",
      completionCandidates = FailOn.Tokens.class,
      description = {
        "exit 1 when a condition holds for any domain (repeatable or comma-separated):"
            + " ${COMPLETION-CANDIDATES}.",
        "sts-broken: MTA-STS TXT record invalid, or its lookup or the policy fetch failed;"
            + " tlsa-unusable: secure TLSA records of which none is usable, or a failed TLSA"
            + " lookup; dnssec-bogus: an MX, address or MTA-STS answer failed validation; no-mx:"
            + " no usable MX host (null MX, NXDOMAIN, DNS failure); and, connecting to every MX"
            + " address (they turn --probe on): dane-mismatch: no TLSA record matched;"
            + " no-starttls: STARTTLS not offered or refused; pkix-invalid: the certificate"
            + " fails PKIX (chain or name); unreachable: no usable session"
      })
  List<String> failOn = new ArrayList<>();

  @Mixin CommonOptions common;

  @Override
  public boolean verbose() {
    return common != null && common.verbose;
  }

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if ((domain == null) == (input == null)) {
      throw CliException.usage(
          domain == null
              ? "give a DOMAIN or --input FILE"
              : "give a DOMAIN or --input FILE, not both");
    }
    if (json && jsonLines) {
      throw CliException.usage("--json and --json-lines exclude each other");
    }
    if (parallel < 1 || parallel > MAX_PARALLEL) {
      throw CliException.usage("--parallel must be 1.." + MAX_PARALLEL + ", not " + parallel);
    }
    Set<FailOn> conditions = EnumSet.noneOf(FailOn.class);
    for (String f : failOn) {
      conditions.add(FailOn.parse(f));
    }
    boolean probing = probe || conditions.stream().anyMatch(FailOn::needsProbe);
    List<NextHop> hops =
        input == null
            ? List.of(
                parseDomain(Objects.requireNonNull(domain), "DOMAIN")) // one of the two, above
            : readInput();
    ExecutorService probes = Executors.newFixedThreadPool(MAX_PROBES, daemon("mailtls-probe"));
    try (CliContext ctx = CliContext.open(common, parent.env(), err)) {
      ctx.preflight();
      try (DomainChecker checker = new DomainChecker(ctx, probing, probes)) {
        List<CheckReport> reports;
        if (input == null) {
          CheckReport one = check.run(checker, hops.get(0));
          print(out, one);
          reports = List.of(one);
        } else {
          reports = bulk(out, err, checker, hops);
        }
        int held = 0;
        for (CheckReport r : reports) {
          List<String> found = new ArrayList<>();
          FailOn.evaluate(r, conditions, (c, why) -> found.add(c.token() + ": " + why));
          for (String f : found) {
            err.println("mailtls: fail-on " + CheckText.printable(Mailtls.oneLine(f)));
          }
          held += found.size();
        }
        long crashed = reports.stream().filter(r -> r.error() != null).count();
        if (crashed > 0) {
          err.println(
              "mailtls: internal error: the check of "
                  + crashed
                  + (crashed == 1 ? " domain" : " domains")
                  + " failed (its report's error says how; run with -v for the stack trace)");
        }
        err.flush();
        out.flush();
        if (crashed > 0) {
          return Mailtls.EX_SOFTWARE; // a bug outranks any --fail-on condition
        }
        return held > 0 ? Mailtls.EX_FAILED_ON : Mailtls.EX_OK;
      }
    } finally {
      probes.shutdownNow();
    }
  }

  private void print(PrintWriter out, CheckReport report) {
    if (json) {
      out.println(Json.pretty(report));
    } else if (jsonLines) {
      out.println(Json.line(report));
    } else {
      CheckText.print(out, report);
    }
    out.flush();
  }

  /**
   * Checks every domain on a pool of {@code --parallel} threads and prints the results in input
   * order as they become available; a domain whose check fails unexpectedly gets a report with its
   * {@code error} set, and the others go on.
   */
  private List<CheckReport> bulk(
      PrintWriter out, PrintWriter err, DomainChecker checker, List<NextHop> hops) {
    Optional<ProgressBar> bar =
        ProgressBar.interactive()
            ? Optional.of(new ProgressBar(err, hops.size()))
            : Optional.empty();
    ExecutorService pool =
        Executors.newFixedThreadPool(Math.min(parallel, hops.size()), daemon("mailtls-check"));
    try {
      List<CompletableFuture<CheckReport>> futures = new ArrayList<>();
      for (NextHop hop : hops) {
        futures.add(
            CompletableFuture.supplyAsync(() -> safeCheck(checker, hop), pool)
                .whenComplete((r, e) -> bar.ifPresent(b -> b.advance(hop.toString()))));
      }
      List<CheckReport> all = new ArrayList<>();
      for (CompletableFuture<CheckReport> f : futures) {
        CheckReport report = f.join();
        all.add(report);
        if (json) {
          // printed together below
        } else if (bar.isPresent()) {
          bar.get().above(() -> print(out, report));
        } else {
          print(out, report);
        }
      }
      bar.ifPresent(ProgressBar::finish);
      if (json) {
        out.println(Json.pretty(all));
      }
      return all;
    } finally {
      pool.shutdownNow();
    }
  }

  private CheckReport safeCheck(DomainChecker checker, NextHop hop) {
    try {
      return check.run(checker, hop);
    } catch (RuntimeException e) {
      if (common.verbose) {
        e.printStackTrace(spec.commandLine().getErr());
      }
      return CheckReport.failed(hop.toString(), "check failed: " + Mailtls.oneLine(e.toString()));
    }
  }

  private List<NextHop> readInput() {
    List<NextHop> hops = new ArrayList<>();
    // UTF-8 strictly (newDecoder() reports malformed input): binary data is a usage error, not
    // text with replacement characters
    try (BufferedReader r =
        String.valueOf(input).equals("-")
            ? new BufferedReader(
                new InputStreamReader(parent.stdin(), StandardCharsets.UTF_8.newDecoder()))
            : Files.newBufferedReader(Objects.requireNonNull(input), StandardCharsets.UTF_8)) {
      String where = "--input " + input;
      BoundedLines.read(
          r,
          MAX_INPUT_LINE,
          where,
          (line, number) -> {
            String text = line.strip();
            if (!text.isEmpty() && !text.startsWith("#")) {
              hops.add(parseDomain(text, where + " line " + number));
            }
          });
    } catch (IOException e) {
      throw CliException.usage("cannot read --input " + input + ": " + TrustConfig.describe(e), e);
    }
    if (hops.isEmpty()) {
      throw CliException.usage("--input " + input + ": no domain in it");
    }
    return hops;
  }

  /** Parses a recipient domain or address literal; a usage error naming {@code where}. */
  static NextHop parseDomain(String text, String where) {
    try {
      NextHop hop = NextHop.parse(text);
      if (hop instanceof NextHop.Domain d && (d.name().isRoot() || !d.name().isHostName())) {
        throw new IllegalArgumentException("not a mail domain");
      }
      return hop;
    } catch (IllegalArgumentException e) {
      throw CliException.usage(
          CheckText.printable(
              where + ": invalid domain \"" + text + "\": " + Mailtls.oneLine(e.getMessage())),
          e);
    }
  }

  private static ThreadFactory daemon(String name) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, name + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}
