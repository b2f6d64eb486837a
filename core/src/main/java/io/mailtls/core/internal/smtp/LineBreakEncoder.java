package io.mailtls.core.internal.smtp;

import java.io.IOException;
import java.io.OutputStream;
import java.util.Objects;

/**
 * Streams message content to an output stream with every line break as CRLF, optionally doubling a
 * leading dot on every line; the base of {@link DotStuffingOutputStream} (DATA) and {@link
 * CrlfNormalizingOutputStream} (BDAT).
 *
 * <p>Line breaks (RFC 5321 §2.3.8: in SMTP, CR and LF occur only together, as CRLF): CR LF is one
 * line break and stays CRLF; a bare LF becomes CRLF; a lone CR (not followed by LF) becomes CRLF
 * too, so {@code "a\r\rb"} is two line breaks. A CR at the end of one {@code write} call waits for
 * the next octet, so a CRLF split across calls is still one line break. {@link ContentScanner}
 * applies exactly these rules to count the output in advance.
 *
 * <p>Memory is one buffer of a fixed size, whatever the content length; octets are copied in runs
 * with {@link System#arraycopy}, and the underlying stream sees only whole-buffer writes (or larger
 * direct writes), never one call per octet.
 *
 * <p>{@link #close()} never completes the content: a message that was not {@linkplain #finish()
 * finished} is incomplete, and closing writes nothing more (the transaction must be abandoned). It
 * closes the underlying stream only when the stream was built to do so.
 *
 * <p>Not thread-safe.
 */
public abstract sealed class LineBreakEncoder extends OutputStream
    permits DotStuffingOutputStream, CrlfNormalizingOutputStream {

  /** 16 KiB, the largest TLS record payload: each buffer becomes whole records. */
  public static final int DEFAULT_BUFFER_SIZE = 16 * 1024;

  static final byte CR = '\r';
  static final byte LF = '\n';
  private static final byte DOT = '.';

  private final OutputStream out;
  private final boolean stuffDots;
  private final boolean closeUnderlying;
  private final byte[] buffer;
  private final byte[] single = new byte[1];
  private int count;
  private long written;
  private boolean atLineStart = true;
  private boolean pendingCr;
  private boolean finished;
  private boolean closed;

  LineBreakEncoder(OutputStream out, boolean stuffDots, boolean closeUnderlying, int bufferSize) {
    this.out = Objects.requireNonNull(out, "out");
    if (bufferSize < 16) {
      throw new IllegalArgumentException("buffer size must be at least 16: " + bufferSize);
    }
    this.stuffDots = stuffDots;
    this.closeUnderlying = closeUnderlying;
    this.buffer = new byte[bufferSize];
  }

  @Override
  public final void write(int b) throws IOException {
    single[0] = (byte) b;
    write(single, 0, 1);
  }

  @Override
  public final void write(byte[] bytes, int offset, int length) throws IOException {
    Objects.checkFromIndexSize(offset, length, bytes.length);
    checkWritable();
    int end = offset + length;
    int i = offset;
    while (i < end) {
      byte c = bytes[i];
      if (pendingCr) {
        pendingCr = false;
        // RFC 5321 §2.3.8: CR LF is the line break; a CR without LF is repaired into one.
        putLineBreak();
        if (c == LF) {
          i++;
          continue;
        }
      }
      if (c == CR) {
        pendingCr = true;
        i++;
        continue;
      }
      if (c == LF) {
        // A bare LF is a line break written as CRLF.
        putLineBreak();
        i++;
        continue;
      }
      if (atLineStart) {
        atLineStart = false;
        // RFC 5321 §4.5.2: a line starting with "." gets one more "." in front.
        if (stuffDots && c == DOT) {
          putByte(DOT);
        }
      }
      int run = i + 1;
      while (run < end) {
        byte d = bytes[run];
        if (d == CR || d == LF) {
          break;
        }
        run++;
      }
      putBytes(bytes, i, run - i);
      i = run;
    }
  }

  /**
   * Writes the buffered octets to the underlying stream and flushes it. A trailing CR stays held
   * until the next octet or {@link #finish()} shows whether an LF follows.
   */
  @Override
  public void flush() throws IOException {
    checkOpen();
    flushBuffer();
    out.flush();
  }

  /**
   * Ends the content: writes what the encoding needs at the end, then flushes the underlying
   * stream. Further calls do nothing; further writes throw {@link IllegalStateException}.
   *
   * @throws IOException from the underlying stream
   */
  public final void finish() throws IOException {
    checkOpen();
    if (finished) {
      return;
    }
    // Set first: a failed write below must never lead to a second terminator on a retry.
    finished = true;
    if (pendingCr) {
      pendingCr = false;
      putLineBreak();
    }
    writeTrailer();
    flushBuffer();
    out.flush();
  }

  /** Writes the encoding's end marker; called once by {@link #finish()}. */
  abstract void writeTrailer() throws IOException;

  /** Whether {@link #finish()} has been called. */
  public final boolean isFinished() {
    return finished;
  }

  /** Octets written so far to the underlying stream, including those still in the buffer. */
  public final long bytesWritten() {
    return written;
  }

  /**
   * Releases the stream without completing the content (see the class comment); closes the
   * underlying stream only when built to.
   */
  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    if (closeUnderlying) {
      out.close();
    }
  }

  /** Whether the last octet written was a line break (or nothing was written). */
  final boolean atLineStart() {
    return atLineStart && !pendingCr;
  }

  final void putLineBreak() throws IOException {
    if (buffer.length - count < 2) {
      flushBuffer();
    }
    buffer[count++] = CR;
    buffer[count++] = LF;
    written += 2;
    atLineStart = true;
  }

  final void putByte(byte b) throws IOException {
    if (count == buffer.length) {
      flushBuffer();
    }
    buffer[count++] = b;
    written++;
  }

  private void putBytes(byte[] bytes, int offset, int length) throws IOException {
    written += length;
    if (length > buffer.length - count) {
      flushBuffer();
      if (length >= buffer.length) {
        out.write(bytes, offset, length);
        return;
      }
    }
    System.arraycopy(bytes, offset, buffer, count, length);
    count += length;
  }

  private void flushBuffer() throws IOException {
    if (count > 0) {
      out.write(buffer, 0, count);
      count = 0;
    }
  }

  private void checkOpen() throws IOException {
    if (closed) {
      throw new IOException("stream closed");
    }
  }

  private void checkWritable() throws IOException {
    checkOpen();
    if (finished) {
      throw new IllegalStateException("content already finished");
    }
  }
}
