package io.mailtls.tlsrpt;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DomainName;
import io.mailtls.core.Envelope;
import io.mailtls.core.EventListener;
import io.mailtls.core.MessageContent;
import io.mailtls.core.MtaStsMode;
import io.mailtls.core.PolicyFailure;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.testkit.FakeClock;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A REQUIRETLS message (RFC 8689 §4.2.1) to a domain whose MTA-STS {@code testing} policy lists its
 * one MX: the host is raised to PKIX on its MX name for the message, and the server's certificate
 * names another host. The failed session is counted under the {@code sts} policy (RFC 8460 §4.3
 * counts failures whatever the mode), while the event says the recipient's policy did not enforce
 * it (RFC 8461 §5: a {@code testing} policy enforces nothing; the message refused the host).
 */
class RequireTlsRaisedHostCountTest {

  private static final String RCPT = "b@testing-listed.rpt.test";

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
  void theFailedSessionCountsUnderTheTestingPolicyAndIsNotEnforced() {
    FakeClock clock = new FakeClock(Instant.parse("2025-03-22T12:00:00Z"));
    InMemoryAggregateStore store = new InMemoryAggregateStore();
    TlsRptAggregator aggregator = TlsRptAggregator.builder().store(store).clock(clock).build();
    List<PolicyFailure> events = new CopyOnWriteArrayList<>();
    EventListener seen =
        new EventListener() {
          @Override
          public void policyFailure(PolicyFailure failure) {
            events.add(failure);
          }
        };
    DeliveryReport report;
    try (SecureSmtpTransport t =
        world.transport(call -> EventListener.all(aggregator.create(call), seen))) {
      report =
          t.send(
              Envelope.of(RptWorld.SENDER, RCPT).requireTls(true),
              MessageContent.of(RptWorld.MESSAGE));
    }
    RecipientResult r = report.result(RCPT);
    assertThat(r.status()).as("%s", r).isNotEqualTo(DeliveryStatus.DELIVERED);
    assertThat(r.plan().mtaSts().orElseThrow().mode()).isEqualTo(MtaStsMode.TESTING);

    Map<AppliedPolicy, PolicyCounts> day = store.read(LocalDate.parse("2025-03-22"));
    AppliedPolicy sts =
        AppliedPolicy.sts(DomainName.of("testing-listed.rpt.test"), r.plan().mtaSts().get());
    assertThat(day.get(sts)).as("counts: %s", day).isNotNull();
    assertThat(day.get(sts).successfulSessions()).isZero();
    assertThat(day.get(sts).failedSessions()).isEqualTo(r.attempts().size());
    assertThat(day.get(sts).failures().keySet())
        .allSatisfy(d -> assertThat(d.resultType()).isEqualTo("certificate-host-mismatch"));
    assertThat(day)
        .doesNotContainKey(AppliedPolicy.noPolicy(DomainName.of("testing-listed.rpt.test")));

    assertThat(events).isNotEmpty().noneMatch(PolicyFailure::enforced);
  }
}
