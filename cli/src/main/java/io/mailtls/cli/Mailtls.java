package io.mailtls.cli;

import java.io.InputStream;
import java.io.PrintWriter;
import java.util.Objects;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;

/**
 * The {@code mailtls} command line: check a recipient domain's transport security, send a message,
 * resolve MX hosts, and the embedded demo.
 *
 * <p>Exit codes follow sysexits(3): {@value #EX_OK} done (every recipient delivered, or the check
 * completed), {@value #EX_USAGE} usage errors, {@value #EX_UNAVAILABLE} something permanently
 * impossible (a bounced recipient), {@value #EX_SOFTWARE} an internal error, {@value #EX_TEMPFAIL}
 * a temporary failure (a deferred recipient, an unreachable resolver). docs/cli-json.md documents
 * them with the JSON output.
 */
@Command(
    name = "mailtls",
    mixinStandardHelpOptions = true,
    versionProvider = Mailtls.Version.class,
    description = "SMTP transport security: DNSSEC-aware MX resolution, MTA-STS and DANE.",
    subcommands = {
      CheckCommand.class,
      SendCommand.class,
      MxCommand.class,
      InspectCommand.class,
      TlsRptCommand.class,
      DemoCommand.class,
      CompletionCommand.class
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      Mailtls.EXIT_0,
      Mailtls.EXIT_64,
      Mailtls.EXIT_69,
      Mailtls.EXIT_70,
      Mailtls.EXIT_75
    })
public final class Mailtls implements Runnable {

  /** Exit code when everything asked for was done. */
  static final int EX_OK = 0;

  /** Exit code of {@code check} when a {@code --fail-on} condition held (for monitoring). */
  static final int EX_FAILED_ON = 1;

  /** Exit code for usage errors (sysexits EX_USAGE). */
  static final int EX_USAGE = 64;

  /** Exit code when something is permanently impossible (sysexits EX_UNAVAILABLE). */
  static final int EX_UNAVAILABLE = 69;

  /** Exit code for an internal error, a bug (sysexits EX_SOFTWARE). */
  static final int EX_SOFTWARE = 70;

  /** Exit code when something failed temporarily (sysexits EX_TEMPFAIL). */
  static final int EX_TEMPFAIL = 75;

  /** Help text for exit code 0 (shared by the subcommands' help). */
  static final String EXIT_0 = " 0:every recipient delivered (send); the check completed (check)";

  /** Help text for exit code 64. */
  static final String EXIT_64 =
      "64:usage error: unknown option, malformed address or domain," + " unreadable file";

  /** Help text for exit code 69. */
  static final String EXIT_69 =
      "69:a recipient bounced, or the --dnssec trust-ad resolver failed its self-check";

  /** Help text for exit code 70. */
  static final String EXIT_70 = "70:internal error (run with -v for the stack trace)";

  /** Help text for exit code 75. */
  static final String EXIT_75 =
      "75:a recipient was deferred, or the DNS resolver is unreachable: a retry may help (wins"
          + " over 69 when both apply)";

  private final InputStream stdin;
  private final Function<String, @Nullable String> env;

  /** Prints the version the build wrote into {@code version.properties}, never a literal. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() throws java.io.IOException {
      java.util.Properties props = new java.util.Properties();
      try (InputStream in = Mailtls.class.getResourceAsStream("version.properties")) {
        if (in == null) {
          throw new java.io.IOException("version.properties is missing from the build");
        }
        props.load(in);
      }
      return new String[] {"mailtls " + props.getProperty("version")};
    }
  }

  /** The top command reading standard input from {@link System#in}. */
  public Mailtls() {
    this(System.in);
  }

  /** The top command reading standard input (for {@code send}) from {@code stdin}. */
  public Mailtls(InputStream stdin) {
    this(stdin, System::getenv);
  }

  /** The top command reading standard input from {@code stdin} and variables from {@code env}. */
  Mailtls(InputStream stdin, Function<String, @Nullable String> env) {
    this.stdin = Objects.requireNonNull(stdin, "stdin");
    this.env = Objects.requireNonNull(env, "env");
  }

  /** Where the {@code --*-env} options read the environment (tests give their own). */
  Function<String, @Nullable String> env() {
    return env;
  }

  /** {@link #env()} of the top command of {@code spec}'s command line. */
  static Function<String, @Nullable String> env(CommandSpec spec) {
    return ((Mailtls) spec.root().userObject()).env();
  }

  /** Where {@code send} reads a message given on standard input. */
  InputStream stdin() {
    return stdin;
  }

  @Override
  public void run() {
    CommandLine.usage(this, System.out);
  }

  /** Builds the command line with mailtls's error handling (one-line errors, sysexits codes). */
  public static CommandLine commandLine() {
    return commandLine(System.in);
  }

  /**
   * Builds the command line reading standard input from {@code stdin}: tests run {@code send}
   * in-process with a message on a stream of their own.
   */
  public static CommandLine commandLine(InputStream stdin) {
    return commandLine(new Mailtls(stdin));
  }

  /** Builds the command line around {@code top} (tests give their own environment). */
  static CommandLine commandLine(Mailtls top) {
    CommandLine cl = new CommandLine(top);
    cl.setParameterExceptionHandler(
        (ex, args) -> {
          PrintWriter err = ex.getCommandLine().getErr();
          err.println("mailtls: " + ex.getMessage());
          err.flush();
          return EX_USAGE;
        });
    cl.setExecutionExceptionHandler(
        (ex, commandLine, parseResult) -> {
          PrintWriter err = commandLine.getErr();
          int code;
          String message;
          if (ex instanceof CliException c) {
            code = c.exitCode();
            message = c.getMessage();
          } else if (ex instanceof IllegalArgumentException) {
            code = EX_USAGE;
            message = ex.getMessage();
          } else {
            code = EX_SOFTWARE;
            message = "internal error: " + ex;
          }
          err.println("mailtls: " + oneLine(message));
          if (commandLine.getCommand() instanceof Verbosity v && v.verbose()) {
            ex.printStackTrace(err);
          }
          err.flush();
          return code;
        });
    return cl;
  }

  /** A message on one line: errors are one line, whatever their cause put in them. */
  static String oneLine(@Nullable String message) {
    return message == null ? "(no message)" : message.replace("\r", "").replace('\n', ' ');
  }

  /** Implemented by commands that take {@code -v}: then errors carry their stack trace. */
  interface Verbosity {
    /** Whether {@code -v} was given. */
    boolean verbose();
  }

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }
}
