package io.mailtls.tlsrpt;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * RFC 8460 §4.4, §4.5: a report's policy of {@code policy-type} {@code sts} carries as its {@code
 * policy-string} "the policy that is declared by the receiving site": the lines of the policy file
 * the domain serves, in its order and spelling, the extension fields a sender ignores (RFC 8461
 * §3.2) included, not a policy rebuilt from the fields the sender parsed.
 */
class StsPolicyStringTest {

  private static final JsonMapper JSON = JsonMapper.builder().build();

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
  void theReportNamesThePolicyLinesAsServed() throws Exception {
    FakeClock clock = new FakeClock(Instant.parse("2025-03-23T12:00:00Z"));
    InMemoryAggregateStore store = new InMemoryAggregateStore();
    TlsRptAggregator aggregator = TlsRptAggregator.builder().store(store).clock(clock).build();
    String rcpt = "b@" + RptWorld.DECLARED;
    DeliveryReport report;
    try (SecureSmtpTransport t = world.transport(aggregator, TlsLevel.OPPORTUNISTIC)) {
      report = t.send(Envelope.of(RptWorld.SENDER, rcpt), MessageContent.of(RptWorld.MESSAGE));
    }
    assertThat(report.result(rcpt).status()).as("%s", report).isEqualTo(DeliveryStatus.DELIVERED);

    LocalDate day = LocalDate.parse("2025-03-23");
    Map<AppliedPolicy, PolicyCounts> counts = store.read(day);
    TlsRptReport written =
        TlsRptReportWriter.builder()
            .organizationName("Sender Org")
            .contactInfo("tlsrpt@" + RptWorld.SUBMITTER)
            .submitter(RptWorld.SUBMITTER)
            .random(new Random(1))
            .build()
            .write(day, DomainName.of(RptWorld.DECLARED), counts);
    JsonNode json = JSON.readTree(written.json());
    assertThat(json.get("policies")).as("%s", json).hasSize(1);
    JsonNode policy = json.at("/policies/0/policy");
    assertThat(policy.get("policy-type").asText()).isEqualTo("sts");
    List<String> served = new ArrayList<>();
    policy.get("policy-string").forEach(l -> served.add(l.asText()));
    assertThat(served)
        .as("policy-string of %s", policy)
        .containsExactly(
            "mode: enforce",
            "mx: mx.declared.rpt.test",
            "max_age: 0000086400",
            "version: STSv1",
            "x-policy-owner: hostmaster at declared.rpt.test");
    assertThat(policy.get("mx-host").toString()).isEqualTo("[\"mx.declared.rpt.test\"]");
    assertThat(json.at("/policies/0/summary/total-successful-session-count").asInt()).isEqualTo(1);
  }
}
