package io.mailtls.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.Envelope;
import io.mailtls.core.MessageContent;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.observation.ObservationRegistry;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link ObservedSender}, run against the testkit: the delivery shows in a real registry. */
class ObservedSenderTest {

  private static TestWorld world;

  @BeforeAll
  static void start() {
    world = new TestWorld();
  }

  @AfterAll
  static void stop() {
    world.close();
  }

  @TempDir static Path state;

  @Test
  void aDeliveryIsCountedTimedAndItsPoolGaugesBound() {
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    DeliveryReport report =
        ObservedSender.send(
            new SendOneMessage.Settings(
                world.resolver(), world.smtpPort(), "client.sender.test", state),
            meters,
            ObservationRegistry.create(),
            Envelope.of("a@sender.test", "b@good.test"),
            MessageContent.of(TestWorld.MESSAGE));

    assertThat(report.result("b@good.test").status()).isEqualTo(DeliveryStatus.DELIVERED);
    assertThat(meters.get("mailtls.deliveries").counter().count()).isEqualTo(1.0);
    assertThat(meters.get("mailtls.data").timer().count()).isEqualTo(1);
    assertThat(meters.find("mailtls.connections.pooled").gauge()).isNotNull();
  }
}
