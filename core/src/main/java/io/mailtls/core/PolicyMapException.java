package io.mailtls.core;

import java.io.IOException;

/**
 * A policy-map file that cannot be used: a line that does not parse (its number is {@link
 * #line()}), or a file that cannot be read. Nothing of such a file is used.
 */
public final class PolicyMapException extends IOException {

  private static final long serialVersionUID = 1L;

  private final int line;

  /**
   * @param line the 1-based line at fault, or 0 when the file as a whole is
   * @param message what is wrong, naming the line when there is one
   */
  public PolicyMapException(int line, String message) {
    super(line > 0 ? "line " + line + ": " + message : message);
    this.line = line;
  }

  /** The same failure, caused by {@code cause}. */
  public PolicyMapException(int line, String message, Throwable cause) {
    super(line > 0 ? "line " + line + ": " + message : message, cause);
    this.line = line;
  }

  /** The 1-based line at fault, or 0 when the failure is not about one line. */
  public int line() {
    return line;
  }
}
