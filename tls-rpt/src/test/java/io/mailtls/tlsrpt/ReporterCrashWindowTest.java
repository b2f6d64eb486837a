package io.mailtls.tlsrpt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailtls.core.DnssecResolver;
import io.mailtls.core.DomainName;
import io.mailtls.core.TrustAnchors;
import io.mailtls.testkit.FakeClock;
import io.mailtls.testkit.TestDnsServer;
import io.mailtls.testkit.TestPki;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reporter keeps a destination's result ({@code pending.save}) and then, in a second save, the
 * report's stage (DELIVERED once no destination is left). A process that dies between the two
 * leaves a DELIVERING entry with no pending destination: after a restart the entry must still be
 * settled, its day's counts discarded and the entry removed, without sending the report again.
 */
class ReporterCrashWindowTest {

  private static final String HOST = "reports.rpt.test";
  private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
  private static final LocalDate DAY = LocalDate.parse("2025-03-01");
  private static final TestPki PKI = TestPki.create();
  private static final AtomicInteger posts = new AtomicInteger();
  private static MockWebServer web;
  private static TestDnsServer dns;
  private static DnssecResolver resolver;
  private static OkHttpClient client;

  @BeforeAll
  static void startWorld() throws IOException {
    web = new MockWebServer();
    web.useHttps(PKI.root().leaf().dnsNames(HOST).issue().serverSslContext().getSocketFactory());
    web.setDispatcher(
        new Dispatcher() {
          @Override
          public MockResponse dispatch(RecordedRequest r) {
            posts.incrementAndGet();
            return new MockResponse.Builder().code(200).build();
          }
        });
    web.start(LOOPBACK, 0);
    String base = "https://" + HOST + ":" + web.getPort();
    dns =
        TestDnsServer.builder()
            .zone(
                "rpt.test",
                z ->
                    z.txt("_smtp._tls.ok.rpt.test", "v=TLSRPTv1; rua=" + base + "/ok")
                        .a(HOST, LOOPBACK.getHostAddress()))
            .start();
    resolver =
        DnssecResolver.builder()
            .upstream(dns.socketAddress())
            .trustAnchors(TrustAnchors.parse(dns.trustAnchor()))
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

  /** Stands for the process dying at the moment the listener is told. */
  private static final class Killed extends Error {
    Killed() {
      super("process killed");
    }
  }

  private static TlsRptReporter reporter(
      AggregateStore counts, PendingReportStore pending, FakeClock clock, boolean dies) {
    return TlsRptReporter.builder()
        .aggregateStore(counts)
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
        .listener(
            new TlsRptReporter.Listener() {
              @Override
              public void reportDelivered(
                  TlsRptReport report,
                  URI destination,
                  ReportOutcome.Delivered outcome,
                  int attempts) {
                if (dies) {
                  throw new Killed();
                }
              }
            })
        .build();
  }

  @Test
  void aCrashAfterTheLastDestinationIsKeptStillSettlesTheDay(@TempDir Path dir) throws Exception {
    FakeClock clock = new FakeClock(Instant.parse("2025-03-02T00:00:30Z"));
    InMemoryAggregateStore counts = new InMemoryAggregateStore(); // stands for a durable store
    counts.merge(
        DAY,
        Map.of(
            AppliedPolicy.noPolicy(DomainName.of("ok.rpt.test")),
            new PolicyCounts(4, 0, Map.of())));
    try (FilePendingReportStore pending = FilePendingReportStore.open(dir)) {
      TlsRptReporter dying = reporter(counts, pending, clock, true);
      assertThatThrownBy(() -> dying.flush(DAY)).isInstanceOf(Killed.class);
    }
    assertThat(posts.get()).isEqualTo(1);

    // Restart: the same stores, a new reporter; runs over the next two days.
    try (FilePendingReportStore pending = FilePendingReportStore.open(dir)) {
      TlsRptReporter restarted = reporter(counts, pending, clock, false);
      for (int i = 0; i < 8; i++) {
        clock.advance(Duration.ofHours(6));
        restarted.runDue();
      }
      assertThat(restarted.pending()).as("entries left").isEmpty();
    }
    assertThat(counts.days()).as("days still holding counts").isEmpty();
    assertThat(posts.get()).as("POSTs of the report").isEqualTo(1);
  }
}
