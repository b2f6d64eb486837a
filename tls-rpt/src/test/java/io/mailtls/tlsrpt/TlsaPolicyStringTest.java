package io.mailtls.tlsrpt;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DomainName;
import io.mailtls.core.Envelope;
import io.mailtls.core.MessageContent;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.TlsLevel;
import io.mailtls.testkit.FakeClock;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * RFC 8460 §4.4: a report's policy of {@code policy-type} {@code tlsa} carries the TLSA records as
 * its {@code policy-string}. Secure records none of which is usable (RFC 7672 §2.2, {@code
 * tlsa-invalid}) are records all the same: the failure decided while planning carries them, whether
 * the host is then skipped ({@code dane-required}) or used with TLS unauthenticated.
 */
class TlsaPolicyStringTest {

  private static RptWorld world;

  @BeforeAll
  static void start() {
    world = new RptWorld();
  }

  @AfterAll
  static void stop() {
    world.close();
  }

  /** At {@code dane-required} the host is never used: one failed session without a connection. */
  @Test
  void tlsaInvalidDecidedWhilePlanningReportsTheRecords() {
    FakeClock clock = new FakeClock(Instant.parse("2025-03-22T12:00:00Z"));
    InMemoryAggregateStore store = new InMemoryAggregateStore();
    TlsRptAggregator aggregator = TlsRptAggregator.builder().store(store).clock(clock).build();
    DeliveryReport report;
    try (SecureSmtpTransport t = world.transport(aggregator, TlsLevel.DANE_REQUIRED)) {
      report =
          t.send(
              Envelope.of(RptWorld.SENDER, "b@tlsa-unusable.rpt.test"),
              MessageContent.of(RptWorld.MESSAGE));
    }
    assertThat(report.result("b@tlsa-unusable.rpt.test").status())
        .as("%s", report)
        .isEqualTo(DeliveryStatus.DEFERRED);
    assertThat(report.result("b@tlsa-unusable.rpt.test").attempts()).isEmpty();
    Map<AppliedPolicy, PolicyCounts> day = store.read(LocalDate.parse("2025-03-22"));
    AppliedPolicy tlsa =
        new AppliedPolicy(
            PolicyType.TLSA,
            DomainName.of("tlsa-unusable.rpt.test"),
            List.of(world.unusableTlsa),
            List.of("mx.tlsa-unusable.rpt.test"));
    assertThat(day)
        .as("%s", day)
        .containsExactly(
            Map.entry(
                tlsa,
                PolicyCounts.failure(
                    new FailureDetail(
                        "tlsa-invalid",
                        Optional.empty(),
                        Optional.of("mx.tlsa-unusable.rpt.test"),
                        Optional.empty(),
                        Optional.empty(),
                        Optional.of("TLSA_INVALID"),
                        Optional.of("https://www.rfc-editor.org/rfc/rfc8460#section-4.3.2.1")))));
  }
}
