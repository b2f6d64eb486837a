package io.mailtls.core.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.Envelope;
import io.mailtls.core.MessageContent;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.TlsLevel;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.SmtpAction;
import io.mailtls.testkit.SmtpReply;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Connection reuse and the per-destination session cap. */
class ConnectionReuseTest {

  private static MockSmtpServer start(
      Fixture f, java.util.function.UnaryOperator<MockSmtpServer.Builder> config) {
    MockSmtpServer mx =
        f.server(
            "127.0.0.2",
            b ->
                config.apply(
                    b.hostname("mx.example.test").tls(Fixture.certFor("mx.example.test"))));
    f.dns(d -> d.zone("example.test", z -> z.mailHost("example.test", 10, "mx.example.test", mx)));
    return mx;
  }

  private static final MessageContent CONTENT =
      MessageContent.of(Fixture.MESSAGE.getBytes(StandardCharsets.UTF_8));

  /** Sends the message to {@code rcpt} and checks that it was delivered. */
  private static void delivered(SecureSmtpTransport t, String rcpt) {
    DeliveryReport r = t.send(Envelope.of("a@sender.test", rcpt), CONTENT);
    assertThat(r.allDelivered()).as("%s", r).isTrue();
  }

  @Test
  void twoHundredMessagesToOneDestinationStayWithinTheSessionCap() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = start(f, b -> b.digestOnly());
      ExecutorService pool = Executors.newFixedThreadPool(16);
      try {
        SecureSmtpTransport t =
            f.transport(
                TlsLevel.OPPORTUNISTIC,
                b ->
                    b.maxSessionsPerDestination(3)
                        .executor(pool)
                        .connectionReuse(Duration.ofSeconds(30), Duration.ofMinutes(5)));
        List<CompletableFuture<DeliveryReport>> all = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
          all.add(
              t.sendAsync(Envelope.of("a@sender.test", "r" + i + "@example.test"), CONTENT)
                  .toCompletableFuture());
        }
        for (CompletableFuture<DeliveryReport> r : all) {
          DeliveryReport report = r.get(60, TimeUnit.SECONDS);
          assertThat(report.allDelivered()).as("%s", report).isTrue();
        }
        assertThat(mx.messages()).hasSize(200);
        assertThat(mx.sessions().size()).isBetween(1, 3);
      } finally {
        pool.shutdownNow();
      }
    }
  }

  @Test
  void sequentialMessagesReuseOneSessionWithRset() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = start(f, b -> b);
      SecureSmtpTransport t = f.transport(TlsLevel.ENFORCED);
      for (int i = 0; i < 5; i++) {
        DeliveryReport r = t.send(Envelope.of("a@sender.test", "r" + i + "@example.test"), CONTENT);
        assertThat(r.allDelivered()).isTrue();
        assertThat(r.result("r" + i + "@example.test").tls()).isPresent();
      }
      assertThat(mx.sessions()).hasSize(1);
      assertThat(mx.sessions().get(0).commandLines()).filteredOn(l -> l.equals("RSET")).hasSize(4);
      assertThat(mx.messages()).hasSize(5);
      // RFC 2920 §3.1: under PIPELINING the RSET goes ahead of MAIL in the same write, so a reused
      // session costs no round trip more than a new transaction.
      List<List<String>> transactions =
          mx.sessions().get(0).commandBatches().stream()
              .filter(b -> b.stream().anyMatch(l -> l.startsWith("MAIL FROM:")))
              .toList();
      assertThat(transactions).hasSize(5);
      assertThat(transactions.get(0).get(0)).startsWith("MAIL FROM:");
      for (int i = 1; i < 5; i++) {
        assertThat(transactions.get(i)).first().isEqualTo("RSET");
        assertThat(transactions.get(i).get(1)).startsWith("MAIL FROM:");
      }
    }
  }

  @Test
  void withoutPipeliningTheRsetIsACommandOfItsOwn() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx =
          start(
              f,
              b ->
                  b.capabilities(
                      MockSmtpServer.DEFAULT_CAPABILITIES.stream()
                          .filter(c -> !c.equals("PIPELINING"))
                          .toArray(String[]::new)));
      SecureSmtpTransport t = f.transport(TlsLevel.OPPORTUNISTIC);
      for (int i = 0; i < 3; i++) {
        delivered(t, "r" + i + "@example.test");
      }
      assertThat(mx.sessions()).hasSize(1);
      assertThat(mx.sessions().get(0).commandBatches())
          .filteredOn(b -> b.contains("RSET"))
          .hasSize(2)
          .allSatisfy(b -> assertThat(b).containsExactly("RSET"));
    }
  }

  /**
   * Without PIPELINING the RSET that checks a pooled session is a command of its own. A 421 or a
   * 221 to it says the server is closing and takes no command after it (RFC 5321 §3.8; RSET gets
   * 250, §4.1.1.5): the session is unusable before any of the message could be taken, and the
   * message goes on a new session, as it does under PIPELINING, never deferred for it. A 221 used
   * to be taken for a usable session: MAIL then found the connection closed, and the message was
   * deferred.
   */
  @ParameterizedTest(name = "{0}")
  @CsvSource({"421", "221"})
  void withoutPipeliningAPooledSessionClosingAtItsRsetIsReplaced(int code) throws Exception {
    try (Fixture f = new Fixture()) {
      SmtpAction closing =
          SmtpAction.reply(SmtpReply.of(code, code / 100 + ".0.0", "closing")).thenDisconnect();
      MockSmtpServer mx =
          start(
              f,
              b ->
                  b.capabilities(
                          MockSmtpServer.DEFAULT_CAPABILITIES.stream()
                              .filter(c -> !c.equals("PIPELINING"))
                              .toArray(String[]::new))
                      .on(SmtpStep.RSET, closing));
      SecureSmtpTransport t = f.transport(TlsLevel.OPPORTUNISTIC);
      delivered(t, "one@example.test");
      DeliveryReport second = t.send(Envelope.of("a@sender.test", "two@example.test"), CONTENT);
      assertThat(second.allDelivered()).as("%s", second).isTrue();
      assertThat(second.result("two@example.test").attempts()).hasSize(1);
      assertThat(mx.sessions()).hasSize(2);
      assertThat(mx.messages()).hasSize(2);
      assertThat(mx.messages().get(1).sessionId()).isEqualTo(mx.sessions().get(1).id());
    }
  }

  private static String[] capabilities(String path) {
    return MockSmtpServer.DEFAULT_CAPABILITIES.stream()
        .filter(c -> path.equals("one round trip") || !c.equals("CHUNKING"))
        .toArray(String[]::new);
  }

  /**
   * A pooled session found unusable by the RSET pipelined ahead of the next transaction, before any
   * of the message could have been taken: with DATA nothing of it leaves before the replies, and a
   * 421 (RFC 5321 §3.8) ends the session before any later command. The message goes on a new
   * session and is delivered, never deferred for it.
   */
  @ParameterizedTest(name = "{0}, {1}")
  @CsvSource({
    "one round trip, 421",
    "DATA, 421",
    "DATA, disconnect",
    "DATA, 502",
  })
  void aPooledSessionFoundUnusableBeforeTheMessageCouldBeTakenIsReplaced(String path, String end)
      throws Exception {
    try (Fixture f = new Fixture()) {
      SmtpAction gone =
          switch (end) {
            case "421" -> SmtpAction.reply(SmtpReply.of(421, "4.4.2", "idle too long"));
            case "502" -> SmtpAction.reply(SmtpReply.of(502, "5.5.1", "no RSET here"));
            default -> SmtpAction.disconnect();
          };
      MockSmtpServer mx = start(f, b -> b.capabilities(capabilities(path)).on(SmtpStep.RSET, gone));
      SecureSmtpTransport t = f.transport(TlsLevel.OPPORTUNISTIC);
      delivered(t, "one@example.test");
      DeliveryReport second = t.send(Envelope.of("a@sender.test", "two@example.test"), CONTENT);
      assertThat(second.allDelivered()).as("%s", second).isTrue();
      assertThat(second.result("two@example.test").attempts()).hasSize(1);
      assertThat(second.result("two@example.test").attempts().get(0).detail())
          .contains("pooled connection had ended");
      assertThat(mx.sessions()).hasSize(2);
      assertThat(mx.messages()).hasSize(2);
      assertThat(mx.messages().get(1).recipients()).containsExactly("two@example.test");
      assertThat(mx.messages().get(1).sessionId()).isEqualTo(mx.sessions().get(1).id());
      // The new session took the stale one's slot: nothing is left busy or counted twice.
      delivered(t, "three@example.test");
    }
  }

  /**
   * In one round trip the whole message leaves with the RSET, and a server may hold its replies
   * until it has taken it (RFC 2920 §3.1): a connection lost before any reply is a lost verdict, so
   * the recipient is deferred, never sent again in the same call.
   */
  @Test
  void aPooledSessionLostAfterTheOneTripWriteIsDeferredNotSentAgain() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx =
          start(
              f,
              b ->
                  b.capabilities(capabilities("one round trip"))
                      .on(SmtpStep.RSET, SmtpAction.disconnect()));
      SecureSmtpTransport t = f.transport(TlsLevel.OPPORTUNISTIC);
      delivered(t, "one@example.test");
      DeliveryReport second = t.send(Envelope.of("a@sender.test", "two@example.test"), CONTENT);
      assertThat(second.result("two@example.test").status()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(second.result("two@example.test").reply().code()).isEqualTo(451);
      assertThat(mx.sessions()).hasSize(1);
      assertThat(mx.messages()).hasSize(1);
    }
  }

  /**
   * A server that ends an idle session with a 421 (its idle timeout) leaves input waiting on it;
   * the client sees it before it sends a byte of the next message, which goes on a new session.
   */
  @Test
  void aPooledSessionTheServerClosedWhileIdleIsSeenBeforeAByteOfTheMessageLeaves()
      throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx =
          start(
              f,
              b ->
                  b.capabilities(capabilities("one round trip"))
                      .idleTimeout(Duration.ofMillis(200)));
      SecureSmtpTransport t =
          f.transport(
              TlsLevel.OPPORTUNISTIC,
              b -> b.connectionReuse(Duration.ofSeconds(30), Duration.ofMinutes(5)));
      delivered(t, "one@example.test");
      Thread.sleep(1000); // the server's 421 and close arrive while the session is pooled
      DeliveryReport second = t.send(Envelope.of("a@sender.test", "two@example.test"), CONTENT);
      assertThat(second.allDelivered()).as("%s", second).isTrue();
      // Seen before the write, not as the reply to an RSET sent into a closed session.
      assertThat(second.result("two@example.test").attempts().get(0).detail())
          .contains("pooled connection had ended")
          .contains("the server sent input to an idle pooled session");
      assertThat(mx.sessions()).hasSize(2);
      assertThat(mx.sessions().get(0).commandLines())
          .filteredOn(l -> l.equals("RSET") || l.startsWith("MAIL FROM:"))
          .hasSize(1);
    }
  }

  @Test
  void aMailRefusalAfterARefusedRsetIsNeverABounce() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx =
          start(
              f,
              b ->
                  b.on(SmtpStep.RSET, SmtpAction.reply(502, "5.5.1", "no RSET here"))
                      .on(
                          SmtpStep.MAIL,
                          SmtpAction.proceed(),
                          SmtpAction.reply(503, "5.5.1", "nested MAIL command")));
      SecureSmtpTransport t = f.transport(TlsLevel.OPPORTUNISTIC);
      delivered(t, "one@example.test");
      DeliveryReport second = t.send(Envelope.of("a@sender.test", "two@example.test"), CONTENT);
      assertThat(second.result("two@example.test").status()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(mx.messages()).hasSize(1);
    }
  }

  @Test
  void aRefusedRsetLeavesTheTransactionToItsOwnRepliesAndTheSessionUnpooled() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx =
          start(f, b -> b.on(SmtpStep.RSET, SmtpAction.reply(502, "5.5.1", "no RSET here")));
      SecureSmtpTransport t = f.transport(TlsLevel.OPPORTUNISTIC);
      for (int i = 0; i < 3; i++) {
        delivered(t, "r" + i + "@example.test");
      }
      // The second message rode the first session (its MAIL resets the transaction, RFC 5321
      // §3.3); the session whose RSET was refused was not pooled again.
      assertThat(mx.messages()).hasSize(3);
      assertThat(mx.sessions()).hasSize(2);
      assertThat(mx.messages().get(1).sessionId()).isEqualTo(mx.sessions().get(0).id());
    }
  }

  /**
   * A server that says more than its reply to the final dot, in a later segment, leaves input
   * waiting on the pooled session. Were the session used again, that line would be read as the
   * reply to the next command and every reply after it would answer the command before (RFC 2920
   * §3.1, RFC 5321 §4.1.1.5): here the RCPT refusal of one recipient would come back as the reply
   * to DATA and bounce the other. The session is dropped at checkout, before a byte is written.
   */
  @Test
  @Timeout(30)
  void aPooledSessionWithALateStrayReplyIsNeverUsedAgain() throws Exception {
    try (ServerSocket listener = new ServerSocket();
        Fixture f = new Fixture()) {
      listener.bind(new InetSocketAddress(Fixture.inet("127.0.0.2"), 0));
      AtomicInteger sessions = new AtomicInteger();
      CountDownLatch straySent = new CountDownLatch(1);
      Thread peer =
          new Thread(() -> strayPeer(listener, sessions, straySent), "stray-reply-smtp-peer");
      peer.setDaemon(true);
      peer.start();
      f.rawMx(listener.getLocalPort());
      SecureSmtpTransport t = f.transport(TlsLevel.OPPORTUNISTIC);
      delivered(t, "first@example.test");
      assertThat(straySent.await(10, TimeUnit.SECONDS)).isTrue();
      Thread.sleep(200); // the stray line reaches the client's socket while the session is idle

      DeliveryReport second =
          t.send(Envelope.of("a@sender.test", "good@example.test", "bad@example.test"), CONTENT);

      assertThat(second.result("good@example.test").status())
          .as("%s", second)
          .isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(second.result("bad@example.test").status()).isEqualTo(DeliveryStatus.BOUNCED);
      assertThat(second.result("bad@example.test").reply().code()).isEqualTo(550);
      assertThat(second.result("good@example.test").attempts().get(0).detail())
          .contains("the server sent input to an idle pooled session");
      assertThat(sessions.get()).isEqualTo(2);
    }
  }

  /**
   * A plaintext SMTP server without PIPELINING that answers the first message's final dot with a
   * 250 and, 100 ms later in a segment of its own, a second 250; RCPT to bad@ is refused.
   */
  private static void strayPeer(
      ServerSocket listener, AtomicInteger sessions, CountDownLatch straySent) {
    while (true) {
      Socket s;
      try {
        s = listener.accept();
      } catch (IOException e) {
        return; // the listener closed
      }
      int id = sessions.incrementAndGet();
      Thread session = new Thread(() -> straySession(s, id == 1, straySent), "stray-session");
      session.setDaemon(true);
      session.start();
    }
  }

  private static void straySession(Socket s, boolean stray, CountDownLatch straySent) {
    try (s) {
      s.setTcpNoDelay(true);
      BufferedReader in =
          new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
      OutputStream out = s.getOutputStream();
      write(out, "220 mx.example.test ESMTP\r\n");
      boolean data = false;
      boolean strayDue = stray;
      String line;
      while ((line = in.readLine()) != null) {
        if (data) {
          if (line.equals(".")) {
            data = false;
            write(out, "250 2.0.0 queued\r\n");
            if (strayDue) {
              strayDue = false;
              Thread.sleep(100);
              write(out, "250 2.0.0 stray\r\n");
              straySent.countDown();
            }
          }
          continue;
        }
        String upper = line.toUpperCase(Locale.ROOT);
        if (upper.startsWith("EHLO")) {
          write(out, "250-mx.example.test\r\n250-ENHANCEDSTATUSCODES\r\n250 8BITMIME\r\n");
        } else if (upper.startsWith("RCPT TO:<BAD@")) {
          write(out, "550 5.1.1 no such user\r\n");
        } else if (upper.startsWith("MAIL") || upper.startsWith("RCPT") || upper.equals("RSET")) {
          write(out, "250 2.1.0 ok\r\n");
        } else if (upper.equals("DATA")) {
          data = true;
          write(out, "354 go ahead\r\n");
        } else if (upper.equals("QUIT")) {
          write(out, "221 2.0.0 bye\r\n");
          return;
        } else {
          write(out, "502 5.5.1 not here\r\n");
        }
      }
    } catch (IOException e) {
      // the client hung up
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void write(OutputStream out, String text) throws IOException {
    out.write(text.getBytes(StandardCharsets.US_ASCII));
    out.flush();
  }

  @Test
  void aSessionThatSaid421IsNeverReused() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx =
          start(
              f,
              b ->
                  b.on(
                      SmtpStep.MAIL,
                      SmtpAction.proceed(),
                      SmtpAction.reply(SmtpReply.of(421, "4.3.2", "closing")),
                      SmtpAction.proceed()));
      SecureSmtpTransport t = f.transport(TlsLevel.OPPORTUNISTIC);
      delivered(t, "one@example.test");
      DeliveryReport second = t.send(Envelope.of("a@sender.test", "two@example.test"), CONTENT);
      assertThat(second.result("two@example.test").status()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(second.result("two@example.test").reply().code()).isEqualTo(421);
      delivered(t, "three@example.test");
      assertThat(mx.sessions()).hasSize(2);
    }
  }

  @Test
  void withoutReuseEveryMessageHasItsOwnSession() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = start(f, b -> b);
      SecureSmtpTransport t = f.transport(TlsLevel.OPPORTUNISTIC, b -> b.noConnectionReuse());
      for (int i = 0; i < 3; i++) {
        assertThat(t.send(Envelope.of("a@sender.test", "r@example.test"), CONTENT).allDelivered())
            .isTrue();
      }
      assertThat(mx.sessions()).hasSize(3);
      assertThat(mx.sessions()).allSatisfy(s -> assertThat(s.commandLines()).contains("QUIT"));
    }
  }
}
