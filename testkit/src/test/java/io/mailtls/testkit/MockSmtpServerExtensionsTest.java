package io.mailtls.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** AUTH (RFC 4954), CHUNKING (RFC 3030), PIPELINING (RFC 2920) and digest-only recording. */
class MockSmtpServerExtensionsTest {

  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final TestPki.Issued LEAF = TestPki.selfSigned("mx.example.test");

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

  private static String base64(String text) {
    return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }

  private MockSmtpServer authServer() throws IOException {
    return start(MockSmtpServer.builder().credentials("relay-user", "s3cret"));
  }

  @Test
  void authPlainWithInitialResponse() throws Exception {
    MockSmtpServer smtp = authServer();

    try (MockSmtpServerTestClient client = MockSmtpServerTestClient.connect(smtp)) {
      client.reply();
      assertThat(client.command("EHLO client.example.test")).contains("250 AUTH PLAIN LOGIN");
      assertThat(client.command("AUTH PLAIN " + base64("\0relay-user\0s3cret")))
          .isEqualTo("235 2.7.0 Authentication successful");
      assertThat(client.command("AUTH PLAIN " + base64("\0relay-user\0s3cret"))).startsWith("503 ");
    }
    assertThat(smtp.awaitSessions(1, WAIT).get(0).authenticatedUser()).hasValue("relay-user");
  }

  @Test
  void authPlainAfterChallengeWithWrongPassword() throws Exception {
    MockSmtpServer smtp = authServer();

    try (MockSmtpServerTestClient client = MockSmtpServerTestClient.connect(smtp)) {
      client.reply();
      client.command("EHLO client.example.test");
      assertThat(client.command("AUTH PLAIN")).isEqualTo("334 ");
      assertThat(client.command(base64("\0relay-user\0wrong")))
          .isEqualTo("535 5.7.8 Authentication credentials invalid");
      assertThat(client.command("AUTH PLAIN !!notbase64")).startsWith("501 5.5.2");
      assertThat(client.command("AUTH CRAM-MD5")).startsWith("504 5.5.4");
    }
    assertThat(smtp.awaitSessions(1, WAIT).get(0).authenticatedUser()).isEmpty();
  }

  @Test
  void authLoginSuccessAndCancellation() throws Exception {
    MockSmtpServer smtp = authServer();

    try (MockSmtpServerTestClient client = MockSmtpServerTestClient.connect(smtp)) {
      client.reply();
      client.command("EHLO client.example.test");
      assertThat(client.command("AUTH LOGIN")).isEqualTo("334 VXNlcm5hbWU6");
      assertThat(client.command("*")).isEqualTo("501 5.7.0 authentication cancelled");
      assertThat(client.command("AUTH LOGIN")).isEqualTo("334 VXNlcm5hbWU6");
      assertThat(client.command(base64("relay-user"))).isEqualTo("334 UGFzc3dvcmQ6");
      assertThat(client.command(base64("s3cret"))).isEqualTo("235 2.7.0 Authentication successful");
    }
    SmtpSession session = smtp.awaitSessions(1, WAIT).get(0);
    assertThat(session.authenticatedUser()).hasValue("relay-user");
    assertThat(session.commandLines()).contains("AUTH LOGIN", "*", base64("relay-user"));
  }

  @Test
  void authCanBeScriptedToFailTemporarily() throws Exception {
    MockSmtpServer smtp =
        start(
            MockSmtpServer.builder()
                .credentials("u", "p")
                .on(
                    SmtpStep.AUTH,
                    SmtpAction.reply(454, "4.7.0", "temporary authentication failure")));

    try (MockSmtpServerTestClient client = MockSmtpServerTestClient.connect(smtp)) {
      client.reply();
      client.command("EHLO client.example.test");
      assertThat(client.command("AUTH PLAIN " + base64("\0u\0p"))).startsWith("454 4.7.0");
    }
    assertThat(smtp.awaitSessions(1, WAIT).get(0).authenticatedUser()).isEmpty();
  }

  @Test
  void bdatChunksAreRecordedWithoutUnstuffing() throws Exception {
    MockSmtpServer smtp = start(MockSmtpServer.builder());
    byte[] first = "Subject: chunks\r\n\r\n.a dot stays\r\n".getBytes(StandardCharsets.US_ASCII);
    byte[] last = "\r\n.\r\nno end marker here\r\n".getBytes(StandardCharsets.US_ASCII);

    try (MockSmtpServerTestClient client = MockSmtpServerTestClient.connect(smtp)) {
      client.reply();
      client.command("EHLO client.example.test");
      client.command("MAIL FROM:<a@example.test>");
      client.command("RCPT TO:<b@example.test>");
      client.send("BDAT " + first.length + "\r\n");
      client.send(first);
      assertThat(client.reply()).isEqualTo("250 2.0.0 " + first.length + " octets received");
      assertThat(client.command("DATA")).startsWith("503 5.5.1");
      client.send("BDAT " + last.length + " LAST\r\n");
      client.send(last);
      assertThat(client.reply()).startsWith("250 2.0.0 Ok: queued as");
      // Pipelined, in one write: a whole transaction with an empty last chunk.
      client.send(
          "MAIL FROM:<a@example.test>\r\nRCPT TO:<c@example.test>\r\nBDAT 3\r\nxyzBDAT 0 LAST\r\n");
      assertThat(client.reply()).startsWith("250 2.1.0");
      assertThat(client.reply()).startsWith("250 2.1.5");
      assertThat(client.reply()).startsWith("250 2.0.0 3 octets");
      assertThat(client.reply()).startsWith("250 2.0.0 Ok");
    }

    List<SmtpMessage> messages = smtp.awaitMessages(2, WAIT);
    ByteArrayBuilder expected = new ByteArrayBuilder().add(first).add(last);
    assertThat(messages.get(0).chunked()).isTrue();
    assertThat(messages.get(0).data()).isEqualTo(expected.bytes());
    assertThat(messages.get(1).dataAsString()).isEqualTo("xyz");
    assertThat(messages.get(1).recipients()).containsExactly("c@example.test");
  }

  @Test
  void digestOnlyModeHandlesLargeMessages() throws Exception {
    MockSmtpServer smtp = start(MockSmtpServer.builder().digestOnly());
    MessageDigest digest = MessageDigest.getInstance("SHA-256");
    byte[] line = new byte[998];
    new Random(42).nextBytes(line);
    for (int i = 0; i < line.length; i++) {
      line[i] = (byte) ('A' + (line[i] & 0x0f)); // printable, never CR, LF or a leading dot
    }
    int lines = 32 * 1024; // about 32 MiB
    long size = 0;

    try (MockSmtpServerTestClient client = MockSmtpServerTestClient.connect(smtp)) {
      client.reply();
      client.command("EHLO client.example.test");
      client.command("MAIL FROM:<a@example.test>");
      client.command("RCPT TO:<b@example.test>");
      client.command("DATA");
      OutputStream out = new BufferedOutputStream(client.socket().getOutputStream(), 1 << 16);
      for (int i = 0; i < lines; i++) {
        out.write(line);
        out.write('\r');
        out.write('\n');
        digest.update(line);
        digest.update(new byte[] {'\r', '\n'});
        size += line.length + 2;
      }
      out.write(".\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      assertThat(client.reply()).startsWith("250 ");
    }

    SmtpMessage message = smtp.awaitMessages(1, WAIT).get(0);
    assertThat(message.hasData()).isFalse();
    assertThat(message.size()).isEqualTo(size);
    assertThat(message.sha256()).isEqualTo(digest.digest());
    assertThatThrownBy(message::data).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void pipelinedCommandsAreRecordedAsOneBatchAndAnsweredTogether() throws Exception {
    MockSmtpServer smtp = start(MockSmtpServer.builder());

    try (MockSmtpServerTestClient client = MockSmtpServerTestClient.connect(smtp)) {
      client.reply();
      client.command("EHLO client.example.test");
      client.send(
          "MAIL FROM:<a@example.test>\r\n"
              + "RCPT TO:<b@example.test>\r\n"
              + "RCPT TO:<c@example.test>\r\n"
              + "DATA\r\n");
      String replies = client.readOnce();
      assertThat(replies.split("\r\n"))
          .hasSize(4)
          .satisfies(r -> assertThat(r[3]).startsWith("354 "));
      client.send("body\r\n.\r\nQUIT\r\n");
      assertThat(client.reply()).startsWith("250 ");
      assertThat(client.reply()).startsWith("221 ");
    }

    SmtpSession session = smtp.awaitSessions(1, WAIT).get(0);
    assertThat(session.commandBatches())
        .containsExactly(
            List.of("EHLO client.example.test"),
            List.of(
                "MAIL FROM:<a@example.test>",
                "RCPT TO:<b@example.test>",
                "RCPT TO:<c@example.test>",
                "DATA"),
            List.of("QUIT"));
    List<SmtpCommand> commands = session.commands();
    assertThat(commands.get(1).readIndex())
        .isEqualTo(commands.get(4).readIndex())
        .isGreaterThan(commands.get(0).readIndex());
    assertThat(smtp.messages().get(0).dataAsString()).isEqualTo("body\r\n");
  }

  @Test
  void pipeliningIsRecordedOverTlsToo() throws Exception {
    MockSmtpServer smtp = start(MockSmtpServer.builder().tls(LEAF.serverSslContext()));

    try (MockSmtpServerTestClient client = MockSmtpServerTestClient.connect(smtp)) {
      client.reply();
      client.command("EHLO client.example.test");
      client.command("STARTTLS");
      client.startTls(trustingTheSelfSignedLeaf(), "mx.example.test");
      client.command("EHLO client.example.test");
      client.send("MAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n");
      client.reply();
      client.reply();
      assertThat(client.reply()).startsWith("354 ");
    }
    SmtpSession session = smtp.awaitSessions(1, WAIT).get(0);
    assertThat(session.commandBatches())
        .contains(List.of("MAIL FROM:<a@example.test>", "RCPT TO:<b@example.test>", "DATA"));
  }

  /** A client context whose only trust anchor is the self-signed LEAF. */
  private static SSLContext trustingTheSelfSignedLeaf() throws Exception {
    TrustManagerFactory factory =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    factory.init(LEAF.keyStore("unused".toCharArray()));
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, factory.getTrustManagers(), null);
    return context;
  }

  /** Concatenates byte arrays. */
  private static final class ByteArrayBuilder {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    ByteArrayBuilder add(byte[] bytes) {
      out.writeBytes(bytes);
      return this;
    }

    byte[] bytes() {
      return out.toByteArray();
    }
  }
}
