package io.mailtls.core.internal.transport;

import io.mailtls.core.SmtpReply;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The name a server announces for itself: the first word of its 220 greeting or of its EHLO or HELO
 * reply, which RFC 5321 makes a {@code Domain} or an {@code address-literal} (§4.2, §4.1.1.1). Peer
 * input: kept only when it is one (letters, digits, hyphens and dots, or {@code [...]} of hex
 * digits, dots, colons and the {@code IPv6:} tag), at most 255 characters, in lower case.
 * Stateless.
 */
final class AnnouncedName {

  private static final int MAX = 255;

  private AnnouncedName() {}

  /** The name {@code reply} announces, if it announces one that is well-formed. */
  static Optional<String> of(SmtpReply reply) {
    List<String> lines = reply.lines();
    if (lines.isEmpty()) {
      return Optional.empty();
    }
    String first = lines.get(0).strip();
    int space = first.indexOf(' ');
    String word = space < 0 ? first : first.substring(0, space);
    if (word.isEmpty() || word.length() > MAX) {
      return Optional.empty();
    }
    return wellFormed(word) ? Optional.of(word.toLowerCase(Locale.ROOT)) : Optional.empty();
  }

  private static boolean wellFormed(String w) {
    if (w.startsWith("[")) {
      if (!w.endsWith("]") || w.length() < 3) {
        return false;
      }
      String inner = w.substring(1, w.length() - 1);
      if (inner.regionMatches(true, 0, "IPv6:", 0, 5)) {
        inner = inner.substring(5);
      }
      return !inner.isEmpty() && inner.chars().allMatch(c -> hex(c) || c == '.' || c == ':');
    }
    if (w.startsWith(".") || w.startsWith("-")) {
      return false;
    }
    // A domain's last label has a letter (no bare address, no "2.0.0").
    String last = w.endsWith(".") ? w.substring(0, w.length() - 1) : w;
    last = last.substring(last.lastIndexOf('.') + 1);
    return w.chars().allMatch(c -> letterOrDigit(c) || c == '-' || c == '.')
        && last.chars().anyMatch(c -> letterOrDigit(c) && !(c >= '0' && c <= '9'));
  }

  private static boolean letterOrDigit(int c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  }

  private static boolean hex(int c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }
}
