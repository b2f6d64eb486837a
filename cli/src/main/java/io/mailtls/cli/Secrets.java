package io.mailtls.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Reads a secret named by a pair of options, {@code --X-env NAME} or {@code --X-file PATH}, never
 * from the command line itself, where other users of the machine see it ({@code ps}) and shells
 * keep it in their history.
 */
final class Secrets {

  /** The longest secret file read: a password is a line, not a document. */
  static final int MAX_FILE = 4096;

  private Secrets() {}

  /**
   * The secret, or empty when neither option is given.
   *
   * @param option the options' common stem, e.g. {@code "--auth-password"}
   * @param envName the value of {@code <option>-env}, if given
   * @param file the value of {@code <option>-file}, if given
   * @param env the environment variables ({@link System#getenv(String)} outside tests)
   * @throws CliException a usage error: both options, an unset or empty variable, an unreadable or
   *     oversized file, or an empty first line
   */
  static Optional<String> read(
      String option,
      @Nullable String envName,
      @Nullable Path file,
      Function<String, @Nullable String> env) {
    if (envName != null && file != null) {
      throw CliException.usage("give one of " + option + "-env and " + option + "-file, not both");
    }
    if (envName != null) {
      String value = env.apply(envName);
      if (value == null || value.isEmpty()) {
        throw CliException.usage(
            option + "-env: the environment variable " + envName + " is unset or empty");
      }
      return Optional.of(value);
    }
    if (file == null) {
      return Optional.empty();
    }
    String text;
    try {
      if (Files.size(file) > MAX_FILE) {
        throw CliException.usage(option + "-file " + file + ": longer than " + MAX_FILE + " bytes");
      }
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw CliException.usage(
          "cannot read " + option + "-file " + file + ": " + TrustConfig.describe(e), e);
    }
    int end = 0;
    while (end < text.length() && text.charAt(end) != '\n' && text.charAt(end) != '\r') {
      end++;
    }
    String line = text.substring(0, end);
    if (line.isEmpty()) {
      throw CliException.usage(option + "-file " + file + ": the first line is empty");
    }
    return Optional.of(line);
  }
}
