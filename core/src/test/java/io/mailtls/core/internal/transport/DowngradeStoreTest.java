package io.mailtls.core.internal.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailtls.core.DomainName;
import io.mailtls.core.DowngradeMemory;
import io.mailtls.core.DowngradeMemory.Seen;
import io.mailtls.core.TransportSecurity;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The stores behind downgrade memory: the monotone raise, the file format, a reload, corrupt files
 * (reported, never read as "nothing seen"), the lock, and concurrent raises.
 */
class DowngradeStoreTest {

  private static final DomainName A = DomainName.of("a.example");
  private static final DomainName B = DomainName.of("b.example");
  private static final Instant T0 = Instant.parse("2025-03-01T12:00:00Z");

  @TempDir Path dir;

  // --- Seen: the merge every store applies
  // ---------------------------------------------------------

  @Test
  void raiseNeverLowersAndAuthenticatedImpliesTls() {
    Seen s = Seen.NOTHING.raise(TransportSecurity.AUTHENTICATED_TLS, T0);
    assertThat(s.tls()).contains(T0);
    assertThat(s.authenticatedTls()).contains(T0);
    // A weaker delivery later moves only the weaker level; an older one moves nothing.
    Seen later = s.raise(TransportSecurity.TLS, T0.plusSeconds(60));
    assertThat(later.tls()).contains(T0.plusSeconds(60));
    assertThat(later.authenticatedTls()).contains(T0);
    assertThat(later.raise(TransportSecurity.AUTHENTICATED_TLS, T0.minusSeconds(1)))
        .isEqualTo(later);
    assertThat(later.raise(TransportSecurity.PLAINTEXT, T0.plusSeconds(999))).isEqualTo(later);
    // The strongest level within a window.
    assertThat(later.strongestSince(T0)).isEqualTo(TransportSecurity.AUTHENTICATED_TLS);
    assertThat(later.strongestSince(T0.plusSeconds(1))).isEqualTo(TransportSecurity.TLS);
    assertThat(later.strongestSince(T0.plusSeconds(61))).isEqualTo(TransportSecurity.PLAINTEXT);
    // Normalised: an authenticated time later than the TLS time lifts the TLS time.
    assertThat(new Seen(Optional.of(T0), Optional.of(T0.plusSeconds(5))).tls())
        .contains(T0.plusSeconds(5));
  }

  @Test
  void theRuleTakesTheStrongestLevelWithinThePeriod() {
    Seen s =
        Seen.NOTHING
            .raise(TransportSecurity.AUTHENTICATED_TLS, T0)
            .raise(TransportSecurity.TLS, T0.plus(Duration.ofDays(20)));
    Duration p = Duration.ofDays(30);
    assertThat(DowngradeGuard.decide(s, T0.plus(Duration.ofDays(29)), p, false).kind())
        .isEqualTo(DowngradeGuard.Kind.REQUIRE_AUTHENTICATION);
    assertThat(DowngradeGuard.decide(s, T0.plus(Duration.ofDays(31)), p, false).kind())
        .isEqualTo(DowngradeGuard.Kind.REFUSE_PLAINTEXT);
    assertThat(DowngradeGuard.decide(s, T0.plus(Duration.ofDays(51)), p, false).kind())
        .isEqualTo(DowngradeGuard.Kind.NOTHING_RECENT);
    DowngradeGuard.Verdict exempt = DowngradeGuard.decide(s, T0, p, true);
    assertThat(exempt.kind()).isEqualTo(DowngradeGuard.Kind.EXEMPT);
    assertThat(exempt.plaintextRefused()).isEmpty();
    assertThat(exempt.line()).contains("exempt").contains("authenticated TLS seen " + T0);
  }

  // --- in memory
  // ------------------------------------------------------------------------------------

  @Test
  void theInMemoryStoreIsBounded() {
    InMemoryDowngradeStore m = new InMemoryDowngradeStore(10);
    for (int i = 0; i < 1000; i++) {
      m.raise(DomainName.of("d" + i + ".example"), TransportSecurity.TLS, T0);
    }
    int kept = 0;
    for (int i = 0; i < 1000; i++) {
      if (m.seen(DomainName.of("d" + i + ".example")).tls().isPresent()) {
        kept++;
      }
    }
    // Caffeine evicts asynchronously; it settles at the bound.
    assertThat(kept).isLessThan(1000);
  }

  // --- the file
  // -----------------------------------------------------------------------------------

  @Test
  void aNewStoreReadsWhatTheLastOneWrote() throws Exception {
    Path file = dir.resolve("memory");
    try (FileDowngradeStore s = FileDowngradeStore.open(file)) {
      s.raise(A, TransportSecurity.AUTHENTICATED_TLS, T0);
      s.raise(A, TransportSecurity.TLS, T0.plusSeconds(10));
      s.raise(B, TransportSecurity.TLS, T0.plusMillis(1500));
      s.raise(B, TransportSecurity.PLAINTEXT, T0.plusSeconds(99)); // changes nothing
    }
    assertThat(Files.readAllLines(file).get(0)).isEqualTo("mailtls-downgrade-memory 1");
    try (FileDowngradeStore s = FileDowngradeStore.open(file)) {
      assertThat(s.seen(A)).isEqualTo(new Seen(Optional.of(T0.plusSeconds(10)), Optional.of(T0)));
      assertThat(s.seen(B)).isEqualTo(new Seen(Optional.of(T0.plusMillis(1500)), Optional.empty()));
      assertThat(s.seen(DomainName.of("c.example"))).isEqualTo(Seen.NOTHING);
    }
    // Compacted on open: one line per domain and level.
    assertThat(Files.readAllLines(file))
        .containsExactly(
            "mailtls-downgrade-memory 1",
            "a.example authenticated-tls " + T0.toEpochMilli(),
            "a.example tls " + T0.plusSeconds(10).toEpochMilli(),
            "b.example tls " + T0.plusMillis(1500).toEpochMilli());
  }

  @Test
  void aMissingFileIsCreatedEmpty() throws Exception {
    Path file = dir.resolve("new");
    try (FileDowngradeStore s = FileDowngradeStore.open(file)) {
      assertThat(s.size()).isZero();
    }
    assertThat(Files.readString(file)).isEqualTo("mailtls-downgrade-memory 1\n");
  }

  @Test
  void aTornLastLineIsIgnoredAndEverythingBeforeItKept() throws Exception {
    Path file = dir.resolve("torn");
    Files.writeString(
        file,
        "mailtls-downgrade-memory 1\na.example tls "
            + T0.toEpochMilli()
            + "\nb.example authenticated-tls 17406",
        StandardCharsets.UTF_8);
    try (FileDowngradeStore s = FileDowngradeStore.open(file)) {
      assertThat(s.seen(A).tls()).contains(T0);
      assertThat(s.seen(B)).isEqualTo(Seen.NOTHING);
    }
    assertThat(Files.readString(file)).endsWith("a.example tls " + T0.toEpochMilli() + "\n");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "mailtls-downgrade-memory 1", // no line end: not even the header was completed
        "mailtls-downgrade-memory 2\n",
        "something else\na.example tls 1\n",
        "mailtls-downgrade-memory 1\na.example tls\n",
        "mailtls-downgrade-memory 1\na.example tls 1 extra\n",
        "mailtls-downgrade-memory 1\nA.Example tls 1\n",
        "mailtls-downgrade-memory 1\na.example plaintext 1\n",
        "mailtls-downgrade-memory 1\na.example tls -1\n",
        "mailtls-downgrade-memory 1\na.example tls 99999999999999999999\n",
        "mailtls-downgrade-memory 1\n\na.example tls 1\n",
        "mailtls-downgrade-memory 1\na..example tls 1\n",
        "mailtls-downgrade-memory 1\n\u0000\u0000\u0000\na.example tls 1\n",
      })
  void aCorruptFileIsReportedAndLeftAsItIs(String content) throws Exception {
    Path file = dir.resolve("corrupt");
    Files.writeString(file, content, StandardCharsets.UTF_8);
    assertThatThrownBy(() -> FileDowngradeStore.open(file))
        .isInstanceOf(DowngradeMemory.CorruptFileException.class)
        .hasMessageContaining(file.toAbsolutePath().toString());
    // Never rewritten as empty: the operator decides.
    assertThat(Files.readString(file, StandardCharsets.UTF_8)).isEqualTo(content);
    // And the lock is given back: once the file is moved aside, a store opens.
    Files.move(file, dir.resolve("corrupt.aside"));
    try (FileDowngradeStore s = FileDowngradeStore.open(file)) {
      assertThat(s.size()).isZero();
    }
  }

  @Test
  void theCorruptLineIsNamed() throws Exception {
    Path file = dir.resolve("named");
    Files.writeString(
        file,
        "mailtls-downgrade-memory 1\na.example tls 1\nb.example tls x\n",
        StandardCharsets.UTF_8);
    assertThatThrownBy(() -> FileDowngradeStore.open(file))
        .isInstanceOfSatisfying(
            DowngradeMemory.CorruptFileException.class, e -> assertThat(e.line()).isEqualTo(3));
  }

  @Test
  void aSecondStoreOnTheSameFileIsRefused() throws Exception {
    Path file = dir.resolve("locked");
    try (FileDowngradeStore s = FileDowngradeStore.open(file)) {
      assertThatThrownBy(() -> FileDowngradeStore.open(file))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("already open");
      s.raise(A, TransportSecurity.TLS, T0);
    }
    try (FileDowngradeStore s = FileDowngradeStore.open(file)) {
      assertThat(s.seen(A).tls()).contains(T0);
    }
  }

  @Test
  void aClosedStoreRefusesToRecord() throws Exception {
    FileDowngradeStore s = FileDowngradeStore.open(dir.resolve("closed"));
    s.close();
    assertThatThrownBy(() -> s.raise(A, TransportSecurity.TLS, T0))
        .isInstanceOf(IllegalStateException.class);
  }

  /**
   * Many threads raising the same and different domains at once: every store ends with each level's
   * latest time, and the file (compacted along the way) says the same after a reload.
   */
  @Test
  void concurrentRaisesKeepTheLatestTimeOfEachLevel() throws Exception {
    Path file = dir.resolve("concurrent");
    int threads = 8;
    int perThread = 2_000;
    List<DowngradeMemory> stores = new ArrayList<>();
    stores.add(new InMemoryDowngradeStore(1_000));
    FileDowngradeStore fileStore = FileDowngradeStore.open(file);
    stores.add(fileStore);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      for (DowngradeMemory store : stores) {
        CountDownLatch start = new CountDownLatch(1);
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          int id = t;
          done.add(
              pool.submit(
                  () -> {
                    start.await();
                    for (int i = 0; i < perThread; i++) {
                      // Times go up and down: a thread's late raise must not lower anything.
                      Instant at = T0.plusMillis((i * 7919L + id * 104729L) % 100_000);
                      TransportSecurity level =
                          i % 3 == 0 ? TransportSecurity.AUTHENTICATED_TLS : TransportSecurity.TLS;
                      store.raise(DomainName.of("d" + (i % 50) + ".example"), level, at);
                    }
                    return null;
                  }));
        }
        start.countDown();
        for (Future<?> f : done) {
          f.get();
        }
      }
    } finally {
      pool.shutdown();
    }
    fileStore.close();
    // The expected result, computed alone.
    Seen[] expected = new Seen[50];
    java.util.Arrays.fill(expected, Seen.NOTHING);
    for (int id = 0; id < threads; id++) {
      for (int i = 0; i < perThread; i++) {
        Instant at = T0.plusMillis((i * 7919L + id * 104729L) % 100_000);
        TransportSecurity level =
            i % 3 == 0 ? TransportSecurity.AUTHENTICATED_TLS : TransportSecurity.TLS;
        expected[i % 50] = expected[i % 50].raise(level, at);
      }
    }
    try (FileDowngradeStore reloaded = FileDowngradeStore.open(file)) {
      for (DowngradeMemory store : List.of(stores.get(0), fileStore, reloaded)) {
        for (int d = 0; d < 50; d++) {
          assertThat(store.seen(DomainName.of("d" + d + ".example")))
              .as("%s d%d", store, d)
              .isEqualTo(expected[d]);
        }
      }
    }
  }
}
