package io.mailtls.core.internal.smtp;

import io.mailtls.core.EnhancedStatus;
import io.mailtls.core.SmtpReply;
import io.mailtls.core.internal.smtp.SmtpProtocolException.Kind;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Reads SMTP replies from a server's input stream, within fixed bounds (RFC 5321 §4.2).
 *
 * <p>A reply is one or more lines {@code ddd-text} ending with a line {@code ddd SP text} or just
 * {@code ddd}; every line carries the same code (RFC 5321 §4.2.1). Lines end with CRLF; a bare LF
 * is accepted as a line end too, because some servers send it and it is unambiguous, while a bare
 * CR inside a line is rejected (RFC 5321 §2.3.8: CR and LF occur only together). Text is decoded as
 * UTF-8, malformed octets becoming U+FFFD; control characters other than HTAB are shown escaped
 * ({@link PeerText#clean}), so reply text is safe in a report or a log line. Enhanced status codes
 * are taken out of the text as {@link SmtpReply} describes (RFC 2034 §4).
 *
 * <p>Bounds ({@link Limits}): the length of a line, the number of lines in a reply and the octets
 * in a reply. Memory is bounded too: the reader holds one buffer of {@code maxLineLength + 2}
 * octets and at most {@code maxReplyBytes} of decoded text, so an endless reply fails once the
 * bound is passed, after reading at most the bound plus one buffer.
 *
 * <p>The reader wraps the stream with its own buffer and asks the stream for more only when the
 * current line is incomplete; it never reads past a complete reply on purpose, but one read may
 * deliver more than the reply. {@link #buffered()} reports those octets. After the 220 reply to
 * STARTTLS anything buffered was sent by the server before TLS and must not be read as a reply
 * after the handshake (RFC 3207 §4.2): call {@link #requireNoBufferedInput(String)}, then read the
 * TLS stream with a new reader. For that guarantee to cover all client-side buffering, wrap the
 * socket's own stream, not a {@code BufferedInputStream}.
 *
 * <p>The reader sets no time bound: the caller bounds each reply (mailtls closes the socket when a
 * reply outlives its limit). A {@link SocketTimeoutException} from a stream with a timeout of its
 * own becomes {@link Kind#TIMEOUT} with the cause kept. Other {@link IOException}s pass through
 * unchanged. After any failure the stream position is unknown and {@link #read()} throws {@link
 * IllegalStateException}. Pipelined replies (RFC 2920) are read with repeated {@link #read()}
 * calls, in order.
 *
 * <p>Not thread-safe: one reader per connection, used by one thread at a time.
 */
public final class SmtpReplyReader {

  /**
   * Bounds on what one reply may contain.
   *
   * @param maxLineLength octets in a line, excluding CRLF; at least 512 (RFC 5321 §4.5.3.1.5 lets a
   *     server send 512 including CRLF)
   * @param maxLines lines in a reply, at least 1
   * @param maxReplyBytes octets in a reply including line ends, at least {@code maxLineLength + 2}
   */
  public record Limits(int maxLineLength, int maxLines, int maxReplyBytes) {

    /** 4096-octet lines, 512 lines, 64 KiB: lenient towards real servers, yet bounded. */
    public static final Limits DEFAULT = new Limits(4096, 512, 64 * 1024);

    /** Lines the RFC allows (RFC 5321 §4.5.3.1.5: 512 octets including CRLF) must fit. */
    private static final int MIN_LINE_LENGTH = 512;

    /** Keeps {@code maxLineLength + 2} a valid array size. */
    private static final int MAX_LINE_LENGTH = 1 << 24;

    /**
     * Validates the bounds.
     *
     * @throws IllegalArgumentException naming the value when a bound is out of range
     */
    public Limits {
      if (maxLineLength < MIN_LINE_LENGTH || maxLineLength > MAX_LINE_LENGTH) {
        throw new IllegalArgumentException(
            "maxLineLength must be "
                + MIN_LINE_LENGTH
                + ".."
                + MAX_LINE_LENGTH
                + ": "
                + maxLineLength);
      }
      if (maxLines < 1) {
        throw new IllegalArgumentException("maxLines must be at least 1: " + maxLines);
      }
      if (maxReplyBytes < maxLineLength + 2) {
        throw new IllegalArgumentException(
            "maxReplyBytes must be at least maxLineLength + 2 = "
                + (maxLineLength + 2)
                + ": "
                + maxReplyBytes);
      }
    }
  }

  private static final byte CR = '\r';
  private static final byte LF = '\n';

  private final InputStream in;
  private final Limits limits;
  private final byte[] buffer;

  /** Index of the first octet not yet consumed. */
  private int pos;

  /** Index just past the last octet read from the stream. */
  private int end;

  /** Octets in {@code [pos, scanned)} are known to hold no LF. */
  private int scanned;

  /** Set after any failure: the stream position is unknown from then on. */
  private boolean failed;

  /** A reader with {@link Limits#DEFAULT}. */
  public SmtpReplyReader(InputStream in) {
    this(in, Limits.DEFAULT);
  }

  /** A reader with the given bounds. */
  public SmtpReplyReader(InputStream in, Limits limits) {
    this.in = Objects.requireNonNull(in, "in");
    this.limits = Objects.requireNonNull(limits, "limits");
    this.buffer = new byte[limits.maxLineLength() + 2];
  }

  /** The bounds this reader enforces. */
  public Limits limits() {
    return limits;
  }

  /**
   * Reads the next complete reply, blocking until it has arrived.
   *
   * @throws SmtpProtocolException when the reply breaks the syntax or a bound, the connection
   *     closes mid-reply, or the socket times out
   * @throws IOException from the stream
   * @throws IllegalStateException when an earlier call failed
   */
  public SmtpReply read() throws IOException {
    if (failed) {
      throw new IllegalStateException("an earlier read failed; the connection must be closed");
    }
    try {
      return readReply();
    } catch (IOException | RuntimeException e) {
      failed = true;
      throw e;
    }
  }

  /**
   * Octets received from the server beyond the last complete reply, sitting in this reader's
   * buffer.
   */
  public int buffered() {
    return end - pos;
  }

  /** Whether any octet beyond the last complete reply sits in this reader's buffer. */
  public boolean hasBufferedInput() {
    return end > pos;
  }

  /** Drops the buffered octets and returns how many there were. */
  public int discardBuffered() {
    int dropped = end - pos;
    pos = 0;
    end = 0;
    scanned = 0;
    return dropped;
  }

  /**
   * Fails when the server has sent anything beyond the last reply, for the points where it must not
   * have: after the 220 reply to STARTTLS (RFC 3207 §4.2), or after the last reply of a pipelined
   * group (RFC 2920 §3.1). The octets are discarded and the reader is unusable afterwards.
   *
   * @param context where the client is, for the message, e.g. {@code "after 220 to STARTTLS"}
   * @throws SmtpProtocolException of kind {@link Kind#UNSOLICITED_INPUT}, quoting the octets
   */
  public void requireNoBufferedInput(String context) throws SmtpProtocolException {
    if (end == pos) {
      // Everything read is consumed: start the buffer again, so that a reply that ended at the
      // very end of the buffer still leaves room to take what has arrived behind it.
      pos = 0;
      end = 0;
      scanned = 0;
      takeAvailable();
    }
    if (end == pos) {
      return;
    }
    String excerpt = SmtpText.quote(buffer, pos, end - pos);
    int dropped = discardBuffered();
    failed = true;
    throw new SmtpProtocolException(
        Kind.UNSOLICITED_INPUT,
        "server sent " + dropped + " unsolicited octets " + context + ": " + excerpt);
  }

  private SmtpReply readReply() throws IOException {
    List<String> texts = new ArrayList<>();
    int code = -1;
    long total = 0;
    while (true) {
      int lf = nextLineFeed(texts.size());
      int start = pos;
      int contentEnd = lf > start && buffer[lf - 1] == CR ? lf - 1 : lf;
      int length = contentEnd - start;
      pos = lf + 1;
      scanned = pos;
      total += pos - start;
      if (length > limits.maxLineLength()) {
        throw new SmtpProtocolException(
            Kind.LINE_TOO_LONG,
            "reply line of "
                + length
                + " octets exceeds "
                + limits.maxLineLength()
                + ": "
                + SmtpText.quote(buffer, start, length));
      }
      if (total > limits.maxReplyBytes()) {
        throw new SmtpProtocolException(
            Kind.REPLY_TOO_LONG,
            "reply exceeds "
                + limits.maxReplyBytes()
                + " octets after "
                + (texts.size() + 1)
                + " lines");
      }
      int lineCode = parseCode(start, length);
      // RFC 5321 §4.2.1: every line of a multiline reply carries the same code.
      if (code >= 0 && lineCode != code) {
        throw new SmtpProtocolException(
            Kind.CODE_MISMATCH,
            "reply line "
                + (texts.size() + 1)
                + " has code "
                + lineCode
                + ", expected "
                + code
                + ": "
                + SmtpText.quote(buffer, start, length));
      }
      code = lineCode;
      boolean last = isLastLine(start, length);
      texts.add(text(start, length));
      if (last) {
        return toReply(code, texts);
      }
      if (texts.size() >= limits.maxLines()) {
        throw new SmtpProtocolException(
            Kind.TOO_MANY_LINES,
            "reply " + code + " continues past " + limits.maxLines() + " lines");
      }
    }
  }

  /**
   * The index of the LF ending the current line, reading from the stream as needed.
   *
   * @param linesSoFar lines of the current reply already read, for messages
   */
  private int nextLineFeed(int linesSoFar) throws IOException {
    while (true) {
      for (int i = scanned; i < end; i++) {
        if (buffer[i] == LF) {
          return i;
        }
      }
      scanned = end;
      int pending = end - pos;
      // A line of maxLineLength octets needs at most one more octet (its CR) before the LF.
      if (pending > limits.maxLineLength() + 1) {
        throw new SmtpProtocolException(
            Kind.LINE_TOO_LONG,
            "reply line exceeds "
                + limits.maxLineLength()
                + " octets without a line end: "
                + SmtpText.quote(buffer, pos, pending));
      }
      if (end == buffer.length) {
        System.arraycopy(buffer, pos, buffer, 0, pending);
        pos = 0;
        end = pending;
        scanned = pending;
      }
      int n = fill();
      if (n < 0) {
        throw closed(linesSoFar, end - pos);
      }
      end += n;
    }
  }

  /**
   * Moves what the stream can give without blocking into the buffer: octets that have arrived but
   * were not read yet count as sent, too. A stream that cannot tell gives nothing.
   */
  private void takeAvailable() {
    try {
      int n = Math.min(in.available(), buffer.length - end);
      if (n > 0) {
        int read = in.read(buffer, end, n);
        if (read > 0) {
          end += read;
        }
      }
    } catch (IOException e) {
      // nothing more can be told about what the server sent; the next read will fail
    }
  }

  /** One read from the stream into the free end of the buffer; -1 at end of stream. */
  private int fill() throws IOException {
    try {
      return in.read(buffer, end, buffer.length - end);
    } catch (SocketTimeoutException e) {
      throw new SmtpProtocolException(
          Kind.TIMEOUT, "no reply data within the socket timeout: " + e.getMessage(), e);
    }
  }

  private SmtpProtocolException closed(int linesSoFar, int partialOctets) {
    String where;
    if (linesSoFar == 0 && partialOctets == 0) {
      where = "before a reply";
    } else {
      where =
          "in the middle of a reply, after "
              + linesSoFar
              + " complete lines and "
              + partialOctets
              + " octets: "
              + SmtpText.quote(buffer, pos, partialOctets);
    }
    return new SmtpProtocolException(
        Kind.CONNECTION_CLOSED, "server closed the connection " + where);
  }

  /** The three-digit code at the start of a line. */
  private int parseCode(int start, int length) throws SmtpProtocolException {
    // RFC 5321 §4.2: Reply-line = *( Reply-code "-" [ textstring ] CRLF )
    //                             Reply-code [ SP textstring ] CRLF; Reply-code = %x32-35 %x30-35
    // %x30-39
    // The second digit is not checked: it carries no meaning for the client (RFC 5321 §4.2.1).
    if (length < 3) {
      throw malformed("shorter than a reply code", start, length);
    }
    int code = 0;
    for (int i = start; i < start + 3; i++) {
      byte b = buffer[i];
      if (b < '0' || b > '9') {
        throw malformed("does not start with a three-digit code", start, length);
      }
      code = code * 10 + (b - '0');
    }
    if (code < 200 || code > 599) {
      throw malformed("has a code outside 2yz..5yz", start, length);
    }
    return code;
  }

  /** Whether the line is the last of its reply: {@code ddd} or {@code ddd SP ...}. */
  private boolean isLastLine(int start, int length) throws SmtpProtocolException {
    if (length == 3) {
      return true;
    }
    byte separator = buffer[start + 3];
    // RFC 5321 §4.2.1: "ddd-" continues the reply, "ddd " (or a bare "ddd") ends it.
    if (separator == ' ') {
      return true;
    }
    if (separator == '-') {
      return false;
    }
    throw malformed("has neither ' ' nor '-' after the code", start, length);
  }

  /** The text after {@code ddd} and the separator. */
  private String text(int start, int length) throws SmtpProtocolException {
    for (int i = start + 4; i < start + length; i++) {
      if (buffer[i] == CR) {
        // RFC 5321 §2.3.8: a CR only as part of CRLF.
        throw malformed("contains a bare CR", start, length);
      }
    }
    // RFC 5321 §4.2: textstring = 1*(%d09 / %d32-126). Other control characters are peer input
    // that must not reach a report or a log line as they are: shown escaped (PeerText).
    return length <= 4
        ? ""
        : PeerText.clean(new String(buffer, start + 4, length - 4, StandardCharsets.UTF_8));
  }

  private SmtpProtocolException malformed(String why, int start, int length) {
    return new SmtpProtocolException(
        Kind.MALFORMED_REPLY, "reply line " + why + ": " + SmtpText.quote(buffer, start, length));
  }

  /**
   * Builds the reply, taking the enhanced status code from the first line when its class matches
   * the reply code, and out of every line that repeats it (RFC 2034 §4).
   */
  static SmtpReply toReply(int code, List<String> texts) {
    Optional<EnhancedStatus> status = statusPrefix(texts.get(0), code);
    if (status.isEmpty()) {
      return new SmtpReply(code, status, texts, false);
    }
    List<String> lines = new ArrayList<>(texts.size());
    for (String text : texts) {
      lines.add(status.equals(statusPrefix(text, code)) ? stripStatus(text) : text);
    }
    return new SmtpReply(code, status, lines, false);
  }

  /**
   * The enhanced status code at the start of a line: {@code status-code SP text} or just {@code
   * status-code} (RFC 2034 §4), with a class equal to the reply code's first digit.
   */
  private static Optional<EnhancedStatus> statusPrefix(String text, int code) {
    // RFC 2034 §4: the status code's class agrees with the reply code (2xx/2.X.X, 4xx/4.X.X, ...).
    return leadingStatus(text).filter(s -> s.statusClass() == code / 100);
  }

  private static Optional<EnhancedStatus> leadingStatus(String text) {
    int space = text.indexOf(' ');
    return EnhancedStatus.tryParse(space < 0 ? text : text.substring(0, space));
  }

  /**
   * The enhanced status code a server wrote where RFC 2034 §4 puts it, whatever its class: the
   * reply's {@link SmtpReply#enhancedStatus()}, or else a code whose class contradicts the reply
   * code, which {@link #toReply} leaves in the text. For telling whether the server put a code in a
   * reply at all, and of what subject, never for what the reply means: that is the reply code's
   * (RFC 5321 §4.2.1), and a code of the wrong class is no status of the reply (RFC 3463 §2).
   */
  public static Optional<EnhancedStatus> writtenStatus(SmtpReply reply) {
    if (reply.enhancedStatus().isPresent() || reply.locallyGenerated()) {
      return reply.enhancedStatus();
    }
    return leadingStatus(reply.lines().get(0));
  }

  private static String stripStatus(String text) {
    int space = text.indexOf(' ');
    return space < 0 ? "" : text.substring(space + 1);
  }
}
