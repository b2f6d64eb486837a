package io.mailtls.cli;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;

/**
 * One in-process run of the command line with captured output: what a test asserts on.
 *
 * @param exit the exit code
 * @param out what went to standard output
 * @param err what went to standard error
 */
record CliRun(int exit, String out, String err) {

  /** Runs {@code args} with an empty standard input. */
  static CliRun run(List<String> args) {
    return run(new ByteArrayInputStream(new byte[0]), args);
  }

  /** Runs {@code command}, then {@code options}, with an empty standard input. */
  static CliRun run(List<String> command, List<String> options) {
    List<String> all = new ArrayList<>(command);
    all.addAll(options);
    return run(all);
  }

  /** Runs {@code args} reading standard input from {@code stdin}. */
  static CliRun run(InputStream stdin, List<String> args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = Mailtls.commandLine(stdin);
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    int exit = cl.execute(args.toArray(String[]::new));
    return new CliRun(exit, out.toString(), err.toString());
  }
}
