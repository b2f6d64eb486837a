package io.mailtls.core.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.EnhancedStatus;
import io.mailtls.core.Envelope;
import io.mailtls.core.FailureType;
import io.mailtls.core.MessageContent;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.TlsLevel;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.SmtpAction;
import io.mailtls.testkit.SmtpStep;
import java.nio.charset.StandardCharsets;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/** Per-recipient outcomes (docs/design.md §1): delivered only after 250 to the final dot. */
class RecipientOutcomesTest {

  private static DeliveryReport send(
      Fixture f, UnaryOperator<MockSmtpServer.Builder> server, String... recipients) {
    MockSmtpServer mx = f.server("127.0.0.2", b -> server.apply(b.hostname("mx.example.test")));
    f.dns(d -> d.zone("example.test", z -> z.mailHost("example.test", 10, "mx.example.test", mx)));
    return f.send(TlsLevel.OPPORTUNISTIC, recipients);
  }

  @Test
  void rcptRepliesDecideEachRecipient() throws Exception {
    try (Fixture f = new Fixture()) {
      DeliveryReport r =
          send(
              f,
              b ->
                  b.onRecipient("ok@example.test", SmtpAction.reply(250, "2.1.5", "ok"))
                      .onRecipient(
                          "later@example.test", SmtpAction.reply(451, "4.2.0", "try later"))
                      .onRecipient(
                          "gone@example.test", SmtpAction.reply(550, "5.1.1", "no such user")),
              "ok@example.test",
              "later@example.test",
              "gone@example.test");
      RecipientResult ok = r.result("ok@example.test");
      assertThat(ok.status()).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(ok.reply().code()).isEqualTo(250);
      assertThat(ok.reply().locallyGenerated()).isFalse();
      assertThat(ok.mxHost().orElseThrow().toString()).isEqualTo("mx.example.test");
      RecipientResult later = r.result("later@example.test");
      assertThat(later.status()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(later.reply().code()).isEqualTo(451);
      assertThat(later.reply().enhancedStatus()).contains(EnhancedStatus.parse("4.2.0"));
      RecipientResult gone = r.result("gone@example.test");
      assertThat(gone.status()).isEqualTo(DeliveryStatus.BOUNCED);
      assertThat(gone.reply().enhancedStatus()).contains(EnhancedStatus.parse("5.1.1"));
      assertThat(gone.reply().text()).contains("no such user");
      assertThat(f.lastServer().messages())
          .singleElement()
          .satisfies(m -> assertThat(m.recipients()).containsExactly("ok@example.test"));
    }
  }

  @Test
  void a552ToRcptForTooManyRecipientsDefers() throws Exception {
    // RFC 5321 §4.5.3.1.10: RFC 821's 552 for "too many recipients" is 452 now, and clients
    // SHOULD treat the 552 as temporary. Without an enhanced status, or with X.5.3 (RFC 3463
    // §3.6), the 552 may be that, and the recipient is deferred for a later transaction; a 552
    // with another cause (5.2.2 mailbox full) is the server's permanent verdict.
    try (Fixture f = new Fixture()) {
      DeliveryReport r =
          send(
              f,
              b ->
                  b.onRecipient("bare@example.test", SmtpAction.reply(552, "too many recipients"))
                      .onRecipient("many@example.test", SmtpAction.reply(552, "5.5.3", "too many"))
                      .onRecipient("full@example.test", SmtpAction.reply(552, "5.2.2", "full")),
              "ok@example.test",
              "bare@example.test",
              "many@example.test",
              "full@example.test");
      assertThat(r.result("ok@example.test").status()).isEqualTo(DeliveryStatus.DELIVERED);
      for (String deferred : new String[] {"bare@example.test", "many@example.test"}) {
        RecipientResult x = r.result(deferred);
        assertThat(x.status()).as(deferred).isEqualTo(DeliveryStatus.DEFERRED);
        // A deferred result carries a temporary reply: a local 452 4.5.3 quoting the server's.
        assertThat(x.reply().code()).as(deferred).isEqualTo(452);
        assertThat(x.reply().enhancedStatus()).as(deferred).contains(EnhancedStatus.parse("4.5.3"));
        assertThat(x.reply().locallyGenerated()).as(deferred).isTrue();
        assertThat(x.reply().text())
            .as(deferred)
            .contains("the server's 552 ")
            .contains("too many")
            .contains("RFC 5321 §4.5.3.1.10");
      }
      assertThat(r.result("full@example.test").status()).isEqualTo(DeliveryStatus.BOUNCED);
      assertThat(f.lastServer().messages())
          .singleElement()
          .satisfies(m -> assertThat(m.recipients()).containsExactly("ok@example.test"));
    }
  }

  @Test
  void permanentFailureAtTheFinalDotBouncesAll() throws Exception {
    try (Fixture f = new Fixture()) {
      DeliveryReport r =
          send(
              f,
              b -> b.on(SmtpStep.DATA_END, SmtpAction.reply(554, "5.7.1", "rejected as spam")),
              "a@example.test",
              "b@example.test");
      assertThat(r.recipients())
          .allSatisfy(
              x -> {
                assertThat(x.status()).isEqualTo(DeliveryStatus.BOUNCED);
                assertThat(x.reply().code()).isEqualTo(554);
              });
    }
  }

  @Test
  void transientFailureAtTheFinalDotDefersAll() throws Exception {
    try (Fixture f = new Fixture()) {
      DeliveryReport r =
          send(
              f,
              b -> b.on(SmtpStep.DATA_END, SmtpAction.reply(451, "4.3.0", "local error")),
              "a@example.test",
              "b@example.test");
      assertThat(r.recipients())
          .allSatisfy(
              x -> {
                assertThat(x.status()).isEqualTo(DeliveryStatus.DEFERRED);
                assertThat(x.reply().code()).isEqualTo(451);
              });
    }
  }

  @Test
  void connectionDroppedMidDataDefersNeverDelivers() throws Exception {
    try (Fixture f = new Fixture()) {
      byte[] big =
          ("Subject: x\r\n\r\n" + "line of text\r\n".repeat(20_000))
              .getBytes(StandardCharsets.US_ASCII);
      MockSmtpServer mx =
          f.server("127.0.0.2", b -> b.hostname("mx.example.test").dropDuringMessage(10_000));
      f.dns(
          d -> d.zone("example.test", z -> z.mailHost("example.test", 10, "mx.example.test", mx)));
      DeliveryReport r =
          f.transport(TlsLevel.OPPORTUNISTIC)
              .send(
                  Envelope.of("a@sender.test", "a@example.test", "b@example.test"),
                  MessageContent.of(big));
      assertThat(r.recipients())
          .allSatisfy(
              x -> {
                assertThat(x.status()).isEqualTo(DeliveryStatus.DEFERRED);
                assertThat(x.reply().locallyGenerated()).isTrue();
                assertThat(x.attempt().orElseThrow().failure())
                    .hasValueSatisfying(
                        t -> assertThat(t).isIn(FailureType.CONNECTION_LOST, FailureType.TIMEOUT));
              });
      assertThat(mx.messages()).isEmpty();
    }
  }

  @Test
  void rejectedMailFromDecidesEveryRecipient() throws Exception {
    try (Fixture f = new Fixture()) {
      DeliveryReport r =
          send(
              f,
              b -> b.on(SmtpStep.MAIL, SmtpAction.reply(550, "5.7.1", "sender blocked")),
              "a@example.test");
      assertThat(r.result("a@example.test").status()).isEqualTo(DeliveryStatus.BOUNCED);
    }
  }
}
