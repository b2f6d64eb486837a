package io.mailtls.core.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.TlsLevel;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.SmtpAction;
import io.mailtls.testkit.SmtpReply;
import io.mailtls.testkit.SmtpSession;
import io.mailtls.testkit.SmtpStep;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * RFC 5321 §4.1.1.1 and §3.2: service extensions are offered only in the reply to EHLO; a session
 * that fell back to HELO has none. RFC 2920 §3: a client pipelines only when the server advertised
 * PIPELINING in its EHLO reply.
 */
class HeloFallbackExtensionsTest {

  /** A multiline 250 to HELO is no extension list: no pipelining, no SIZE verdict from it. */
  @Test
  void aMultilineHeloReplyOffersNoExtensions() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx =
          f.server(
              "127.0.0.2",
              b ->
                  b.hostname("mx.example.test")
                      .on(SmtpStep.EHLO, SmtpAction.reply(502, "5.5.1", "no ESMTP here"))
                      .on(
                          SmtpStep.HELO,
                          SmtpAction.reply(
                              SmtpReply.multiline(
                                  250,
                                  null,
                                  List.of("mx.example.test", "PIPELINING", "SIZE 10")))));
      f.dns(
          d -> d.zone("example.test", z -> z.mailHost("example.test", 10, "mx.example.test", mx)));

      DeliveryReport report = f.send(TlsLevel.OPPORTUNISTIC, "a@example.test", "b@example.test");

      for (String rcpt : List.of("a@example.test", "b@example.test")) {
        RecipientResult r = report.result(rcpt);
        // SIZE 10 from a HELO reply must not bounce the message locally (RFC 1870 needs EHLO).
        assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DELIVERED);
      }
      SmtpSession session = mx.awaitSessions(1, Duration.ofSeconds(10)).get(0);
      for (List<String> batch : session.commandBatches()) {
        // Lock step: every command in a batch of its own.
        assertThat(batch).as("batches %s", session.commandBatches()).hasSize(1);
      }
    }
  }
}
