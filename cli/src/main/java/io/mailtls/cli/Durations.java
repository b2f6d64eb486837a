package io.mailtls.cli;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import picocli.CommandLine;

/**
 * Durations as the command line takes them: a number with a unit ({@code 500ms}, {@code 10s},
 * {@code 2m}, {@code 1h}), an ISO 8601 duration ({@code PT10S}, {@code PT1M30S}), or a plain number
 * of seconds ({@code 30}). {@link #format} writes the shortest exact form in the first syntax,
 * which {@link #parse} reads back to the same duration. Stateless.
 */
final class Durations implements CommandLine.ITypeConverter<Duration> {

  /** What every duration option's help says it accepts. */
  static final String SYNTAX = "10s, 2m, 1h, 500ms, PT10S or seconds";

  /** The longest duration accepted: a day, far above any SMTP or DNS step's sensible bound. */
  static final Duration MAX = Duration.ofDays(1);

  @Override
  public Duration convert(String value) {
    try {
      return parse(value);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.TypeConversionException(e.getMessage());
    }
  }

  /**
   * Parses a duration.
   *
   * @throws IllegalArgumentException naming the value and the accepted syntax, for anything else, a
   *     zero or negative duration, or one longer than {@link #MAX}
   */
  static Duration parse(String value) {
    String text = value.strip();
    Duration d;
    try {
      d = parseUnchecked(text);
    } catch (ArithmeticException | DateTimeParseException | NumberFormatException e) {
      throw invalid(value);
    }
    if (d.toNanosPart() % 1_000_000 != 0) {
      throw new IllegalArgumentException(
          "invalid duration \"" + value + "\": at most millisecond precision");
    }
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(
          "invalid duration \"" + value + "\": must be more than zero");
    }
    if (d.compareTo(MAX) > 0) {
      throw new IllegalArgumentException(
          "invalid duration \"" + value + "\": at most " + format(MAX));
    }
    return d;
  }

  private static Duration parseUnchecked(String text) {
    if (text.isEmpty()) {
      throw new NumberFormatException();
    }
    char first = text.charAt(0);
    if (first == 'P' || first == 'p') {
      return Duration.parse(text.toUpperCase(Locale.ROOT));
    }
    int i = 0;
    while (i < text.length() && text.charAt(i) >= '0' && text.charAt(i) <= '9') {
      i++;
    }
    if (i == 0 || i > 12) {
      throw new NumberFormatException();
    }
    long n = Long.parseLong(text.substring(0, i));
    String unit = text.substring(i).toLowerCase(Locale.ROOT);
    return switch (unit) {
      case "", "s" -> Duration.ofSeconds(n);
      case "ms" -> Duration.ofMillis(n);
      case "m", "min" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      default -> throw new NumberFormatException();
    };
  }

  private static IllegalArgumentException invalid(String value) {
    return new IllegalArgumentException(
        "invalid duration \"" + value + "\": give " + SYNTAX + " (e.g. 30s)");
  }

  /** The shortest exact form of {@code d} that {@link #parse} reads: {@code 2m}, {@code 1500ms}. */
  static String format(Duration d) {
    long ms = d.toMillis();
    if (ms % 1000 != 0) {
      return ms + "ms";
    }
    long s = ms / 1000;
    if (s % 3600 == 0) {
      return s / 3600 + "h";
    }
    if (s % 60 == 0) {
      return s / 60 + "m";
    }
    return s + "s";
  }
}
