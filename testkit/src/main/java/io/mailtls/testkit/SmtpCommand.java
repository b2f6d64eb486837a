package io.mailtls.testkit;

import java.util.Locale;
import java.util.Objects;

/**
 * One line a client sent to {@link MockSmtpServer} outside message data: a command, or a line of an
 * AUTH exchange (RFC 4954 §4).
 *
 * <p>Immutable and thread-safe.
 *
 * @param line the line without its CRLF
 * @param tls whether TLS was active when the line arrived
 * @param readIndex the 1-based index, within the session, of the {@code read()} call (on the
 *     decrypted stream once TLS is active) that delivered the line's first byte: commands with the
 *     same index arrived in one batch, as RFC 2920 pipelining sends them
 */
public record SmtpCommand(String line, boolean tls, int readIndex) {

  /** Validates the fields. */
  public SmtpCommand {
    Objects.requireNonNull(line, "line");
    if (readIndex < 1) {
      throw new IllegalArgumentException("readIndex must be >= 1: " + readIndex);
    }
  }

  /** The first word, upper-cased with {@link Locale#ROOT} (e.g. {@code "MAIL"}). */
  public String verb() {
    int space = line.indexOf(' ');
    return (space < 0 ? line : line.substring(0, space)).toUpperCase(Locale.ROOT);
  }
}
