package io.mailtls.jakartamail.internal;

import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The default writer executor: one new daemon thread per task, named {@code prefix + n}. Nothing is
 * pooled, so nothing needs shutting down; each thread ends when its {@code writeTo} returns or
 * fails (which it does promptly once the reader closes the pipe). The writer inherits the opener's
 * context class loader, which Jakarta Activation uses to find data content handlers.
 *
 * <p>Thread-safe.
 */
public final class WriterThreads implements Executor {

  private final String prefix;
  private final AtomicInteger counter = new AtomicInteger();

  /** Threads named {@code prefix + n}. */
  public WriterThreads(String prefix) {
    this.prefix = Objects.requireNonNull(prefix, "prefix");
  }

  @Override
  public void execute(Runnable task) {
    Objects.requireNonNull(task, "task");
    Thread t = new Thread(task, prefix + counter.incrementAndGet());
    t.setDaemon(true);
    t.setContextClassLoader(Thread.currentThread().getContextClassLoader());
    t.start();
  }

  @Override
  public String toString() {
    return "WriterThreads[" + prefix + "]";
  }
}
