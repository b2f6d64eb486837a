package io.mailtls.benchmarks;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A CSV file with a fixed header (RFC 4180, no field needs quoting here), written row by row as
 * results come in, and echoed to standard output.
 */
public final class Csv {

  private final Path file;
  private final List<String> columns;
  private final List<List<String>> rows = new ArrayList<>();

  public Csv(Path file, List<String> columns) {
    this.file = file;
    this.columns = List.copyOf(columns);
    write();
  }

  /** The columns, in order. */
  public List<String> columns() {
    return columns;
  }

  /**
   * Appends a row, one value per column; numbers are written with {@link Locale#ROOT}.
   *
   * @throws IllegalArgumentException if the count does not match the header
   */
  public synchronized void row(Object... values) {
    if (values.length != columns.size()) {
      throw new IllegalArgumentException(
          "expected " + columns.size() + " values for " + columns + ", got " + values.length);
    }
    List<String> r = new ArrayList<>();
    for (Object v : values) {
      String s = format(v);
      if (s.contains(",") || s.contains("\n") || s.contains("\"")) {
        throw new IllegalArgumentException("value needs quoting: " + s);
      }
      r.add(s);
    }
    rows.add(r);
    System.out.println(String.join(",", r));
    write();
  }

  static String format(Object v) {
    if (v instanceof Double d) {
      if (d.isNaN() || d.isInfinite()) {
        return "";
      }
      return String.format(Locale.ROOT, "%.3f", d);
    }
    return String.valueOf(v);
  }

  private void write() {
    StringBuilder sb = new StringBuilder(String.join(",", columns)).append('\n');
    for (List<String> r : rows) {
      sb.append(String.join(",", r)).append('\n');
    }
    try {
      if (file.getParent() != null) {
        Files.createDirectories(file.getParent());
      }
      Files.writeString(file, sb, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }
}
