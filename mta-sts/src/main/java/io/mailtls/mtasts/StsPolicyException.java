package io.mailtls.mtasts;

/**
 * An MTA-STS policy body that does not follow RFC 8461 §3.2: it reports as {@code
 * sts-policy-invalid} (RFC 8460 §4.3.2.1). Immutable and thread-safe.
 *
 * <p>{@link #line()} is the 1-based line of the offending field, or 0 when the error concerns the
 * policy as a whole (a required field is missing); {@link #reason()} says which rule was broken,
 * quoting the value and citing the RFC section. Package-private, as {@link StsPolicyParser} is: it
 * never leaves this package (a fetch reports it as a {@link FetchResult.Failure}).
 */
final class StsPolicyException extends RuntimeException {

  private final int line;
  private final String reason;

  /**
   * Creates the exception.
   *
   * @param line the 1-based line number, or 0 for the whole policy
   * @param reason which rule was broken
   * @throws IllegalArgumentException if {@code line} is negative
   */
  public StsPolicyException(int line, String reason) {
    super(message(line, reason));
    if (line < 0) {
      throw new IllegalArgumentException("line must be >= 0: " + line);
    }
    this.line = line;
    this.reason = reason;
  }

  private static String message(int line, String reason) {
    return line > 0
        ? "invalid MTA-STS policy, line " + line + ": " + reason
        : "invalid MTA-STS policy: " + reason;
  }

  /** The 1-based line of the offending field, or 0 when the whole policy is at fault. */
  public int line() {
    return line;
  }

  /** Which rule was broken, without the line number. */
  public String reason() {
    return reason;
  }
}
