package io.mailtls.tlsrpt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.mailtls.core.DnssecResolver;
import io.mailtls.core.DomainName;
import io.mailtls.core.TrustAnchors;
import io.mailtls.testkit.FakeClock;
import io.mailtls.testkit.TestDnsServer;
import io.mailtls.testkit.TestPki;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xbill.DNS.Type;

/**
 * {@link TlsRptReporter} end to end on loopback: the testkit's signed DNS publishes the {@code
 * _smtp._tls} records, a real HTTPS endpoint (MockWebServer with a TestPki certificate) takes or
 * refuses the reports by path, and a {@link FakeClock} moves the days and the retry schedule.
 */
class TlsRptReporterTest {

  private static final String HOST = "reports.rpt.test";
  private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
  private static final LocalDate DAY = LocalDate.parse("2025-03-01");
  private static final ObjectMapper JSON = new ObjectMapper();

  private static final TestPki PKI = TestPki.create();
  private static MockWebServer web;
  private static final Map<String, Deque<Integer>> scripts = new HashMap<>();
  private static final List<RecordedRequest> requests =
      Collections.synchronizedList(new ArrayList<>());
  private static TestDnsServer dns;
  private static DnssecResolver resolver;
  private static OkHttpClient client;

  private final FakeClock clock = new FakeClock(Instant.parse("2025-03-02T00:00:30Z"));
  private final Recorder listener = new Recorder();
  private InMemoryAggregateStore counts;

  @BeforeAll
  static void startWorld() throws IOException {
    web = new MockWebServer();
    web.useHttps(PKI.root().leaf().dnsNames(HOST).issue().serverSslContext().getSocketFactory());
    web.setDispatcher(
        new Dispatcher() {
          @Override
          public MockResponse dispatch(RecordedRequest r) {
            requests.add(r);
            int code;
            synchronized (scripts) {
              Deque<Integer> s = scripts.get(r.getTarget());
              code = s == null || s.isEmpty() ? 404 : s.size() == 1 ? s.peek() : s.poll();
            }
            return new MockResponse.Builder().code(code).build();
          }
        });
    web.start(LOOPBACK, 0);
    String base = "https://" + HOST + ":" + web.getPort();
    dns =
        TestDnsServer.builder()
            .zone(
                "rpt.test",
                z ->
                    z.ttl(Duration.ofMinutes(10))
                        .txt("_smtp._tls.ok.rpt.test", "v=TLSRPTv1; rua=" + base + "/ok")
                        .txt("_smtp._tls.flaky.rpt.test", "v=TLSRPTv1; rua=" + base + "/flaky")
                        .txt("_smtp._tls.dead.rpt.test", "v=TLSRPTv1; rua=" + base + "/dead")
                        .txt("_smtp._tls.fails.rpt.test", "v=TLSRPTv1; rua=" + base + "/ok")
                        .txt(
                            "_smtp._tls.mixed.rpt.test",
                            "v=TLSRPTv1; rua=mailto:tls@rpt.test," + base + "/ok")
                        .a("none.rpt.test", "127.0.0.1")
                        .a(HOST, LOOPBACK.getHostAddress()))
            .start();
    resolver =
        DnssecResolver.builder()
            .upstream(dns.socketAddress())
            .trustAnchors(TrustAnchors.parse(dns.trustAnchor()))
            .queryTimeout(Duration.ofSeconds(2))
            .lookupTimeout(Duration.ofSeconds(8))
            .cacheSize(0)
            .failureCacheTtl(Duration.ZERO)
            .build();
    client =
        new OkHttpClient.Builder()
            .sslSocketFactory(PKI.clientSslContext().getSocketFactory(), PKI.trustManager())
            .build();
  }

  @AfterAll
  static void stopWorld() {
    web.close();
    dns.close();
    client.dispatcher().executorService().shutdown();
    client.connectionPool().evictAll();
  }

  @BeforeEach
  void reset() {
    synchronized (scripts) {
      scripts.clear();
      scripts.put("/ok", new ArrayDeque<>(List.of(200)));
      scripts.put("/dead", new ArrayDeque<>(List.of(500)));
    }
    requests.clear();
    counts = new InMemoryAggregateStore();
  }

  @AfterEach
  void clearFaults() {
    dns.clearFaults();
  }

  private static void script(String path, Integer... codes) {
    synchronized (scripts) {
      scripts.put(path, new ArrayDeque<>(List.of(codes)));
    }
  }

  private void count(LocalDate day, String domain, long ok) throws IOException {
    counts.merge(
        day,
        Map.of(AppliedPolicy.noPolicy(DomainName.of(domain)), new PolicyCounts(ok, 0, Map.of())));
  }

  private TlsRptReporter.Builder reporter(PendingReportStore pending) {
    return reporter(pending, counts);
  }

  private TlsRptReporter.Builder reporter(PendingReportStore pending, AggregateStore store) {
    return TlsRptReporter.builder()
        .aggregateStore(store)
        .pendingStore(pending)
        .discovery(TlsRptDiscovery.builder().dns(resolver).clock(clock).cacheSize(0).build())
        .writer(
            TlsRptReportWriter.builder()
                .organizationName("Sender Inc.")
                .contactInfo("tlsrpt@sender.test")
                .submitter(DomainName.of("sender.test"))
                .build())
        .channels(
            List.of(
                HttpsReportSender.builder()
                    .client(client)
                    .dns(resolver)
                    .maxAttempts(1)
                    .callTimeout(Duration.ofSeconds(10))
                    .build()))
        .clock(clock)
        .listener(listener);
  }

  private TlsRptReporter reporter() {
    return reporter(new InMemoryPendingReportStore()).build();
  }

  private static List<RecordedRequest> posts(String path) {
    synchronized (requests) {
      return requests.stream().filter(r -> r.getTarget().equals(path)).toList();
    }
  }

  private static String reportId(RecordedRequest r) {
    try (GZIPInputStream in =
        new GZIPInputStream(new ByteArrayInputStream(r.getBody().toByteArray()))) {
      return JSON.readTree(in.readAllBytes()).path("report-id").asText();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Test
  void aDayIsReportedOnlyOnceItHasEndedInUtc() throws Exception {
    clock.set(Instant.parse("2025-03-01T23:59:59Z"));
    count(DAY, "ok.rpt.test", 4);
    TlsRptReporter r = reporter();

    DeliveryRun early = r.flush(DAY);
    assertThat(early.refused()).hasValueSatisfying(s -> assertThat(s).contains("has not ended"));
    assertThat(early.reports()).isEmpty();
    assertThat(r.flush(DAY.plusDays(1)).refused()).isPresent();
    assertThat(requests).isEmpty();
    assertThat(counts.read(DAY)).isNotEmpty();

    clock.advance(Duration.ofSeconds(1)); // 2025-03-02T00:00:00Z: the day is over
    DeliveryRun run = r.flush(DAY);
    assertThat(run.refused()).isEmpty();
    PendingReport ok = run.report(DAY, DomainName.of("ok.rpt.test")).orElseThrow();
    assertThat(ok.stage()).isEqualTo(PendingReport.Stage.DELIVERED);
    assertThat(ok.destinations())
        .singleElement()
        .satisfies(
            d -> {
              assertThat(d.state()).isEqualTo(PendingReport.DestinationState.DELIVERED);
              assertThat(d.attempts()).isEqualTo(1);
              assertThat(d.lastOutcome()).contains(new ReportOutcome.Delivered("HTTP 200"));
            });
    RecordedRequest post = posts("/ok").get(0);
    assertThat(post.getHeaders().get("Content-Type")).isEqualTo("application/tlsrpt+gzip");
    try (GZIPInputStream in =
        new GZIPInputStream(new ByteArrayInputStream(post.getBody().toByteArray()))) {
      assertThat(in.readAllBytes()).isEqualTo(ok.report().orElseThrow().json());
    }
    assertThat(run.settledDays()).containsExactly(DAY);
    assertThat(counts.read(DAY)).isEmpty();
    assertThat(r.pending()).isEmpty();
    assertThat(listener.events)
        .containsExactly("delivered ok.rpt.test " + ok.destinations().get(0).uri() + " 1");

    // A second flush of the same day writes nothing more.
    assertThat(r.flush(DAY).reports()).isEmpty();
    assertThat(posts("/ok")).hasSize(1);
  }

  /**
   * A day whose counts the store cannot give (a corrupt or oversized day in a shared store) is left
   * for the next run; the days after it are still reported and the retries still run, and the run
   * then says what failed. Before, the first such day ended the run: no later day was ever reported
   * while it stayed unreadable.
   */
  @Test
  void aDayTheStoreCannotGiveHoldsNoOtherDaysReportBack() throws Exception {
    LocalDate bad = DAY.minusDays(1);
    count(bad, "ok.rpt.test", 1);
    count(DAY, "ok.rpt.test", 2);
    IOException unreadable = new IOException("the counts of " + bad + " are unreadable");
    AggregateStore store =
        new AggregateStore() {
          @Override
          public void merge(LocalDate day, Map<AppliedPolicy, PolicyCounts> c) throws IOException {
            counts.merge(day, c);
          }

          @Override
          public Map<AppliedPolicy, PolicyCounts> read(LocalDate day) throws IOException {
            if (day.equals(bad)) {
              throw unreadable;
            }
            return counts.read(day);
          }

          @Override
          public SortedSet<LocalDate> days() throws IOException {
            return counts.days();
          }

          @Override
          public void discard(LocalDate day) throws IOException {
            counts.discard(day);
          }

          @Override
          public void close() {}
        };
    TlsRptReporter r = reporter(new InMemoryPendingReportStore(), store).build();

    assertThatThrownBy(r::runDue).isSameAs(unreadable);
    assertThat(posts("/ok")).hasSize(1);
    assertThat(counts.read(DAY)).as("the readable day was reported and settled").isEmpty();
    assertThat(counts.read(bad)).as("the unreadable day is kept for a later run").isNotEmpty();
  }

  @Test
  void aFailedPostIsTriedAgainLaterWithTheSameReport() throws Exception {
    script("/flaky", 500, 200);
    count(DAY, "flaky.rpt.test", 3);
    TlsRptReporter r = reporter();
    Instant start = clock.instant();

    PendingReport first = r.flush(DAY).reports().get(0);
    assertThat(first.stage()).isEqualTo(PendingReport.Stage.DELIVERING);
    assertThat(first.nextAttempt()).contains(start.plus(Duration.ofMinutes(15)));
    assertThat(counts.read(DAY)).isNotEmpty(); // not settled: the counts stay

    clock.advance(Duration.ofMinutes(14));
    assertThat(r.retryDue().reports()).isEmpty(); // not due yet
    assertThat(posts("/flaky")).hasSize(1);

    clock.advance(Duration.ofMinutes(1));
    DeliveryRun second = r.retryDue();
    PendingReport after = second.reports().get(0);
    assertThat(after.stage()).isEqualTo(PendingReport.Stage.DELIVERED);
    assertThat(after.destinations().get(0).attempts()).isEqualTo(2);
    assertThat(second.settledDays()).containsExactly(DAY);
    assertThat(counts.read(DAY)).isEmpty();

    List<RecordedRequest> posts = posts("/flaky");
    assertThat(posts).hasSize(2);
    assertThat(reportId(posts.get(1)))
        .isEqualTo(reportId(posts.get(0)))
        .isEqualTo(first.report().orElseThrow().reportId());
    assertThat(listener.events)
        .containsExactly(
            "deferred flaky.rpt.test " + first.destinations().get(0).uri() + " 1",
            "delivered flaky.rpt.test " + first.destinations().get(0).uri() + " 2");
  }

  @Test
  void anEndpointThatNeverWorksIsTriedForTheWholePeriodThenAbandonedAndReportedOnce()
      throws Exception {
    count(DAY, "dead.rpt.test", 1);
    TlsRptReporter r = reporter();
    Instant start = clock.instant();
    List<Instant> attempts = new ArrayList<>();
    attempts.add(start);
    PendingReport state = r.flush(DAY).reports().get(0);
    while (!state.settled()) {
      assertThat(counts.read(DAY)).isNotEmpty();
      assertThat(r.pending()).extracting(PendingReport::key).containsExactly(state.key());
      Instant next = state.nextAttempt().orElseThrow();
      clock.set(next);
      attempts.add(next);
      DeliveryRun run = r.retryDue();
      state = run.reports().get(0);
    }
    assertThat(state.stage()).isEqualTo(PendingReport.Stage.ABANDONED);
    // RFC 8460 §5.5: up to 24 hours after the first attempt, the waits doubling from 15 minutes.
    assertThat(attempts)
        .extracting(t -> Duration.between(start, t).toMinutes())
        .containsExactly(0L, 15L, 45L, 105L, 225L, 465L, 705L, 945L, 1185L, 1425L, 1440L);
    assertThat(posts("/dead")).hasSize(11);
    assertThat(counts.read(DAY)).isEmpty();
    assertThat(r.pending()).isEmpty();

    URI dest = state.destinations().get(0).uri();
    assertThat(listener.events).filteredOn(e -> e.startsWith("deferred")).hasSize(10);
    assertThat(listener.events)
        .filteredOn(e -> e.startsWith("abandoned"))
        .containsExactly("abandoned dead.rpt.test " + dest + " 11 HTTP 500");

    clock.advance(Duration.ofDays(2));
    assertThat(r.retryDue().reports()).isEmpty();
    assertThat(r.flush(DAY).reports()).isEmpty();
    assertThat(posts("/dead")).hasSize(11);
    assertThat(listener.events).filteredOn(e -> e.startsWith("abandoned")).hasSize(1);
  }

  @Test
  void pendingReportsSurviveARestart(@TempDir Path dir) throws Exception {
    script("/flaky", 503, 200);
    count(DAY, "flaky.rpt.test", 2);
    String firstId;
    try (FilePendingReportStore store = FilePendingReportStore.open(dir)) {
      PendingReport p = reporter(store).build().flush(DAY).reports().get(0);
      assertThat(p.stage()).isEqualTo(PendingReport.Stage.DELIVERING);
      firstId = p.report().orElseThrow().reportId();
    }
    assertThat(dir.resolve("2025-03-01_flaky.rpt.test.json")).isRegularFile();

    clock.advance(Duration.ofMinutes(15));
    try (FilePendingReportStore store = FilePendingReportStore.open(dir)) {
      TlsRptReporter second = reporter(store).build();
      assertThat(second.pending())
          .singleElement()
          .satisfies(p -> assertThat(p.report()).isPresent());
      DeliveryRun run = second.retryDue();
      assertThat(run.reports().get(0).stage()).isEqualTo(PendingReport.Stage.DELIVERED);
      assertThat(run.settledDays()).containsExactly(DAY);
      assertThat(second.pending()).isEmpty();
    }
    List<RecordedRequest> posts = posts("/flaky");
    assertThat(posts).hasSize(2);
    assertThat(posts).extracting(TlsRptReporterTest::reportId).containsOnly(firstId);
    assertThat(counts.read(DAY)).isEmpty();
  }

  @Test
  void aReportWrittenBeforeACrashIsTheOneSentAfterIt(@TempDir Path dir) throws Exception {
    count(DAY, "ok.rpt.test", 6);
    // The state a crash leaves between keeping the written report and its first delivery.
    TlsRptReport written =
        TlsRptReportWriter.builder()
            .organizationName("Sender Inc.")
            .contactInfo("tlsrpt@sender.test")
            .submitter(DomainName.of("sender.test"))
            .build()
            .write(DAY, counts.read(DAY))
            .get(0);
    URI dest = URI.create("https://" + HOST + ":" + web.getPort() + "/ok");
    try (FilePendingReportStore store = FilePendingReportStore.open(dir)) {
      store.save(
          new PendingReport(
              DAY,
              DomainName.of("ok.rpt.test"),
              PendingReport.Stage.DELIVERING,
              Optional.of(written),
              List.of(PendingReport.Destination.fresh(dest, clock.instant())),
              0,
              Optional.of(clock.instant()),
              Optional.empty(),
              "written"));
    }
    try (FilePendingReportStore store = FilePendingReportStore.open(dir)) {
      DeliveryRun run = reporter(store).build().flush(DAY);
      assertThat(run.reports())
          .singleElement()
          .satisfies(p -> assertThat(p.stage()).isEqualTo(PendingReport.Stage.DELIVERED));
      assertThat(run.settledDays()).containsExactly(DAY);
    }
    assertThat(posts("/ok"))
        .extracting(TlsRptReporterTest::reportId)
        .containsExactly(written.reportId());
  }

  @Test
  void settledEntriesLeftByACrashAfterTheDiscardAreRemoved() throws Exception {
    InMemoryPendingReportStore store = new InMemoryPendingReportStore();
    // Counts already discarded, entries not yet removed: what a crash between the two leaves.
    store.save(
        PendingReport.discovering(DAY, DomainName.of("none.rpt.test"), clock.instant())
            .withStage(PendingReport.Stage.NOT_REQUESTED, "no report"));
    TlsRptReporter r = reporter(store).build();
    DeliveryRun run = r.retryDue();
    assertThat(run.settledDays()).isEmpty();
    assertThat(r.pending()).isEmpty();
    assertThat(requests).isEmpty();
  }

  @Test
  void aFailedLookupIsTriedAgainNeverReadAsNoReporting() throws Exception {
    dns.servfail("_smtp._tls.fails.rpt.test", Type.TXT);
    count(DAY, "fails.rpt.test", 5);
    TlsRptReporter r = reporter();

    PendingReport p = r.flush(DAY).reports().get(0);
    assertThat(p.stage()).isEqualTo(PendingReport.Stage.DISCOVERING);
    assertThat(p.lookups()).isEqualTo(1);
    assertThat(p.report()).isEmpty();
    assertThat(counts.read(DAY)).isNotEmpty();
    assertThat(listener.events)
        .singleElement()
        .satisfies(e -> assertThat(e).startsWith("discoveryFailed fails.rpt.test 1 next"));

    dns.clearFaults();
    clock.advance(Duration.ofMinutes(15));
    PendingReport after = r.retryDue().reports().get(0);
    assertThat(after.stage()).isEqualTo(PendingReport.Stage.DELIVERED);
    assertThat(posts("/ok")).hasSize(1);
    assertThat(counts.read(DAY)).isEmpty();
  }

  @Test
  void aLookupThatTimesOutIsTriedAgain() throws Exception {
    dns.drop("_smtp._tls.fails.rpt.test", Type.TXT);
    count(DAY, "fails.rpt.test", 2);
    DnssecResolver impatient =
        DnssecResolver.builder()
            .upstream(dns.socketAddress())
            .trustAnchors(TrustAnchors.parse(dns.trustAnchor()))
            // Short enough that the dropped query times out soon, long enough that the retry's
            // whole chain (TXT, DNSKEY, DS) completes on a loaded machine.
            .queryTimeout(Duration.ofSeconds(1))
            .lookupTimeout(Duration.ofSeconds(4))
            .cacheSize(0)
            .failureCacheTtl(Duration.ZERO)
            .build();
    TlsRptReporter r =
        TlsRptReporter.builder()
            .aggregateStore(counts)
            .discovery(TlsRptDiscovery.builder().dns(impatient).clock(clock).cacheSize(0).build())
            .writer(
                TlsRptReportWriter.builder()
                    .organizationName("Sender Inc.")
                    .contactInfo("tlsrpt@sender.test")
                    .submitter(DomainName.of("sender.test"))
                    .build())
            .channels(
                List.of(
                    HttpsReportSender.builder()
                        .client(client)
                        .dns(resolver)
                        .maxAttempts(1)
                        .build()))
            .clock(clock)
            .listener(listener)
            .build();
    PendingReport p = r.flush(DAY).reports().get(0);
    assertThat(p.stage()).isEqualTo(PendingReport.Stage.DISCOVERING);
    assertThat(p.detail()).contains("_smtp._tls.fails.rpt.test");
    assertThat(counts.read(DAY)).isNotEmpty();

    dns.clearFaults();
    clock.advance(Duration.ofMinutes(15));
    PendingReport after = r.retryDue().reports().get(0);
    assertThat(after.stage()).as(after.detail()).isEqualTo(PendingReport.Stage.DELIVERED);
    assertThat(posts("/ok")).hasSize(1);
    assertThat(counts.read(DAY)).isEmpty();
  }

  @Test
  void aLookupThatFailsForTheWholePeriodIsAbandonedAndReported() throws Exception {
    dns.servfail("_smtp._tls.fails.rpt.test", Type.TXT);
    count(DAY, "fails.rpt.test", 5);
    TlsRptReporter r = reporter();
    PendingReport p = r.flush(DAY).reports().get(0);
    while (!p.settled()) {
      clock.set(p.nextAttempt().orElseThrow());
      p = r.retryDue().reports().get(0);
    }
    assertThat(p.stage()).isEqualTo(PendingReport.Stage.ABANDONED);
    assertThat(p.lookups()).isEqualTo(11);
    assertThat(listener.events).hasSize(11);
    assertThat(listener.events.get(10)).isEqualTo("discoveryFailed fails.rpt.test 11 gave up");
    assertThat(requests).isEmpty();
    assertThat(counts.read(DAY)).isEmpty();
  }

  @Test
  void aDomainWithoutARecordGetsNoReportAndItsCountsAreStillSettled() throws Exception {
    count(DAY, "none.rpt.test", 7);
    count(DAY, "ok.rpt.test", 1);
    TlsRptReporter r = reporter();
    DeliveryRun run = r.flush(DAY);
    PendingReport none = run.report(DAY, DomainName.of("none.rpt.test")).orElseThrow();
    assertThat(none.stage()).isEqualTo(PendingReport.Stage.NOT_REQUESTED);
    assertThat(none.report()).isEmpty();
    assertThat(run.report(DAY, DomainName.of("ok.rpt.test")).orElseThrow().stage())
        .isEqualTo(PendingReport.Stage.DELIVERED);
    assertThat(requests).hasSize(1);
    assertThat(run.settledDays()).containsExactly(DAY);
    assertThat(counts.read(DAY)).isEmpty();
    assertThat(listener.events).contains("notRequested none.rpt.test");
  }

  @Test
  void aDestinationNoChannelDeliversIsGivenUpAndReportedWhileTheOthersTakeTheReport()
      throws Exception {
    count(DAY, "mixed.rpt.test", 1);
    PendingReport p = reporter().flush(DAY).reports().get(0);
    assertThat(p.stage()).isEqualTo(PendingReport.Stage.DELIVERED);
    assertThat(p.destinations())
        .extracting(d -> d.uri().getScheme() + " " + d.state())
        .containsExactly("mailto ABANDONED", "https DELIVERED");
    assertThat(listener.events)
        .contains(
            "abandoned mixed.rpt.test mailto:tls@rpt.test 0 no channel delivers mailto: destinations");
  }

  @Test
  void aReportClaimedByAnotherProcessIsLeftToIt() throws Exception {
    count(DAY, "ok.rpt.test", 1);
    InProcessReportClaim fleet = new InProcessReportClaim(clock);
    String key = "tlsrpt/" + DAY + "/ok.rpt.test";
    assertThat(fleet.tryClaim(key, Duration.ofMinutes(5))).isTrue(); // the other process
    TlsRptReporter r = reporter(new InMemoryPendingReportStore()).claim(fleet).build();

    DeliveryRun run = r.flush(DAY);
    assertThat(run.claimedElsewhere()).containsExactly(key);
    assertThat(requests).isEmpty();
    assertThat(counts.read(DAY)).isNotEmpty();

    clock.advance(Duration.ofMinutes(5)); // the other's lease ran out
    assertThat(r.flush(DAY).report(DAY, DomainName.of("ok.rpt.test")).orElseThrow().stage())
        .isEqualTo(PendingReport.Stage.DELIVERED);
    assertThat(fleet.tryClaim(key, Duration.ofMinutes(5))).isTrue(); // released after the run
  }

  /**
   * RFC 8460 §4.1, one report per policy domain and day, across a fleet: a process whose report
   * waits for a retry keeps its claim until that retry, so another process sharing the counts
   * writes no second report (with a report-id of its own) meanwhile; the one report goes out when
   * its writer tries again.
   */
  @Test
  void aReportWaitingForItsRetryStaysWithTheProcessThatWroteIt() throws Exception {
    script("/flaky", 503, 200);
    count(DAY, "flaky.rpt.test", 2);
    InProcessReportClaim fleet = new InProcessReportClaim(clock);
    String key = "tlsrpt/" + DAY + "/flaky.rpt.test";
    TlsRptReporter writer = reporter(new InMemoryPendingReportStore()).claim(fleet).build();
    TlsRptReporter other = reporter(new InMemoryPendingReportStore()).claim(fleet).build();

    PendingReport first = writer.flush(DAY).reports().get(0);
    assertThat(first.stage()).isEqualTo(PendingReport.Stage.DELIVERING);
    assertThat(other.flush(DAY).claimedElsewhere()).containsExactly(key);
    // Past the retry time and the lease after the first attempt: still the writer's until it
    // tries again.
    clock.advance(Duration.ofMinutes(40));
    assertThat(other.flush(DAY).claimedElsewhere()).containsExactly(key);
    assertThat(posts("/flaky")).hasSize(1);

    PendingReport after = writer.retryDue().reports().get(0);
    assertThat(after.stage()).isEqualTo(PendingReport.Stage.DELIVERED);
    assertThat(other.flush(DAY).reports()).isEmpty(); // settled: its counts are gone
    List<RecordedRequest> posts = posts("/flaky");
    assertThat(posts).hasSize(2);
    assertThat(reportId(posts.get(1)))
        .isEqualTo(reportId(posts.get(0)))
        .isEqualTo(first.report().orElseThrow().reportId());
    assertThat(fleet.tryClaim(key, Duration.ofMinutes(5))).isTrue(); // released once settled
  }

  @Test
  void startRunsOnTheGivenExecutorAndCloseCancelsOnlyThat() throws Exception {
    count(DAY, "ok.rpt.test", 1);
    ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor();
    try {
      CountDownLatch delivered = new CountDownLatch(1);
      TlsRptReporter r =
          TlsRptReporter.builder()
              .aggregateStore(counts)
              .discovery(TlsRptDiscovery.builder().dns(resolver).clock(clock).build())
              .writer(
                  TlsRptReportWriter.builder()
                      .organizationName("Sender Inc.")
                      .contactInfo("tlsrpt@sender.test")
                      .submitter(DomainName.of("sender.test"))
                      .build())
              .channels(
                  List.of(
                      HttpsReportSender.builder()
                          .client(client)
                          .dns(resolver)
                          .maxAttempts(1)
                          .build()))
              .clock(clock)
              .listener(
                  new TlsRptReporter.Listener() {
                    @Override
                    public void reportDelivered(
                        TlsRptReport report,
                        URI destination,
                        ReportOutcome.Delivered outcome,
                        int attempts) {
                      delivered.countDown();
                    }
                  })
              .scheduler(executor, Duration.ofHours(1))
              .build();
      assertThat(requests).isEmpty(); // building starts nothing
      r.start();
      assertThat(delivered.await(30, TimeUnit.SECONDS)).isTrue();
      r.close();
      assertThat(executor.isShutdown()).isFalse(); // the application's executor stays
      assertThat(posts("/ok")).hasSize(1);
    } finally {
      executor.shutdownNow();
    }
  }

  @Test
  void withoutASchedulerStartRefusesAndNothingRuns() throws Exception {
    count(DAY, "ok.rpt.test", 1);
    TlsRptReporter r = reporter();
    org.assertj.core.api.Assertions.assertThatThrownBy(r::start)
        .isInstanceOf(IllegalStateException.class);
    assertThat(requests).isEmpty();
    r.close();
  }

  /** Records the listener's calls, one line each. */
  static final class Recorder implements TlsRptReporter.Listener {
    final List<String> events = Collections.synchronizedList(new ArrayList<>());

    @Override
    public void reportDelivered(
        TlsRptReport report, URI destination, ReportOutcome.Delivered outcome, int attempts) {
      events.add("delivered " + report.policyDomain() + " " + destination + " " + attempts);
    }

    @Override
    public void reportDeferred(
        TlsRptReport report,
        URI destination,
        ReportOutcome.NotDelivered outcome,
        int attempts,
        Instant nextAttempt) {
      events.add("deferred " + report.policyDomain() + " " + destination + " " + attempts);
    }

    @Override
    public void reportAbandoned(
        TlsRptReport report, URI destination, ReportOutcome.NotDelivered last, int attempts) {
      events.add(
          "abandoned "
              + report.policyDomain()
              + " "
              + destination
              + " "
              + attempts
              + " "
              + last.detail());
    }

    @Override
    public void discoveryFailed(
        LocalDate day,
        DomainName policyDomain,
        String reason,
        int attempts,
        Optional<Instant> nextAttempt) {
      events.add(
          "discoveryFailed "
              + policyDomain
              + " "
              + attempts
              + (nextAttempt.isPresent() ? " next " + nextAttempt.get() : " gave up"));
    }

    @Override
    public void notRequested(LocalDate day, DomainName policyDomain, String reason) {
      events.add("notRequested " + policyDomain);
    }
  }
}
