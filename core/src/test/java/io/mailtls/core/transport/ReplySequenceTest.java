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
import java.util.function.Function;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Reply sequences that do not add up, from a peer of the test's own (the testkit's server keeps to
 * RFC 5321 §3.3 and cannot send them): a refusal read among them may answer another command (RFC
 * 2920 §3.1 matches replies to commands by order alone), so it bounces nobody.
 */
class ReplySequenceTest {

  private static final String[] RECIPIENTS = {"a@example.test", "b@example.test"};

  /**
   * A server that refuses MAIL and then accepts each RCPT. RFC 5321 §3.3: without an accepted MAIL
   * there is no transaction, and a RCPT gets 503; a 2xx there shows that the replies no longer
   * answer the commands they stand for (a reply that came early, or one that never came, shifts the
   * rest), so the refusal read for MAIL may be another command's. Bouncing every recipient on it
   * returned mail that the next MX host takes.
   */
  @Test
  @Timeout(60)
  void aRefusedMailFollowedByAcceptedRecipientsBouncesNobody() throws Exception {
    try (ServerSocket listener = new ServerSocket();
        Fixture f = new Fixture()) {
      listener.bind(new InetSocketAddress(Fixture.inet("127.0.0.2"), 0));
      List<String> received = new CopyOnWriteArrayList<>();
      start(
          listener,
          received,
          "250-mx1.example.test\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n250 8BITMIME\r\n",
          line ->
              switch (verb(line)) {
                case "MAIL" -> "550 5.7.1 sender refused\r\n";
                case "RCPT" -> "250 2.1.5 ok\r\n";
                case "DATA" -> "354 go ahead\r\n";
                case "." -> "250 2.0.0 queued\r\n";
                default -> "250 2.0.0 ok\r\n";
              });
      f.usePort(listener.getLocalPort());
      MockSmtpServer mx2 = f.server("127.0.0.3", b -> b.hostname("mx2.example.test"));
      f.dns(
          d ->
              d.zone(
                  "example.test",
                  z ->
                      z.mx("example.test", 10, "mx1.example.test")
                          .a("mx1.example.test", "127.0.0.2")
                          .mailHost("example.test", 20, "mx2.example.test", mx2)));

      DeliveryReport report = f.send(TlsLevel.OPPORTUNISTIC, RECIPIENTS);

      for (RecipientResult r : report.recipients()) {
        assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DELIVERED);
        assertThat(r.mxHost().orElseThrow().toString()).isEqualTo("mx2.example.test");
        assertThat(r.attempts().get(0).failure()).contains(FailureType.PROTOCOL_ERROR);
      }
      assertThat(mx2.awaitMessages(1, Duration.ofSeconds(10)))
          .singleElement()
          .satisfies(m -> assertThat(m.recipients()).containsExactly(RECIPIENTS));
      // Nothing of the message went to the first host: not even the dot of an empty one.
      assertThat(received).doesNotContain(".");
    }
  }

  /**
   * The same in one round trip (RFC 3030 §4.2): the message left with the envelope, and the
   * replies, a refused MAIL then accepted RCPTs, do not add up; every recipient is deferred, as
   * after any reply that cannot be matched to its command.
   */
  @Test
  @Timeout(60)
  void inOneRoundTripARefusedMailFollowedByAcceptedRecipientsDefers() throws Exception {
    try (ServerSocket listener = new ServerSocket();
        Fixture f = new Fixture()) {
      listener.bind(new InetSocketAddress(Fixture.inet("127.0.0.2"), 0));
      List<String> received = new CopyOnWriteArrayList<>();
      start(
          listener,
          received,
          "250-mx.example.test\r\n250-PIPELINING\r\n250-CHUNKING\r\n250-ENHANCEDSTATUSCODES\r\n"
              + "250 8BITMIME\r\n",
          line ->
              switch (verb(line)) {
                case "MAIL" -> "550 5.7.1 sender refused\r\n";
                case "RCPT" -> "250 2.1.5 ok\r\n";
                case "BDAT" -> "554 5.5.1 no valid recipients\r\n";
                default -> "250 2.0.0 ok\r\n";
              });
      f.rawMx(listener.getLocalPort());

      DeliveryReport report = f.send(TlsLevel.OPPORTUNISTIC, RECIPIENTS);

      // The message left with the envelope (the peer may record it after the client has read
      // what it needed).
      Fixture.await(
          "the one-round-trip write reached the peer",
          () -> received.stream().anyMatch(l -> l.startsWith("BDAT ") && l.endsWith(" LAST")));
      for (RecipientResult r : report.recipients()) {
        assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DEFERRED);
        assertThat(r.reply().enhancedStatus()).contains(EnhancedStatus.PROTOCOL_ERROR);
        assertThat(r.attempts()).hasSize(1);
        assertThat(r.attempts().get(0).failure()).contains(FailureType.PROTOCOL_ERROR);
      }
    }
  }

  /*
   * A 2xx to the end of data when no recipient was accepted means different things on the two
   * paths, and the client reads it differently.
   *
   * With DATA pipelined after every RCPT was refused, a 354 makes the client send the dot of an
   * empty message (RFC 2920 §3.1): the 354 came where the reply to DATA was due, so the replies
   * before it answered their commands, and none of the message left. A 250 to that dot took
   * nothing of the message, for nobody: it is ignored and the refusals stand, as in Postfix's SMTP
   * client ("ignore the response when no recipient was accepted").
   *
   * In one round trip the whole message has left with the envelope, and nothing shows that the
   * replies match their commands: a surplus refusal early shifts an accepted RCPT's 250 into the
   * place of the verdict, while the real verdict is still to come. A 2xx there after every refusal
   * is that shift, or a server that took a message for nobody; the client cannot tell which, and on
   * the first a bounce would report as failed a message the server has. So it is a protocol error:
   * nobody is bounced, everyone is deferred (a duplicate at worst, never a false bounce).
   */

  /** DATA: the 250 to the empty message is ignored; the refusal, read in step, bounces. */
  @Test
  @Timeout(60)
  void withDataA250ToTheEmptyMessageAfterEveryRefusalIsIgnored() throws Exception {
    try (ServerSocket listener = new ServerSocket();
        Fixture f = new Fixture()) {
      listener.bind(new InetSocketAddress(Fixture.inet("127.0.0.2"), 0));
      List<String> received = new CopyOnWriteArrayList<>();
      start(
          listener,
          received,
          "250-mx.example.test\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n250 8BITMIME\r\n",
          line ->
              switch (verb(line)) {
                case "MAIL" -> "250 2.1.0 ok\r\n";
                case "RCPT" -> "550 5.1.1 no such user\r\n";
                case "DATA" -> "354 go ahead\r\n";
                case "." -> "250 2.0.0 queued anyway\r\n";
                default -> "250 2.0.0 ok\r\n";
              });
      f.rawMx(listener.getLocalPort());

      DeliveryReport report = f.send(TlsLevel.OPPORTUNISTIC, RECIPIENTS);

      for (RecipientResult r : report.recipients()) {
        assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.BOUNCED);
        assertThat(r.reply().toString()).isEqualTo("550 5.1.1 no such user");
      }
      assertThat(received).containsSubsequence("DATA", ".", "RSET");
    }
  }

  /**
   * DATA, shifted: a surplus refusal after MAIL puts the accepted RCPT's 250 where the 354 is due,
   * a protocol error before any of the message leaves, so the refusal bounces nobody.
   */
  @Test
  void withDataAShiftIsCaughtAtThe354() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx =
          mx(
              f,
              b ->
                  b.capabilities("PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES")
                      .on(SmtpStep.MAIL, SmtpAction.proceed().followedBy("550 5.1.1 stray\r\n"))
                      .on(SmtpStep.RCPT, SmtpAction.reply(250, "2.0.0", "ok")));

      RecipientResult r = f.send(TlsLevel.OPPORTUNISTIC, "a@example.test").result("a@example.test");

      assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(r.attempt().orElseThrow().failure()).contains(FailureType.PROTOCOL_ERROR);
      assertThat(mx.messages()).as("no content went out").isEmpty();
    }
  }

  /**
   * DATA, shifted the other way: a surplus 250 after MAIL's puts the accepted RCPT's 250 on the
   * refused one and the refused RCPT's 550 where the reply to DATA is due, while the server's real
   * reply to DATA, a 354, is still on its way. Taken as a refusal of DATA, that 550 bounced the
   * recipient the server had accepted. A refusal of DATA after an accepted RCPT decides only once
   * the reply to a RSET shows the replies in step (RFC 2920 §3.1); here the 354 comes instead, a
   * protocol error that bounces nobody.
   */
  @Test
  void withDataARefusalShiftedOntoTheReplyToDataBouncesNobody() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx =
          mx(
              f,
              b ->
                  b.capabilities("PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES")
                      .on(SmtpStep.MAIL, SmtpAction.proceed().followedBy("250 2.1.0 stray\r\n"))
                      .onRecipient("a@example.test", SmtpAction.reply(250, "2.1.5", "ok"))
                      .onRecipient("b@example.test", SmtpAction.reply(550, "5.1.1", "no such user"))
                      .on(SmtpStep.DATA, SmtpAction.proceed().after(Duration.ofMillis(500))));

      DeliveryReport report = f.send(TlsLevel.OPPORTUNISTIC, RECIPIENTS);

      assertEveryoneDeferredForAProtocolError(report);
      assertThat(mx.messages()).as("no message was completed").isEmpty();
    }
  }

  /**
   * The same refusal of DATA in step: the RSET after it gets 250, and the refusal decides the
   * accepted recipient; a server that hangs up after its refusal has nothing more to say either.
   */
  @ParameterizedTest(name = "{0}")
  @ValueSource(booleans = {false, true})
  void withDataARefusalOfDataInStepBouncesTheAcceptedRecipients(boolean hangUp) throws Exception {
    try (Fixture f = new Fixture()) {
      SmtpAction refusal = SmtpAction.reply(554, "5.7.1", "rejected by policy");
      MockSmtpServer mx =
          mx(
              f,
              b ->
                  b.capabilities("PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES")
                      .onRecipient("b@example.test", SmtpAction.reply(550, "5.1.1", "no such user"))
                      .on(SmtpStep.DATA, hangUp ? refusal.thenDisconnect() : refusal));

      DeliveryReport report = f.send(TlsLevel.OPPORTUNISTIC, RECIPIENTS);

      RecipientResult a = report.result("a@example.test");
      assertThat(a.status()).as("%s", a).isEqualTo(DeliveryStatus.BOUNCED);
      assertThat(a.reply().toString()).isEqualTo("554 5.7.1 rejected by policy");
      RecipientResult b = report.result("b@example.test");
      assertThat(b.status()).as("%s", b).isEqualTo(DeliveryStatus.BOUNCED);
      assertThat(b.reply().toString()).isEqualTo("550 5.1.1 no such user");
      if (!hangUp) {
        assertThat(mx.sessions().get(0).commandBatches())
            .as("the RSET that shows the replies in step")
            .anySatisfy(batch -> assertThat(batch).containsExactly("RSET"));
      }
    }
  }

  /**
   * One round trip, shifted the same way: the RCPT reads as refused and a 2xx stands where the
   * verdict is due, while the server has accepted the recipient and the whole message, its verdict
   * still to come. Ignoring that 2xx, as on the DATA path, would bounce a recipient the server has
   * the message for; the client defers.
   */
  @Test
  void inOneRoundTripA2xxAfterEveryRefusalDefersForTheServerMayHaveTheMessage() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx =
          mx(
              f,
              b ->
                  b.on(SmtpStep.MAIL, SmtpAction.proceed().followedBy("550 5.1.1 stray\r\n"))
                      .on(SmtpStep.RCPT, SmtpAction.reply(250, "2.0.0", "ok"))
                      .on(SmtpStep.DATA_END, SmtpAction.proceed().after(Duration.ofMillis(700))));

      RecipientResult r = f.send(TlsLevel.OPPORTUNISTIC, "a@example.test").result("a@example.test");

      assertThat(mx.awaitMessages(1, Duration.ofSeconds(5)))
          .as("the server has the whole message, for the recipient it accepted")
          .singleElement()
          .satisfies(
              m -> {
                assertThat(m.recipients()).containsExactly("a@example.test");
                assertThat(m.chunked()).isTrue();
                assertThat(m.dataAsString()).isEqualTo(Fixture.MESSAGE);
              });
      assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(r.attempt().orElseThrow().failure()).contains(FailureType.PROTOCOL_ERROR);
      assertThat(r.reply().text())
          .as("the 2xx was read where the verdict is due")
          .contains("5xx without a recipient");
    }
  }

  /*
   * BDAT, in chunks or in one round trip, has no 354: nothing shows that the replies answer their
   * commands before the message goes, and the refusal read for a chunk or for BDAT LAST may be the
   * last RCPT's, shifted by a surplus reply early, while the server has accepted every other
   * recipient. Unlike RSET's 250 after a refusal of DATA (where the reply still due is a 354), a
   * reply to RSET cannot show the replies in step here: the reply still due is the chunk's or the
   * message's own, a 250 too. QUIT's 221 can (RFC 5321 §4.1.1.10): in step it is the next reply;
   * shifted, the reply still due comes first.
   */

  /** A message large enough for BDAT in chunks of 1 MiB (RFC 3030 §2), not in one round trip. */
  private static MessageContent large() {
    return MessageContent.of(
        ("From: a@sender.test\r\nSubject: large\r\n\r\n"
                + "a line of a message large enough for BDAT in chunks\r\n".repeat(40_000))
            .getBytes(StandardCharsets.US_ASCII));
  }

  /**
   * BDAT in chunks, shifted by a surplus 250 after MAIL's: the accepted RCPT's 250 lands on the
   * refused one, and the refused RCPT's 550 (delayed, so that nothing more has arrived when the
   * group's last reply is read) where the first chunk's reply is due. Taken as the server's refusal
   * of the chunk, it bounced the recipient the server had accepted, with another recipient's reply.
   */
  @Test
  void inChunksARefusalShiftedOntoAChunkBouncesNobody() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx =
          mx(
              f,
              b ->
                  b.on(SmtpStep.MAIL, SmtpAction.proceed().followedBy("250 2.1.0 stray\r\n"))
                      .onRecipient("a@example.test", SmtpAction.reply(250, "2.1.5", "ok"))
                      .onRecipient(
                          "b@example.test",
                          SmtpAction.reply(550, "5.1.1", "no such user")
                              .after(Duration.ofMillis(500))));

      DeliveryReport report =
          f.transport(TlsLevel.OPPORTUNISTIC)
              .send(Envelope.of("a@sender.test", RECIPIENTS), large());

      assertEveryoneDeferredForAProtocolError(report);
      assertThat(mx.messages()).as("no BDAT LAST went out").isEmpty();
    }
  }

  /**
   * The same refusal of a chunk in step: QUIT's 221 comes next (or the server hung up after its
   * refusal), and the refusal decides the accepted recipient.
   */
  @ParameterizedTest(name = "{0}")
  @ValueSource(booleans = {false, true})
  void inChunksARefusalOfAChunkInStepBouncesTheAcceptedRecipients(boolean hangUp) throws Exception {
    try (Fixture f = new Fixture()) {
      SmtpAction refusal = SmtpAction.reply(554, "5.6.0", "content refused");
      MockSmtpServer mx =
          mx(
              f,
              b ->
                  b.onRecipient("b@example.test", SmtpAction.reply(550, "5.1.1", "no such user"))
                      .on(SmtpStep.BDAT, hangUp ? refusal.thenDisconnect() : refusal));

      DeliveryReport report =
          f.transport(TlsLevel.OPPORTUNISTIC)
              .send(Envelope.of("a@sender.test", RECIPIENTS), large());

      RecipientResult a = report.result("a@example.test");
      assertThat(a.status()).as("%s", a).isEqualTo(DeliveryStatus.BOUNCED);
      assertThat(a.reply().toString()).isEqualTo("554 5.6.0 content refused");
      RecipientResult b = report.result("b@example.test");
      assertThat(b.status()).as("%s", b).isEqualTo(DeliveryStatus.BOUNCED);
      assertThat(b.reply().toString()).isEqualTo("550 5.1.1 no such user");
      assertThat(mx.messages()).isEmpty();
      if (!hangUp) {
        assertThat(mx.sessions().get(0).commandLines())
            .as("the QUIT that shows the replies in step, right after the refused chunk")
            .endsWith("BDAT 1048576", "QUIT");
      }
    }
  }

  /**
   * One round trip, shifted by a surplus 250 after MAIL's: the refused RCPT's 550 stands where the
   * verdict on the message is due, and the server's real verdict (a 250: it took the message for
   * the recipient it accepted) comes later. Taken as the verdict, the 550 bounced that recipient
   * though the server has its message. A RSET cannot tell (its 250 looks like the verdict); QUIT's
   * 221 can, and the verdict that comes instead is a protocol error: deferred, a duplicate at worst
   * (as Postfix defers a lost verdict: "message may be sent more than once"), never a false bounce.
   */
  @Test
  void inOneRoundTripARefusalShiftedOntoBdatLastBouncesNobody() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx =
          mx(
              f,
              b ->
                  b.on(SmtpStep.MAIL, SmtpAction.proceed().followedBy("250 2.1.0 stray\r\n"))
                      .onRecipient("a@example.test", SmtpAction.reply(250, "2.1.5", "ok"))
                      .onRecipient("b@example.test", SmtpAction.reply(550, "5.1.1", "no such user"))
                      .on(SmtpStep.DATA_END, SmtpAction.proceed().after(Duration.ofMillis(700))));

      DeliveryReport report = f.send(TlsLevel.OPPORTUNISTIC, RECIPIENTS);

      assertThat(mx.awaitMessages(1, Duration.ofSeconds(5)))
          .as("the server has the whole message, for the recipient it accepted")
          .singleElement()
          .satisfies(m -> assertThat(m.recipients()).containsExactly("a@example.test"));
      assertEveryoneDeferredForAProtocolError(report);
    }
  }

  /**
   * The same refusal of the message in one round trip, in step: QUIT's 221 comes next (or the
   * server hung up after its refusal), and the refusal decides the accepted recipient.
   */
  @ParameterizedTest(name = "{0}")
  @ValueSource(booleans = {false, true})
  void inOneRoundTripARefusalOfTheMessageInStepBouncesTheAcceptedRecipients(boolean hangUp)
      throws Exception {
    try (Fixture f = new Fixture()) {
      SmtpAction refusal = SmtpAction.reply(554, "5.7.1", "rejected by policy");
      MockSmtpServer mx =
          mx(
              f,
              b ->
                  b.onRecipient("b@example.test", SmtpAction.reply(550, "5.1.1", "no such user"))
                      .on(SmtpStep.DATA_END, hangUp ? refusal.thenDisconnect() : refusal));

      DeliveryReport report = f.send(TlsLevel.OPPORTUNISTIC, RECIPIENTS);

      RecipientResult a = report.result("a@example.test");
      assertThat(a.status()).as("%s", a).isEqualTo(DeliveryStatus.BOUNCED);
      assertThat(a.reply().toString()).isEqualTo("554 5.7.1 rejected by policy");
      RecipientResult b = report.result("b@example.test");
      assertThat(b.status()).as("%s", b).isEqualTo(DeliveryStatus.BOUNCED);
      assertThat(b.reply().toString()).isEqualTo("550 5.1.1 no such user");
      if (!hangUp) {
        assertThat(mx.sessions().get(0).commandLines())
            .as("the QUIT that shows the replies in step")
            .last()
            .isEqualTo("QUIT");
      }
    }
  }

  /**
   * A scripted MX host for example.test at 127.0.0.2, named mx.example.test, with {@code script}
   * applied to its builder.
   */
  private static MockSmtpServer mx(Fixture f, UnaryOperator<MockSmtpServer.Builder> script) {
    MockSmtpServer mx = f.server("127.0.0.2", b -> script.apply(b.hostname("mx.example.test")));
    f.dns(d -> d.zone("example.test", z -> z.mailHost("example.test", 10, "mx.example.test", mx)));
    return mx;
  }

  /** Replies out of step decide nobody: every recipient deferred by a protocol error. */
  private static void assertEveryoneDeferredForAProtocolError(DeliveryReport report) {
    for (RecipientResult r : report.recipients()) {
      assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(r.attempt().orElseThrow().failure()).contains(FailureType.PROTOCOL_ERROR);
    }
  }

  private static String verb(String line) {
    return line.equals(".") ? "." : line.split(" ", 2)[0].toUpperCase(Locale.ROOT);
  }

  /**
   * Serves every connection on {@code listener} (plaintext, no STARTTLS) with {@code ehlo} and, for
   * each other command line (and the final dot, as "."), the reply {@code replies} gives; reads
   * DATA content after a 354, and BDAT chunks. Records every line received.
   */
  private static void start(
      ServerSocket listener, List<String> received, String ehlo, Function<String, String> replies) {
    Thread peer =
        new Thread(
            () -> {
              while (true) {
                Socket s;
                try {
                  s = listener.accept();
                } catch (IOException e) {
                  return; // the listener closed
                }
                Thread session =
                    new Thread(() -> serve(s, received, ehlo, replies), "scripted-smtp-session");
                session.setDaemon(true);
                session.start();
              }
            },
            "scripted-smtp-peer");
    peer.setDaemon(true);
    peer.start();
  }

  private static void serve(
      Socket s, List<String> received, String ehlo, Function<String, String> replies) {
    try (s) {
      s.setTcpNoDelay(true);
      BufferedReader in =
          new BufferedReader(
              new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1));
      OutputStream out = s.getOutputStream();
      write(out, "220 mx.example.test ESMTP\r\n");
      boolean data = false;
      String line;
      while ((line = in.readLine()) != null) {
        if (data) {
          if (line.equals(".")) {
            received.add(line);
            data = false;
            write(out, replies.apply("."));
          }
          continue;
        }
        received.add(line);
        String verb = verb(line);
        if (verb.equals("EHLO")) {
          write(out, ehlo);
        } else if (verb.equals("QUIT")) {
          write(out, "221 2.0.0 bye\r\n");
          return;
        } else if (verb.equals("BDAT")) {
          int size = Integer.parseInt(line.split(" ", -1)[1]);
          char[] chunk = new char[size];
          for (int n = 0; n < size; ) {
            int r = in.read(chunk, n, size - n);
            if (r < 0) {
              return;
            }
            n += r;
          }
          write(out, replies.apply(line));
        } else {
          String reply = replies.apply(line);
          data = verb.equals("DATA") && reply.startsWith("354");
          write(out, reply);
        }
      }
    } catch (IOException e) {
      // the client hung up
    }
  }

  private static void write(OutputStream out, String text) throws IOException {
    out.write(text.getBytes(StandardCharsets.US_ASCII));
    out.flush();
  }
}
