package io.mailtls.core.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.Envelope;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.core.TlsLevel;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.SmtpAction;
import io.mailtls.testkit.SmtpSession;
import io.mailtls.testkit.SmtpStep;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link SecureSmtpTransport#close()} while a session is under way: the session goes on to its end
 * with every bound still enforced, and the transport opens no new connection after the close. A
 * transport that failed the session under way instead would report a message the server accepted as
 * deferred, and the sender would deliver it twice.
 */
class CloseUnderWayTest {

  private final Fixture f = new Fixture();

  @AfterEach
  void close() {
    f.close();
  }

  private static boolean saw(MockSmtpServer server, String command) {
    return server.sessions().stream().anyMatch(s -> s.commandLines().contains(command));
  }

  /** The message has gone: DATA, or BDAT (a small message goes with its envelope). */
  private static boolean sawContent(MockSmtpServer server) {
    return server.sessions().stream()
        .anyMatch(
            s ->
                s.commandLines().stream().anyMatch(l -> l.equals("DATA") || l.startsWith("BDAT ")));
  }

  @Test
  void aTransactionUnderWayWhenTheTransportClosesIsDeliveredAndEndsWithQuit() throws Exception {
    // The 250 to the final dot comes late: close() falls inside the transaction.
    MockSmtpServer mx =
        f.server(
            "127.0.0.31",
            b ->
                b.hostname("mx.slow.test")
                    .on(
                        SmtpStep.DATA_END,
                        SmtpAction.reply(250, "2.0.0", "queued").after(Duration.ofMillis(800))));
    f.dns(d -> d.zone("slow.test", z -> z.mailHost("slow.test", 10, "mx.slow.test", mx)));
    SecureSmtpTransport t = f.transport(TlsLevel.OPPORTUNISTIC);
    CompletableFuture<DeliveryReport> sending =
        t.sendAsync(Envelope.of("a@sender.test", "r@slow.test"), Fixture.message());
    Fixture.await("the message at the server", () -> sawContent(mx));
    t.close();
    DeliveryReport report = sending.get(Fixture.WAIT.toSeconds(), TimeUnit.SECONDS);

    RecipientResult r = report.result("r@slow.test");
    assertThat(r.status()).as(r.toString()).isEqualTo(DeliveryStatus.DELIVERED);
    assertThat(r.reply().code()).isEqualTo(250);
    assertThat(mx.messages()).hasSize(1);
    // Not pooled after the close: the session ends politely (RFC 5321 §4.1.1.10).
    Fixture.await("QUIT at the server", () -> saw(mx, "QUIT"));
    assertThat(mx.sessions()).hasSize(1);
  }

  @Test
  void noNewConnectionIsOpenedAfterTheTransportClosed() throws Exception {
    f.timeouts = SmtpTimeouts.uniform(Duration.ofSeconds(60));
    // The preferred MX hangs at the greeting until the test ends it; the second would accept.
    MockSmtpServer first =
        f.server(
            "127.0.0.32", b -> b.hostname("mx1.two.test").on(SmtpStep.GREETING, SmtpAction.hang()));
    MockSmtpServer second = f.server("127.0.0.33", b -> b.hostname("mx2.two.test"));
    f.dns(
        d ->
            d.zone(
                "two.test",
                z ->
                    z.mailHost("two.test", 10, "mx1.two.test", first)
                        .mailHost("two.test", 20, "mx2.two.test", second)));
    SecureSmtpTransport t = f.transport(TlsLevel.OPPORTUNISTIC);
    CompletableFuture<DeliveryReport> sending =
        t.sendAsync(Envelope.of("a@sender.test", "r@two.test"), Fixture.message());
    Fixture.await("the first session", () -> !first.sessions().isEmpty());
    t.close();
    first.close(); // the session under way ends: the delivery would go on to mx2
    DeliveryReport report = sending.get(Fixture.WAIT.toSeconds(), TimeUnit.SECONDS);

    RecipientResult r = report.result("r@two.test");
    assertThat(r.status()).isEqualTo(DeliveryStatus.DEFERRED);
    assertThat(r.reply().code()).isEqualTo(451);
    assertThat(r.reply().toString()).contains("transport was closed");
    assertThat(second.sessions()).as("sessions at mx2 after the close").isEmpty();
    for (SmtpSession s : first.sessions()) {
      assertThat(s.commandLines()).doesNotContain("MAIL FROM:<a@sender.test>");
    }
  }

  /**
   * A pooled session that turns out stale once the transport has closed: the message would go on a
   * new session, but a closed transport opens none. The recipient is deferred, with the reason.
   */
  @Test
  void aStalePooledSessionAfterTheCloseIsNotReplacedByANewOne() throws Exception {
    // The RSET ahead of the second transaction is answered late, with a 421: the pooled session
    // is found stale only after close().
    MockSmtpServer mx =
        f.server(
            "127.0.0.34",
            b ->
                b.hostname("mx.stale.test")
                    .on(
                        SmtpStep.RSET,
                        SmtpAction.reply(421, "4.4.2", "idle too long")
                            .after(Duration.ofMillis(800))));
    f.dns(d -> d.zone("stale.test", z -> z.mailHost("stale.test", 10, "mx.stale.test", mx)));
    SecureSmtpTransport t = f.transport(TlsLevel.OPPORTUNISTIC);
    assertThat(
            t.send(Envelope.of("a@sender.test", "one@stale.test"), Fixture.message())
                .allDelivered())
        .isTrue();
    CompletableFuture<DeliveryReport> sending =
        t.sendAsync(Envelope.of("a@sender.test", "two@stale.test"), Fixture.message());
    Fixture.await("the RSET at the server", () -> saw(mx, "RSET"));
    t.close();
    DeliveryReport report = sending.get(Fixture.WAIT.toSeconds(), TimeUnit.SECONDS);

    RecipientResult r = report.result("two@stale.test");
    assertThat(r.status()).as(r.toString()).isEqualTo(DeliveryStatus.DEFERRED);
    assertThat(r.reply().code()).isEqualTo(451);
    assertThat(r.reply().toString()).contains("transport was closed");
    assertThat(mx.sessions()).as("sessions after the close").hasSize(1);
    assertThat(mx.messages()).hasSize(1);
  }
}
