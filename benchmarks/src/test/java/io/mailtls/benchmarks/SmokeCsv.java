package io.mailtls.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A CSV written by a driver, read back: header and rows checked for shape. */
final class SmokeCsv {

  final List<Map<String, String>> rows = new ArrayList<>();

  /** Reads {@code file}, requiring exactly {@code columns} and a value in each of them. */
  SmokeCsv(Path file, List<String> columns, List<String> mayBeEmpty) throws IOException {
    List<String> lines = Files.readAllLines(file);
    assertThat(lines).as("%s", file).isNotEmpty();
    assertThat(List.of(lines.get(0).split(",", -1)))
        .as("header of %s", file)
        .containsExactlyElementsOf(columns);
    for (String line : lines.subList(1, lines.size())) {
      String[] values = line.split(",", -1);
      assertThat(values).as("row of %s: %s", file, line).hasSize(columns.size());
      Map<String, String> row = new LinkedHashMap<>();
      for (int i = 0; i < values.length; i++) {
        if (!mayBeEmpty.contains(columns.get(i))) {
          assertThat(values[i]).as("%s in %s", columns.get(i), line).isNotEmpty();
        }
        row.put(columns.get(i), values[i]);
      }
      rows.add(row);
    }
  }

  /** The rows whose {@code column} is {@code value}. */
  List<Map<String, String>> where(String column, String value) {
    return rows.stream().filter(r -> value.equals(r.get(column))).toList();
  }

  static double number(Map<String, String> row, String column) {
    return Double.parseDouble(row.get(column));
  }
}
