package io.mailtls.core.internal.transport;

import java.lang.reflect.Method;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The executor a transport makes for itself when none is given: it runs {@code sendAsync} and the
 * domains of a message delivered at the same time, whose number the transport's delivery slots
 * bound ({@link DeliverySlots}), so the executor needs no bound of its own beyond that.
 *
 * <p>On Java 24 and later: a virtual thread per task, named {@code mailtls-send-N}. Since JEP 491
 * (Java 24) a virtual thread that blocks inside {@code synchronized} no longer pins its carrier; on
 * Java 21 to 23 it would, and blocking I/O under a monitor (the connection pool's wait, libraries'
 * own locks) could then stall every carrier, so there, and on Java 17 to 20 which have no virtual
 * threads, it is a pool of at most {@code maxThreads} daemon platform threads named {@code
 * mailtls-send-N} that end after 60 s idle. mailtls is compiled for Java 17: virtual threads are
 * found by reflection ({@code Thread.ofVirtual()}, {@code Executors.newThreadPerTaskExecutor}).
 */
public final class SendThreads {

  private SendThreads() {}

  /** The first Java feature release whose virtual threads may block under a monitor (JEP 491). */
  static final int VIRTUAL_THREADS_FROM = 24;

  /** The default executor: see the class comment. */
  public static ExecutorService create(int maxThreads) {
    if (Runtime.version().feature() >= VIRTUAL_THREADS_FROM) {
      Optional<ExecutorService> virtual = virtualThreads();
      if (virtual.isPresent()) {
        return virtual.get();
      }
    }
    return platformThreads(maxThreads);
  }

  /** A bounded pool of daemon platform threads; idle threads end after 60 s. */
  static ExecutorService platformThreads(int maxThreads) {
    AtomicInteger n = new AtomicInteger();
    ThreadFactory factory =
        r -> {
          Thread t = new Thread(r, "mailtls-send-" + n.incrementAndGet());
          t.setDaemon(true);
          return t;
        };
    ThreadPoolExecutor pool =
        new ThreadPoolExecutor(
            maxThreads, maxThreads, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), factory);
    pool.allowCoreThreadTimeOut(true);
    return pool;
  }

  /**
   * {@code Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("mailtls-send-",
   * 1).factory())}, or empty where the runtime has no virtual threads.
   */
  static Optional<ExecutorService> virtualThreads() {
    try {
      Class<?> builder = Class.forName("java.lang.Thread$Builder");
      Object ofVirtual = Thread.class.getMethod("ofVirtual").invoke(null);
      Object named =
          builder
              .getMethod("name", String.class, long.class)
              .invoke(ofVirtual, "mailtls-send-", 1L);
      ThreadFactory factory = (ThreadFactory) builder.getMethod("factory").invoke(named);
      Method perTask =
          java.util.concurrent.Executors.class.getMethod(
              "newThreadPerTaskExecutor", ThreadFactory.class);
      return Optional.of((ExecutorService) perTask.invoke(null, factory));
    } catch (ReflectiveOperationException | RuntimeException e) {
      return Optional.empty();
    }
  }
}
