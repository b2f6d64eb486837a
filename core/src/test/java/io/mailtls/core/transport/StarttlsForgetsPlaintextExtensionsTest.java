package io.mailtls.core.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DsnHandling;
import io.mailtls.core.DsnRequest;
import io.mailtls.core.Envelope;
import io.mailtls.core.MessageContent;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.TlsLevel;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.SmtpAction;
import io.mailtls.testkit.SmtpReply;
import io.mailtls.testkit.SmtpSession;
import io.mailtls.testkit.SmtpStep;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * RFC 3207 §4.2: after the handshake the client discards what it learned from the plaintext EHLO
 * reply and acts only on the reply to its EHLO over TLS. An extension offered only before TLS
 * (SIZE, PIPELINING, 8BITMIME) is never used, nor is a limit stated only before TLS applied.
 */
class StarttlsForgetsPlaintextExtensionsTest {

  private static final String MX = "mx.example.test";

  /** An MX host whose EHLO reply is {@code plaintext} before TLS and {@code overTls} after. */
  private static MockSmtpServer mx(Fixture f, List<String> plaintext, List<String> overTls) {
    MockSmtpServer s =
        f.server(
            "127.0.0.2",
            b ->
                b.hostname(MX)
                    .tls(Fixture.certFor(MX))
                    .faultInjector(
                        c ->
                            c.step() == SmtpStep.EHLO
                                ? Optional.of(
                                    SmtpAction.reply(
                                        SmtpReply.multiline(
                                            250, null, c.tls() ? overTls : plaintext)))
                                : Optional.empty()));
    f.dns(d -> d.zone("example.test", z -> z.mailHost("example.test", 10, MX, s)));
    return s;
  }

  @Test
  void sizeAndPipeliningOfferedOnlyBeforeTlsAreNotUsed() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer s =
          mx(f, List.of(MX, "STARTTLS", "SIZE 10", "PIPELINING"), List.of(MX, "8BITMIME"));
      var report = f.send(TlsLevel.ENFORCED, "a@example.test", "b@example.test");
      for (String rcpt : List.of("a@example.test", "b@example.test")) {
        RecipientResult r = report.result(rcpt);
        // the plaintext SIZE 10 would have refused this message locally (RFC 1870)
        assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DELIVERED);
        assertThat(r.tls()).as("%s", r).isPresent();
      }
      SmtpSession session = s.awaitSessions(1, Fixture.WAIT).get(0);
      session.awaitClosed(Fixture.WAIT);
      assertThat(session.commandLines())
          .filteredOn(l -> l.startsWith("MAIL"))
          .singleElement()
          .satisfies(mail -> assertThat(mail).doesNotContain("SIZE="));
      List<List<String>> batches = session.commandBatches();
      int tls = batches.indexOf(List.of("STARTTLS"));
      assertThat(tls).as("%s", batches).isNotNegative();
      // RFC 2920: without PIPELINING over TLS, every command waits for the reply to the last one
      assertThat(batches.subList(tls + 1, batches.size()))
          .allSatisfy(b -> assertThat(b).hasSize(1));
    }
  }

  @Test
  void dsnOfferedOnlyBeforeTlsIsNotUsedAndTheResultSaysSo() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer s = mx(f, List.of(MX, "STARTTLS", "DSN"), List.of(MX, "8BITMIME"));
      DeliveryReport report =
          f.transport(TlsLevel.ENFORCED)
              .send(
                  Envelope.of("a@sender.test", "b@example.test")
                      .withDsn(
                          DsnRequest.on(DsnRequest.Notify.SUCCESS).withRet(DsnRequest.Ret.HDRS)),
                  MessageContent.of(Fixture.MESSAGE.getBytes(StandardCharsets.UTF_8)));
      RecipientResult r = report.result("b@example.test");
      assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DELIVERED);
      // RFC 3461 §5.2.2: the server over TLS does not advertise DSN, so the request stays here.
      assertThat(r.dsn()).isEqualTo(DsnHandling.NOT_PASSED_ON);
      SmtpSession session = s.awaitSessions(1, Fixture.WAIT).get(0);
      session.awaitClosed(Fixture.WAIT);
      assertThat(session.commandLines())
          .filteredOn(l -> l.startsWith("MAIL") || l.startsWith("RCPT"))
          .isNotEmpty()
          .noneMatch(l -> l.contains("RET=") || l.contains("NOTIFY=") || l.contains("ORCPT="));
    }
  }

  @Test
  void eightBitMimeOfferedOnlyBeforeTlsIsNotUsed() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer s = mx(f, List.of(MX, "STARTTLS", "8BITMIME"), List.of(MX));
      RecipientResult r =
          f.transport(TlsLevel.ENFORCED)
              .send(
                  Envelope.of("a@sender.test", "a@example.test"),
                  MessageContent.of(
                      "Subject: hi\r\n\r\nh\u00e9llo\r\n".getBytes(StandardCharsets.UTF_8)))
              .result("a@example.test");
      // RFC 6152 §3: 8-bit content goes only to a server that offers 8BITMIME, over TLS here
      assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.BOUNCED);
      assertThat(r.reply().code()).isEqualTo(554);
      SmtpSession session = s.awaitSessions(1, Fixture.WAIT).get(0);
      session.awaitClosed(Fixture.WAIT);
      assertThat(session.tlsNegotiated()).isTrue();
      assertThat(session.commandLines()).noneMatch(l -> l.contains("BODY=8BITMIME"));
      assertThat(s.messages()).isEmpty();
    }
  }
}
