package io.mailtls.jakartamail.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.util.Objects;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;

/**
 * A bounded in-memory pipe from one writer thread to one reader: the writer blocks while the buffer
 * is full, the reader while it is empty. At most {@code capacity} octets are ever held, so a
 * message of any size streams through in constant memory.
 *
 * <p>Unlike {@link java.io.PipedInputStream} it neither polls (no one-second wake-ups) nor judges
 * the other side by whether its thread is alive (pooled threads outlive their task), and it carries
 * the writer's failure to the reader:
 *
 * <ul>
 *   <li>the writer ends with {@link #finish(Throwable)}: {@code null} gives the reader end of
 *       stream after the buffered octets; a failure makes every later read throw an {@link
 *       IOException} whose cause is that failure;
 *   <li>{@link #source()}{@code .close()} by the reader wakes a blocked writer, and every later
 *       write throws {@link ReaderClosedException}, so the writer unwinds instead of blocking
 *       forever when the reader stops early.
 * </ul>
 *
 * <p>Thread-safe: all state is guarded by one lock; meant for one reading and one writing thread.
 */
public final class ContentPipe {

  /** The default buffer size: small against any message, large enough to keep both sides busy. */
  public static final int DEFAULT_CAPACITY = 64 * 1024;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition readable = lock.newCondition();
  private final Condition writable = lock.newCondition();
  private final byte[] ring;
  private int head;
  private int count;
  private boolean writerDone;
  private @Nullable Throwable failure;
  private boolean readerClosed;
  private final InputStream source = new Source();
  private final OutputStream sink = new Sink();

  /** A pipe holding at most {@code capacity} octets. */
  public ContentPipe(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be positive: " + capacity);
    }
    this.ring = new byte[capacity];
  }

  /** The reading end; closing it tells the writer to stop. */
  public InputStream source() {
    return source;
  }

  /**
   * The writing end. Its {@code close()} does nothing: the writer ends the stream with {@link
   * #finish(Throwable)}, which also carries a failure.
   */
  public OutputStream sink() {
    return sink;
  }

  /**
   * Ends the writing side: {@code failure == null} for a complete stream, otherwise the reason the
   * content is incomplete, which the reader then receives as the cause of an {@link IOException}.
   * Only the first call counts.
   */
  public void finish(@Nullable Throwable failure) {
    lock.lock();
    try {
      if (writerDone) {
        return;
      }
      writerDone = true;
      this.failure = failure;
      readable.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** Whether the reader closed its end. */
  public boolean readerClosed() {
    lock.lock();
    try {
      return readerClosed;
    } finally {
      lock.unlock();
    }
  }

  @SuppressWarnings("WaitNotInLoop") // every caller waits in a loop that re-checks its condition
  private static void await(Condition c) throws InterruptedIOException {
    try {
      c.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      InterruptedIOException ie =
          new InterruptedIOException("interrupted while waiting on the " + "message content pipe");
      ie.initCause(e);
      throw ie;
    }
  }

  /** Thrown to the writer once the reader has closed its end: the expected way to stop early. */
  public static final class ReaderClosedException extends IOException {
    ReaderClosedException() {
      super("the reader closed the message content stream");
    }
  }

  private final class Source extends InputStream {
    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      int n = read(one, 0, 1);
      return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      Objects.checkFromIndexSize(off, len, b.length);
      if (len == 0) {
        return 0;
      }
      lock.lock();
      try {
        while (true) {
          if (readerClosed) {
            throw new IOException("message content stream closed");
          }
          if (failure != null) {
            // The octets already buffered belong to a message that cannot be completed: fail now.
            throw new IOException("the message could not be written: " + failure, failure);
          }
          if (count > 0) {
            break;
          }
          if (writerDone) {
            return -1;
          }
          await(readable);
        }
        int n = Math.min(len, count);
        int first = Math.min(n, ring.length - head);
        System.arraycopy(ring, head, b, off, first);
        System.arraycopy(ring, 0, b, off + first, n - first);
        head = (head + n) % ring.length;
        count -= n;
        writable.signal();
        return n;
      } finally {
        lock.unlock();
      }
    }

    @Override
    public int available() {
      lock.lock();
      try {
        return readerClosed ? 0 : count;
      } finally {
        lock.unlock();
      }
    }

    @Override
    public void close() {
      lock.lock();
      try {
        readerClosed = true;
        count = 0;
        writable.signalAll();
        readable.signalAll();
      } finally {
        lock.unlock();
      }
    }
  }

  private final class Sink extends OutputStream {
    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      Objects.checkFromIndexSize(off, len, b.length);
      lock.lock();
      try {
        while (len > 0) {
          while (count == ring.length && !readerClosed) {
            await(writable);
          }
          if (readerClosed) {
            throw new ReaderClosedException();
          }
          if (writerDone) {
            throw new IOException("write after the message content stream was finished");
          }
          int tail = (head + count) % ring.length;
          int n = Math.min(len, Math.min(ring.length - count, ring.length - tail));
          System.arraycopy(b, off, ring, tail, n);
          count += n;
          off += n;
          len -= n;
          readable.signal();
        }
      } finally {
        lock.unlock();
      }
    }

    @Override
    public void close() {
      // See sink(): the writer ends the stream with finish(failure).
    }
  }
}
