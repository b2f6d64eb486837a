package io.mailtls.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.SecureSmtpTransport;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationView;
import io.micrometer.observation.tck.TestObservationRegistry;
import io.micrometer.observation.tck.TestObservationRegistryAssert;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The span tree a tracing bridge would see, on Micrometer's own {@link TestObservationRegistry}
 * (which also checks that every observation is started before it stops, and stops once): one {@code
 * mailtls.delivery} per message, each with its {@code mailtls.attempt} children.
 */
class MailtlsObservationTest {

  private static ScriptedDeliveries peers;

  @BeforeAll
  static void start() throws Exception {
    peers = new ScriptedDeliveries();
  }

  @AfterAll
  static void stop() {
    peers.close();
  }

  @Test
  void oneObservationPerDeliveryWithOneChildPerAttempt() {
    TestObservationRegistry observations = TestObservationRegistry.create();
    List<String> started = new CopyOnWriteArrayList<>();
    List<String> stopped = new CopyOnWriteArrayList<>();
    observations
        .observationConfig()
        .observationHandler(
            new ObservationHandler<Observation.Context>() {
              @Override
              public void onStart(Observation.Context context) {
                started.add(context.getName());
              }

              @Override
              public void onStop(Observation.Context context) {
                stopped.add(context.getName());
              }

              @Override
              public boolean supportsContext(Observation.Context context) {
                return true;
              }
            });
    MailtlsMetrics metrics =
        MailtlsMetrics.builder(new SimpleMeterRegistry()).observationRegistry(observations).build();
    try (SecureSmtpTransport transport = peers.transport(metrics)) {
      ScriptedDeliveries.sendAll(transport);
    }
    // Every observation started was stopped, once.
    assertThat(started)
        .hasSize(8)
        .containsOnly(Meters.DELIVERY_OBSERVATION, Meters.ATTEMPT_OBSERVATION)
        .containsExactlyInAnyOrderElementsOf(stopped);
    TestObservationRegistryAssert.assertThat(observations)
        .hasNumberOfObservationsWithNameEqualTo(Meters.DELIVERY_OBSERVATION, 4)
        .hasNumberOfObservationsWithNameEqualTo(Meters.ATTEMPT_OBSERVATION, 4)
        .hasNumberOfObservationsEqualTo(8)
        .hasHandledContextsThatSatisfy(
            contexts -> {
              Map<Observation.Context, List<Observation.Context>> children = new HashMap<>();
              List<Observation.Context> roots = new ArrayList<>();
              for (Observation.Context c : contexts) {
                ObservationView parent = c.getParentObservation();
                if (c.getName().equals(Meters.DELIVERY_OBSERVATION)) {
                  assertThat(parent).as("a delivery is a root here").isNull();
                  roots.add(c);
                } else {
                  assertThat(parent).as("an attempt's parent").isNotNull();
                  Observation.Context p = (Observation.Context) parent.getContextView();
                  assertThat(p.getName()).isEqualTo(Meters.DELIVERY_OBSERVATION);
                  children.computeIfAbsent(p, k -> new ArrayList<>()).add(c);
                }
              }
              assertThat(roots).hasSize(4);
              // each message went to one MX host with one address: one attempt under each
              for (Observation.Context root : roots) {
                assertThat(children.get(root)).hasSize(1);
              }
              Map<String, String> statuses = new HashMap<>();
              for (Observation.Context root : roots) {
                String status = root.getLowCardinalityKeyValue(Meters.STATUS).getValue();
                statuses.merge(status, "x", String::concat);
                Observation.Context attempt = children.get(root).get(0);
                String outcome = attempt.getLowCardinalityKeyValue(Meters.OUTCOME).getValue();
                assertThat(outcome).isEqualTo(status.equals("deferred") ? "failed" : "ok");
                assertThat(attempt.getError() != null).isEqualTo(outcome.equals("failed"));
              }
              assertThat(statuses)
                  .containsExactlyInAnyOrderEntriesOf(
                      Map.of("delivered", "xx", "bounced", "x", "deferred", "x"));
            });
  }
}
