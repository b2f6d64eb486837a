package io.mailtls.benchmarks;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@code --name value} options; every option must be read, so that a misspelt one fails. */
public final class Args {

  private final Map<String, String> values = new LinkedHashMap<>();
  private final Set<String> read = new HashSet<>();

  /**
   * Parses {@code --name value} pairs.
   *
   * @throws IllegalArgumentException for anything else
   */
  public Args(String[] argv) {
    for (int i = 0; i < argv.length; i++) {
      String a = argv[i];
      if (!a.startsWith("--") || i + 1 >= argv.length) {
        throw new IllegalArgumentException("expected --name value, got: " + a);
      }
      values.put(a.substring(2), argv[++i]);
    }
  }

  /** A string option, or {@code fallback} (null: required). */
  public String string(String name, String fallback) {
    read.add(name);
    String v = values.get(name);
    if (v == null && fallback == null) {
      throw new IllegalArgumentException("--" + name + " is required");
    }
    return v != null ? v : fallback;
  }

  public int integer(String name, int fallback) {
    return Integer.parseInt(string(name, Integer.toString(fallback)));
  }

  public double decimal(String name, double fallback) {
    return Double.parseDouble(string(name, Double.toString(fallback)));
  }

  /** A comma-separated list of integers. */
  public List<Integer> integers(String name, String fallback) {
    List<Integer> out = new ArrayList<>();
    for (String s : string(name, fallback).split(",", -1)) {
      out.add(Integer.parseInt(s.trim()));
    }
    return out;
  }

  /**
   * Fails for options given but never read.
   *
   * @throws IllegalArgumentException naming them
   */
  public void done() {
    Set<String> unknown = new HashSet<>(values.keySet());
    unknown.removeAll(read);
    if (!unknown.isEmpty()) {
      throw new IllegalArgumentException("unknown options: " + unknown);
    }
  }
}
