package io.mailtls.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Scripted replies and misbehaviour, each observed from the client side. */
class MockSmtpServerFaultTest {

  private static final Duration WAIT = Duration.ofSeconds(5);
  private static final Duration SHORT = Duration.ofMillis(300);

  private final List<MockSmtpServer> servers = new ArrayList<>();

  private MockSmtpServer start(MockSmtpServer.Builder builder) throws IOException {
    MockSmtpServer server = builder.start();
    servers.add(server);
    return server;
  }

  @AfterEach
  void closeServers() {
    servers.forEach(MockSmtpServer::close);
  }

  private static long millisSince(long nanos) {
    return Duration.ofNanos(System.nanoTime() - nanos).toMillis();
  }

  /** Greeting, EHLO, MAIL, RCPT, DATA; returns the DATA reply. */
  private static String upToData(MockSmtpServerTestClient client) throws IOException {
    client.reply();
    client.command("EHLO client.example.test");
    client.command("MAIL FROM:<a@example.test>");
    client.command("RCPT TO:<b@example.test>");
    return client.command("DATA");
  }

  @Test
  void stalledGreetingArrivesLate() throws Exception {
    MockSmtpServer smtp =
        start(
            MockSmtpServer.builder()
                .on(SmtpStep.GREETING, SmtpAction.stall(Duration.ofMillis(400))));

    try (MockSmtpServerTestClient client =
        MockSmtpServerTestClient.connect(smtp, Duration.ofMillis(150))) {
      long started = System.nanoTime();
      assertThatThrownBy(client::reply).isInstanceOf(SocketTimeoutException.class);
      client.readTimeout(WAIT);
      assertThat(client.reply()).startsWith("220 ");
      assertThat(millisSince(started)).isGreaterThanOrEqualTo(350);
    }
  }

  @Test
  void hangingEhloReplyTimesTheClientOutAndTheSessionEndsWhenItLeaves() throws Exception {
    MockSmtpServer smtp = start(MockSmtpServer.builder().on(SmtpStep.EHLO, SmtpAction.hang()));

    try (MockSmtpServerTestClient client = MockSmtpServerTestClient.connect(smtp, SHORT)) {
      client.reply();
      assertThatThrownBy(() -> client.command("EHLO client.example.test"))
          .isInstanceOf(SocketTimeoutException.class);
    }
    SmtpSession session = smtp.awaitSessions(1, WAIT).get(0);
    assertThat(session.commandLines()).containsExactly("EHLO client.example.test");
  }

  @Test
  void stallAfterDataAndAfterTheFinalDot() throws Exception {
    MockSmtpServer smtp =
        start(
            MockSmtpServer.builder()
                .on(SmtpStep.DATA, SmtpAction.stall(Duration.ofMillis(500)), SmtpAction.proceed())
                .on(SmtpStep.DATA_END, SmtpAction.hang()));

    try (MockSmtpServerTestClient client = MockSmtpServerTestClient.connect(smtp, SHORT)) {
      assertThatThrownBy(() -> upToData(client)).isInstanceOf(SocketTimeoutException.class);
    }
    try (MockSmtpServerTestClient client = MockSmtpServerTestClient.connect(smtp, SHORT)) {
      assertThat(upToData(client)).startsWith("354 ");
      client.send("Subject: x\r\n\r\nbody\r\n.\r\n");
      assertThatThrownBy(client::reply).isInstanceOf(SocketTimeoutException.class);
    }
    // The message did arrive in full; the server just never answered it.
    SmtpMessage message = smtp.awaitMessages(1, WAIT).get(0);
    assertThat(message.finalReply()).isEmpty();
    assertThat(message.accepted()).isFalse();
    assertThat(message.dataAsString()).isEqualTo("Subject: x\r\n\r\nbody\r\n");
  }

  @Test
  void greeting421ClosesAndTheNextConnectionIsServed() throws Exception {
    MockSmtpServer smtp =
        start(
            MockSmtpServer.builder()
                .on(
                    SmtpStep.GREETING,
                    SmtpAction.reply(421, "4.3.2", "too busy"),
                    SmtpAction.proceed()));

    try (MockSmtpServerTestClient client = MockSmtpServerTestClient.connect(smtp)) {
      assertThat(client.reply()).isEqualTo("421 too busy"); // no enhanced codes before EHLO
      assertThat(client.readToEnd()).isEmpty();
    }
    try (MockSmtpServerTestClient client = MockSmtpServerTestClient.connect(smtp)) {
      assertThat(client.reply()).startsWith("220 ");
    }
  }

  @Test
  void refusingGreetingServesOnlyQuit() throws Exception {
    MockSmtpServer smtp =
        start(MockSmtpServer.builder().on(SmtpStep.GREETING, SmtpAction.reply(554, "no service")));

    try (MockSmtpServerTestClient client = MockSmtpServerTestClient.connect(smtp)) {
      assertThat(client.reply()).isEqualTo("554 no service");
      assertThat(client.command("EHLO client.example.test")).startsWith("503 ");
      assertThat(client.command("QUIT")).startsWith("221 ");
    }
  }

  @Test
  void shutdownAfterMail() throws Exception {
    MockSmtpServer smtp =
        start(
            MockSmtpServer.builder()
                .on(SmtpStep.MAIL, SmtpAction.reply(421, "4.3.2", "shutting down")));

    try (MockSmtpServerTestClient client = MockSmtpServerTestClient.connect(smtp)) {
      client.reply();
      client.command("EHLO client.example.test");
      assertThat(client.command("MAIL FROM:<a@example.test>")).isEqualTo("421 4.3.2 shutting down");
      assertThat(client.readToEnd()).isEmpty();
    }
  }

  @Test
  void perRecipientReplies() throws Exception {
    MockSmtpServer smtp =
        start(
            MockSmtpServer.builder()
                .onRecipient("b@example.test", SmtpAction.reply(451, "4.2.0", "mailbox busy"))
                .onRecipient("C@Example.Test", SmtpAction.reply(550, "5.1.1", "no such user")));

    try (MockSmtpServerTestClient client = MockSmtpServerTestClient.connect(smtp)) {
      client.reply();
      client.command("EHLO client.example.test");
      client.command("MAIL FROM:<s@example.test>");
      assertThat(client.command("RCPT TO:<a@example.test>")).startsWith("250 2.1.5 ");
      assertThat(client.command("RCPT TO:<b@example.test>")).isEqualTo("451 4.2.0 mailbox busy");
      assertThat(client.command("RCPT TO:<c@example.test>")).isEqualTo("550 5.1.1 no such user");
      client.command("DATA");
      client.send("hi\r\n.\r\n");
      client.reply();
    }
    assertThat(smtp.awaitMessages(1, WAIT).get(0).recipients()).containsExactly("a@example.test");
  }

  @Test
  void finalDotRepliesAndMailRefusal() throws Exception {
    MockSmtpServer smtp =
        start(
            MockSmtpServer.builder()
                .on(
                    SmtpStep.MAIL,
                    SmtpAction.reply(550, "5.7.1", "sender rejected"),
                    SmtpAction.proceed())
                .on(
                    SmtpStep.DATA_END,
                    SmtpAction.reply(451, "4.3.0", "try again"),
                    SmtpAction.reply(554, "5.6.0", "content rejected"),
                    SmtpAction.proceed()));

    try (MockSmtpServerTestClient client = MockSmtpServerTestClient.connect(smtp)) {
      client.reply();
      client.command("EHLO client.example.test");
      assertThat(client.command("MAIL FROM:<a@example.test>"))
          .isEqualTo("550 5.7.1 sender rejected");
      assertThat(client.command("RCPT TO:<b@example.test>")).startsWith("503 5.5.1 ");
      for (String expected :
          List.of("451 4.3.0 try again", "554 5.6.0 content rejected", "250 2.0.0")) {
        client.command("MAIL FROM:<a@example.test>");
        client.command("RCPT TO:<b@example.test>");
        client.command("DATA");
        client.send("x\r\n.\r\n");
        assertThat(client.reply()).startsWith(expected);
      }
    }
    assertThat(smtp.awaitMessages(3, WAIT))
        .extracting(m -> m.finalReply().orElseThrow().code())
        .containsExactly(451, 554, 250);
  }

  @Test
  void dropMidDataResetsTheConnection() throws Exception {
    MockSmtpServer smtp = start(MockSmtpServer.builder().dropDuringMessage(100));

    try (MockSmtpServerTestClient client = MockSmtpServerTestClient.connect(smtp)) {
      assertThat(upToData(client)).startsWith("354 ");
      assertThatThrownBy(
              () -> {
                for (int i = 0; i < 64; i++) {
                  client.send("y".repeat(1000) + "\r\n");
                }
                client.send(".\r\n");
                client.reply();
              })
          .isInstanceOf(IOException.class);
    }
    SmtpSession session = smtp.awaitSessions(1, WAIT).get(0);
    assertThat(session.messages()).isEmpty();
    assertThat(smtp.messages()).isEmpty();
  }

  @Test
  void endlessEhloReplyKeepsSending() throws Exception {
    MockSmtpServer smtp =
        start(MockSmtpServer.builder().on(SmtpStep.EHLO, SmtpAction.endlessReply()));

    try (MockSmtpServerTestClient client = MockSmtpServerTestClient.connect(smtp)) {
      client.reply();
      client.send("EHLO client.example.test\r\n");
      for (int i = 0; i < 20_000; i++) {
        assertThat(client.line()).startsWith("250-");
      }
    }
    // Once the client is gone, the server's writes fail and the session ends.
    smtp.awaitSessions(1, WAIT);
  }

  @Test
  void unboundedReplyLineNeverEnds() throws Exception {
    MockSmtpServer smtp =
        start(MockSmtpServer.builder().on(SmtpStep.EHLO, SmtpAction.unboundedLine()));

    try (MockSmtpServerTestClient client = MockSmtpServerTestClient.connect(smtp)) {
      client.reply();
      client.send("EHLO client.example.test\r\n");
      byte[] first = client.readBytes(1 << 20);
      assertThat(new String(first, 0, 4, StandardCharsets.US_ASCII)).isEqualTo("250 ");
      for (byte b : first) {
        assertThat(b).isNotEqualTo((byte) '\n');
      }
    }
    smtp.awaitSessions(1, WAIT);
  }

  @Test
  void rawBytesAndDisconnects() throws Exception {
    MockSmtpServer smtp =
        start(
            MockSmtpServer.builder()
                .on(SmtpStep.NOOP, SmtpAction.raw("garbage without a code\r\n"))
                .on(SmtpStep.RSET, SmtpAction.proceed().thenDisconnect()));

    try (MockSmtpServerTestClient client = MockSmtpServerTestClient.connect(smtp)) {
      client.reply();
      assertThat(client.command("NOOP")).isEqualTo("garbage without a code");
      assertThat(client.command("RSET")).isEqualTo("250 Ok");
      assertThat(client.readToEnd()).isEmpty();
    }
    MockSmtpServer silent =
        start(MockSmtpServer.builder().on(SmtpStep.GREETING, SmtpAction.disconnect()));
    try (MockSmtpServerTestClient client = MockSmtpServerTestClient.connect(silent)) {
      assertThat(client.readToEnd()).isEmpty();
    }
  }

  @Test
  void serverCloseEndsAStallThatWouldLastForever() throws Exception {
    MockSmtpServer smtp = start(MockSmtpServer.builder().on(SmtpStep.GREETING, SmtpAction.hang()));
    MockSmtpServerTestClient client = MockSmtpServerTestClient.connect(smtp);
    try {
      long started = System.nanoTime();
      while (smtp.sessions().isEmpty() && millisSince(started) < 5000) {
        Thread.sleep(5);
      }
      smtp.close();
      // awaitClosed's bound only catches a session that close() failed to end
      assertThat(smtp.sessions().get(0).awaitClosed(WAIT)).isTrue();
      assertThat(client.readToEnd()).isEmpty();
    } finally {
      client.close();
    }
  }

  /**
   * A client that has the reply to its final dot finds the message in {@code messages()} at once,
   * with that reply, also when the reply left early (then disconnect, a 421, injected bytes): the
   * message is recorded before its reply can reach the client. It used to be recorded after, a race
   * that made a test see a reply for a message the server had "not received".
   */
  @Test
  void aMessageIsRecordedBeforeItsFinalReplyReachesTheClient() throws Exception {
    MockSmtpServer smtp =
        start(
            MockSmtpServer.builder()
                .on(
                    SmtpStep.DATA_END,
                    SmtpAction.reply(250, "2.0.0", "taken").thenDisconnect(),
                    SmtpAction.reply(421, "4.3.2", "taken, but going away"),
                    SmtpAction.proceed().followedBy("250 extra\r\n").thenDisconnect()));
    for (int i = 1; i <= 60; i++) {
      try (MockSmtpServerTestClient client = MockSmtpServerTestClient.connect(smtp)) {
        assertThat(upToData(client)).startsWith("354");
        client.send("Subject: race " + i + "\r\n\r\nbody\r\n.\r\n");
        String reply = client.reply();
        assertThat(reply).matches("(250|421) .*");
        List<SmtpMessage> messages = smtp.messages();
        assertThat(messages).as("after %d messages", i).hasSize(i);
        assertThat(messages.get(i - 1).finalReply())
            .hasValueSatisfying(r -> assertThat(reply).startsWith(Integer.toString(r.code())));
      }
    }
  }
}
