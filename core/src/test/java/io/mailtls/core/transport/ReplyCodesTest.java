package io.mailtls.core.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.EnhancedStatus;
import io.mailtls.core.FailureType;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.TlsLevel;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.SmtpAction;
import io.mailtls.testkit.SmtpStep;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * RFC 5321 §4.3.2 lists the replies each command may get. A reply outside that list is a protocol
 * error: the recipients are deferred (never delivered), and the connection is never pooled, so the
 * next message opens a new session.
 */
class ReplyCodesTest {

  private static final String[] RECIPIENTS = {"a@example.test", "b@example.test"};

  /**
   * The default keywords but CHUNKING: these tests are about DATA, which a server that offers
   * PIPELINING and CHUNKING no longer gets for a small message (see {@link OneTripTest}).
   */
  static final String[] WITHOUT_CHUNKING =
      MockSmtpServer.DEFAULT_CAPABILITIES.stream()
          .filter(c -> !c.equals("CHUNKING"))
          .toArray(String[]::new);

  private static MockSmtpServer mx(Fixture f, UnaryOperator<MockSmtpServer.Builder> script) {
    MockSmtpServer mx = f.server("127.0.0.2", b -> script.apply(b.hostname("mx.example.test")));
    f.dns(d -> d.zone("example.test", z -> z.mailHost("example.test", 10, "mx.example.test", mx)));
    return mx;
  }

  /** Each recipient deferred by a protocol error, with RFC 3463 4.5.0, not the server's code. */
  private static void assertProtocolError(DeliveryReport report) {
    assertThat(report.recipients())
        .hasSize(RECIPIENTS.length)
        .allSatisfy(
            r -> {
              assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DEFERRED);
              assertThat(r.attempt().orElseThrow().failure()).contains(FailureType.PROTOCOL_ERROR);
              assertThat(r.reply().code()).isEqualTo(451);
              assertThat(r.reply().enhancedStatus()).contains(EnhancedStatus.PROTOCOL_ERROR);
            });
  }

  /**
   * A second message on the same transport: delivered, over a new session (the connection of the
   * protocol error was discarded, not pooled).
   */
  private static void assertNextMessageUsesANewSession(SecureSmtpTransport t, MockSmtpServer mx)
      throws InterruptedException {
    DeliveryReport next = Fixture.send(t, "c@example.test");
    assertThat(next.result("c@example.test").status()).isEqualTo(DeliveryStatus.DELIVERED);
    assertThat(mx.sessions()).hasSize(2);
    assertThat(mx.awaitMessages(1, Duration.ofSeconds(5)))
        .singleElement()
        .satisfies(m -> assertThat(m.recipients()).containsExactly("c@example.test"));
  }

  /**
   * RFC 5321 §4.3.2: 354 is the only positive reply to DATA. A 250 used to be reported delivered
   * for every accepted recipient, though no content was sent.
   */
  @Test
  void a250ReplyToDataIsAProtocolErrorNeverDelivered() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx =
          mx(
              f,
              b ->
                  b.capabilities(WITHOUT_CHUNKING)
                      .on(
                          SmtpStep.DATA,
                          SmtpAction.reply(250, "2.0.0", "sure, whatever"),
                          SmtpAction.proceed()));
      SecureSmtpTransport t = f.transport(TlsLevel.OPPORTUNISTIC);
      assertProtocolError(Fixture.send(t, RECIPIENTS));
      assertNextMessageUsesANewSession(t, mx);
    }
  }

  /** The same without PIPELINING: DATA on its own, answered 250. */
  @Test
  void a250ReplyToDataWithoutPipeliningIsAProtocolError() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx =
          mx(
              f,
              b ->
                  b.capabilities("8BITMIME")
                      .on(
                          SmtpStep.DATA,
                          SmtpAction.reply(250, "2.0.0", "sure"),
                          SmtpAction.proceed()));
      SecureSmtpTransport t = f.transport(TlsLevel.OPPORTUNISTIC);
      assertProtocolError(Fixture.send(t, RECIPIENTS));
      assertNextMessageUsesANewSession(t, mx);
    }
  }

  /** RFC 5321 §4.3.2: RCPT gets 250/251 or a 4xx/5xx; a 354 is no answer to it. */
  @Test
  void a354ReplyToRcptIsAProtocolError() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx =
          mx(
              f,
              b ->
                  b.capabilities(WITHOUT_CHUNKING)
                      .on(SmtpStep.RCPT, SmtpAction.reply(354, "go ahead"), SmtpAction.proceed()));
      SecureSmtpTransport t = f.transport(TlsLevel.OPPORTUNISTIC);
      assertProtocolError(Fixture.send(t, RECIPIENTS));
      assertNextMessageUsesANewSession(t, mx);
    }
  }

  /** RFC 5321 §4.3.2: MAIL gets 250 or a 4xx/5xx, never a 3xx. */
  @Test
  void a3xxReplyToMailIsAProtocolError() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx =
          mx(
              f,
              b ->
                  b.capabilities("8BITMIME")
                      .on(SmtpStep.MAIL, SmtpAction.reply(334, "what?"), SmtpAction.proceed()));
      SecureSmtpTransport t = f.transport(TlsLevel.OPPORTUNISTIC);
      assertProtocolError(Fixture.send(t, RECIPIENTS));
      assertNextMessageUsesANewSession(t, mx);
    }
  }

  /**
   * RFC 2920 §3.1: a pipelined group gets one reply per command. Here the reply to DATA comes with
   * a second one; read as the reply to the final dot, it used to make the message delivered before
   * the content had even left.
   */
  @Test
  void morePipelinedRepliesThanCommandsIsAProtocolError() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx =
          mx(
              f,
              b ->
                  b.capabilities(WITHOUT_CHUNKING)
                      .on(
                          SmtpStep.DATA,
                          SmtpAction.proceed().followedBy("250 2.0.0 queued, honest\r\n"),
                          SmtpAction.proceed()));
      SecureSmtpTransport t = f.transport(TlsLevel.OPPORTUNISTIC);
      assertProtocolError(Fixture.send(t, RECIPIENTS));
      assertNextMessageUsesANewSession(t, mx);
    }
  }

  /** Without PIPELINING: a reply to MAIL followed by another one, before RCPT was even sent. */
  @Test
  void anUnsolicitedReplyAfterMailIsAProtocolError() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx =
          mx(
              f,
              b ->
                  b.capabilities("8BITMIME")
                      .on(
                          SmtpStep.MAIL,
                          SmtpAction.proceed()
                              .followedBy("250 2.1.5 a recipient you have not named\r\n"),
                          SmtpAction.proceed()));
      SecureSmtpTransport t = f.transport(TlsLevel.OPPORTUNISTIC);
      assertProtocolError(Fixture.send(t, RECIPIENTS));
      assertNextMessageUsesANewSession(t, mx);
    }
  }

  /**
   * RFC 5321 §4.3.2: the final dot gets 250 or a 4xx/5xx. A 3xx defers, and the connection, whose
   * state is unknown, is discarded instead of going back to the pool.
   */
  @Test
  void a3xxReplyToTheFinalDotIsAProtocolErrorAndTheConnectionIsDiscarded() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx =
          mx(
              f,
              b ->
                  b.on(
                      SmtpStep.DATA_END,
                      SmtpAction.reply(354, "more, please"),
                      SmtpAction.proceed()));
      SecureSmtpTransport t = f.transport(TlsLevel.OPPORTUNISTIC);
      DeliveryReport report = Fixture.send(t, RECIPIENTS);
      assertProtocolError(report);
      assertThat(mx.messages()).hasSize(1);
      assertThat(mx.messages().get(0).accepted()).isFalse();
      DeliveryReport next = Fixture.send(t, "c@example.test");
      assertThat(next.result("c@example.test").status()).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(mx.sessions()).hasSize(2);
    }
  }

  /**
   * RFC 5321 §4.3.2: the final dot's one positive reply is 250. A 251 there (or 221, the reply to
   * QUIT) answers another command, so it delivers nobody: the README says "only after the server's
   * 250".
   */
  @Test
  void a2xxOtherThan250ToTheFinalDotIsAProtocolErrorNeverDelivered() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx =
          mx(
              f,
              b ->
                  b.capabilities(WITHOUT_CHUNKING)
                      .on(
                          SmtpStep.DATA_END,
                          SmtpAction.reply(251, "2.1.5", "forwarded, as for a RCPT"),
                          SmtpAction.proceed()));
      SecureSmtpTransport t = f.transport(TlsLevel.OPPORTUNISTIC);
      assertProtocolError(Fixture.send(t, RECIPIENTS));
      // the connection, whose state is unknown, is discarded: the next message opens another
      DeliveryReport next = Fixture.send(t, "c@example.test");
      assertThat(next.result("c@example.test").status()).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(mx.sessions()).hasSize(2);
    }
  }

  /**
   * A 250 to the final dot followed by more: the server took the message, so it stays delivered
   * (deferring would send it twice), but the connection is not pooled. (DATA's 354 showed that
   * replies and commands matched before the content went; a one-trip BDAT has no such point, so
   * there the same defers: {@link OneTripTest}.)
   */
  @Test
  void extraInputAfterTheFinalReplyKeepsTheVerdictButDiscardsTheConnection() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx =
          mx(
              f,
              b ->
                  b.capabilities(WITHOUT_CHUNKING)
                      .on(
                          SmtpStep.DATA_END,
                          SmtpAction.proceed().followedBy("250 2.0.0 and again\r\n"),
                          SmtpAction.proceed()));
      SecureSmtpTransport t = f.transport(TlsLevel.OPPORTUNISTIC);
      DeliveryReport report = Fixture.send(t, RECIPIENTS);
      assertThat(report.recipients())
          .allSatisfy(r -> assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DELIVERED));
      RecipientResult a = report.result(RECIPIENTS[0]);
      assertThat(a.attempt().orElseThrow().detail()).contains("unsolicited");
      DeliveryReport next = Fixture.send(t, "c@example.test");
      assertThat(next.result("c@example.test").status()).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(mx.sessions()).hasSize(2);
    }
  }

  /**
   * RFC 5321 §4.3.2: the greeting is 220 (or 554). A 354 greeting fails the attempt, and the
   * deferral must be a 4xx, never the server's own 354 (a DEFERRED with a 3xx reply used to reach
   * the report; found by HostilePeerPropertyTest).
   */
  @Test
  void anOddGreetingDefersWithA4xxNotItsOwnCode() throws Exception {
    try (Fixture f = new Fixture()) {
      mx(f, b -> b.on(SmtpStep.GREETING, SmtpAction.reply(354, "go ahead, whatever")));
      DeliveryReport report = f.send(TlsLevel.OPPORTUNISTIC, RECIPIENTS);
      assertThat(report.recipients())
          .hasSize(RECIPIENTS.length)
          .allSatisfy(
              r -> {
                assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DEFERRED);
                assertThat(r.reply().code()).isEqualTo(451);
                assertThat(r.reply().locallyGenerated()).isTrue();
                assertThat(r.reply().text()).contains("354 go ahead");
              });
    }
  }

  /**
   * The strict reading does not touch what is legitimate: a server whose every reply arrives one
   * octet per TCP segment (a multiline EHLO, the pipelined MAIL/RCPT/DATA group, the final reply)
   * still gets the message delivered.
   */
  @Test
  @Timeout(30)
  void repliesSplitAcrossSegmentsStillDeliver() throws Exception {
    try (ServerSocket listener = new ServerSocket();
        Fixture f = new Fixture()) {
      listener.bind(new InetSocketAddress(Fixture.inet("127.0.0.2"), 0));
      List<String> received = new CopyOnWriteArrayList<>();
      Thread peer = new Thread(() -> drip(listener, received), "dripping-smtp-peer");
      peer.setDaemon(true);
      peer.start();
      f.rawMx(listener.getLocalPort());
      DeliveryReport report = f.send(TlsLevel.OPPORTUNISTIC, RECIPIENTS);
      assertThat(report.recipients())
          .allSatisfy(r -> assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DELIVERED));
      assertThat(received).contains(".");
    }
  }

  /** A minimal SMTP server that writes each reply octet by octet, flushing after each. */
  private static void drip(ServerSocket listener, List<String> received) {
    try (Socket s = listener.accept()) {
      s.setTcpNoDelay(true);
      BufferedReader in =
          new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
      OutputStream out = s.getOutputStream();
      drip(out, "220 mx.example.test ESMTP\r\n");
      boolean data = false;
      String line;
      while ((line = in.readLine()) != null) {
        received.add(line);
        if (data) {
          if (line.equals(".")) {
            data = false;
            drip(out, "250 2.0.0 queued\r\n");
          }
          continue;
        }
        String verb = line.split(" ", 2)[0].toUpperCase(Locale.ROOT);
        switch (verb) {
          case "EHLO" -> drip(out, "250-mx.example.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n");
          case "MAIL", "RCPT", "RSET" -> drip(out, "250 2.1.0 ok\r\n");
          case "DATA" -> {
            data = true;
            drip(out, "354 go ahead\r\n");
          }
          case "QUIT" -> {
            drip(out, "221 bye\r\n");
            return;
          }
          default -> drip(out, "502 5.5.1 not here\r\n");
        }
      }
    } catch (IOException e) {
      // the client hung up
    }
  }

  private static void drip(OutputStream out, String reply) throws IOException {
    for (byte b : reply.getBytes(StandardCharsets.US_ASCII)) {
      out.write(b);
      out.flush();
      try {
        Thread.sleep(1);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted", e);
      }
    }
  }

  /**
   * A forged 354 right after the RCPT reply desynchronises a pipelined exchange: the client takes
   * it for the reply to DATA. Here the server's next reply came in the same write as the forgery,
   * so it is there when the group's last reply has been read: octets beyond the replies a group
   * asked for are a protocol error (RFC 2920 §3.1), and no content and no final dot are sent. (The
   * same check runs again just before the final dot, for a reply that arrives while the content
   * goes out; one that arrives only after the dot cannot be told apart by any client.)
   */
  @Test
  void aForged354WithTheNextReplyBehindItNeverReachesTheFinalDot() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx =
          mx(
              f,
              b ->
                  b.capabilities(WITHOUT_CHUNKING)
                      .on(
                          SmtpStep.RCPT,
                          SmtpAction.proceed()
                              .followedBy(
                                  "354 forged go ahead\r\n250 2.0.0 a reply nobody asked for\r\n")));
      RecipientResult r =
          Fixture.send(f.transport(TlsLevel.OPPORTUNISTIC), "a@example.test")
              .result("a@example.test");
      assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(r.attempt().orElseThrow().failure()).contains(FailureType.PROTOCOL_ERROR);
      assertThat(mx.awaitSessions(1, Duration.ofSeconds(5)).get(0).commandLines())
          .as("no final dot was sent")
          .doesNotContain(".");
      assertThat(mx.messages()).isEmpty();
    }
  }
}
