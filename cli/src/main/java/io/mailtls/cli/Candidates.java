package io.mailtls.cli;

import io.mailtls.core.TlsLevel;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * The values of enumerated options, for picocli's {@code ${COMPLETION-CANDIDATES}} in {@code
 * --help} and for shell completion: taken from the enumerations themselves, so that help never
 * lists a value the command refuses, nor misses one it takes.
 */
final class Candidates {

  private Candidates() {}

  /** The sender TLS levels, as {@link TlsLevel#parse} takes them. */
  static final class Levels implements Iterable<String> {
    @Override
    public Iterator<String> iterator() {
      List<String> out = new ArrayList<>();
      for (TlsLevel l : TlsLevel.values()) {
        out.add(l.toString());
      }
      return out.iterator();
    }
  }

  /** The DNSSEC modes {@code --dnssec} takes. */
  static final class DnssecModes implements Iterable<String> {
    @Override
    public Iterator<String> iterator() {
      return List.of("validate", "trust-ad").iterator();
    }
  }
}
