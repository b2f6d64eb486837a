package io.mailtls.cli;

/**
 * A failure the command line reports as one line with its own exit code: a usage error (64), an
 * unreachable resolver (75). Immutable.
 */
final class CliException extends RuntimeException {

  private final int exitCode;

  /** A failure with a message naming the problem, and the exit code to return. */
  CliException(int exitCode, String message) {
    super(message);
    this.exitCode = exitCode;
  }

  /** A failure caused by {@code cause}, kept for {@code -v}. */
  CliException(int exitCode, String message, Throwable cause) {
    super(message, cause);
    this.exitCode = exitCode;
  }

  /** A usage error (exit 64). */
  static CliException usage(String message) {
    return new CliException(Mailtls.EX_USAGE, message);
  }

  /** A usage error (exit 64) caused by {@code cause}. */
  static CliException usage(String message, Throwable cause) {
    return new CliException(Mailtls.EX_USAGE, message, cause);
  }

  /** The exit code to return. */
  int exitCode() {
    return exitCode;
  }
}
