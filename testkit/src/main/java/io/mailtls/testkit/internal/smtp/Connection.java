package io.mailtls.testkit.internal.smtp;

import io.mailtls.testkit.SmtpAction;
import io.mailtls.testkit.SmtpFaultContext;
import io.mailtls.testkit.SmtpFaultInjector;
import io.mailtls.testkit.SmtpReply;
import io.mailtls.testkit.SmtpStep;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Consumer;
import javax.net.ssl.SSLSocket;
import org.jspecify.annotations.Nullable;

/**
 * One client connection as the session handler sees it: buffered input and output over the plain
 * socket and later the TLS one, and the execution of {@link SmtpAction}s (replying, stalling,
 * hanging, hanging up and the oversized replies).
 *
 * <p>Not thread-safe: owned by one session thread; {@link ServerRuntime#close()} ends it from
 * outside by closing the socket.
 */
final class Connection {

  /** Returned by {@link #perform} after a {@link SmtpAction.Kind#RAW} action: counts as failure. */
  static final SmtpReply RAW_SENT = SmtpReply.of(500, "(raw bytes sent instead of a reply)");

  /** Longest command line accepted; RFC 4954 §4 allows AUTH lines of 12288 octets. */
  static final int MAX_LINE = 16 * 1024;

  private static final int INPUT_BUFFER = 32 * 1024;
  private static final Duration POLL = Duration.ofMillis(50);

  final ServerRuntime server;
  final ServerConfig config;
  final Socket raw;
  final SessionRecorder record;
  private final SmtpInput input;
  private final ReplyWriter output;
  private Socket socket;
  private boolean tls;
  private boolean closing;

  /** The reverse-path of the transaction under way, for the fault injector; null outside one. */
  @Nullable String mailFrom;

  /** Accepted MAIL commands so far on this connection. */
  int transactions;

  Connection(ServerRuntime server, Socket raw, SessionRecorder record) throws IOException {
    this.server = server;
    this.config = server.config();
    this.raw = raw;
    this.record = record;
    this.socket = raw;
    // Without TCP_NODELAY, the last segment of each reply waits for a delayed ACK (RFC 896).
    raw.setTcpNoDelay(true);
    raw.setSoTimeout(timeoutMillis(config.idleTimeout()));
    this.input = new SmtpInput(raw.getInputStream(), INPUT_BUFFER, this::flush);
    this.output = new ReplyWriter(raw.getOutputStream());
  }

  private static int timeoutMillis(Duration timeout) {
    return (int) Math.min(Integer.MAX_VALUE, Math.max(1, timeout.toMillis()));
  }

  SmtpInput input() {
    return input;
  }

  boolean tls() {
    return tls;
  }

  /** Whether the session must end after what was just done. */
  boolean closing() {
    return closing;
  }

  void markClosing() {
    closing = true;
  }

  /**
   * Reads and records the next line outside message data. Returns {@code null} at end of stream and
   * {@link SmtpInput#TOO_LONG} (unrecorded) for a line over {@link #MAX_LINE}.
   */
  @Nullable String readLine() throws IOException {
    String line = input.readLine(MAX_LINE);
    if (line != null && !SmtpInput.isTooLong(line)) {
      record.command(line, tls, input.lastLineReadIndex());
    }
    return line;
  }

  /**
   * The action for the next occurrence of {@code step} ({@code recipient}: the RCPT being
   * answered): the fault injector's, if it has one, else the script's.
   */
  SmtpAction action(SmtpStep step, @Nullable String recipient) {
    SmtpFaultInjector injector = config.faultInjector();
    if (injector != null) {
      Optional<SmtpAction> injected = injector.at(faultContext(step, recipient));
      if (injected.isPresent()) {
        return injected.get();
      }
    }
    return recipient != null && step == SmtpStep.RCPT
        ? config.script().nextForRecipient(recipient)
        : config.script().next(step);
  }

  /** Where this session is, for the fault injector. */
  SmtpFaultContext faultContext(SmtpStep step, @Nullable String recipient) {
    return new SmtpFaultContext(
        record.id(),
        step,
        tls,
        Optional.ofNullable(mailFrom),
        Optional.ofNullable(recipient),
        transactions);
  }

  /** Buffers {@code reply}; it leaves with the next flush (at the latest before the next read). */
  void send(SmtpReply reply, boolean enhanced) throws IOException {
    output.reply(reply, enhanced);
  }

  void flush() throws IOException {
    output.flush();
  }

  /**
   * Carries out {@code action} where the server would normally answer {@code normal}. Returns the
   * reply sent ({@link #RAW_SENT} for raw bytes), or {@code null} if none was and the session must
   * end. Marks the connection closing after a 421 (RFC 5321 §3.8) or {@code thenDisconnect()}.
   */
  @Nullable SmtpReply perform(SmtpAction action, SmtpReply normal, boolean enhanced)
      throws IOException {
    return perform(action, normal, enhanced, reply -> {});
  }

  /**
   * {@link #perform(SmtpAction, SmtpReply, boolean)}, telling {@code decided} what the server is
   * about to answer (as {@link #perform} returns it) before any of it can reach the client; not
   * called if the action's delay is cut short.
   */
  @Nullable SmtpReply perform(
      SmtpAction action, SmtpReply normal, boolean enhanced, Consumer<SmtpReply> decided)
      throws IOException {
    if (!action.delay().isZero() && !pause(action.delay(), true)) {
      closing = true;
      return null;
    }
    SmtpReply sent;
    switch (action.kind()) {
      case PROCEED:
      case REPLY:
        sent = action.reply().orElse(normal);
        decided.accept(sent);
        output.reply(sent, enhanced);
        byte[] trailing = action.trailingBytes();
        if (trailing.length > 0) {
          output.write(trailing);
          output.flush(); // the reply and the injected bytes leave in one write
        }
        break;
      case RAW:
        decided.accept(RAW_SENT);
        output.write(action.payload());
        output.flush();
        sent = RAW_SENT;
        break;
      case DISCONNECT:
        decided.accept(null);
        closing = true;
        return null;
      case RESET:
        decided.accept(null);
        reset();
        return null;
      case HANG:
        decided.accept(null);
        pause(null, true);
        closing = true;
        return null;
      case ENDLESS_REPLY:
        decided.accept(null);
        endlessReply(normal.code());
        closing = true;
        return null;
      case UNBOUNDED_LINE:
        decided.accept(null);
        unboundedLine(normal.code());
        closing = true;
        return null;
      default:
        throw new IllegalStateException("unknown action " + action.kind());
    }
    if (action.disconnectsAfter() || sent.code() == 421) {
      output.flush();
      closing = true;
    }
    return sent;
  }

  /**
   * Waits {@code duration} ({@code null}: until the server closes) after flushing pending replies.
   * Returns {@code false} if the wait was cut short because the server closed or, when {@code
   * watchClient} and the session is in plaintext, the client closed its side.
   */
  boolean pause(@Nullable Duration duration, boolean watchClient) throws IOException {
    output.flush();
    long deadline = duration == null ? Long.MAX_VALUE : System.nanoTime() + duration.toNanos();
    try {
      while (true) {
        if (server.isClosed()) {
          return false;
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return true;
        }
        Duration slice = Duration.ofNanos(Math.min(left, POLL.toNanos()));
        if (watchClient && !tls) {
          // Reading with a short timeout notices a client that gave up; bytes it sent stay queued.
          raw.setSoTimeout(timeoutMillis(slice));
          try {
            if (input.readAhead() < 0) {
              return false;
            }
            if (input.limit() - input.position() > 0) {
              server.awaitClose(slice); // bytes are queued: no need to read more now
            }
          } catch (SocketTimeoutException e) {
            // Nothing arrived in this slice.
          } finally {
            raw.setSoTimeout(timeoutMillis(config.idleTimeout()));
          }
        } else {
          server.awaitClose(slice);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** RFC 5321 §4.2.1 continuation lines, forever (until a write fails or the server closes). */
  private void endlessReply(int code) throws IOException {
    output.write(code + "-" + config.hostname() + " this reply never ends\r\n");
    for (long i = 1; !server.isClosed(); i++) {
      output.write(String.format(Locale.ROOT, "%d-X-ENDLESS-%012d%s\r\n", code, i, "-".repeat(40)));
      if (i % 64 == 0) {
        output.flush();
      }
    }
  }

  /** A reply line with no end: the code, a space, then text and never a CRLF. */
  private void unboundedLine(int code) throws IOException {
    output.write(code + " ");
    byte[] chunk = new byte[8192];
    Arrays.fill(chunk, (byte) 'x');
    while (!server.isClosed()) {
      output.write(chunk);
      output.flush();
    }
  }

  /**
   * Ends the connection as a crash does: no reply, no TLS close_notify, a TCP reset (SO_LINGER 0
   * makes the close send RST and drop what was not sent).
   */
  void reset() throws IOException {
    closing = true;
    raw.setSoLinger(true, 0);
    raw.close();
  }

  /**
   * Half-closes the connection in the middle of the client's content: under TLS with the
   * close_notify alert first ({@code closeNotify}, RFC 8446 §6.1) or without it, in plaintext with
   * a FIN alone; then reads and discards what the client still sends until it leaves (or the server
   * closes), so that what was sent reaches it rather than being cut by the reset a close with
   * unread input makes.
   */
  void closeMidContent(boolean closeNotify) throws IOException {
    closing = true;
    output.flush();
    if (closeNotify && socket instanceof SSLSocket ssl) {
      ssl.shutdownOutput(); // JSSE sends close_notify, then shuts the TCP output down
    }
    if (!raw.isOutputShutdown()) {
      raw.shutdownOutput();
    }
    java.io.InputStream in = raw.getInputStream();
    raw.setSoTimeout(timeoutMillis(POLL));
    byte[] sink = new byte[16 * 1024];
    while (!server.isClosed()) {
      try {
        if (in.read(sink) < 0) {
          return;
        }
      } catch (SocketTimeoutException e) {
        // Still there: keep discarding.
      }
    }
  }

  /** Sends raw bytes on the plain socket, bypassing the buffer (used on the TLS layer's behalf). */
  void writeRaw(byte[] bytes) throws IOException {
    output.flush();
    raw.getOutputStream().write(bytes);
    raw.getOutputStream().flush();
  }

  /** Continues the session over {@code ssl}, whose handshake has completed. */
  void switchToTls(SSLSocket ssl) throws IOException {
    socket = ssl;
    tls = true;
    input.switchTo(ssl.getInputStream());
    output.switchTo(ssl.getOutputStream());
  }

  /** Sends what is buffered and closes the connection; failures are ignored. */
  void close() {
    try {
      output.flush();
    } catch (IOException e) {
      // The client is gone; nothing left to tell it.
    }
    ServerRuntime.closeQuietly(socket);
    ServerRuntime.closeQuietly(raw);
  }
}
