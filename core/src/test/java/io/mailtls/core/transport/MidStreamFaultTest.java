package io.mailtls.core.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.Envelope;
import io.mailtls.core.MessageContent;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.core.TlsLevel;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.SmtpAction;
import io.mailtls.testkit.SmtpContentFault;
import io.mailtls.testkit.SmtpFaultContext;
import io.mailtls.testkit.SmtpFaultInjector;
import io.mailtls.testkit.SmtpMessage;
import io.mailtls.testkit.SmtpSession;
import io.mailtls.testkit.SmtpStep;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Faults in the middle of a session that the other transport tests do not inject, each against a
 * real {@link MockSmtpServer} with STARTTLS: a TCP reset right after the final dot (the reply lost,
 * RFC 5321 §4.5.3.2.6), a TLS close_notify alert or a close without one in the middle of the
 * content (RFC 8446 §6.1), and a server that stalls past the client's timeout at EHLO, MAIL or
 * RCPT, or stops reading while the client writes (RFC 5321 §4.5.3.2.5). Every time the recipient is
 * DEFERRED (never DELIVERED without the 250 to the end of data), reported once, within the
 * configured bounds, and the session is not used again: the next message goes on a new one and is
 * delivered.
 */
class MidStreamFaultTest {

  /** Every SMTP step's bound: small, so that the server's stalls outlast it well. */
  private static final Duration STEP = Duration.ofSeconds(1);

  /** How long the server stalls: far past {@link #STEP}. */
  private static final Duration STALL = Duration.ofSeconds(8);

  /**
   * The most a faulted send may take: a couple of {@link #STEP}s and the connection set-up, well
   * short of {@link #STALL}, so that the client's own bound ended it, not the server's return.
   */
  private static final Duration BOUND = Duration.ofMillis(5500);

  private static final String RCPT = "r@example.test";

  /** A fault injector that fires its fault once, in the first session only. */
  /**
   * Injects one fault, once, in the first session the server sees: {@code action} at the first step
   * {@code when} accepts, or {@code content} in the first transaction's content.
   */
  private static final class Once implements SmtpFaultInjector {
    final AtomicBoolean fired = new AtomicBoolean();
    private final Predicate<SmtpFaultContext> when;
    private final @Nullable SmtpAction action;
    private final @Nullable SmtpContentFault content;
    private volatile int firstSessionId = -1;

    private Once(
        Predicate<SmtpFaultContext> when,
        @Nullable SmtpAction action,
        @Nullable SmtpContentFault content) {
      this.when = when;
      this.action = action;
      this.content = content;
    }

    /** {@code action} at the first step that {@code when} accepts. */
    static Once at(Predicate<SmtpFaultContext> when, SmtpAction action) {
      return new Once(when, action, null);
    }

    /** {@code fault} in the content of the first transaction. */
    static Once inContent(SmtpContentFault fault) {
      return new Once(c -> true, null, fault);
    }

    private boolean first(SmtpFaultContext c) {
      return c.sessionId() == firstSession(c) && !fired.get();
    }

    private synchronized int firstSession(SmtpFaultContext c) {
      if (firstSessionId < 0) {
        firstSessionId = c.sessionId();
      }
      return firstSessionId;
    }

    @Override
    public Optional<SmtpAction> at(SmtpFaultContext c) {
      if (action == null || !when.test(c) || !first(c)) {
        return Optional.empty();
      }
      fired.set(true);
      return Optional.of(action);
    }

    @Override
    public Optional<SmtpContentFault> contentFault(SmtpFaultContext c) {
      if (content == null || !first(c)) {
        return Optional.empty();
      }
      fired.set(true);
      return Optional.of(content);
    }
  }

  private static MockSmtpServer mx(Fixture f, boolean chunking, SmtpFaultInjector injector) {
    MockSmtpServer mx =
        f.server(
            "127.0.0.2",
            b -> {
              b.hostname("mx.example.test")
                  .tls(Fixture.certFor("mx.example.test"))
                  .faultInjector(injector)
                  .digestOnly();
              if (!chunking) {
                b.capabilities("PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES");
              }
              return b;
            });
    f.dns(d -> d.zone("example.test", z -> z.mailHost("example.test", 10, "mx.example.test", mx)));
    f.timeouts =
        new SmtpTimeouts(STEP.multipliedBy(2), STEP, STEP, STEP.multipliedBy(2), STEP, STEP, STEP);
    return mx;
  }

  /** {@code size} octets of CRLF-terminated lines of text, streamed, never held in memory. */
  static MessageContent large(long size) {
    byte[] head =
        "From: a@sender.test\r\nTo: r@example.test\r\nSubject: big\r\n\r\n"
            .getBytes(StandardCharsets.US_ASCII);
    byte[] line =
        "a line of message text that keeps coming\r\n".getBytes(StandardCharsets.US_ASCII);
    return () ->
        new InputStream() {
          long at;

          @Override
          public int read() {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
          }

          @Override
          public int read(byte[] b, int off, int len) {
            if (at >= size) {
              return -1;
            }
            int n = (int) Math.min(len, size - at);
            for (int i = 0; i < n; i++, at++) {
              b[off + i] =
                  at < head.length
                      ? head[(int) at]
                      : line[(int) ((at - head.length) % line.length)];
            }
            return n;
          }
        };
  }

  /**
   * Sends one message, checks that its one recipient was deferred within {@link #BOUND} without a
   * 2xx, then that the next message goes on a new session and is delivered.
   */
  private static RecipientResult deferredThenFreshSession(
      Fixture f, MockSmtpServer mx, MessageContent content, Once injector) throws Exception {
    SecureSmtpTransport t = f.transport(TlsLevel.OPPORTUNISTIC);
    long start = System.nanoTime();
    DeliveryReport report = t.send(Envelope.of("a@sender.test", RCPT), content);
    Duration took = Duration.ofNanos(System.nanoTime() - start);
    assertThat(injector.fired).as("the fault fired").isTrue();
    assertThat(report.recipients()).as("one result per recipient").hasSize(1);
    RecipientResult r = report.result(RCPT);
    assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DEFERRED);
    assertThat(r.reply().code()).as("%s", r).isBetween(400, 499);
    assertThat(took).as("the faulted send took %s: %s", took, r).isLessThan(BOUND);
    assertThat(mx.messages().stream().filter(SmtpMessage::accepted))
        .as("nothing accepted by the faulted session")
        .isEmpty();

    DeliveryReport next = Fixture.send(t, RCPT);
    RecipientResult n = next.result(RCPT);
    assertThat(n.status()).as("%s", n).isEqualTo(DeliveryStatus.DELIVERED);
    assertThat(n.attempt().orElseThrow().sessionReused())
        .as("the session of the fault is not reused: %s", n)
        .isFalse();
    List<SmtpSession> sessions = mx.sessions();
    assertThat(sessions).as("a new session for the next message").hasSize(2);
    assertThat(mx.messages().stream().filter(SmtpMessage::accepted).map(SmtpMessage::sessionId))
        .containsExactly(sessions.get(1).id());
    return r;
  }

  /**
   * A TCP reset right after the end of data, before any reply (RFC 5321 §4.5.3.2.6: the reply is
   * lost): the message arrived in full, but without the 250 it is deferred, never delivered.
   */
  @ParameterizedTest(name = "chunking={0}")
  @CsvSource({"false", "true"})
  @Timeout(60)
  void aResetAfterTheEndOfDataDefers(boolean chunking) throws Exception {
    Once injector = Once.at(c -> c.step() == SmtpStep.DATA_END, SmtpAction.reset());
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = mx(f, chunking, injector);
      RecipientResult r = deferredThenFreshSession(f, mx, Fixture.message(), injector);
      assertThat(mx.messages().get(0).finalReply()).as("the server sent no reply").isEmpty();
      assertThat(mx.sessions().get(0).tlsNegotiated()).isTrue();
      assertThat(r.attempt().orElseThrow().detail()).as("%s", r).isNotEmpty();
    }
  }

  /**
   * The same reset after the end of data on a pooled session's second transaction (its RSET
   * pipelined ahead, or in one round trip with BDAT LAST): deferred, and the session not pooled
   * again.
   */
  @ParameterizedTest(name = "chunking={0}")
  @CsvSource({"false", "true"})
  @Timeout(60)
  void aResetAfterTheEndOfDataOnAReusedSessionDefers(boolean chunking) throws Exception {
    Once injector =
        Once.at(c -> c.step() == SmtpStep.DATA_END && c.transaction() == 2, SmtpAction.reset());
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = mx(f, chunking, injector);
      SecureSmtpTransport t = f.transport(TlsLevel.OPPORTUNISTIC);
      assertThat(Fixture.send(t, RCPT).result(RCPT).status()).isEqualTo(DeliveryStatus.DELIVERED);
      DeliveryReport report = Fixture.send(t, RCPT);
      assertThat(injector.fired).as("the fault fired").isTrue();
      RecipientResult r = report.result(RCPT);
      assertThat(report.recipients()).hasSize(1);
      assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(r.attempt().orElseThrow().sessionReused()).as("%s", r).isTrue();
      RecipientResult n = Fixture.send(t, RCPT).result(RCPT);
      assertThat(n.status()).as("%s", n).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(n.attempt().orElseThrow().sessionReused()).as("%s", n).isFalse();
      assertThat(mx.sessions()).hasSize(2);
      assertThat(mx.messages().stream().filter(SmtpMessage::accepted)).hasSize(2);
    }
  }

  /**
   * The content is broken off under TLS, a good way into it: a TCP reset, the close_notify alert
   * (RFC 8446 §6.1) with the server then discarding the rest, or a FIN without close_notify.
   */
  @ParameterizedTest(name = "{0}, chunking={1}")
  @CsvSource({
    "RESET, false",
    "CLOSE_NOTIFY, false",
    "CLOSE_WITHOUT_CLOSE_NOTIFY, false",
    "RESET, true",
    "CLOSE_NOTIFY, true",
    "CLOSE_WITHOUT_CLOSE_NOTIFY, true"
  })
  @Timeout(60)
  void aTlsCloseMidContentDefers(SmtpContentFault.Kind kind, boolean chunking) throws Exception {
    SmtpContentFault fault = new SmtpContentFault(kind, 64 * 1024, Duration.ZERO);
    Once injector = Once.inContent(fault);
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = mx(f, chunking, injector);
      // 2 MiB: DATA, or with CHUNKING two BDAT chunks; the fault comes in the first megabyte.
      deferredThenFreshSession(f, mx, large(2L << 20), injector);
      assertThat(mx.sessions().get(0).tlsNegotiated()).isTrue();
    }
  }

  /** The server stalls past the client's timeout before answering EHLO, MAIL or RCPT. */
  @ParameterizedTest(name = "{0}")
  @EnumSource(
      value = SmtpStep.class,
      names = {"EHLO", "MAIL", "RCPT"})
  @Timeout(60)
  void aStallPastTheTimeoutDefers(SmtpStep step) throws Exception {
    Once injector = Once.at(c -> c.step() == step, SmtpAction.stall(STALL));
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = mx(f, false, injector);
      RecipientResult r = deferredThenFreshSession(f, mx, Fixture.message(), injector);
      assertThat(r.attempt().orElseThrow().failure())
          .as("%s", r)
          .contains(io.mailtls.core.FailureType.TIMEOUT);
    }
  }

  /**
   * The server stops reading in the middle of the content while the client writes a message far
   * larger than the socket buffers: the client's write must give up within the data block timeout
   * (RFC 5321 §4.5.3.2.5), under TLS, by DATA and by BDAT.
   */
  @ParameterizedTest(name = "chunking={0}")
  @CsvSource({"false", "true"})
  @Timeout(60)
  void aServerThatStopsReadingMidContentDefers(boolean chunking) throws Exception {
    Once injector = Once.inContent(SmtpContentFault.stopReading(64 * 1024, STALL));
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = mx(f, chunking, injector);
      RecipientResult r = deferredThenFreshSession(f, mx, large(64L << 20), injector);
      assertThat(r.attempt().orElseThrow().failure())
          .as("%s", r)
          .contains(io.mailtls.core.FailureType.TIMEOUT);
    }
  }
}
