package io.mailtls.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.Authentication;
import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DomainName;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SecureSmtpTransport;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A real {@link SimpleMeterRegistry} after the four {@link ScriptedDeliveries} holds exactly the
 * expected counts: every series of every counter, and every timer's count.
 */
class MailtlsMetricsTest {

  private static ScriptedDeliveries peers;

  @BeforeAll
  static void start() throws Exception {
    peers = new ScriptedDeliveries();
  }

  @AfterAll
  static void stop() {
    peers.close();
  }

  /** Each series of {@code name} as "tag=value,..." to its count. */
  private static Map<String, Double> counters(MeterRegistry registry, String name) {
    Map<String, Double> out = new TreeMap<>();
    for (Counter c : registry.find(name).counters()) {
      out.put(tags(c), c.count());
    }
    return out;
  }

  private static String tags(Meter m) {
    return m.getId().getTags().stream()
        .map(t -> t.getKey() + "=" + t.getValue())
        .collect(Collectors.joining(","));
  }

  private static long timerCount(MeterRegistry registry, String name) {
    return registry.find(name).timers().stream().mapToLong(Timer::count).sum();
  }

  /** The outcomes the meters must count: the deliveries went as {@link ScriptedDeliveries} says. */
  private static void assertScriptedOutcomes(List<DeliveryReport> reports) {
    RecipientResult dane = reports.get(0).result("b@dane.example.test");
    RecipientResult opp = reports.get(1).result("b@opp.example.test");
    RecipientResult bounce = reports.get(2).result("b@bounce.example.test");
    RecipientResult mismatch = reports.get(3).result("b@mismatch.example.test");
    assertThat(dane.status()).as("%s", dane).isEqualTo(DeliveryStatus.DELIVERED);
    assertThat(dane.authentication()).contains(Authentication.VERIFIED);
    assertThat(opp.status()).as("%s", opp).isEqualTo(DeliveryStatus.DELIVERED);
    assertThat(opp.authentication()).contains(Authentication.ENCRYPTED);
    assertThat(bounce.status()).as("%s", bounce).isEqualTo(DeliveryStatus.BOUNCED);
    assertThat(bounce.reply().code()).isEqualTo(550);
    assertThat(mismatch.status()).as("%s", mismatch).isEqualTo(DeliveryStatus.DEFERRED);
  }

  @Test
  void theRegistryHoldsExactlyTheExpectedCounts() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    MailtlsMetrics metrics = MailtlsMetrics.builder(registry).build();
    List<DeliveryReport> reports;
    try (SecureSmtpTransport transport = peers.transport(metrics)) {
      new TransportPoolMetrics(transport).bindTo(registry);
      reports = ScriptedDeliveries.sendAll(transport);
      assertScriptedOutcomes(reports);

      assertThat(counters(registry, Meters.DELIVERIES))
          .containsExactlyInAnyOrderEntriesOf(
              Map.of(
                  "authentication=verified,failure.type=none,policy.source=dane,status=delivered",
                  1.0,
                  "authentication=encrypted,failure.type=none,policy.source=none,status=delivered",
                  1.0,
                  "authentication=encrypted,failure.type=none,policy.source=none,status=bounced",
                  1.0,
                  "authentication=none,failure.type=certificate_not_trusted,policy.source=dane,status=deferred",
                  1.0));
      assertThat(counters(registry, Meters.ATTEMPTS))
          .containsExactlyInAnyOrderEntriesOf(
              Map.of(
                  "authentication=verified,failure.type=none,outcome=ok,plaintext.reason=none,policy.source=dane",
                  1.0,
                  "authentication=encrypted,failure.type=none,outcome=ok,plaintext.reason=none,policy.source=none",
                  2.0,
                  "authentication=none,failure.type=certificate_not_trusted,outcome=failed,plaintext.reason=none,policy.source=dane",
                  1.0));
      assertThat(counters(registry, Meters.POLICY_FAILURES))
          .containsExactlyInAnyOrderEntriesOf(
              Map.of("enforced=true,failure.type=certificate_not_trusted,policy.source=dane", 1.0));

      // One plan per message; a connection, and a handshake, per attempt; a transaction for each
      // attempt whose handshake succeeded.
      assertThat(registry.find(Meters.PLAN).tag(Meters.OUTCOME, "ok").timer().count()).isEqualTo(4);
      assertThat(timerCount(registry, Meters.PLAN)).isEqualTo(4);
      assertThat(timerCount(registry, Meters.CONNECT)).isEqualTo(4);
      assertThat(timerCount(registry, Meters.TLS_HANDSHAKE)).isEqualTo(4);
      assertThat(timerCount(registry, Meters.DATA)).isEqualTo(3);

      // The three sessions that ended well wait in the pool; the failed one was closed.
      assertThat(registry.get(TransportPoolMetrics.POOLED).gauge().value()).isEqualTo(3.0);
      assertThat(registry.get(TransportPoolMetrics.BUSY).gauge().value()).isEqualTo(0.0);
    }
    assertThat(registry.get(TransportPoolMetrics.POOLED).gauge().value()).isEqualTo(0.0);
  }

  @Test
  void domainTagsAreOffByDefaultAndBoundedWhenOn() {
    SimpleMeterRegistry plain = new SimpleMeterRegistry();
    try (SecureSmtpTransport transport = peers.transport(MailtlsMetrics.builder(plain).build())) {
      ScriptedDeliveries.sendAll(transport);
    }
    for (Meter m : plain.getMeters()) {
      assertThat(m.getId().getTags()).extracting(Tag::getKey).doesNotContain(Meters.DOMAIN);
      // No recipient address, and no host name, ever becomes a tag value.
      assertThat(tags(m)).doesNotContain("@").doesNotContain("example.test");
    }

    SimpleMeterRegistry tagged = new SimpleMeterRegistry();
    MailtlsMetrics metrics =
        MailtlsMetrics.builder(tagged)
            .domainTags(Set.of(DomainName.of("dane.example.test")))
            .build();
    try (SecureSmtpTransport transport = peers.transport(metrics)) {
      ScriptedDeliveries.sendAll(transport);
    }
    Map<String, Double> byDomain = new TreeMap<>();
    for (Counter c : tagged.find(Meters.DELIVERIES).counters()) {
      byDomain.merge(c.getId().getTag(Meters.DOMAIN), c.count(), Double::sum);
    }
    assertThat(byDomain)
        .containsExactlyInAnyOrderEntriesOf(
            Map.of("dane.example.test", 1.0, MailtlsMetrics.OTHER_DOMAIN, 3.0));
  }
}
