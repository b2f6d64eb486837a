package io.mailtls.core.internal.transport;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Bounds the time of every write to a socket (RFC 5321 §4.5.3.2.5: a data block must be
 * acknowledged by TCP within the data timeout). {@code SO_TIMEOUT} bounds reads only, so a peer
 * that stops reading would otherwise block a writer forever; here a watchdog closes the socket
 * when one write call runs longer than the limit, and the write fails with a {@link
 * SocketTimeoutException}. Not thread-safe (one writer, as a connection has).
 */
final class DeadlineOutputStream extends FilterOutputStream {

  private final Socket socket;
  private final long limitNanos;
  private final ScheduledExecutorService watchdog;
  private volatile boolean expired;

  DeadlineOutputStream(OutputStream out, Socket socket, Duration limit,
      ScheduledExecutorService watchdog) {
    super(out);
    this.socket = socket;
    this.limitNanos = limit.toNanos();
    this.watchdog = watchdog;
  }

  @Override
  public void write(int b) throws IOException {
    write(new byte[] {(byte) b}, 0, 1);
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    ScheduledFuture<?> alarm = watchdog.schedule(this::expire, limitNanos, TimeUnit.NANOSECONDS);
    try {
      out.write(b, off, len);
    } catch (IOException e) {
      if (expired) {
        SocketTimeoutException t = new SocketTimeoutException(
            "write blocked longer than " + Duration.ofNanos(limitNanos) + ": peer stopped reading");
        t.initCause(e);
        throw t;
      }
      throw e;
    } finally {
      alarm.cancel(false);
    }
  }

  @Override
  public void flush() throws IOException {
    out.flush();
  }

  private void expire() {
    expired = true;
    try {
      socket.close();
    } catch (IOException ignored) {
      // the blocked write fails now, which is the point
    }
  }
}
