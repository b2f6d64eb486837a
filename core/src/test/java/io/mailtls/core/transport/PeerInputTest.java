package io.mailtls.core.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.FailureType;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.TlsLevel;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.SmtpAction;
import io.mailtls.testkit.SmtpReply;
import io.mailtls.testkit.SmtpStep;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * Peer input never makes {@code send()} throw: what the server says that no rule allows is a
 * protocol error of that attempt, and the report keeps every other domain's results.
 */
class PeerInputTest {

  /** Two domains: {@code good.test} on a normal server, {@code odd.test} on a scripted one. */
  private static DeliveryReport sendToTwoDomains(
      Fixture f, UnaryOperator<MockSmtpServer.Builder> odd) {
    MockSmtpServer good = f.server("127.0.0.2", b -> b.hostname("mx.good.test"));
    MockSmtpServer bad = f.server("127.0.0.3", b -> odd.apply(b.hostname("mx.odd.test")));
    f.dns(
        d ->
            d.zone("good.test", z -> z.mailHost("good.test", 10, "mx.good.test", good))
                .zone("odd.test", z -> z.mailHost("odd.test", 10, "mx.odd.test", bad)));
    return f.send(TlsLevel.OPPORTUNISTIC, "a@good.test", "b@odd.test", "c@good.test");
  }

  /**
   * RFC 5321 §4.1.1.1 and §4.3.2: the one positive reply to EHLO is 250. A 251 used to escape
   * {@code send()} as an IllegalArgumentException from the capability parser, and the recipients
   * already delivered in that call lost their results.
   */
  @Test
  void anEhloReplyOf251IsAProtocolErrorNotAnException() throws Exception {
    try (Fixture f = new Fixture()) {
      DeliveryReport report =
          sendToTwoDomains(f, b -> b.on(SmtpStep.EHLO, SmtpAction.reply(251, "odd but positive")));
      assertThat(report.recipients()).hasSize(3);
      assertThat(report.result("a@good.test").status()).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(report.result("c@good.test").status()).isEqualTo(DeliveryStatus.DELIVERED);
      RecipientResult odd = report.result("b@odd.test");
      assertThat(odd.status()).as("%s", odd).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(odd.reply().isTransientFailure()).isTrue();
      assertThat(odd.attempt().orElseThrow().failure()).contains(FailureType.PROTOCOL_ERROR);
      assertThat(odd.attempt().orElseThrow().detail()).contains("251");
    }
  }

  /** The HELO fallback (RFC 5321 §4.1.4) has the same single positive reply, 250. */
  @Test
  void aHeloReplyOf251IsAProtocolErrorNotAnException() throws Exception {
    try (Fixture f = new Fixture()) {
      DeliveryReport report =
          sendToTwoDomains(
              f,
              b ->
                  b.on(SmtpStep.EHLO, SmtpAction.reply(502, "5.5.1", "no ESMTP here"))
                      .on(SmtpStep.HELO, SmtpAction.reply(251, "odd")));
      assertThat(report.recipients()).hasSize(3);
      assertThat(report.result("a@good.test").status()).isEqualTo(DeliveryStatus.DELIVERED);
      RecipientResult odd = report.result("b@odd.test");
      assertThat(odd.status()).as("%s", odd).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(odd.attempt().orElseThrow().failure()).contains(FailureType.PROTOCOL_ERROR);
    }
  }

  /**
   * RFC 3207 §4.2: what the server said before TLS is forgotten after the handshake, the name it
   * announced too (TLS-RPT reports it as {@code receiving-mx-helo}, RFC 8460 §4.3): when the EHLO
   * reply over TLS names no well-formed host, the attempt names none, never the plaintext one,
   * which an attacker on the path could have written.
   */
  @Test
  void theNameAnnouncedBeforeTlsIsForgottenAfterTheHandshake() throws Exception {
    for (boolean badNameOverTls : new boolean[] {false, true}) {
      try (Fixture f = new Fixture()) {
        MockSmtpServer mx =
            f.server(
                "127.0.0.2",
                b -> {
                  b.hostname("mx.example.test").tls(Fixture.certFor("mx.example.test"));
                  if (badNameOverTls) {
                    b.faultInjector(
                        c ->
                            c.step() == SmtpStep.EHLO && c.tls()
                                ? Optional.of(
                                    SmtpAction.reply(
                                        SmtpReply.multiline(
                                            250, null, List.of("[not a name]", "8BITMIME"))))
                                : Optional.empty());
                  }
                  return b;
                });
        f.dns(
            d ->
                d.zone("example.test", z -> z.mailHost("example.test", 10, "mx.example.test", mx)));
        DeliveryReport report = f.send(TlsLevel.OPPORTUNISTIC, "a@example.test");
        RecipientResult r = report.result("a@example.test");
        assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DELIVERED);
        assertThat(r.tls()).as("%s", r).isPresent();
        if (badNameOverTls) {
          assertThat(r.attempt().orElseThrow().announcedName()).isEmpty();
        } else {
          assertThat(r.attempt().orElseThrow().announcedName()).contains("mx.example.test");
        }
      }
    }
  }
}
