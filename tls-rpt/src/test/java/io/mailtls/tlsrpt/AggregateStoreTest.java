package io.mailtls.tlsrpt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailtls.core.DomainName;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Both {@link AggregateStore}s: merging, reading, discarding; the file store's log and recovery.
 */
class AggregateStoreTest {

  static final LocalDate DAY = LocalDate.parse("2025-03-01");
  static final LocalDate NEXT = LocalDate.parse("2025-03-02");
  static final AppliedPolicy A = AppliedPolicy.noPolicy(DomainName.of("a.test"));
  static final AppliedPolicy B =
      new AppliedPolicy(
          PolicyType.STS,
          DomainName.of("b.test"),
          List.of("version: STSv1", "mode: enforce", "mx: mx.b.test", "max_age: 86400"),
          List.of("mx.b.test"));
  static final FailureDetail EXPIRED =
      new FailureDetail(
          "certificate-expired",
          Optional.of("192.0.2.1"),
          Optional.of("mx.b.test"),
          Optional.of("mx.b.test"),
          Optional.of("127.0.0.9"),
          Optional.of("CERTIFICATE_EXPIRED"),
          Optional.of("https://example.test/why"));

  private static void exercise(AggregateStore store) throws IOException {
    store.merge(DAY, Map.of(A, PolicyCounts.success(), B, PolicyCounts.failure(EXPIRED)));
    store.merge(DAY, Map.of(B, PolicyCounts.failure(EXPIRED).plus(PolicyCounts.success())));
    store.merge(NEXT, Map.of(A, new PolicyCounts(5, 0, Map.of())));
    store.merge(NEXT, Map.of());
    assertThat(store.read(DAY))
        .isEqualTo(
            Map.of(A, PolicyCounts.success(), B, new PolicyCounts(1, 2, Map.of(EXPIRED, 2L))));
    assertThat(store.days()).containsExactly(DAY, NEXT);
    store.discard(DAY);
    assertThat(store.read(DAY)).isEmpty();
    assertThat(store.days()).containsExactly(NEXT);
  }

  @Test
  void inMemory() throws IOException {
    exercise(new InMemoryAggregateStore());
  }

  @Test
  void fileStoreKeepsEveryMergeAcrossAReopen(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("state/tlsrpt.log");
    try (FileAggregateStore store = FileAggregateStore.open(file)) {
      exercise(store);
      assertThat(store.recovery()).isEmpty();
    }
    try (FileAggregateStore store = FileAggregateStore.open(file)) {
      assertThat(store.days()).containsExactly(NEXT);
      assertThat(store.read(NEXT)).isEqualTo(Map.of(A, new PolicyCounts(5, 0, Map.of())));
      store.merge(DAY, Map.of(B, PolicyCounts.failure(EXPIRED)));
    }
    try (FileAggregateStore store = FileAggregateStore.open(file)) {
      assertThat(store.read(DAY)).isEqualTo(Map.of(B, PolicyCounts.failure(EXPIRED)));
      assertThat(store.recovery()).isEmpty();
    }
    List<String> lines = Files.readAllLines(file);
    assertThat(lines.get(0)).contains("mailtls-tlsrpt-aggregate-log");
    // The discard rewrote the log: header, NEXT's counts in one line; then a merge.
    assertThat(lines).hasSize(1 + 1 + 1);
  }

  @Test
  void aTornLastLineIsIgnoredCutAndReported(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("tlsrpt.log");
    try (FileAggregateStore store = FileAggregateStore.open(file)) {
      store.merge(DAY, Map.of(A, PolicyCounts.success()));
      store.merge(DAY, Map.of(A, PolicyCounts.success()));
    }
    List<String> lines = Files.readAllLines(file);
    // A crash in the middle of the next merge's write: part of its line, no line feed.
    String torn = lines.get(2).substring(0, lines.get(2).length() / 2);
    Files.writeString(file, torn, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    long whole = Files.size(file) - torn.length();
    try (FileAggregateStore store = FileAggregateStore.open(file)) {
      assertThat(store.recovery())
          .hasValueSatisfying(r -> assertThat(r).contains("incomplete last line"));
      assertThat(store.read(DAY)).isEqualTo(Map.of(A, new PolicyCounts(2, 0, Map.of())));
      assertThat(Files.size(file)).isEqualTo(whole);
      store.merge(DAY, Map.of(A, PolicyCounts.success()));
    }
    try (FileAggregateStore store = FileAggregateStore.open(file)) {
      assertThat(store.recovery()).isEmpty();
      assertThat(store.read(DAY)).isEqualTo(Map.of(A, new PolicyCounts(3, 0, Map.of())));
    }
  }

  private static String mergeLine(LocalDate day, String domain) {
    return "{\"op\":\"merge\",\"day\":\""
        + day
        + "\",\"counts\":[{\"policy\":{\"policy-type\":\"no-policy-found\","
        + "\"policy-domain\":\""
        + domain
        + "\"},\"summary\":{\"total-successful-session-count\":1,"
        + "\"total-failure-session-count\":0}}]}\n";
  }

  @Test
  void compactionKeepsEveryCountInOneLinePerDay(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("tlsrpt.log");
    try (FileAggregateStore store = FileAggregateStore.open(file)) {
      for (int i = 0; i < 5; i++) {
        store.merge(DAY, Map.of(A, PolicyCounts.success(), B, PolicyCounts.failure(EXPIRED)));
        store.merge(NEXT, Map.of(A, PolicyCounts.success()));
      }
      assertThat(Files.readAllLines(file)).hasSize(1 + 10);
      store.compact();
      assertThat(Files.readAllLines(file)).hasSize(1 + 2);
      assertThat(store.read(DAY))
          .isEqualTo(Map.of(A, new PolicyCounts(5, 0, Map.of()), B, failures(5)));
      // Still the store's file: appends go to the new log, and the lock holds.
      store.merge(NEXT, Map.of(A, PolicyCounts.success()));
      assertThatThrownBy(() -> FileAggregateStore.open(file))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("open in another store");
    }
    assertThat(Files.readAllLines(file)).hasSize(1 + 2 + 1);
    assertThat(dir.resolve("tlsrpt.log.compact.tmp")).doesNotExist();
    try (FileAggregateStore store = FileAggregateStore.open(file)) {
      assertThat(store.recovery()).isEmpty();
      assertThat(store.read(DAY))
          .isEqualTo(Map.of(A, new PolicyCounts(5, 0, Map.of()), B, failures(5)));
      assertThat(store.read(NEXT)).isEqualTo(Map.of(A, new PolicyCounts(6, 0, Map.of())));
      store.discard(DAY);
      assertThat(Files.readAllLines(file)).hasSize(1 + 1);
    }
    try (FileAggregateStore store = FileAggregateStore.open(file)) {
      assertThat(store.days()).containsExactly(NEXT);
      assertThat(store.read(NEXT)).isEqualTo(Map.of(A, new PolicyCounts(6, 0, Map.of())));
    }
  }

  private static PolicyCounts failures(long n) {
    return new PolicyCounts(0, n, Map.of(EXPIRED, n));
  }

  @Test
  void aTornLineAndAnInterruptedCompactionLoseNoAcknowledgedCount(@TempDir Path dir)
      throws IOException {
    Path file = dir.resolve("tlsrpt.log");
    try (FileAggregateStore store = FileAggregateStore.open(file)) {
      store.merge(DAY, Map.of(A, PolicyCounts.success()));
      store.merge(DAY, Map.of(B, PolicyCounts.failure(EXPIRED)));
      store.merge(NEXT, Map.of(A, PolicyCounts.success()));
    }
    // A crash in a merge (half a line, no line feed), and a crash in a compaction: its temporary
    // file written in part and never moved over the log.
    String last = Files.readAllLines(file).get(3);
    Files.writeString(
        file,
        last.substring(0, last.length() / 3),
        StandardCharsets.UTF_8,
        StandardOpenOption.APPEND);
    Path tmp = dir.resolve("tlsrpt.log.compact.tmp");
    Files.writeString(tmp, "{\"format\":\"mailtls-tlsrpt-aggregate-log\",\"vers");
    try (FileAggregateStore store = FileAggregateStore.open(file)) {
      assertThat(store.recovery())
          .hasValueSatisfying(r -> assertThat(r).contains("incomplete last line"));
      assertThat(tmp).doesNotExist();
      store.compact();
      assertThat(store.read(DAY)).isEqualTo(Map.of(A, PolicyCounts.success(), B, failures(1)));
    }
    assertThat(Files.readAllLines(file)).hasSize(1 + 2);
    try (FileAggregateStore store = FileAggregateStore.open(file)) {
      assertThat(store.recovery()).isEmpty();
      assertThat(store.read(DAY)).isEqualTo(Map.of(A, PolicyCounts.success(), B, failures(1)));
      assertThat(store.read(NEXT)).isEqualTo(Map.of(A, PolicyCounts.success()));
    }
  }

  @Test
  void aLargeLogIsCompactedWhenOpened(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("tlsrpt.log");
    StringBuilder log =
        new StringBuilder("{\"format\":\"mailtls-tlsrpt-aggregate-log\",\"version\":1}\n");
    int merges = 0;
    while (log.length() <= FileAggregateStore.COMPACT_ON_OPEN_BYTES) {
      log.append(mergeLine(merges % 2 == 0 ? DAY : NEXT, "d" + merges % 7 + ".test"));
      merges++;
    }
    // The old format's discard lines are still read.
    log.append("{\"op\":\"discard\",\"day\":\"2025-02-28\"}\n");
    Files.writeString(file, log, StandardCharsets.UTF_8);
    long total = 0;
    try (FileAggregateStore store = FileAggregateStore.open(file)) {
      for (LocalDate day : store.days()) {
        for (PolicyCounts c : store.read(day).values()) {
          total += c.successfulSessions();
        }
      }
      assertThat(store.days()).containsExactly(DAY, NEXT);
    }
    assertThat(total).isEqualTo(merges);
    assertThat(Files.readAllLines(file)).hasSize(1 + 2);
    assertThat(Files.size(file)).isLessThan(4096);
  }

  /**
   * The aggregator merges once per delivery call, each merge a line: a busy sender appended
   * gigabytes a day between two reports, all read at once by the next open. A merge that takes the
   * log past twice its compacted size (and the floor) now compacts it.
   */
  @Test
  void aLogThatMergesKeepGrowingIsCompactedAsItGoes(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("tlsrpt.log");
    long floor = 8 * 1024;
    int merges = 600;
    long largest = 0;
    try (FileAggregateStore store = FileAggregateStore.open(file, floor)) {
      for (int i = 0; i < merges; i++) {
        store.merge(i % 2 == 0 ? DAY : NEXT, Map.of(A, PolicyCounts.success()));
        largest = Math.max(largest, Files.size(file));
      }
      assertThat(store.read(DAY)).isEqualTo(Map.of(A, new PolicyCounts(merges / 2, 0, Map.of())));
    }
    // Without compaction: about 600 lines of over 100 bytes each.
    assertThat(largest).isLessThanOrEqualTo(floor + 512);
    try (FileAggregateStore store = FileAggregateStore.open(file, floor)) {
      assertThat(store.read(DAY)).isEqualTo(Map.of(A, new PolicyCounts(merges / 2, 0, Map.of())));
      assertThat(store.read(NEXT)).isEqualTo(Map.of(A, new PolicyCounts(merges / 2, 0, Map.of())));
    }
  }

  /** Opening reads the log one line at a time: lines across read chunks, a torn last line. */
  @Test
  void aLogOfManyChunksReplaysLineByLine(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("tlsrpt.log");
    StringBuilder log =
        new StringBuilder("{\"format\":\"mailtls-tlsrpt-aggregate-log\",\"version\":1}\n");
    int merges = 0;
    while (log.length() <= 300_000) { // several 64 KiB reads, lines cut at their edges
      log.append(mergeLine(DAY, "d" + merges % 3 + ".test"));
      merges++;
    }
    log.append("{\"op\":\"merge\",\"day\":"); // a merge a crash cut short
    Files.writeString(file, log, StandardCharsets.UTF_8);
    long total = 0;
    try (FileAggregateStore store = FileAggregateStore.open(file, Long.MAX_VALUE)) {
      assertThat(store.recovery()).isPresent();
      for (PolicyCounts c : store.read(DAY).values()) {
        total += c.successfulSessions();
      }
    }
    assertThat(total).isEqualTo(merges);
  }

  @Test
  void aCorruptCompleteLineFailsTheOpen(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("tlsrpt.log");
    try (FileAggregateStore store = FileAggregateStore.open(file)) {
      store.merge(DAY, Map.of(A, PolicyCounts.success()));
    }
    Files.writeString(
        file,
        "{\"op\":\"merge\",\"day\":\"2025-13-01\",\"counts\":[]}\n",
        StandardCharsets.UTF_8,
        StandardOpenOption.APPEND);
    assertThatThrownBy(() -> FileAggregateStore.open(file))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("corrupt line 3");
    Files.writeString(file, "not a log\n", StandardCharsets.UTF_8);
    assertThatThrownBy(() -> FileAggregateStore.open(file))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("corrupt line 1");
  }

  @Test
  void oneStorePerFile(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("tlsrpt.log");
    try (FileAggregateStore store = FileAggregateStore.open(file)) {
      assertThatThrownBy(() -> FileAggregateStore.open(file))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("open in another store");
      store.merge(DAY, Map.of(A, PolicyCounts.success()));
    }
    try (FileAggregateStore store = FileAggregateStore.open(file)) {
      assertThat(store.read(DAY)).containsKey(A);
    }
  }

  @Test
  void aClosedFileStoreRefusesWrites(@TempDir Path dir) throws IOException {
    FileAggregateStore store = FileAggregateStore.open(dir.resolve("tlsrpt.log"));
    store.close();
    assertThatThrownBy(() -> store.merge(DAY, Map.of(A, PolicyCounts.success())))
        .isInstanceOf(IOException.class);
  }

  @Test
  void anOverflowChangesNothing(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("tlsrpt.log");
    PolicyCounts huge = new PolicyCounts(Long.MAX_VALUE, 0, Map.of());
    try (FileAggregateStore store = FileAggregateStore.open(file)) {
      store.merge(DAY, Map.of(A, huge));
      long size = Files.size(file);
      assertThatThrownBy(
              () -> store.merge(DAY, Map.of(A, PolicyCounts.success(), B, PolicyCounts.success())))
          .isInstanceOf(ArithmeticException.class);
      assertThat(Files.size(file)).isEqualTo(size);
      assertThat(store.read(DAY)).isEqualTo(Map.of(A, huge));
    }
    InMemoryAggregateStore memory = new InMemoryAggregateStore();
    memory.merge(DAY, Map.of(A, huge));
    assertThatThrownBy(
            () -> memory.merge(DAY, Map.of(A, PolicyCounts.success(), B, PolicyCounts.success())))
        .isInstanceOf(ArithmeticException.class);
    assertThat(memory.read(DAY)).isEqualTo(Map.of(A, huge));
    try (FileAggregateStore store = FileAggregateStore.open(file)) {
      assertThat(store.read(DAY)).isEqualTo(Map.of(A, huge));
    }
  }
}
