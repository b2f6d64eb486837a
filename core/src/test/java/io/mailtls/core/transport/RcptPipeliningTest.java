package io.mailtls.core.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.core.TlsLevel;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.SmtpAction;
import io.mailtls.testkit.SmtpSession;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * RFC 2920 §3.1: a pipelined group must fit the TCP window, so a long recipient list goes out in
 * several groups (at most 100 RCPT commands and 4096 octets each), and every recipient's result is
 * still exactly its own reply.
 */
class RcptPipeliningTest {

  private static final int MAX_RCPTS = 100;
  private static final int MAX_OCTETS = 4096;

  private static String[] recipients(int n, String localPrefix) {
    String[] out = new String[n];
    for (int i = 0; i < n; i++) {
      out[i] = String.format(Locale.ROOT, "%s%03d@example.test", localPrefix, i + 1);
    }
    return out;
  }

  private static String r(int i) {
    return String.format(Locale.ROOT, "r%03d@example.test", i);
  }

  private static MockSmtpServer mx(
      Fixture f, String ip, String name, UnaryOperator<MockSmtpServer.Builder> script) {
    return f.server(ip, b -> script.apply(b.hostname(name)));
  }

  /** Lines of one read batch, counted as they went on the wire (with CRLF). */
  private static int octets(List<String> batch) {
    int n = 0;
    for (String line : batch) {
      n += line.getBytes(StandardCharsets.UTF_8).length + 2;
    }
    return n;
  }

  private static long rcpts(List<String> batch) {
    return batch.stream().filter(l -> l.startsWith("RCPT ")).count();
  }

  /** The batches of a session in which RCPT commands arrived, each within the caps. */
  private static List<List<String>> rcptBatches(SmtpSession session) {
    List<List<String>> out = new ArrayList<>();
    for (List<String> batch : session.commandBatches()) {
      if (rcpts(batch) > 0) {
        assertThat(rcpts(batch)).as("RCPTs in %s", batch).isLessThanOrEqualTo(MAX_RCPTS);
        assertThat(octets(batch)).as("octets of %s", batch).isLessThanOrEqualTo(MAX_OCTETS);
        out.add(batch);
      }
    }
    return out;
  }

  @Test
  void rcptPipeliningIsCappedAt100PerGroupAndResultsStayExact() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx =
          mx(
              f,
              "127.0.0.2",
              "mx.example.test",
              b ->
                  b.onRecipient(r(150), SmtpAction.reply(451, "4.2.1", "mailbox busy"))
                      .onRecipient(r(160), SmtpAction.reply(550, "5.1.1", "no such user"))
                      .onRecipient(r(201), SmtpAction.reply(452, "4.5.3", "too many recipients")));
      f.dns(
          d -> d.zone("example.test", z -> z.mailHost("example.test", 10, "mx.example.test", mx)));
      String[] all = recipients(250, "r");

      DeliveryReport report = f.send(TlsLevel.OPPORTUNISTIC, all);

      assertThat(report.recipients()).hasSize(250);
      for (String rcpt : all) {
        RecipientResult res = report.result(rcpt);
        switch (rcpt) {
          case "r150@example.test" -> {
            assertThat(res.status()).isEqualTo(DeliveryStatus.DEFERRED);
            assertThat(res.reply().code()).isEqualTo(451);
          }
          case "r160@example.test" -> {
            assertThat(res.status()).isEqualTo(DeliveryStatus.BOUNCED);
            assertThat(res.reply().code()).isEqualTo(550);
          }
          case "r201@example.test" -> {
            assertThat(res.status()).isEqualTo(DeliveryStatus.DEFERRED);
            assertThat(res.reply().code()).isEqualTo(452);
          }
          default -> assertThat(res.status()).as("%s", res).isEqualTo(DeliveryStatus.DELIVERED);
        }
      }
      List<String> expected = new ArrayList<>(List.of(all));
      expected.removeAll(List.of(r(150), r(160), r(201)));
      assertThat(mx.awaitMessages(1, Duration.ofSeconds(10)))
          .singleElement()
          .satisfies(m -> assertThat(m.recipients()).containsExactlyElementsOf(expected));
      SmtpSession session = mx.sessions().get(0);
      List<List<String>> batches = rcptBatches(session);
      assertThat(batches.stream().mapToLong(RcptPipeliningTest::rcpts).sum()).isEqualTo(250);
      assertThat(batches).hasSizeGreaterThanOrEqualTo(3);
      assertThat(batches.get(0).get(0)).startsWith("MAIL FROM:");
      assertThat(batches.get(batches.size() - 1)).last().isEqualTo("DATA");
    }
  }

  /** Long addresses: the 4096-octet budget, not the count, ends each group. */
  @Test
  void rcptPipeliningKeepsEachGroupWithin4096Octets() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = mx(f, "127.0.0.2", "mx.example.test", b -> b);
      f.dns(
          d -> d.zone("example.test", z -> z.mailHost("example.test", 10, "mx.example.test", mx)));
      // RFC 5321 §4.5.3.1.1: a local part has at most 64 octets.
      String[] all = recipients(100, "x".repeat(61));

      DeliveryReport report = f.send(TlsLevel.OPPORTUNISTIC, all);

      assertThat(report.recipients())
          .hasSize(100)
          .allSatisfy(r -> assertThat(r.status()).isEqualTo(DeliveryStatus.DELIVERED));
      List<List<String>> batches = rcptBatches(mx.sessions().get(0));
      assertThat(batches.stream().mapToLong(RcptPipeliningTest::rcpts).sum()).isEqualTo(100);
      assertThat(batches).hasSizeGreaterThanOrEqualTo(3);
    }
  }

  /**
   * A 421 in the middle of the third group: the refusals read before it stand, and the recipients
   * the first host had accepted, or not answered yet, go to the next MX host.
   */
  @Test
  void a421InTheMiddleOfTheThirdGroupKeepsEveryEarlierVerdict() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx1 =
          mx(
              f,
              "127.0.0.2",
              "mx1.example.test",
              b ->
                  b.onRecipient(r(120), SmtpAction.reply(550, "5.1.1", "no such user"))
                      .onRecipient(r(130), SmtpAction.reply(451, "4.2.1", "mailbox busy"))
                      .onRecipient(r(230), SmtpAction.reply(421, "4.3.2", "shutting down")));
      MockSmtpServer mx2 = mx(f, "127.0.0.3", "mx2.example.test", b -> b);
      f.dns(
          d ->
              d.zone(
                  "example.test",
                  z ->
                      z.mailHost("example.test", 10, "mx1.example.test", mx1)
                          .mailHost("example.test", 20, "mx2.example.test", mx2)));
      String[] all = recipients(250, "r");

      DeliveryReport report = f.send(TlsLevel.OPPORTUNISTIC, all);

      assertThat(report.recipients()).hasSize(250);
      RecipientResult gone = report.result(r(120));
      assertThat(gone.status()).isEqualTo(DeliveryStatus.BOUNCED);
      assertThat(gone.reply().code()).isEqualTo(550);
      assertThat(gone.mxHost().orElseThrow().toString()).isEqualTo("mx1.example.test");
      RecipientResult busy = report.result(r(130));
      assertThat(busy.status()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(busy.reply().code()).isEqualTo(451);
      List<String> rest = new ArrayList<>(List.of(all));
      rest.removeAll(List.of(r(120), r(130)));
      for (String rcpt : rest) {
        RecipientResult res = report.result(rcpt);
        assertThat(res.status()).as("%s", res).isEqualTo(DeliveryStatus.DELIVERED);
        assertThat(res.mxHost().orElseThrow().toString()).isEqualTo("mx2.example.test");
      }
      assertThat(mx1.messages()).isEmpty();
      List<List<String>> first = rcptBatches(mx1.awaitSessions(1, Duration.ofSeconds(10)).get(0));
      // The server stops reading at its 421 (RFC 5321 §3.8).
      assertThat(first.stream().mapToLong(RcptPipeliningTest::rcpts).sum()).isBetween(230L, 250L);
      assertThat(mx2.awaitMessages(1, Duration.ofSeconds(10)))
          .singleElement()
          .satisfies(m -> assertThat(m.recipients()).containsExactlyElementsOf(rest));
      rcptBatches(mx2.sessions().get(0));
    }
  }

  /**
   * The server never answers the first pipelined RCPT, so every later reply stands one command too
   * early: b@'s refusal where a@'s reply is due, and the shift shows only as a timeout at the end
   * of the group. No refusal read in that group may then decide a recipient (RFC 2920 §3.1: replies
   * match commands only in order): neither recipient bounces on a reply that may be another's.
   */
  @Test
  void aMissingReplyInAPipelinedGroupBouncesNobodyOnAnotherOnesRefusal() throws Exception {
    try (Fixture f = new Fixture()) {
      Duration s5 = Duration.ofSeconds(5);
      f.timeouts =
          new SmtpTimeouts(s5, s5, Duration.ofMillis(800), s5, Duration.ofMillis(800), s5, s5);
      MockSmtpServer mx1 =
          mx(
              f,
              "127.0.0.2",
              "mx1.example.test",
              b ->
                  b.capabilities("PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES")
                      .onRecipient("a@example.test", SmtpAction.raw(new byte[0]))
                      .onRecipient(
                          "b@example.test", SmtpAction.reply(550, "5.1.1", "b: no such user")));
      f.dns(
          d ->
              d.zone("example.test", z -> z.mailHost("example.test", 10, "mx1.example.test", mx1)));

      DeliveryReport report = f.send(TlsLevel.OPPORTUNISTIC, "a@example.test", "b@example.test");

      for (String rcpt : List.of("a@example.test", "b@example.test")) {
        RecipientResult res = report.result(rcpt);
        assertThat(res.status()).as("%s", res).isEqualTo(DeliveryStatus.DEFERRED);
        assertThat(res.reply().code()).as("%s", res).isNotEqualTo(550);
      }
      assertThat(mx1.messages()).isEmpty();
    }
  }
}
