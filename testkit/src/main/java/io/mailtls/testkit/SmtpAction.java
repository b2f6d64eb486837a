package io.mailtls.testkit;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * What {@link MockSmtpServer} does at one {@link SmtpStep}: answer normally, answer something else,
 * wait, hang, hang up, or misbehave on the wire.
 *
 * <pre>{@code
 * SmtpAction.reply(451, "4.2.0", "try later")          // instead of the normal reply
 * SmtpAction.stall(Duration.ofSeconds(2))              // normal reply, 2 s late
 * SmtpAction.reply(421, "4.3.2", "bye")                // 421 closes the connection (RFC 5321 §3.8)
 * SmtpAction.reset()                                   // TCP reset, no reply
 * SmtpAction.proceed().followedBy("250-INJECTED\r\n")  // normal reply plus bytes, one write
 * SmtpAction.endlessReply()                            // continuation lines, forever
 * }</pre>
 *
 * <p>Immutable and thread-safe.
 */
public final class SmtpAction {

  /** The kinds of action. */
  public enum Kind {
    /** The server's normal reply. */
    PROCEED,
    /** A scripted {@link SmtpReply} instead of the normal one. */
    REPLY,
    /** Raw bytes instead of a reply; the step then counts as failed. */
    RAW,
    /** Close the connection without replying. */
    DISCONNECT,
    /**
     * Reset the connection without replying: a crash, with a TCP RST (SO_LINGER 0) and no TLS
     * close_notify.
     */
    RESET,
    /** Never reply; wait until the client leaves or the server closes. */
    HANG,
    /** A multi-line reply that never ends: continuation lines until the client leaves. */
    ENDLESS_REPLY,
    /** A reply line that never ends: no CRLF, ever. */
    UNBOUNDED_LINE
  }

  private static final byte[] NONE = new byte[0];

  private final Kind kind;
  private final @Nullable SmtpReply reply;
  private final byte[] payload;
  private final Duration delay;
  private final byte[] trailing;
  private final boolean disconnectAfter;

  private SmtpAction(
      Kind kind,
      @Nullable SmtpReply reply,
      byte[] payload,
      Duration delay,
      byte[] trailing,
      boolean disconnectAfter) {
    this.kind = kind;
    this.reply = reply;
    this.payload = payload;
    this.delay = delay;
    this.trailing = trailing;
    this.disconnectAfter = disconnectAfter;
  }

  private static SmtpAction of(Kind kind) {
    return new SmtpAction(kind, null, NONE, Duration.ZERO, NONE, false);
  }

  /** The server's normal behaviour at this step. */
  public static SmtpAction proceed() {
    return of(Kind.PROCEED);
  }

  /**
   * Sends {@code reply} instead of the normal reply; the server then acts on the code it sent (a
   * 2xx to RCPT accepts the recipient, 354 to DATA reads the message, 220 to STARTTLS starts TLS,
   * 421 anywhere closes the connection).
   */
  public static SmtpAction reply(SmtpReply reply) {
    return new SmtpAction(
        Kind.REPLY, Objects.requireNonNull(reply, "reply"), NONE, Duration.ZERO, NONE, false);
  }

  /** Shorthand for {@code reply(SmtpReply.of(code, text))}. */
  public static SmtpAction reply(int code, String text) {
    return reply(SmtpReply.of(code, text));
  }

  /** Shorthand for {@code reply(SmtpReply.of(code, enhancedCode, text))}. */
  public static SmtpAction reply(int code, String enhancedCode, String text) {
    return reply(SmtpReply.of(code, enhancedCode, text));
  }

  /**
   * Sends exactly {@code bytes} instead of a reply (at {@link SmtpStep#TLS_HANDSHAKE}: then
   * closes).
   */
  public static SmtpAction raw(byte[] bytes) {
    return new SmtpAction(Kind.RAW, null, bytes.clone(), Duration.ZERO, NONE, false);
  }

  /** Sends {@code text} as ISO-8859-1 bytes, exactly, instead of a reply. */
  public static SmtpAction raw(String text) {
    return raw(text.getBytes(StandardCharsets.ISO_8859_1));
  }

  /**
   * Closes the connection without replying (at {@link SmtpStep#TLS_HANDSHAKE}: a handshake abort).
   */
  public static SmtpAction disconnect() {
    return of(Kind.DISCONNECT);
  }

  /**
   * Resets the connection without replying: a TCP RST and, under TLS, no close_notify (a crash, not
   * a shutdown). At {@link SmtpStep#DATA_END}: the message arrived in full and the reply is lost.
   * Not at {@link SmtpStep#TLS_HANDSHAKE}.
   */
  public static SmtpAction reset() {
    return of(Kind.RESET);
  }

  /**
   * Never replies. The session ends when the client closes its side (noticed while the session is
   * in plaintext) or when the server is closed.
   */
  public static SmtpAction hang() {
    return of(Kind.HANG);
  }

  /** The normal reply, after {@code delay}: shorthand for {@code proceed().after(delay)}. */
  public static SmtpAction stall(Duration delay) {
    return proceed().after(delay);
  }

  /**
   * A reply that never ends: the normal reply's code with {@code '-'} continuation lines, sent
   * until the client stops reading and leaves, or the server closes. Tests a client's bound on
   * reply size (e.g. an endless EHLO reply).
   */
  public static SmtpAction endlessReply() {
    return of(Kind.ENDLESS_REPLY);
  }

  /**
   * One reply line that never ends: the normal reply's code and a space, then text without CRLF,
   * forever. Tests a client's bound on line length (RFC 5321 §4.5.3.1.5: 512 octets).
   */
  public static SmtpAction unboundedLine() {
    return of(Kind.UNBOUNDED_LINE);
  }

  /** This action, started after waiting {@code delay} (pending replies are flushed first). */
  public SmtpAction after(Duration delay) {
    Objects.requireNonNull(delay, "delay");
    if (delay.isNegative()) {
      throw new IllegalArgumentException("delay must not be negative: " + delay);
    }
    if (!this.delay.isZero()) {
      throw new IllegalStateException("delay already set to " + this.delay);
    }
    return new SmtpAction(kind, reply, payload, delay, trailing, disconnectAfter);
  }

  /**
   * This reply, followed by {@code bytes} in the same write: at {@link SmtpStep#STARTTLS} the bytes
   * arrive before the handshake, as in a response-injection attack (CVE-2011-0411 class).
   */
  public SmtpAction followedBy(byte[] bytes) {
    if (kind != Kind.PROCEED && kind != Kind.REPLY) {
      throw new IllegalStateException("followedBy needs proceed() or reply(...), not " + kind);
    }
    if (trailing.length > 0) {
      throw new IllegalStateException("followedBy already set");
    }
    return new SmtpAction(kind, reply, payload, delay, bytes.clone(), disconnectAfter);
  }

  /** {@link #followedBy(byte[])} with the ISO-8859-1 bytes of {@code text}. */
  public SmtpAction followedBy(String text) {
    return followedBy(text.getBytes(StandardCharsets.ISO_8859_1));
  }

  /** This reply, then closing the connection. */
  public SmtpAction thenDisconnect() {
    if (kind != Kind.PROCEED && kind != Kind.REPLY && kind != Kind.RAW) {
      throw new IllegalStateException("thenDisconnect needs a reply, not " + kind);
    }
    return new SmtpAction(kind, reply, payload, delay, trailing, true);
  }

  /** The kind of action. */
  public Kind kind() {
    return kind;
  }

  /** The scripted reply of a {@link Kind#REPLY} action. */
  public Optional<SmtpReply> reply() {
    return Optional.ofNullable(reply);
  }

  /** The bytes of a {@link Kind#RAW} action. */
  public byte[] payload() {
    return payload.clone();
  }

  /** How long the server waits before acting; zero by default. */
  public Duration delay() {
    return delay;
  }

  /** Bytes sent right after the reply, in the same write. */
  public byte[] trailingBytes() {
    return trailing.clone();
  }

  /** Whether the server closes the connection after replying. */
  public boolean disconnectsAfter() {
    return disconnectAfter;
  }

  @Override
  public String toString() {
    StringBuilder out = new StringBuilder("SmtpAction{").append(kind);
    if (reply != null) {
      out.append(' ').append(reply);
    }
    if (!delay.isZero()) {
      out.append(" after ").append(delay);
    }
    if (trailing.length > 0) {
      out.append(" +").append(trailing.length).append(" bytes");
    }
    if (disconnectAfter) {
      out.append(" then disconnect");
    }
    return out.append('}').toString();
  }
}
