package io.mailtls.examples.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code mailtls} command line: diagnostics and the embedded demo. */
@Command(
    name = "mailtls",
    mixinStandardHelpOptions = true,
    version = "mailtls 0.1.0-SNAPSHOT",
    description = "SMTP transport security: DNSSEC-aware MX resolution, MTA-STS and DANE.",
    subcommands = {DemoCommand.class, MxCommand.class})
public final class Mailtls implements Runnable {

  /** Exit code for usage errors (sysexits EX_USAGE). */
  static final int EX_USAGE = 64;
  /** Exit code when a resolution failed temporarily (sysexits EX_TEMPFAIL). */
  static final int EX_TEMPFAIL = 75;
  /** Exit code when something is permanently impossible (sysexits EX_UNAVAILABLE). */
  static final int EX_UNAVAILABLE = 69;

  @Override
  public void run() {
    CommandLine.usage(this, System.out);
  }

  /** Builds the command line with mailtls's error handling (one-line errors, exit 64). */
  public static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new Mailtls());
    cl.setParameterExceptionHandler((ex, args) -> {
      ex.getCommandLine().getErr().println("mailtls: " + ex.getMessage());
      return EX_USAGE;
    });
    cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
      if (ex instanceof IllegalArgumentException) {
        commandLine.getErr().println("mailtls: " + ex.getMessage());
        return EX_USAGE;
      }
      throw ex;
    });
    return cl;
  }

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }
}
