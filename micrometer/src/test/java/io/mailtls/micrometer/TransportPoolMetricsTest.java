package io.mailtls.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.EventListener;
import io.mailtls.core.SecureSmtpTransport;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The pool gauges of several transports bound to one registry, after real deliveries through the
 * {@link ScriptedDeliveries}: each transport is counted, whether the gauges tell them apart by a
 * tag or add them up under the same tags.
 */
class TransportPoolMetricsTest {

  private static ScriptedDeliveries peers;

  @BeforeAll
  static void start() throws Exception {
    peers = new ScriptedDeliveries();
  }

  @AfterAll
  static void stop() {
    peers.close();
  }

  private static double pooled(SimpleMeterRegistry registry, String... tags) {
    return registry.get(TransportPoolMetrics.POOLED).tags(tags).gauge().value();
  }

  private static double busy(SimpleMeterRegistry registry, String... tags) {
    return registry.get(TransportPoolMetrics.BUSY).tags(tags).gauge().value();
  }

  @Test
  void twoTransportsUnderTheSameTagsAreAddedUpNotShadowed() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (SecureSmtpTransport idle = peers.transport(call -> EventListener.NONE)) {
      new TransportPoolMetrics(idle).bindTo(registry);
      try (SecureSmtpTransport working = peers.transport(call -> EventListener.NONE)) {
        new TransportPoolMetrics(working).bindTo(registry);
        assertThat(ScriptedDeliveries.sendAll(working))
            .extracting(r -> r.recipients().get(0).status())
            .containsExactly(
                DeliveryStatus.DELIVERED,
                DeliveryStatus.DELIVERED,
                DeliveryStatus.BOUNCED,
                DeliveryStatus.DEFERRED);
        assertThat(working.pooledConnections()).isEqualTo(3);

        // One series per name: the second binding joins the first, it does not vanish behind it.
        assertThat(registry.find(TransportPoolMetrics.POOLED).gauges()).hasSize(1);
        assertThat(pooled(registry))
            .as("idle sessions over both transports (the second has 3)")
            .isEqualTo(3.0);
        assertThat(busy(registry)).isEqualTo(0.0);

        ScriptedDeliveries.sendAll(idle);
        assertThat(pooled(registry)).as("3 idle sessions in each transport").isEqualTo(6.0);
      }
      assertThat(pooled(registry)).as("a closed transport keeps nothing").isEqualTo(3.0);
    }
    assertThat(pooled(registry)).isEqualTo(0.0);
    assertThat(busy(registry)).isEqualTo(0.0);
  }

  @Test
  void transportsWithTheirOwnTagsHaveTheirOwnSeries() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (SecureSmtpTransport a = peers.transport(call -> EventListener.NONE);
        SecureSmtpTransport b = peers.transport(call -> EventListener.NONE)) {
      new TransportPoolMetrics(a, List.of(Tag.of("transport", "a"))).bindTo(registry);
      new TransportPoolMetrics(b, List.of(Tag.of("transport", "b"))).bindTo(registry);
      ScriptedDeliveries.sendAll(b);
      assertThat(pooled(registry, "transport", "a")).isEqualTo(0.0);
      assertThat(pooled(registry, "transport", "b")).isEqualTo(3.0);
    }
    assertThat(pooled(registry, "transport", "b")).isEqualTo(0.0);
  }
}
