package io.mailtls.core.internal.transport;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.SocketTimeoutException;
import java.time.Duration;

/**
 * Bounds the time of every write to a socket (RFC 5321 §4.5.3.2.5: a data block must be
 * acknowledged by TCP within the data timeout). A socket's own timeout bounds reads only, so a peer
 * that stops reading would otherwise block a writer forever; each write runs under the connection's
 * {@link SocketWatch}, and one cut short fails with a {@link SocketTimeoutException}. While a
 * message's content goes out, each write is also bounded by what is left of the transfer's {@link
 * TransferBudget}, and spends from it. Not thread-safe (one writer, as a connection has).
 */
final class DeadlineOutputStream extends FilterOutputStream {

  private final SocketWatch watch;
  private final TransferBudget budget;
  private Duration limit;

  DeadlineOutputStream(OutputStream out, SocketWatch watch, Duration limit, TransferBudget budget) {
    super(out);
    this.watch = watch;
    this.limit = limit;
    this.budget = budget;
  }

  /**
   * Bounds later writes by {@code limit} instead: for the QUIT at the end of a session, which
   * shares one deadline with the QUITs of other sessions closed at the same time.
   */
  void limit(Duration limit) {
    this.limit = limit;
  }

  @Override
  public void write(int b) throws IOException {
    write(new byte[] {(byte) b}, 0, 1);
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    boolean paced = budget.active();
    if (paced && budget.leftNanos() <= 0) {
      throw new SocketTimeoutException(budget.slower());
    }
    Duration bound = budget.bound(limit);
    long begin = System.nanoTime();
    SocketWatch.Deadline deadline = watch.start(bound);
    try {
      out.write(b, off, len);
    } catch (IOException e) {
      if (deadline.fired()) {
        SocketTimeoutException t =
            new SocketTimeoutException(
                bound.compareTo(limit) < 0
                    ? budget.slower()
                    : "write blocked longer than " + limit + ": peer stopped reading");
        t.initCause(e);
        throw t;
      }
      throw e;
    } finally {
      deadline.close();
      if (paced) {
        budget.spent(System.nanoTime() - begin, len);
      }
    }
  }

  @Override
  public void flush() throws IOException {
    out.flush();
  }
}
