package io.mailtls.cli;

import io.mailtls.core.EmailAddress;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@code --to-file}: one recipient address a line, UTF-8 (RFC 6531 addresses), blank lines and
 * lines starting with {@code #} skipped, surrounding white space ignored. Bounded: at most {@link
 * #MAX_RECIPIENTS} addresses, as one SMTP transaction should carry (RFC 5321 §4.5.3.1.8 asks
 * servers for at least 100; mailtls splits none), and no line longer than {@link #MAX_LINE}
 * characters.
 */
final class RecipientFile {

  /** The most recipients one file may hold. */
  static final int MAX_RECIPIENTS = 10_000;

  /**
   * The longest line read: an address has at most 64 + 1 + 255 octets (RFC 5321 §4.5.3.1.1–2), and
   * a comment needs no more.
   */
  static final int MAX_LINE = 1024;

  private RecipientFile() {}

  /**
   * The addresses in {@code file}, in order.
   *
   * @throws CliException a usage error naming the file and line of a malformed address, or an
   *     unreadable or oversized file
   */
  static List<EmailAddress> read(Path file) {
    List<EmailAddress> out = new ArrayList<>();
    try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      String where = "--to-file " + file;
      BoundedLines.read(
          r,
          MAX_LINE,
          where,
          (raw, n) -> {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#")) {
              return;
            }
            if (out.size() == MAX_RECIPIENTS) {
              throw CliException.usage(where + ": more than " + MAX_RECIPIENTS + " recipients");
            }
            try {
              out.add(EmailAddress.parse(line));
            } catch (IllegalArgumentException e) {
              throw CliException.usage(where + " line " + n + ": " + e.getMessage(), e);
            }
          });
    } catch (IOException e) {
      throw CliException.usage("cannot read --to-file " + file + ": " + TrustConfig.describe(e), e);
    }
    return out;
  }
}
