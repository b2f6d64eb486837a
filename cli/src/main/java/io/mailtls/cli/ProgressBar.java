package io.mailtls.cli;

import java.io.Console;
import java.io.PrintWriter;
import java.util.Locale;

/**
 * A one-line progress bar on stderr for bulk checks, redrawn in place with a carriage return; shown
 * only when stderr is a terminal ({@link #interactive()}), so that logs and pipes never get control
 * characters. Thread-safe: workers advance it while the main thread prints results above it.
 */
final class ProgressBar {

  private static final int BAR_WIDTH = 30;
  private static final int LABEL_WIDTH = 40;

  private final PrintWriter err;
  private final int total;
  private int done;
  private String label = "";
  private int drawnWidth;

  /** A bar for {@code total} items on {@code err}. */
  ProgressBar(PrintWriter err, int total) {
    this.err = err;
    this.total = total;
  }

  /** Whether a bar should be shown: the process has a console (a terminal on both ends). */
  @SuppressWarnings("SystemConsoleNull") // null before JDK 22; isTerminal() covers later ones
  static boolean interactive() {
    Console console = System.console();
    if (console == null) {
      return false;
    }
    // From JDK 22 on, System.console() may be a console also when not on a terminal; it then
    // says so with isTerminal(), which the Java 17 API lacks: asked for by name.
    try {
      return (Boolean) Console.class.getMethod("isTerminal").invoke(console);
    } catch (NoSuchMethodException e) {
      return true; // before JDK 22: a console is a terminal
    } catch (ReflectiveOperationException e) {
      return false;
    }
  }

  /** Counts one more item done ({@code label}, e.g. its domain) and redraws. */
  synchronized void advance(String label) {
    done = Math.min(total, done + 1);
    this.label = label;
    draw();
  }

  /** Clears the bar, runs {@code print} (which writes a result elsewhere), and redraws it. */
  synchronized void above(Runnable print) {
    clear();
    print.run();
    draw();
  }

  /** Removes the bar for good. */
  synchronized void finish() {
    clear();
  }

  /** The bar's text, e.g. {@code [#########.....] 3/10 example.org}. */
  synchronized String render() {
    int filled = total == 0 ? BAR_WIDTH : done * BAR_WIDTH / total;
    String shown =
        label.length() > LABEL_WIDTH ? label.substring(0, LABEL_WIDTH - 3) + "..." : label;
    int digits = String.valueOf(total).length();
    return String.format(
        Locale.ROOT,
        "[%s%s] %" + digits + "d/%d %s",
        "#".repeat(filled),
        ".".repeat(BAR_WIDTH - filled),
        done,
        total,
        shown);
  }

  private void draw() {
    String text = render();
    err.print("\r" + text + " ".repeat(Math.max(0, drawnWidth - text.length())));
    err.flush();
    drawnWidth = text.length();
  }

  private void clear() {
    if (drawnWidth > 0) {
      err.print("\r" + " ".repeat(drawnWidth) + "\r");
      err.flush();
      drawnWidth = 0;
    }
  }
}
