package io.mailtls.core.internal.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailtls.core.DestinationPolicy.Level;
import io.mailtls.core.DestinationPolicyMap;
import io.mailtls.core.DomainName;
import io.mailtls.core.PolicyMapException;
import io.mailtls.testkit.FakeClock;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How a reloading policy map reads its file: never a half-written file in place of the last good
 * map, every edit seen, and the read bounded whatever the file's size says.
 */
class ReloadingPolicyMapTest {

  private static final Duration INTERVAL = Duration.ofSeconds(60);

  @TempDir Path dir;

  private static Optional<Level> level(DestinationPolicyMap map, String domain) {
    return map.lookup(DomainName.of(domain)).map(e -> e.policy().level());
  }

  /** Writes {@code text} as the file's content, modified at {@code clock}'s now. */
  private static void writeAt(Path file, String text, FakeClock clock) throws IOException {
    Files.writeString(file, text, StandardCharsets.UTF_8);
    Files.setLastModifiedTime(file, FileTime.from(clock.instant()));
  }

  /**
   * A rewrite in place (truncate, then write): a check that lands meanwhile finds the file empty,
   * then cut at a line boundary; both parse. Neither replaces the last good map: new bytes wait
   * until the file has not been modified for {@link ReloadingPolicyMap#SETTLE}.
   */
  @Test
  void aFileRewrittenInPlaceReplacesTheMapOnlyOnceItHasSettled() throws Exception {
    Path file = dir.resolve("tls_policy");
    FakeClock clock = new FakeClock();
    writeAt(file, "a.example enforced\nbank.example dane-required\n", clock);
    clock.advance(Duration.ofHours(1));
    DestinationPolicyMap.Reloading map = DestinationPolicyMap.reloading(file, INTERVAL, clock);
    assertThat(level(map, "bank.example")).contains(Level.DANE_REQUIRED);

    clock.advance(INTERVAL);
    writeAt(file, "", clock); // truncated
    assertThat(level(map, "bank.example")).contains(Level.DANE_REQUIRED);
    clock.advance(Duration.ofMillis(300));
    writeAt(file, "a.example verify\n", clock); // the first buffer written
    assertThat(map.checkNow()).isFalse();
    assertThat(level(map, "bank.example")).contains(Level.DANE_REQUIRED);
    assertThat(level(map, "a.example")).contains(Level.ENFORCED);
    clock.advance(Duration.ofMillis(300));
    writeAt(file, "a.example verify\nbank.example dane-required\nc.example authenticated\n", clock);
    assertThat(map.checkNow()).as("written just now").isFalse();
    assertThat(map.lastError()).isEmpty();

    clock.advance(ReloadingPolicyMap.SETTLE);
    // a lookup checks again once the file has settled, before the interval is over
    assertThat(level(map, "a.example")).contains(Level.VERIFY);
    assertThat(level(map, "bank.example")).contains(Level.DANE_REQUIRED);
    assertThat(level(map, "c.example")).contains(Level.AUTHENTICATED);
  }

  /**
   * An edit that keeps both the size and the modification time (a copy that preserves times, a
   * second write within the file system's time resolution) is seen by the change time.
   */
  @Test
  void anEditKeepingSizeAndModificationTimeIsSeen() throws Exception {
    Path file = dir.resolve("tls_policy");
    FakeClock clock = new FakeClock();
    writeAt(file, "bank.example opportunistic\n", clock);
    FileTime modified = Files.getLastModifiedTime(file);
    clock.advance(Duration.ofHours(1));
    DestinationPolicyMap.Reloading map = DestinationPolicyMap.reloading(file, INTERVAL, clock);
    assertThat(level(map, "bank.example")).contains(Level.OPPORTUNISTIC);

    // The kernel stamps the change time from its coarse clock (a tick of a few milliseconds): an
    // edit within the tick of the last look keeps it too (ci34). The edit here comes later.
    Thread.sleep(50);
    Files.writeString(file, "bank.example dane-required\n"); // "opportunistic": as long
    Files.setLastModifiedTime(file, modified);
    assertThat(Files.size(file)).isEqualTo("bank.example opportunistic\n".length());
    clock.advance(INTERVAL);

    assertThat(map.checkNow()).isTrue();
    assertThat(level(map, "bank.example")).contains(Level.DANE_REQUIRED);
  }

  /**
   * The size is no bound on what a read returns (a FIFO says 0, a file may grow while it is read):
   * the read itself stops past {@link PolicyMapFile#MAX_BYTES}.
   */
  @Test
  void theReadIsBoundedWhateverTheFilesSizeSays() throws Exception {
    Path fifo = dir.resolve("tls_policy");
    Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
    assertThat(mkfifo.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(mkfifo.exitValue()).isZero();
    long total = PolicyMapFile.MAX_BYTES + 1024L * 1024;
    CompletableFuture<Void> writer =
        CompletableFuture.runAsync(
            () -> {
              try (OutputStream out = Files.newOutputStream(fifo)) {
                byte[] comment = ("#" + "x".repeat(1022) + "\n").getBytes(StandardCharsets.UTF_8);
                for (long written = 0; written < total; written += comment.length) {
                  out.write(comment);
                }
              } catch (IOException e) {
                // the reader stopped at the bound and closed its end
              }
            });
    try {
      assertThatThrownBy(() -> DestinationPolicyMap.load(fifo))
          .isInstanceOf(PolicyMapException.class)
          .hasMessageContaining("is larger than " + PolicyMapFile.MAX_BYTES + " bytes");
    } finally {
      writer.cancel(true);
    }
  }
}
