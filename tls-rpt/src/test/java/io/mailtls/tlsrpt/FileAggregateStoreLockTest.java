package io.mailtls.tlsrpt;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DomainName;
import java.io.IOException;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link FileAggregateStore}: "one process at a time: a second store on the same file fails to
 * open". A compaction moves a new file over the log and releases the old file's lock; a second
 * store that opened the path just before the move takes the lock of the replaced (unlinked) file
 * and opens: its merges go to a file no one will read again, and are lost without an error.
 */
class FileAggregateStoreLockTest {

  static final LocalDate DAY = LocalDate.parse("2025-03-01");
  static final AppliedPolicy A = AppliedPolicy.noPolicy(DomainName.of("a.test"));

  @Test
  void noSecondStoreOpensWhileTheFirstCompacts(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("tlsrpt.log");
    AtomicReference<FileAggregateStore> second = new AtomicReference<>();
    AtomicBoolean stop = new AtomicBoolean();
    long compactions = 0;
    try (FileAggregateStore first = FileAggregateStore.open(file)) {
      first.merge(DAY, Map.of(A, PolicyCounts.success()));
      Thread opener =
          new Thread(
              () -> {
                while (!stop.get() && second.get() == null) {
                  try {
                    second.set(FileAggregateStore.open(file));
                  } catch (IOException expected) {
                    // locked by the first: as it should be
                  }
                }
              });
      opener.start();
      long end = System.nanoTime() + 20_000_000_000L;
      while (second.get() == null && System.nanoTime() < end) {
        first.compact();
        compactions++;
      }
      stop.set(true);
      opener.join();
      FileAggregateStore other = second.get();
      if (other != null) {
        // The second store's merge is acknowledged...
        other.merge(DAY, Map.of(A, new PolicyCounts(1000, 0, Map.of())));
        other.close();
      }
    }
    long successes;
    try (FileAggregateStore reopened = FileAggregateStore.open(file)) {
      successes = reopened.read(DAY).get(A).successfulSessions();
    }
    assertThat(second.get())
        .as(
            "a second store opened the log while the first held it (after %d compactions);"
                + " the log now holds %d successes, its acknowledged merge of 1000 is lost",
            compactions, successes)
        .isNull();
  }
}
