package io.mailtls.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.Envelope;
import io.mailtls.core.MessageContent;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.testkit.FakeClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link RetryingSender} against a mock server that defers some recipients: retries carry only the
 * deferred ones, back-off grows and is capped, attempts are bounded. A fake clock stands in for the
 * hours of waiting, so the test takes well under a second.
 */
class RetryingSenderTest {

  private static TestWorld world;
  private static SecureSmtpTransport transport;

  @BeforeAll
  static void start() {
    world = new TestWorld();
    transport =
        SecureSmtpTransport.builder()
            .withoutMtaSts()
            .withoutDane()
            .dns(world.resolver())
            .port(world.smtpPort())
            .heloName("client.sender.test")
            .timeouts(SmtpTimeouts.uniform(Duration.ofSeconds(5)))
            .build();
  }

  @AfterAll
  static void stop() {
    transport.close();
    world.close();
  }

  @Test
  void retriesOnlyTheDeferredRecipientUntilItIsDelivered() throws InterruptedException {
    FakeClock clock = new FakeClock();
    List<Duration> slept = new ArrayList<>();
    List<Integer> recipientsPerSend = new ArrayList<>();
    RetryingSender sender =
        RetryingSender.builder(
                (env, content) -> {
                  recipientsPerSend.add(env.recipients().size());
                  return transport.send(env, content);
                })
            .clock(clock)
            .sleeper(
                d -> {
                  slept.add(d);
                  clock.advance(d);
                })
            .maxAttempts(5)
            .initialBackoff(Duration.ofMinutes(1))
            .build();

    sender.submit(
        Envelope.of("a@sender.test", "flaky@mixed.test", "ok@mixed.test", "nobody@mixed.test"),
        MessageContent.of(TestWorld.MESSAGE));
    List<RetryingSender.Outcome> outcomes = sender.drain();

    assertThat(outcomes).hasSize(1);
    RetryingSender.Outcome o = outcomes.get(0);
    assertThat(o.status("ok@mixed.test")).isEqualTo(DeliveryStatus.DELIVERED);
    assertThat(o.status("nobody@mixed.test")).isEqualTo(DeliveryStatus.BOUNCED);
    assertThat(o.status("flaky@mixed.test")).isEqualTo(DeliveryStatus.DELIVERED);
    assertThat(o.attempts()).isEqualTo(3);
    assertThat(recipientsPerSend).containsExactly(3, 1, 1);
    assertThat(o.waits()).containsExactly(Duration.ofMinutes(1), Duration.ofMinutes(2));
    assertThat(slept).isEqualTo(o.waits());
    assertThat(o.results().keySet())
        .extracting(Object::toString)
        .containsExactly("flaky@mixed.test", "ok@mixed.test", "nobody@mixed.test");
    assertThat(world.mixed().messages())
        .filteredOn(m -> m.recipients().contains("ok@mixed.test"))
        .hasSize(1);
  }

  /**
   * A retry is the same message to fewer recipients: it keeps the envelope's REQUIRETLS (RFC 8689
   * §4.2.1). The retry's envelope was rebuilt from the sender and recipients alone, so a message
   * that required TLS went to its deferred recipients on a retry that did not.
   */
  @Test
  void aRetryKeepsTheEnvelopesRequireTls() throws InterruptedException {
    FakeClock clock = new FakeClock();
    List<Envelope> sent = new ArrayList<>();
    RetryingSender sender =
        RetryingSender.builder(
                (env, content) -> {
                  sent.add(env);
                  // This world has no authenticated hosts, so REQUIRETLS would bounce every
                  // recipient; the test is of what the sender asks, and the world answers as
                  // for any message.
                  return transport.send(env.requireTls(false), content);
                })
            .clock(clock)
            .sleeper(clock::advance)
            .maxAttempts(3)
            .build();

    sender.submit(
        Envelope.of("a@sender.test", "busy@mixed.test", "ok@mixed.test").requireTls(true),
        MessageContent.of(TestWorld.MESSAGE));
    sender.drain();

    assertThat(sent).hasSize(3);
    assertThat(sent).allSatisfy(e -> assertThat(e.requireTls()).as("%s", e).isTrue());
    assertThat(sent.get(1).recipients())
        .extracting(Object::toString)
        .containsExactly("busy@mixed.test");
  }

  @Test
  void givesUpAfterTheLastAttemptWithCappedBackoff() throws InterruptedException {
    FakeClock clock = new FakeClock();
    RetryingSender sender =
        RetryingSender.builder(transport::send)
            .clock(clock)
            .sleeper(clock::advance)
            .maxAttempts(4)
            .initialBackoff(Duration.ofMinutes(10))
            .multiplier(3)
            .maxBackoff(Duration.ofMinutes(45))
            .build();
    Instant start = clock.instant();

    sender.submit(
        Envelope.of("a@sender.test", "busy@mixed.test"), MessageContent.of(TestWorld.MESSAGE));
    RetryingSender.Outcome o = sender.drain().get(0);

    assertThat(o.status("busy@mixed.test")).isEqualTo(DeliveryStatus.DEFERRED);
    assertThat(o.attempts()).isEqualTo(4);
    assertThat(o.waits())
        .containsExactly(Duration.ofMinutes(10), Duration.ofMinutes(30), Duration.ofMinutes(45));
    assertThat(Duration.between(start, clock.instant())).isEqualTo(Duration.ofMinutes(85));
  }

  @Test
  void queuedMessagesAreSentInDueOrder() throws InterruptedException {
    FakeClock clock = new FakeClock();
    List<String> order = new ArrayList<>();
    RetryingSender sender =
        RetryingSender.builder(
                (env, content) -> {
                  order.add(env.recipients().toString());
                  return transport.send(env, content);
                })
            .clock(clock)
            .sleeper(clock::advance)
            .maxAttempts(2)
            .build();

    sender.submit(
        Envelope.of("a@sender.test", "busy@mixed.test"), MessageContent.of(TestWorld.MESSAGE));
    sender.submit(
        Envelope.of("a@sender.test", "second@good.test"), MessageContent.of(TestWorld.MESSAGE));
    List<RetryingSender.Outcome> outcomes = sender.drain();

    assertThat(order)
        .containsExactly("[busy@mixed.test]", "[second@good.test]", "[busy@mixed.test]");
    assertThat(outcomes.get(1).status("second@good.test")).isEqualTo(DeliveryStatus.DELIVERED);
  }

  @Test
  void builderRejectsNonsense() {
    assertThatThrownBy(() -> RetryingSender.builder(transport::send).maxAttempts(0).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxAttempts");
    assertThatThrownBy(() -> RetryingSender.builder(transport::send).multiplier(0.5).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("multiplier");
    assertThatThrownBy(
            () ->
                RetryingSender.builder(transport::send)
                    .initialBackoff(Duration.ofHours(2))
                    .maxBackoff(Duration.ofHours(1))
                    .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxBackoff");
  }
}
