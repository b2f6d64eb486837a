package io.mailtls.testkit.internal.smtp;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * Finds a header field in a message's header section (RFC 5322 §2.2), for {@code
 * SmtpMessage#header}.
 *
 * <p>Thread-safe: stateless.
 */
final class HeaderScan {

  private HeaderScan() {}

  /** The first field named {@code name}, unfolded (RFC 5322 §2.2.3) and trimmed. */
  static Optional<String> first(byte[] message, String name) {
    Objects.requireNonNull(name, "name");
    String wanted = name.toLowerCase(Locale.ROOT);
    String text = new String(message, StandardCharsets.UTF_8);
    String[] lines = text.split("\r?\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i];
      if (line.isEmpty()) {
        return Optional.empty(); // the end of the header section
      }
      int colon = line.indexOf(':');
      if (colon <= 0 || !line.substring(0, colon).trim().toLowerCase(Locale.ROOT).equals(wanted)) {
        continue;
      }
      StringBuilder value = new StringBuilder(line.substring(colon + 1));
      while (i + 1 < lines.length
          && !lines[i + 1].isEmpty()
          && (lines[i + 1].charAt(0) == ' ' || lines[i + 1].charAt(0) == '\t')) {
        value.append(lines[++i]);
      }
      return Optional.of(value.toString().trim());
    }
    return Optional.empty();
  }
}
