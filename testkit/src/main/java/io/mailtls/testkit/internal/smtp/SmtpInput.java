package io.mailtls.testkit.internal.smtp;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Iterator;
import org.jspecify.annotations.Nullable;

/**
 * The server's buffered view of what the client sends: command lines, and raw access to the buffer
 * for message data, with a count of {@code read()} calls so that pipelined commands (RFC 2920) can
 * be told apart from commands sent one by one.
 *
 * <p>Before each blocking read it runs a hook (the reply writer's flush): replies to a pipelined
 * batch go out together once the batch is consumed, as RFC 2920 §3.2 allows servers to do.
 *
 * <p>Not thread-safe: owned by one session thread.
 */
public final class SmtpInput {

  /** Work done before a read that may block, e.g. flushing replies. */
  @FunctionalInterface
  public interface IoHook {
    /** Runs the hook. */
    void run() throws IOException;
  }

  /** Result of {@link #readLine(int)} when the line exceeded the limit (it was discarded). */
  public static final String TOO_LONG = new String("line too long");

  /** Whether {@code line} is {@link #TOO_LONG}: by identity, as a client may send that text. */
  @SuppressWarnings("ReferenceEquality") // a sentinel: identity is the point
  public static boolean isTooLong(@Nullable String line) {
    return line == TOO_LONG;
  }

  private final byte[] buffer;
  private final IoHook beforeBlockingRead;
  private InputStream in;
  private int pos;
  private int limit;

  /** Stream offset of {@code buffer[pos]}, counted over the whole session. */
  private long offset;

  private int readCount;

  /**
   * {stream offset of the first byte, read index} for each read whose bytes may still be unread.
   */
  private final ArrayDeque<long[]> reads = new ArrayDeque<>();

  private int lastLineReadIndex;

  /** Reads from {@code in} through a buffer of {@code bufferSize} bytes. */
  public SmtpInput(InputStream in, int bufferSize, IoHook beforeBlockingRead) {
    this.in = in;
    this.buffer = new byte[bufferSize];
    this.beforeBlockingRead = beforeBlockingRead;
  }

  /**
   * Reads one line terminated by LF (a preceding CR is dropped), decoded as UTF-8 (RFC 6531
   * addresses; malformed octets become U+FFFD). Returns {@code null} at end of stream and {@link
   * #TOO_LONG} (by identity) after discarding a line longer than {@code maxLength}.
   */
  public @Nullable String readLine(int maxLength) throws IOException {
    if (maxLength >= buffer.length) {
      throw new IllegalArgumentException(
          "maxLength must be below the buffer size " + buffer.length);
    }
    boolean discarding = false;
    while (true) {
      int lf = indexOf((byte) '\n');
      if (lf >= 0) {
        if (discarding) {
          consume(lf + 1 - pos);
          return TOO_LONG;
        }
        lastLineReadIndex = readIndexAt(offset);
        int end = lf > pos && buffer[lf - 1] == '\r' ? lf - 1 : lf;
        String line = new String(buffer, pos, end - pos, StandardCharsets.UTF_8);
        consume(lf + 1 - pos);
        return line;
      }
      if (limit - pos > maxLength) {
        discarding = true;
        consume(limit - pos);
      }
      if (!readMore()) {
        return null;
      }
    }
  }

  /** The read index of the first byte of the line last returned by {@link #readLine(int)}. */
  public int lastLineReadIndex() {
    return lastLineReadIndex;
  }

  private int indexOf(byte b) {
    for (int i = pos; i < limit; i++) {
      if (buffer[i] == b) {
        return i;
      }
    }
    return -1;
  }

  /**
   * Makes sure at least one unread byte is buffered, reading (once) if none is. Returns the number
   * of buffered bytes, or -1 at end of stream.
   */
  public int fill() throws IOException {
    if (pos < limit) {
      return limit - pos;
    }
    return readMore() ? limit - pos : -1;
  }

  /**
   * Reads once, appending to the unread bytes (moved to the start of the buffer first when the
   * buffer is full). Returns {@code false} at end of stream.
   */
  private boolean readMore() throws IOException {
    if (pos == limit) {
      pos = 0;
      limit = 0;
    } else if (limit == buffer.length) {
      System.arraycopy(buffer, pos, buffer, 0, limit - pos);
      limit -= pos;
      pos = 0;
    }
    beforeBlockingRead.run();
    int n = in.read(buffer, limit, buffer.length - limit);
    if (n <= 0) {
      return false;
    }
    readCount++;
    reads.addLast(new long[] {offset + (limit - pos), readCount});
    limit += n;
    return true;
  }

  /** The buffer; bytes {@link #position()} (inclusive) to {@link #limit()} are unread. */
  public byte[] buffer() {
    return buffer;
  }

  /** Index of the first unread byte in {@link #buffer()}. */
  public int position() {
    return pos;
  }

  /** Index after the last unread byte in {@link #buffer()}. */
  public int limit() {
    return limit;
  }

  /** Marks {@code n} buffered bytes as read. */
  public void consume(int n) {
    if (n < 0 || n > limit - pos) {
      throw new IllegalArgumentException("cannot consume " + n + " of " + (limit - pos));
    }
    pos += n;
    offset += n;
    // Forget reads whose bytes have all been consumed: the next read starts at or before here.
    while (reads.size() > 1 && secondReadStart() <= offset) {
      reads.removeFirst();
    }
  }

  private long secondReadStart() {
    Iterator<long[]> it = reads.iterator();
    it.next();
    return it.next()[0];
  }

  private int readIndexAt(long streamOffset) {
    int index = 0;
    for (long[] read : reads) {
      if (read[0] > streamOffset) {
        break;
      }
      index = (int) read[1];
    }
    return index;
  }

  /**
   * Drops every buffered byte and returns how many there were: used at STARTTLS, where bytes the
   * client sent before the handshake must not be read as if they came over TLS.
   */
  public int discardBuffered() {
    int n = limit - pos;
    consume(n);
    return n;
  }

  /** Reads from {@code newIn} from now on (the TLS stream after STARTTLS). */
  public void switchTo(InputStream newIn) {
    if (pos != limit) {
      throw new IllegalStateException("unread plaintext must be discarded before switching");
    }
    this.in = newIn;
  }

  /**
   * Reads once more if the buffer has room, without consuming anything: lets a stalled session
   * notice that the client went away. Returns -1 at end of stream, else the bytes now buffered.
   */
  public int readAhead() throws IOException {
    if (pos == 0 && limit == buffer.length) {
      return limit;
    }
    return readMore() ? limit - pos : -1;
  }

  /** Number of successful {@code read()} calls so far. */
  public int readCount() {
    return readCount;
  }
}
