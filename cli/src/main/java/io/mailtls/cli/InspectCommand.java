package io.mailtls.cli;

import io.mailtls.core.ReceivedChain;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code mailtls inspect FILE}: the {@code Received:} path of a delivered message, each hop with
 * its protocol and, where the receiving MTA wrote them, TLS version and cipher, and whether every
 * hop after submission was encrypted ({@link ReceivedChain}, which defines the terms).
 */
@Command(
    name = "inspect",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Show how a received message travelled: each Received: hop's protocol and TLS.",
      "%nReads the message's header (FILE, or standard input for -), lists every hop oldest"
          + " first with its protocol (ESMTP, ESMTPS, ESMTPSA... RFC 3848) and, where the"
          + " receiving MTA wrote them (Postfix, Exim, Microsoft 365, Gmail), the TLS version"
          + " and cipher, and says whether every hop after submission was encrypted. Submission"
          + " is the first hop where the client authenticated (ESMTPA, ESMTPSA...); without one"
          + " every hop counts. Hops within one host (no from clause, loopback, local"
          + " protocols) are shown but do not count. JSON schema: docs/cli-json.md.%n"
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      " 0:the message was read (whatever the verdict), unless --require-encrypted",
      " 1:with --require-encrypted: a hop after submission was not encrypted, or does not say",
      Mailtls.EXIT_64,
      Mailtls.EXIT_70
    })
final class InspectCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @ParentCommand Mailtls parent;

  @Parameters(
      paramLabel = "FILE",
      description = "the message (RFC 5322, .eml or mbox), - for stdin")
  String file;

  @Option(names = "--json", description = "print one JSON document")
  boolean json;

  @Option(
      names = "--require-encrypted",
      description = "exit 1 unless every hop after submission says it was encrypted (for scripts)")
  boolean requireEncrypted;

  @Override
  public Integer call() {
    ReceivedChain chain;
    if (file.equals("-")) {
      chain = ReceivedChain.parse(parent.stdin());
    } else {
      Path path = Path.of(file);
      if (!Files.isRegularFile(path)) {
        throw CliException.usage(
            "cannot read "
                + file
                + ": "
                + (Files.exists(path) ? "not a regular file" : "no such file"));
      }
      try (InputStream in = Files.newInputStream(path)) {
        chain = ReceivedChain.parse(in);
      } catch (IOException e) {
        throw CliException.usage("cannot read " + file + ": " + TrustConfig.describe(e), e);
      }
    }
    InspectReport report = InspectReport.of(file, chain);
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      out.println(Json.pretty(report));
    } else {
      print(out, report);
    }
    out.flush();
    boolean ok = chain.verdict() == ReceivedChain.Verdict.ALL_ENCRYPTED;
    return requireEncrypted && !ok ? Mailtls.EX_FAILED_ON : Mailtls.EX_OK;
  }

  private static void print(PrintWriter out, InspectReport r) {
    out.printf(Locale.ROOT, "mailtls inspect %s%n", r.file());
    if (r.problem() != null) {
      out.printf(Locale.ROOT, "  problem: %s%n", r.problem());
    }
    if (r.truncated()) {
      out.printf(
          Locale.ROOT, "  note: the header was longer than mailtls reads; the rest is not shown%n");
    }
    out.printf(
        Locale.ROOT,
        "  %-3s %-10s %-9s %-12s %-8s %-40s %s%n",
        "hop",
        "role",
        "encrypted",
        "protocol",
        "TLS",
        "cipher",
        "from -> by");
    for (InspectReport.Hop h : r.hops()) {
      out.printf(
          Locale.ROOT,
          "  %-3d %-10s %-9s %-12s %-8s %-40s %s -> %s%n",
          h.index(),
          h.role(),
          h.encryption().toLowerCase(Locale.ROOT),
          dash(h.protocol()),
          dash(h.tlsVersion()),
          dash(h.cipher()),
          dash(h.from()),
          dash(h.by()));
    }
    out.printf(Locale.ROOT, "verdict: %s: %s%n", r.verdict(), r.summary());
  }

  private static String dash(@Nullable String s) {
    return s == null ? "-" : s;
  }
}
