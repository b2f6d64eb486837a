package io.mailtls.cli;

import io.mailtls.tlsrpt.FileAggregateStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The directory of a local TLS-RPT aggregate store ({@code --tlsrpt-store DIR}, {@code tlsrpt show
 * --store DIR}): one {@link FileAggregateStore} log, {@value #LOG}, in it. Stateless.
 */
final class TlsRptStoreDir {

  /** The log's file name in the directory. */
  static final String LOG = "aggregate.log";

  private TlsRptStoreDir() {}

  /** The log file of {@code dir}. */
  static Path log(Path dir) {
    return dir.resolve(LOG);
  }

  /**
   * Opens (creating the directory and the log if need be) the store in {@code dir} for recording.
   *
   * @throws CliException a usage error when {@code dir} is not a usable directory; exit 75 when the
   *     store cannot be opened (another process holds it, or it cannot be read)
   */
  static FileAggregateStore openForWriting(String option, Path dir) {
    if (Files.exists(dir) && !Files.isDirectory(dir)) {
      throw CliException.usage(option + " " + dir + ": not a directory");
    }
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw CliException.usage(
          "cannot create " + option + " " + dir + ": " + TrustConfig.describe(e), e);
    }
    if (!Files.isWritable(dir)) {
      throw CliException.usage(option + " " + dir + ": not writable");
    }
    return open(option, dir);
  }

  /**
   * Opens the existing store in {@code dir} for reading; empty when the directory holds no log
   * (nothing was recorded).
   *
   * @throws CliException a usage error when {@code dir} is not a directory; exit 75 when the store
   *     cannot be opened
   */
  static Optional<FileAggregateStore> openExisting(String option, Path dir) {
    if (!Files.isDirectory(dir)) {
      throw CliException.usage(
          option
              + " "
              + dir
              + ": "
              + (Files.exists(dir) ? "not a directory" : "no such directory"));
    }
    if (!Files.exists(log(dir))) {
      return Optional.empty();
    }
    return Optional.of(open(option, dir));
  }

  private static FileAggregateStore open(String option, Path dir) {
    try {
      FileAggregateStore store = FileAggregateStore.open(log(dir));
      return store;
    } catch (IOException e) {
      throw new CliException(
          Mailtls.EX_TEMPFAIL,
          "cannot open the TLS-RPT store " + option + " " + dir + ": " + e.getMessage(),
          e);
    }
  }
}
