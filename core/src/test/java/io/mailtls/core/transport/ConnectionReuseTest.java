package io.mailtls.core.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.Envelope;
import io.mailtls.core.MessageContent;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.TlsLevel;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.SmtpAction;
import io.mailtls.testkit.SmtpReply;
import io.mailtls.testkit.SmtpStep;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Connection reuse and the per-destination session cap. */
class ConnectionReuseTest {

  private static MockSmtpServer start(
      Fixture f, java.util.function.UnaryOperator<MockSmtpServer.Builder> config) {
    MockSmtpServer mx =
        f.server(
            "127.0.0.2",
            b ->
                config.apply(
                    b.hostname("mx.example.test").tls(Fixture.certFor("mx.example.test"))));
    f.dns(d -> d.zone("example.test", z -> z.mailHost("example.test", 10, "mx.example.test", mx)));
    return mx;
  }

  private static final MessageContent CONTENT =
      MessageContent.of(Fixture.MESSAGE.getBytes(StandardCharsets.UTF_8));

  @Test
  void twoHundredMessagesToOneDestinationStayWithinTheSessionCap() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = start(f, b -> b.digestOnly());
      ExecutorService pool = Executors.newFixedThreadPool(16);
      try {
        SecureSmtpTransport t =
            f.transport(
                TlsLevel.OPPORTUNISTIC,
                b ->
                    b.maxSessionsPerDestination(3)
                        .executor(pool)
                        .connectionReuse(Duration.ofSeconds(30), Duration.ofMinutes(5)));
        List<CompletableFuture<DeliveryReport>> all = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
          all.add(
              t.sendAsync(Envelope.of("a@sender.test", "r" + i + "@example.test"), CONTENT)
                  .toCompletableFuture());
        }
        for (CompletableFuture<DeliveryReport> r : all) {
          DeliveryReport report = r.get(60, TimeUnit.SECONDS);
          assertThat(report.allDelivered()).as("%s", report).isTrue();
        }
        assertThat(mx.messages()).hasSize(200);
        assertThat(mx.sessions().size()).isBetween(1, 3);
      } finally {
        pool.shutdownNow();
      }
    }
  }

  @Test
  void sequentialMessagesReuseOneSessionWithRset() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = start(f, b -> b);
      SecureSmtpTransport t = f.transport(TlsLevel.ENFORCED);
      for (int i = 0; i < 5; i++) {
        DeliveryReport r = t.send(Envelope.of("a@sender.test", "r" + i + "@example.test"), CONTENT);
        assertThat(r.allDelivered()).isTrue();
        assertThat(r.result("r" + i + "@example.test").tls()).isPresent();
      }
      assertThat(mx.sessions()).hasSize(1);
      assertThat(mx.sessions().get(0).commandLines()).filteredOn(l -> l.equals("RSET")).hasSize(4);
      assertThat(mx.messages()).hasSize(5);
    }
  }

  @Test
  void aSessionThatSaid421IsNeverReused() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx =
          start(
              f,
              b ->
                  b.on(
                      SmtpStep.MAIL,
                      SmtpAction.proceed(),
                      SmtpAction.reply(SmtpReply.of(421, "4.3.2", "closing")),
                      SmtpAction.proceed()));
      SecureSmtpTransport t = f.transport(TlsLevel.OPPORTUNISTIC);
      assertThat(t.send(Envelope.of("a@sender.test", "one@example.test"), CONTENT).allDelivered())
          .isTrue();
      DeliveryReport second = t.send(Envelope.of("a@sender.test", "two@example.test"), CONTENT);
      assertThat(second.result("two@example.test").status()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(second.result("two@example.test").reply().code()).isEqualTo(421);
      assertThat(t.send(Envelope.of("a@sender.test", "three@example.test"), CONTENT).allDelivered())
          .isTrue();
      assertThat(mx.sessions()).hasSize(2);
    }
  }

  @Test
  void withoutReuseEveryMessageHasItsOwnSession() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = start(f, b -> b);
      SecureSmtpTransport t = f.transport(TlsLevel.OPPORTUNISTIC, b -> b.noConnectionReuse());
      for (int i = 0; i < 3; i++) {
        assertThat(t.send(Envelope.of("a@sender.test", "r@example.test"), CONTENT).allDelivered())
            .isTrue();
      }
      assertThat(mx.sessions()).hasSize(3);
      assertThat(mx.sessions()).allSatisfy(s -> assertThat(s.commandLines()).contains("QUIT"));
    }
  }
}
