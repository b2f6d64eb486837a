package io.mailtls.tlsrpt;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DomainName;
import io.mailtls.core.Envelope;
import io.mailtls.core.MessageContent;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.testkit.FakeClock;
import io.mailtls.testkit.MockSmtpServer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 16 end to end, with real components only: deliveries through a {@link SecureSmtpTransport}
 * (real MTA-STS over HTTPS, real DANE, signed DNS, STARTTLS at mock servers on loopback) counted by
 * a {@link TlsRptAggregator} into a {@link FileAggregateStore}, the store reopened as after a
 * restart, each domain's {@code _smtp._tls} record discovered, and the day's reports written: one
 * per policy domain, whose counts are the sessions the servers saw.
 */
class TlsRptEndToEndTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static RptWorld world;

  @BeforeAll
  static void start() {
    world = new RptWorld();
  }

  @AfterAll
  static void stop() {
    world.close();
  }

  private static int sessions(String host) {
    return world.server(host).sessions().size();
  }

  @Test
  void oneReportPerPolicyDomainWithTheDeliveriesCounts(@TempDir Path dir) throws Exception {
    FakeClock clock = new FakeClock(Instant.parse("2025-03-01T10:00:00Z"));
    LocalDate day = LocalDate.parse("2025-03-01");
    Path log = dir.resolve("tlsrpt.log");
    List<String> hosts =
        List.of(
            "mx.good.rpt.test",
            "mx.plain.rpt.test",
            "mx1.sts.rpt.test",
            "mx2.sts.rpt.test",
            "mx.dane.rpt.test",
            "mx.dane-bad.rpt.test");
    Map<String, Integer> before = new HashMap<>();
    hosts.forEach(h -> before.put(h, sessions(h)));

    try (FileAggregateStore store = FileAggregateStore.open(log)) {
      TlsRptAggregator aggregator = TlsRptAggregator.builder().store(store).clock(clock).build();
      try (SecureSmtpTransport t = world.transport(aggregator)) {
        MessageContent content = MessageContent.of(RptWorld.MESSAGE);
        for (int i = 0; i < 3; i++) {
          // two recipients of one domain share the domain's sessions
          DeliveryReport r =
              t.send(Envelope.of(RptWorld.SENDER, "b@sts.rpt.test", "c@sts.rpt.test"), content);
          assertThat(r.allDelivered()).as("%s", r).isTrue();
          clock.advance(Duration.ofMinutes(7));
        }
        for (int i = 0; i < 2; i++) {
          assertThat(
                  t.send(Envelope.of(RptWorld.SENDER, "b@dane.rpt.test"), content).allDelivered())
              .isTrue();
          DeliveryReport both =
              t.send(Envelope.of(RptWorld.SENDER, "b@good.rpt.test", "b@plain.rpt.test"), content);
          assertThat(both.allDelivered()).isTrue();
        }
        DeliveryReport bad = t.send(Envelope.of(RptWorld.SENDER, "b@dane-bad.rpt.test"), content);
        assertThat(bad.result("b@dane-bad.rpt.test").status()).isEqualTo(DeliveryStatus.DEFERRED);
      }
      assertThat(aggregator.failedMerges()).isZero();
    }
    Map<String, Integer> seen = new HashMap<>();
    for (String h : hosts) {
      // every session the transport opened has been accepted by now; wait for the count
      MockSmtpServer s = world.server(h);
      int expected = before.get(h) + expectedSessions(h);
      s.awaitSessions(expected, Duration.ofSeconds(5));
      seen.put(h, s.sessions().size() - before.get(h));
    }
    assertThat(seen)
        .containsEntry("mx1.sts.rpt.test", 3)
        .containsEntry("mx2.sts.rpt.test", 3)
        .containsEntry("mx.dane.rpt.test", 2)
        .containsEntry("mx.good.rpt.test", 2)
        .containsEntry("mx.plain.rpt.test", 2)
        .containsEntry("mx.dane-bad.rpt.test", 1);

    // A restart: the counts come back from the log.
    List<TlsRptReport> reports;
    try (FileAggregateStore store = FileAggregateStore.open(log)) {
      assertThat(store.recovery()).isEmpty();
      reports =
          TlsRptReportWriter.builder()
              .organizationName("Sender Inc.")
              .contactInfo("tlsrpt@sender.test")
              .submitter(DomainName.of("sender.test"))
              .random(new Random(16))
              .build()
              .write(day, store.read(day));
    }
    assertThat(reports)
        .extracting(r -> r.policyDomain().toString())
        .containsExactly(
            "dane-bad.rpt.test",
            "dane.rpt.test",
            "good.rpt.test",
            "plain.rpt.test",
            "sts.rpt.test");

    TlsRptDiscovery discovery = TlsRptDiscovery.builder().dns(world.resolver).build();
    for (TlsRptReport r : reports) {
      // Read back as a receiver would: gunzip, parse, validate.
      JsonNode json;
      try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(r.gzip()))) {
        json = JSON.readTree(in);
      }
      assertThat(ReportSchema.validate(json)).as("%s", r).isEmpty();
      assertThat(json.at("/date-range/start-datetime").asText()).isEqualTo("2025-03-01T00:00:00Z");
      assertThat(json.get("policies")).hasSize(1);
      TlsRptLookup found = discovery.lookup(r.policyDomain());
      assertThat(found)
          .isInstanceOfSatisfying(
              TlsRptLookup.Found.class,
              f ->
                  assertThat(f.record().rua())
                      .containsExactly(URI.create("mailto:tlsrpt@" + r.policyDomain())));
    }
    JsonNode sts = policy(reports, "sts.rpt.test");
    assertThat(sts.at("/policy/policy-type").asText()).isEqualTo("sts");
    assertThat(sts.at("/policy/mx-host").toString())
        .isEqualTo("[\"mx1.sts.rpt.test\",\"mx2.sts.rpt.test\"]");
    assertSummary(sts, seen.get("mx2.sts.rpt.test"), seen.get("mx1.sts.rpt.test"));
    assertThat(sts.get("failure-details")).hasSize(1);
    JsonNode mismatch = sts.get("failure-details").get(0);
    assertThat(mismatch.get("result-type").asText()).isEqualTo("certificate-host-mismatch");
    assertThat(mismatch.get("receiving-mx-hostname").asText()).isEqualTo("mx1.sts.rpt.test");
    assertThat(mismatch.get("receiving-ip").asText())
        .isEqualTo(world.server("mx1.sts.rpt.test").address().getHostAddress());
    assertThat(mismatch.get("failed-session-count").asInt())
        .isEqualTo(seen.get("mx1.sts.rpt.test"));
    // What the session knew of both ends, though the handshake failed and it was closed.
    assertThat(mismatch.get("receiving-mx-helo").asText()).isEqualTo("mx1.sts.rpt.test");
    assertThat(java.net.InetAddress.getByName(mismatch.get("sending-mta-ip").asText()))
        .matches(java.net.InetAddress::isLoopbackAddress);
    assertThat(mismatch.get("additional-information").asText())
        .isEqualTo("https://www.rfc-editor.org/rfc/rfc8460#section-4.3.1");

    JsonNode dane = policy(reports, "dane.rpt.test");
    assertThat(dane.at("/policy/policy-type").asText()).isEqualTo("tlsa");
    assertThat(dane.at("/policy/policy-string/0").asText()).startsWith("3 1 1 ");
    assertSummary(dane, seen.get("mx.dane.rpt.test"), 0);

    JsonNode daneBad = policy(reports, "dane-bad.rpt.test");
    assertSummary(daneBad, 0, seen.get("mx.dane-bad.rpt.test"));

    assertSummary(policy(reports, "good.rpt.test"), seen.get("mx.good.rpt.test"), 0);
    JsonNode plain = policy(reports, "plain.rpt.test");
    assertThat(plain.at("/policy/policy-type").asText()).isEqualTo("no-policy-found");
    assertSummary(plain, 0, seen.get("mx.plain.rpt.test"));
    assertThat(plain.at("/failure-details/0/result-type").asText())
        .isEqualTo("starttls-not-supported");
  }

  private static int expectedSessions(String host) {
    return switch (host) {
      case "mx1.sts.rpt.test", "mx2.sts.rpt.test" -> 3;
      case "mx.dane-bad.rpt.test" -> 1;
      default -> 2;
    };
  }

  private static JsonNode policy(List<TlsRptReport> reports, String domain) throws IOException {
    TlsRptReport r =
        reports.stream()
            .filter(x -> x.policyDomain().toString().equals(domain))
            .findFirst()
            .orElseThrow();
    return JSON.readTree(r.json()).get("policies").get(0);
  }

  private static void assertSummary(JsonNode policy, long successes, long failures) {
    assertThat(policy.at("/summary/total-successful-session-count").asLong())
        .as("successes of %s", policy.at("/policy/policy-domain"))
        .isEqualTo(successes);
    assertThat(policy.at("/summary/total-failure-session-count").asLong())
        .as("failures of %s", policy.at("/policy/policy-domain"))
        .isEqualTo(failures);
    long details = 0;
    for (JsonNode d : policy.path("failure-details")) {
      details += d.get("failed-session-count").asLong();
    }
    assertThat(details).isEqualTo(failures);
  }
}
