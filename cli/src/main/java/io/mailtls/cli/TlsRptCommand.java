package io.mailtls.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code mailtls tlsrpt}: SMTP TLS Reporting (RFC 8460) from a local aggregate store, the directory
 * that {@code send --tlsrpt-store DIR} records into. A parent only: its subcommands do the work.
 */
@Command(
    name = "tlsrpt",
    mixinStandardHelpOptions = true,
    description = {
      "SMTP TLS Reporting (RFC 8460) from a local aggregate store.",
      "%nThe store is the directory that send --tlsrpt-store DIR records into (docs/tls-rpt.md).%n"
    },
    subcommands = {TlsRptShowCommand.class, TlsRptSendCommand.class})
final class TlsRptCommand implements Runnable {

  @Spec CommandSpec spec;

  @Override
  public void run() {
    // Without a subcommand: a usage error naming them.
    throw CliException.usage(
        "tlsrpt: give a subcommand: " + String.join(", ", spec.subcommands().keySet()));
  }
}
