package io.mailtls.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The well-behaved server: RFC 5321 transactions, recording, concurrency and lifecycle. */
class MockSmtpServerTest {

  private static final Duration WAIT = Duration.ofSeconds(5);

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

  @Test
  void plainTransactionIsRecordedByteExactWithDotUnstuffing() throws Exception {
    MockSmtpServer smtp = start(MockSmtpServer.builder().hostname("mx1.example.test"));
    String wire =
        "Subject: dots\r\n"
            + "\r\n"
            + "..leading dot was stuffed\r\n"
            + "...two dots stuffed to three\r\n"
            + "a bare\nLF and a bare\rCR stay\r\n"
            + ".\r\n";
    String expected =
        "Subject: dots\r\n"
            + "\r\n"
            + ".leading dot was stuffed\r\n"
            + "..two dots stuffed to three\r\n"
            + "a bare\nLF and a bare\rCR stay\r\n";

    try (MockSmtpServerTestClient client = MockSmtpServerTestClient.connect(smtp)) {
      assertThat(client.reply()).isEqualTo("220 mx1.example.test ESMTP mailtls testkit");
      assertThat(client.command("EHLO client.example.test"))
          .isEqualTo(
              "250-mx1.example.test greets client.example.test\n"
                  + "250-PIPELINING\n250-SIZE 1073741824\n250-8BITMIME\n250-SMTPUTF8\n"
                  + "250-ENHANCEDSTATUSCODES\n250 CHUNKING");
      assertThat(client.command("MAIL FROM:<sender@example.test> BODY=8BITMIME SIZE=120"))
          .startsWith("250 2.1.0 ");
      assertThat(client.command("RCPT TO:<a@example.test>")).startsWith("250 2.1.5 ");
      assertThat(client.command("RCPT TO:<b@example.test> NOTIFY=NEVER")).startsWith("250 2.1.5 ");
      assertThat(client.command("DATA")).startsWith("354 ");
      client.send(wire);
      assertThat(client.reply()).startsWith("250 2.0.0 Ok: queued as ");
      assertThat(client.command("QUIT")).startsWith("221 2.0.0");
    }

    SmtpSession session = smtp.awaitSessions(1, WAIT).get(0);
    assertThat(session.commandLines())
        .containsExactly(
            "EHLO client.example.test",
            "MAIL FROM:<sender@example.test> BODY=8BITMIME SIZE=120",
            "RCPT TO:<a@example.test>",
            "RCPT TO:<b@example.test> NOTIFY=NEVER",
            "DATA",
            "QUIT");
    assertThat(session.commands()).noneMatch(SmtpCommand::tls);
    assertThat(session.tlsNegotiated()).isFalse();
    assertThat(session.clientName()).hasValue("client.example.test");
    SmtpMessage message = smtp.messages().get(0);
    assertThat(session.messages()).containsExactly(message);
    assertThat(message.mailFrom()).isEqualTo("sender@example.test");
    assertThat(message.mailParameters()).containsExactly("BODY=8BITMIME", "SIZE=120");
    assertThat(message.recipients()).containsExactly("a@example.test", "b@example.test");
    assertThat(message.data()).isEqualTo(expected.getBytes(StandardCharsets.UTF_8));
    assertThat(message.size()).isEqualTo(expected.length());
    assertThat(message.sha256())
        .isEqualTo(
            MessageDigest.getInstance("SHA-256").digest(expected.getBytes(StandardCharsets.UTF_8)));
    assertThat(message.accepted()).isTrue();
    assertThat(message.tls()).isFalse();
    assertThat(message.chunked()).isFalse();
  }

  @Test
  void messageDataSplitAcrossManyWritesIsReassembled() throws Exception {
    MockSmtpServer smtp = start(MockSmtpServer.builder());
    StringBuilder body = new StringBuilder();
    for (int i = 0; i < 2000; i++) {
      body.append(i % 7 == 0 ? "." : "")
          .append("line ")
          .append(i)
          .append(" of a longer message\r\n");
    }
    String stuffed = body.toString().replace("\r\n.", "\r\n..");
    if (stuffed.startsWith(".")) {
      stuffed = "." + stuffed;
    }

    try (MockSmtpServerTestClient client = MockSmtpServerTestClient.connect(smtp)) {
      client.reply();
      client.command("EHLO c.example.test");
      client.command("MAIL FROM:<>");
      client.command("RCPT TO:<a@example.test>");
      client.command("DATA");
      byte[] bytes = (stuffed + ".\r\n").getBytes(StandardCharsets.UTF_8);
      for (int i = 0; i < bytes.length; i += 997) {
        client.send(java.util.Arrays.copyOfRange(bytes, i, Math.min(bytes.length, i + 997)));
      }
      assertThat(client.reply()).startsWith("250 ");
    }

    SmtpMessage message = smtp.awaitMessages(1, WAIT).get(0);
    assertThat(message.mailFrom()).isEmpty();
    assertThat(message.dataAsString()).isEqualTo(body.toString());
  }

  @Test
  void heloRsetNoopAndSequenceErrors() throws Exception {
    MockSmtpServer smtp = start(MockSmtpServer.builder().hostname("mx.example.test"));

    try (MockSmtpServerTestClient client = MockSmtpServerTestClient.connect(smtp)) {
      client.reply();
      assertThat(client.command("MAIL FROM:<a@example.test>")).startsWith("503 ");
      assertThat(client.command("HELO c.example.test")).isEqualTo("250 mx.example.test");
      // After HELO no service extensions apply, so no enhanced codes (RFC 2034).
      assertThat(client.command("RCPT TO:<a@example.test>")).isEqualTo("503 need MAIL before RCPT");
      assertThat(client.command("MAIL FROM:a@example.test")).startsWith("501 ");
      assertThat(client.command("MAIL FROM:<a@example.test>")).startsWith("250 Sender");
      assertThat(client.command("MAIL FROM:<a@example.test>")).startsWith("503 ");
      assertThat(client.command("DATA")).startsWith("554 no valid recipients");
      assertThat(client.command("RSET")).isEqualTo("250 Ok");
      assertThat(client.command("RCPT TO:<a@example.test>")).startsWith("503 ");
      assertThat(client.command("NOOP")).isEqualTo("250 Ok");
      assertThat(client.command("VRFY someone")).startsWith("252 ");
      assertThat(client.command("XYZZY")).isEqualTo("500 command not recognized");
      assertThat(client.command("EHLO")).startsWith("501 ");
      assertThat(client.command("STARTTLS")).startsWith("502 ");
      assertThat(client.command("AUTH PLAIN")).startsWith("502 ");
      // BDAT is an extension: not after HELO. Its chunk is read (and dropped) all the same.
      client.send("BDAT 3 LAST\r\nabc");
      assertThat(client.reply()).isEqualTo("502 BDAT not available");
      assertThat(client.command("NOOP")).isEqualTo("250 Ok");
    }
  }

  @Test
  void enhancedStatusCodesOnlyWhenAdvertised() throws Exception {
    MockSmtpServer without = start(MockSmtpServer.builder().capabilities("PIPELINING", "8BITMIME"));

    try (MockSmtpServerTestClient client = MockSmtpServerTestClient.connect(without)) {
      client.reply();
      assertThat(client.command("EHLO c.example.test")).endsWith("250-PIPELINING\n250 8BITMIME");
      assertThat(client.command("MAIL FROM:<a@example.test>"))
          .isEqualTo("250 Sender <a@example.test> OK");
      assertThat(client.command("BDAT 0 LAST")).isEqualTo("502 BDAT not available");
    }
  }

  @Test
  void sizeLimitIsEnforcedWhenAdvertised() throws Exception {
    MockSmtpServer smtp =
        start(MockSmtpServer.builder().capabilities("SIZE 100", "ENHANCEDSTATUSCODES"));

    try (MockSmtpServerTestClient client = MockSmtpServerTestClient.connect(smtp)) {
      client.reply();
      client.command("EHLO c.example.test");
      assertThat(client.command("MAIL FROM:<a@example.test> SIZE=101")).startsWith("552 5.3.4 ");
      assertThat(client.command("MAIL FROM:<a@example.test> SIZE=99")).startsWith("250 ");
      client.command("RCPT TO:<b@example.test>");
      client.command("DATA");
      client.send("x".repeat(150) + "\r\n.\r\n");
      assertThat(client.reply()).startsWith("552 5.3.4 ");
    }
    assertThat(smtp.awaitMessages(1, WAIT).get(0).accepted()).isFalse();
  }

  @Test
  void concurrentSessionsOnAChosenLoopbackAddress() throws Exception {
    InetAddress address = InetAddress.getByName("127.0.0.2");
    MockSmtpServer smtp = start(MockSmtpServer.builder().address(address));
    assertThat(smtp.address()).isEqualTo(address);
    int clients = 8;
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    try {
      List<Future<String>> results = new ArrayList<>();
      for (int i = 0; i < clients; i++) {
        int n = i;
        Callable<String> delivery =
            () -> {
              try (MockSmtpServerTestClient client = MockSmtpServerTestClient.connect(smtp)) {
                client.reply();
                client.command("EHLO client" + n + ".example.test");
                client.command("MAIL FROM:<s" + n + "@example.test>");
                client.command("RCPT TO:<r" + n + "@example.test>");
                client.command("DATA");
                client.send("Subject: " + n + "\r\n\r\nbody " + n + "\r\n.\r\n");
                String reply = client.reply();
                client.command("QUIT");
                return reply;
              }
            };
        results.add(pool.submit(delivery));
      }
      for (Future<String> result : results) {
        assertThat(result.get()).startsWith("250 ");
      }
    } finally {
      pool.shutdownNow();
    }

    List<SmtpSession> sessions = smtp.awaitSessions(clients, WAIT);
    assertThat(sessions).hasSize(clients).allMatch(SmtpSession::isClosed);
    assertThat(sessions)
        .extracting(SmtpSession::id)
        .containsExactlyInAnyOrder(0, 1, 2, 3, 4, 5, 6, 7);
    assertThat(smtp.messages()).hasSize(clients);
    for (SmtpMessage message : smtp.messages()) {
      String n = message.mailFrom().replaceAll("[^0-9]", "");
      assertThat(message.recipients()).containsExactly("r" + n + "@example.test");
      assertThat(message.dataAsString()).isEqualTo("Subject: " + n + "\r\n\r\nbody " + n + "\r\n");
      assertThat(sessions.get(message.sessionId()).clientName())
          .hasValue("client" + n + ".example.test");
    }
  }

  @Test
  void sequentialSessionsAndClose() throws Exception {
    MockSmtpServer smtp = start(MockSmtpServer.builder());
    for (int i = 0; i < 3; i++) {
      try (MockSmtpServerTestClient client = MockSmtpServerTestClient.connect(smtp)) {
        client.reply();
        client.command("QUIT");
      }
    }
    assertThat(smtp.awaitSessions(3, WAIT)).hasSize(3);

    MockSmtpServerTestClient open = MockSmtpServerTestClient.connect(smtp);
    open.reply();
    smtp.close();
    assertThat(smtp.sessions().get(3).awaitClosed(WAIT)).isTrue();
    assertThatThrownBy(open::line).isInstanceOf(IOException.class);
    open.close();
    assertThatThrownBy(() -> MockSmtpServerTestClient.connect(smtp))
        .isInstanceOf(IOException.class);
    smtp.close(); // idempotent
  }

  @Test
  void awaitFailsWithADescriptionWhenNothingHappens() throws Exception {
    MockSmtpServer smtp = start(MockSmtpServer.builder());

    assertThatThrownBy(() -> smtp.awaitSessions(1, Duration.ofMillis(50)))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("expected 1 ended SMTP sessions");
    assertThatThrownBy(() -> smtp.awaitMessages(1, Duration.ofMillis(50)))
        .isInstanceOf(AssertionError.class);
  }

  @Test
  void builderValidates() {
    assertThatThrownBy(() -> MockSmtpServer.builder().address(InetAddress.getByName("192.0.2.1")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("192.0.2.1");
    assertThatThrownBy(() -> MockSmtpServer.builder().capabilities("STARTTLS"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("tls");
    assertThatThrownBy(() -> MockSmtpServer.builder().capabilities("BAD\r\nLINE"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> MockSmtpServer.builder().hostname("a").hostname("b"))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(
            () ->
                MockSmtpServer.builder()
                    .on(SmtpStep.RCPT, SmtpAction.proceed())
                    .on(SmtpStep.RCPT, SmtpAction.proceed()))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> MockSmtpServer.builder().stripStarttls().start())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("tls");
    assertThatThrownBy(
            () ->
                MockSmtpServer.builder()
                    .tls(TestPki.selfSigned("mx.example.test").serverSslContext())
                    .on(SmtpStep.TLS_HANDSHAKE, SmtpAction.reply(250, "no"))
                    .start())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("TLS_HANDSHAKE");
    assertThatThrownBy(() -> SmtpReply.of(250, "5.0.0", "class mismatch"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> SmtpReply.of(250, "text\r\nwith CRLF"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
