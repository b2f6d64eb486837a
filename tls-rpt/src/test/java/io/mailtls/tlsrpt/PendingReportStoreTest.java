package io.mailtls.tlsrpt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailtls.core.DomainName;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pending-report stores: what {@link FilePendingReportStore} writes reads back equal (the
 * report's exact bytes and id), a temporary file left by a crash is ignored, a corrupt entry fails
 * the open, and one process at a time. And {@link RetrySchedule}'s arithmetic.
 */
class PendingReportStoreTest {

  private static final LocalDate DAY = LocalDate.parse("2025-03-01");
  private static final DomainName DOMAIN = DomainName.of("flaky.rpt.test");
  private static final Instant T0 = Instant.parse("2025-03-02T00:10:00Z");

  private static PendingReport delivering() {
    TlsRptReport report =
        TlsRptReportWriter.builder()
            .organizationName("Sender Inc.")
            .contactInfo("tlsrpt@sender.test")
            .submitter(DomainName.of("sender.test"))
            .random(new Random(3))
            .build()
            .write(DAY, Map.of(AppliedPolicy.noPolicy(DOMAIN), new PolicyCounts(2, 0, Map.of())))
            .get(0);
    return new PendingReport(
        DAY,
        DOMAIN,
        PendingReport.Stage.DELIVERING,
        Optional.of(report),
        List.of(
            new PendingReport.Destination(
                URI.create("https://reports.rpt.test/v1"),
                PendingReport.DestinationState.PENDING,
                2,
                Optional.of(T0),
                Optional.of(T0.plus(Duration.ofMinutes(45))),
                Optional.of(new ReportOutcome.NotDelivered("HTTP 503", false))),
            new PendingReport.Destination(
                URI.create("mailto:tls@rpt.test"),
                PendingReport.DestinationState.DELIVERED,
                1,
                Optional.of(T0),
                Optional.empty(),
                Optional.of(new ReportOutcome.Delivered("250 2.0.0 queued")))),
        0,
        Optional.of(T0),
        Optional.empty(),
        "written");
  }

  @Test
  void aSavedEntryReadsBackEqualAfterReopening(@TempDir Path dir) throws IOException {
    PendingReport p = delivering();
    try (FilePendingReportStore store = FilePendingReportStore.open(dir)) {
      store.save(PendingReport.discovering(DAY, DOMAIN, T0));
      store.save(p); // replaces the entry of the same day and domain
      assertThat(store.load()).containsExactly(p);
    }
    try (FilePendingReportStore store = FilePendingReportStore.open(dir)) {
      PendingReport back = store.load().get(0);
      assertThat(back.destinations()).isEqualTo(p.destinations());
      assertThat(back.stage()).isEqualTo(p.stage());
      TlsRptReport r = back.report().orElseThrow();
      TlsRptReport original = p.report().orElseThrow();
      assertThat(r.reportId()).isEqualTo(original.reportId());
      assertThat(r.json()).isEqualTo(original.json());
      assertThat(r.fileName(true)).isEqualTo(original.fileName(true));
      store.remove(DAY, DOMAIN);
      assertThat(store.load()).isEmpty();
    }
    try (FilePendingReportStore store = FilePendingReportStore.open(dir)) {
      assertThat(store.load()).isEmpty();
    }
  }

  @Test
  void aTemporaryFileLeftByACrashIsDeletedAndTheOldEntryKept(@TempDir Path dir) throws IOException {
    PendingReport p = delivering();
    try (FilePendingReportStore store = FilePendingReportStore.open(dir)) {
      store.save(p);
    }
    Path torn = dir.resolve("2025-03-01_flaky.rpt.test.json.tmp");
    Files.writeString(torn, "{\"format\":\"mailtls-tlsrpt-pe", StandardCharsets.UTF_8);
    try (FilePendingReportStore store = FilePendingReportStore.open(dir)) {
      assertThat(store.load()).singleElement().extracting(PendingReport::key).isEqualTo(p.key());
    }
    assertThat(torn).doesNotExist();
  }

  @Test
  void aCorruptEntryFailsTheOpen(@TempDir Path dir) throws IOException {
    Files.writeString(dir.resolve("2025-03-01_x.rpt.test.json"), "{\"format\":\"other\"}");
    assertThatThrownBy(() -> FilePendingReportStore.open(dir))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("corrupt pending report");
  }

  @Test
  void oneStoreAtATimePerDirectory(@TempDir Path dir) throws IOException {
    try (FilePendingReportStore store = FilePendingReportStore.open(dir)) {
      assertThatThrownBy(() -> FilePendingReportStore.open(dir))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("open in another store");
      store.save(delivering());
    }
  }

  @Test
  void theInMemoryStoreReplacesByKey() {
    InMemoryPendingReportStore store = new InMemoryPendingReportStore();
    store.save(PendingReport.discovering(DAY, DOMAIN, T0));
    store.save(delivering());
    assertThat(store.load())
        .singleElement()
        .extracting(PendingReport::stage)
        .isEqualTo(PendingReport.Stage.DELIVERING);
    store.remove(DAY, DOMAIN);
    assertThat(store.load()).isEmpty();
  }

  @Test
  void theScheduleDoublesUpToItsCapAndEndsWithTheLastAttemptAtThePeriodsEnd() {
    RetrySchedule s =
        new RetrySchedule(Duration.ofMinutes(10), Duration.ofMinutes(30), Duration.ofHours(1));
    assertThat(s.next(T0, 1, T0)).contains(T0.plus(Duration.ofMinutes(10)));
    assertThat(s.next(T0, 2, T0.plus(Duration.ofMinutes(10))))
        .contains(T0.plus(Duration.ofMinutes(30)));
    // 30 + 40 would pass the hour: the cap is 30, and the last attempt is at the hour.
    assertThat(s.next(T0, 3, T0.plus(Duration.ofMinutes(30))))
        .contains(T0.plus(Duration.ofHours(1)));
    assertThat(s.next(T0, 4, T0.plus(Duration.ofHours(1)))).isEmpty();
    assertThat(RetrySchedule.rfc8460().period()).isEqualTo(Duration.ofHours(24));
    assertThatThrownBy(
            () -> new RetrySchedule(Duration.ofHours(2), Duration.ofHours(1), Duration.ofHours(1)))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
