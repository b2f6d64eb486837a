package io.mailtls.core.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.FailureType;
import io.mailtls.core.TlsLevel;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.SmtpAction;
import io.mailtls.testkit.SmtpStep;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * RFC 5321 §4.3.2: the end of mail data gets 250 or a 4xx/5xx (RFC 3030 §2: BDAT the same); a
 * message counts as delivered only on a 250. Another 2xx (221 is QUIT's reply, 220 a greeting) is
 * no verdict on the message: a protocol error, deferred.
 */
class FinalReplyCodeTest {

  private static final String[] RECIPIENTS = {"a@example.test", "b@example.test"};

  private static MockSmtpServer mx(Fixture f, UnaryOperator<MockSmtpServer.Builder> script) {
    MockSmtpServer mx = f.server("127.0.0.2", b -> script.apply(b.hostname("mx.example.test")));
    f.dns(d -> d.zone("example.test", z -> z.mailHost("example.test", 10, "mx.example.test", mx)));
    return mx;
  }

  private static void assertNotDelivered(DeliveryReport report) {
    assertThat(report.recipients())
        .hasSize(RECIPIENTS.length)
        .allSatisfy(
            r -> {
              assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DEFERRED);
              assertThat(r.attempt().orElseThrow().failure()).contains(FailureType.PROTOCOL_ERROR);
            });
  }

  @Test
  void a221ToTheFinalDotIsNoDelivery() throws Exception {
    try (Fixture f = new Fixture()) {
      mx(
          f,
          b ->
              b.capabilities(ReplyCodesTest.WITHOUT_CHUNKING)
                  .on(SmtpStep.DATA_END, SmtpAction.reply(221, "2.0.0", "bye")));
      assertNotDelivered(f.send(TlsLevel.OPPORTUNISTIC, RECIPIENTS));
    }
  }

  @Test
  void a221ToBdatLastInOneRoundTripIsNoDelivery() throws Exception {
    try (Fixture f = new Fixture()) {
      mx(f, b -> b.on(SmtpStep.DATA_END, SmtpAction.reply(221, "2.0.0", "bye")));
      assertNotDelivered(f.send(TlsLevel.OPPORTUNISTIC, RECIPIENTS));
    }
  }
}
