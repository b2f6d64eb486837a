package io.mailtls.core.internal.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DeliveryPlan;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.EmailAddress;
import io.mailtls.core.EventListener;
import io.mailtls.core.MessageContent;
import io.mailtls.core.NextHop;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.core.TlsContextFactory;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.TransportPolicyResolver;
import io.mailtls.core.internal.smtp.SmtpReplyReader;
import io.mailtls.core.internal.tls.TlsSupport;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.SmtpAction;
import io.mailtls.testkit.SmtpStep;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;
import javax.net.SocketFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A pooled session that has been idle a while may have been closed by its server with a bare FIN
 * (no 421, not an octet), which no look at the idle socket sees: its RSET reply is read before any
 * of the message leaves, so that the transaction goes on a new session rather than being deferred.
 * A session reused back to back keeps the one round trip (RFC 3030 §4.2, RFC 2920 §3.1). Idle time
 * runs on the pool's injected clock.
 */
class IdlePooledSessionTest {

  private static final Duration IDLE = Duration.ofSeconds(30);
  private static final byte[] MESSAGE =
      "From: a@sender.test\r\nTo: b@example.test\r\nSubject: hi\r\n\r\nHello.\r\n"
          .getBytes(StandardCharsets.US_ASCII);

  /** The address literal the recipients are at: the plan needs no DNS. */
  private static final String AT = "@[127.0.0.2]";

  private final AtomicLong now = new AtomicLong(1_000_000_000L);
  private final ScheduledExecutorService watchdog = Executors.newScheduledThreadPool(1);
  private final TransportPolicyResolver planner =
      TransportPolicyResolver.builder()
          .dns(
              (name, type) ->
                  CompletableFuture.failedFuture(
                      new AssertionError("no DNS for an address literal: " + name + " " + type)))
          .withoutMtaSts()
          .withoutDane()
          .build();
  private MockSmtpServer server;
  private ConnectionPool pool;

  @AfterEach
  void stop() {
    if (pool != null) {
      pool.close();
    }
    if (server != null) {
      server.close();
    }
    watchdog.shutdownNow();
  }

  /** A plaintext server (a close is then a bare FIN: no TLS close_notify) with CHUNKING. */
  private DomainDelivery start(UnaryOperator<MockSmtpServer.Builder> config) throws Exception {
    server =
        config
            .apply(
                MockSmtpServer.builder()
                    .address(InetAddress.getByName("127.0.0.2"))
                    .hostname("mx.example.test"))
            .start();
    assertThat(server.sessions()).isEmpty();
    pool =
        new ConnectionPool(4, IDLE, Duration.ofMinutes(5), 1000, Duration.ofSeconds(5), now::get);
    return new DomainDelivery(
        new DomainDelivery.Settings(
            new TlsSupport(null, TlsContextFactory.JDK, Optional.empty()),
            SocketFactory.getDefault(),
            SmtpTimeouts.uniform(Duration.ofSeconds(5)),
            "client.sender.test",
            SmtpReplyReader.Limits.DEFAULT,
            server.port(),
            5,
            Optional.empty(),
            watchdog),
        pool,
        new SafeListener(EventListener.NONE));
  }

  private RecipientResult send(DomainDelivery delivery, String localPart) throws Exception {
    DeliveryPlan plan = planner.plan(NextHop.parse("[127.0.0.2]"), TlsLevel.OPPORTUNISTIC);
    MessageContent content = MessageContent.of(MESSAGE);
    List<RecipientResult> results =
        delivery.deliver(
            plan,
            Optional.of(EmailAddress.parse("a@sender.test")),
            List.of(EmailAddress.parse(localPart + AT)),
            content,
            ContentFacts.of(content));
    assertThat(results).hasSize(1);
    return results.get(0);
  }

  private void advance(Duration d) {
    now.addAndGet(d.toNanos());
  }

  /**
   * The server closes each session right after its reply to the message, without a word (as a
   * server whose idle timeout is short may, or one that is restarting): the FIN reaches the pooled
   * session, and nothing shows it there. Over a second later the next message must not go into it
   * in one write: RSET's reply shows the session gone first, and the message goes on a new session.
   */
  @Test
  void aSessionIdlePastTheBoundThatTheServerClosedWithABareFinIsReplaced() throws Exception {
    DomainDelivery delivery =
        start(b -> b.on(SmtpStep.DATA_END, SmtpAction.proceed().thenDisconnect()));
    assertThat(send(delivery, "one").status()).isEqualTo(DeliveryStatus.DELIVERED);
    assertThat(server.sessions().get(0).awaitClosed(Duration.ofSeconds(5))).isTrue();
    assertThat(pool.idleCount()).as("the closed session still looks usable").isEqualTo(1);

    // Idle past the bound of one round trip, well within the pool's idle time.
    advance(Transaction.ONE_TRIP_IDLE_MAX.plusMillis(1));

    RecipientResult second = send(delivery, "two");
    assertThat(second.status()).as("%s", second).isEqualTo(DeliveryStatus.DELIVERED);
    assertThat(second.attempts()).hasSize(1);
    assertThat(second.attempts().get(0).detail()).contains("pooled connection had ended");
    assertThat(server.awaitSessions(2, Duration.ofSeconds(5))).hasSize(2);
    assertThat(server.messages()).hasSize(2);
    assertThat(server.sessions().get(0).messages()).hasSize(1);
    assertThat(server.sessions().get(1).messages()).hasSize(1);
    assertThat(server.messages().get(1).recipients()).containsExactly("two" + AT);
    assertThat(server.messages().get(1).sessionId()).isEqualTo(server.sessions().get(1).id());
  }

  /**
   * Reused at once (the benchmarked path), or idle no longer than {@link
   * Transaction#ONE_TRIP_IDLE_MAX}: RSET, the envelope and the message in one write.
   */
  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void aSessionReusedWithinTheBoundStillTakesOneRoundTrip(boolean atTheBound) throws Exception {
    DomainDelivery delivery = start(b -> b);
    assertThat(send(delivery, "one").status()).isEqualTo(DeliveryStatus.DELIVERED);
    advance(atTheBound ? Transaction.ONE_TRIP_IDLE_MAX : Duration.ofMillis(5));
    RecipientResult second = send(delivery, "two");
    assertThat(second.status()).as("%s", second).isEqualTo(DeliveryStatus.DELIVERED);
    assertThat(server.sessions()).hasSize(1);
    List<List<String>> batches = server.sessions().get(0).commandBatches();
    List<String> last = batches.get(batches.size() - 1);
    assertThat(last).hasSize(4);
    assertThat(last.get(0)).isEqualTo("RSET");
    assertThat(last.get(1)).startsWith("MAIL FROM:<a@sender.test>");
    assertThat(last.get(2)).isEqualTo("RCPT TO:<two" + AT + ">");
    assertThat(last.get(3)).isEqualTo("BDAT " + MESSAGE.length + " LAST");
    assertThat(server.messages()).hasSize(2).allSatisfy(m -> assertThat(m.chunked()).isTrue());
  }

  /**
   * Idle a while on a healthy server: delivered on the same session, its RSET answered before the
   * message left.
   */
  @Test
  void aSessionIdlePastTheBoundIsCheckedBeforeTheMessageLeaves() throws Exception {
    DomainDelivery delivery = start(b -> b);
    assertThat(send(delivery, "one").status()).isEqualTo(DeliveryStatus.DELIVERED);
    advance(Duration.ofSeconds(4)); // within the pool's idle time
    RecipientResult second = send(delivery, "two");
    assertThat(second.status()).as("%s", second).isEqualTo(DeliveryStatus.DELIVERED);
    assertThat(server.sessions()).hasSize(1);
    List<List<String>> batches = server.sessions().get(0).commandBatches();
    List<String> reuse = batches.stream().filter(b -> b.contains("RSET")).findFirst().orElseThrow();
    assertThat(reuse).first().isEqualTo("RSET");
    assertThat(reuse).noneMatch(l -> l.startsWith("BDAT"));
    assertThat(server.messages()).hasSize(2);
    assertThat(server.messages().get(1).chunked()).as("DATA, after the replies").isFalse();
  }
}
