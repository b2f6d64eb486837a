package io.mailtls.cli;

import java.io.BufferedReader;
import java.io.IOException;

/**
 * Reads a text file of short lines (domains, addresses) without ever holding a longer line: a line
 * past the bound is a usage error at its first character over, so a file that is not what it should
 * be (a binary, {@code /dev/zero}) costs at most the bound in memory.
 */
final class BoundedLines {

  /** What is done with each line. */
  @FunctionalInterface
  interface Each {
    /** One line, without its line break, and its number from 1. */
    void line(String text, int number);
  }

  private BoundedLines() {}

  /**
   * Calls {@code each} for every line of {@code r} (LF or CRLF ends one; the CR is left for {@code
   * strip()}), the last one too when no line break ends it.
   *
   * @throws CliException a usage error naming {@code where} and the line number when a line has
   *     more than {@code max} characters
   */
  static void read(BufferedReader r, int max, String where, Each each) throws IOException {
    StringBuilder line = new StringBuilder();
    int number = 1;
    for (int c = r.read(); ; c = r.read()) {
      if (c == -1 || c == '\n') {
        each.line(line.toString(), number);
        if (c == -1) {
          return;
        }
        line.setLength(0);
        number++;
      } else if (line.length() == max) {
        // no need to read (or echo) the rest
        throw CliException.usage(
            where + " line " + number + ": longer than " + max + " characters");
      } else {
        line.append((char) c);
      }
    }
  }
}
