package io.mailtls.core.memory;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.FailureType;
import io.mailtls.core.MessageContent;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.TlsLevel;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.SmtpAction;
import io.mailtls.testkit.SmtpMessage;
import io.mailtls.testkit.SmtpStep;
import io.mailtls.testkit.TestPki;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A server whose reply never ends, at each step of a session, fails the attempt cleanly under a 64
 * MiB heap: the reply reader's bounds (SmtpReplyReader.Limits: 4096-octet lines, 512 lines, 64 KiB
 * per reply) stop it long before memory runs out or a timeout fires, the attempt reports {@link
 * FailureType#PROTOCOL_ERROR}, and the recipient is {@link DeliveryStatus#DEFERRED} — never
 * delivered, even when the message data reached the server (docs/design.md §1: delivered only after
 * the 250 to the final dot or BDAT LAST).
 *
 * <p>Two misbehaviours, table-driven over the steps: {@link SmtpAction#endlessReply()}
 * (continuation lines forever, RFC 5321 §4.2.1) and {@link SmtpAction#unboundedLine()} (one line
 * with no CRLF, beyond RFC 5321 §4.5.3.1.5). Runs only in the {@code bounded-memory} surefire
 * execution of core/pom.xml, and fails if its {@code -Xmx64m} is not in force.
 */
class EndlessReplyMemoryTest {

  private static final MessageContent SMALL =
      MessageContent.of(
          "From: a@sender.test\r\nTo: rcpt@example.test\r\nSubject: hi\r\n\r\nHello.\r\n"
              .getBytes(StandardCharsets.US_ASCII));

  /** 2 MiB and more: sent with BDAT in 1 MiB chunks when the server offers CHUNKING. */
  private static final MessageContent CHUNKED = new GeneratedMessage(2L << 20);

  private static final TestPki.Issued CERT =
      TestPki.create().root().leaf().dnsNames(Peers.HOST).issue();

  @BeforeAll
  static void heapIsBounded() {
    Peers.assertHeapLimitInForce();
  }

  /**
   * One row: where the server misbehaves.
   *
   * @param name the row's display name
   * @param level the sender's TLS level
   * @param server the server's configuration apart from the misbehaviour
   * @param step the step whose reply never ends
   * @param earlier actions at {@code step} before the misbehaving one (e.g. the EHLO before TLS)
   * @param content the message
   * @param clientStep how the transport names the step in the attempt's detail
   * @param dataSent whether the server has the complete message when it misbehaves
   */
  record Row(
      String name,
      TlsLevel level,
      UnaryOperator<MockSmtpServer.Builder> server,
      SmtpStep step,
      List<SmtpAction> earlier,
      MessageContent content,
      String clientStep,
      boolean dataSent) {

    @Override
    public String toString() {
      return name;
    }
  }

  static Stream<Row> rows() {
    UnaryOperator<MockSmtpServer.Builder> plain = b -> b;
    UnaryOperator<MockSmtpServer.Builder> tls = b -> b.tls(CERT.serverSslContext());
    // DATA: a small message to a server with PIPELINING and CHUNKING goes as one BDAT LAST.
    UnaryOperator<MockSmtpServer.Builder> data =
        b ->
            b.capabilities(
                MockSmtpServer.DEFAULT_CAPABILITIES.stream()
                    .filter(c -> !c.equals("CHUNKING"))
                    .toArray(String[]::new));
    TlsLevel opp = TlsLevel.OPPORTUNISTIC;
    List<SmtpAction> none = List.of();
    return Stream.of(
        new Row("greeting", opp, plain, SmtpStep.GREETING, none, SMALL, "greeting", false),
        new Row("EHLO", opp, plain, SmtpStep.EHLO, none, SMALL, "EHLO", false),
        // RFC 3207 §4.2: the EHLO after TLS; enforced, so no plaintext retry hides the failure.
        new Row(
            "EHLO after STARTTLS",
            TlsLevel.ENFORCED,
            tls,
            SmtpStep.EHLO,
            List.of(SmtpAction.proceed()),
            SMALL,
            "EHLO",
            false),
        new Row(
            "STARTTLS", TlsLevel.ENFORCED, tls, SmtpStep.STARTTLS, none, SMALL, "STARTTLS", false),
        new Row("MAIL", opp, plain, SmtpStep.MAIL, none, SMALL, "MAIL", false),
        new Row("RCPT", opp, plain, SmtpStep.RCPT, none, SMALL, "RCPT", false),
        new Row("DATA", opp, data, SmtpStep.DATA, none, SMALL, "DATA", false),
        new Row("final dot", opp, data, SmtpStep.DATA_END, none, SMALL, "end of DATA", true),
        // One round trip: MAIL, RCPT and BDAT LAST with the whole message in one write.
        new Row(
            "one-trip BDAT LAST", opp, plain, SmtpStep.DATA_END, none, SMALL, "BDAT LAST", true),
        new Row("BDAT chunk", opp, plain, SmtpStep.BDAT, none, CHUNKED, "BDAT", false),
        new Row("BDAT LAST", opp, plain, SmtpStep.DATA_END, none, CHUNKED, "BDAT LAST", true));
  }

  static Stream<Arguments> cases() {
    return rows()
        .flatMap(
            r ->
                Stream.of(
                    Arguments.of(
                        r, "endlessReply", (Supplier<SmtpAction>) SmtpAction::endlessReply),
                    Arguments.of(
                        r, "unboundedLine", (Supplier<SmtpAction>) SmtpAction::unboundedLine)));
  }

  @ParameterizedTest(name = "{1} at {0}")
  @MethodSource("cases")
  @Timeout(value = 30, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void failsCleanlyWithBoundedMemory(Row row, String kind, Supplier<SmtpAction> misbehaviour)
      throws InterruptedException {
    SmtpAction[] script =
        Stream.concat(row.earlier().stream(), Stream.of(misbehaviour.get()))
            .toArray(SmtpAction[]::new);
    try (Peers peers =
        new Peers(row.level(), b -> row.server().apply(b.digestOnly().on(row.step(), script)))) {
      RecipientResult r = peers.send(row.content());

      assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(r.reply().isTransientFailure()).isTrue();
      assertThat(r.attempts()).as("one attempt, no plaintext retry").hasSize(1);
      assertThat(r.attempt().orElseThrow().failure()).contains(FailureType.PROTOCOL_ERROR);
      // The reader's bound ended it, at the expected step: not the 5 s timeout, not a parse error.
      assertThat(r.attempt().orElseThrow().detail())
          .contains(row.clientStep() + ": ")
          .containsPattern("continues past \\d+ lines|exceeds \\d+ octets");
      if (row.dataSent()) {
        // The server has the whole message but never said 250: not delivered (docs/design.md §1).
        SmtpMessage m = peers.server.awaitMessages(1, Duration.ofSeconds(5)).get(0);
        assertThat(m.finalReply()).isEmpty();
        assertThat(m.accepted()).isFalse();
      } else {
        assertThat(peers.server.messages()).isEmpty();
      }
    }
  }
}
