package io.mailtls.core.internal.smtp;

import java.io.IOException;
import java.io.OutputStream;
import java.util.Objects;

/**
 * Gathers small writes into one buffer and passes them on as one write; writes at least as large as
 * the buffer pass straight through (after what was gathered). For writers that emit a message one
 * octet or one short line at a time, such as Jakarta Mail's {@code writeTo}.
 *
 * <p>Unlike {@link java.io.BufferedOutputStream}, it takes no lock: a lock per octet is most of the
 * cost of a message written one octet at a time. The buffer is made at the first small write, so a
 * writer that only makes large writes costs no buffer. {@link #drain()} passes on what was gathered
 * without flushing the stream underneath; {@link #flush()} does both; {@link #close()} drains and
 * closes the stream underneath.
 *
 * <p>Not thread-safe: one writer at a time.
 */
public final class BatchingOutputStream extends OutputStream {

  private static final byte[] NONE = new byte[0];

  private final OutputStream out;
  private final int size;
  private byte[] buf = NONE;
  private int count;

  /**
   * @param out where the batches go
   * @param size the buffer's size, at least 1
   */
  public BatchingOutputStream(OutputStream out, int size) {
    this.out = Objects.requireNonNull(out, "out");
    if (size < 1) {
      throw new IllegalArgumentException("size must be at least 1: " + size);
    }
    this.size = size;
  }

  @Override
  public void write(int b) throws IOException {
    if (count == buf.length) {
      if (buf == NONE) {
        buf = new byte[size];
      } else {
        drain();
      }
    }
    buf[count++] = (byte) b;
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    Objects.checkFromIndexSize(off, len, b.length);
    if (len >= size) {
      drain();
      out.write(b, off, len);
      return;
    }
    if (buf == NONE) {
      buf = new byte[size];
    }
    if (len > buf.length - count) {
      drain();
    }
    System.arraycopy(b, off, buf, count, len);
    count += len;
  }

  /** Passes on what was gathered, without flushing the stream underneath. */
  public void drain() throws IOException {
    if (count > 0) {
      int n = count;
      count = 0;
      out.write(buf, 0, n);
    }
  }

  @Override
  public void flush() throws IOException {
    drain();
    out.flush();
  }

  @Override
  public void close() throws IOException {
    try {
      drain();
    } finally {
      out.close();
    }
  }
}
