package io.mailtls.tlsrpt;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DomainName;
import io.mailtls.core.Envelope;
import io.mailtls.core.MessageContent;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.testkit.FakeClock;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A message with {@code TLS-Required: No} (RFC 8689 §4.2.2) to a domain whose MX has secure TLSA
 * records none of which is usable (RFC 7672 §2.2: TLS required, unauthenticated). The session is
 * one session: RFC 8460 §4.3/§4.4 count it once, under the domain's policy (tlsa, a tlsa-invalid
 * failure), as without the header; never both a success under no-policy-found and a failure under
 * tlsa.
 */
class TlsRequiredNoUnusableTlsaTest {

  private static RptWorld world;

  @BeforeAll
  static void start() {
    world = new RptWorld();
  }

  @AfterAll
  static void stop() {
    world.close();
  }

  @Test
  void oneSessionIsCountedOnce() {
    FakeClock clock = new FakeClock(Instant.parse("2025-03-21T12:00:00Z"));
    InMemoryAggregateStore store = new InMemoryAggregateStore();
    TlsRptAggregator aggregator = TlsRptAggregator.builder().store(store).clock(clock).build();
    byte[] message =
        ("From: a@sender.test\r\nTo: b@rpt.test\r\nTLS-Required: No\r\n"
                + "Subject: tls-rpt test\r\n\r\nHello.\r\n")
            .getBytes(StandardCharsets.US_ASCII);
    DeliveryReport report;
    try (SecureSmtpTransport t = world.transport(aggregator)) {
      report =
          t.send(
              Envelope.of(RptWorld.SENDER, "b@tlsa-unusable.rpt.test"), MessageContent.of(message));
    }
    assertThat(report.allDelivered()).as("%s", report).isTrue();
    assertThat(report.result("b@tlsa-unusable.rpt.test").attempts()).hasSize(1);
    Map<AppliedPolicy, PolicyCounts> day = store.read(LocalDate.parse("2025-03-21"));
    long sessions =
        day.values().stream().mapToLong(c -> c.successfulSessions() + c.failedSessions()).sum();
    assertThat(sessions).as("sessions counted for one session: %s", day).isEqualTo(1);
    assertThat(day)
        .doesNotContainKey(AppliedPolicy.noPolicy(DomainName.of("tlsa-unusable.rpt.test")));
  }
}
