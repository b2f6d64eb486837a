package io.mailtls.core.internal.dns;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The default executor of the DNS layer: one pool per JVM, shared by every resolver that names no
 * executor of its own, with daemon threads named {@code mailtls-dns-N}.
 *
 * <p>Why not the JDK's common pool: on a machine or container with two CPUs or fewer its
 * parallelism is 1, and then {@link java.util.concurrent.CompletableFuture} runs every "async" step
 * that names no executor on a new thread, and dnsjava's validator takes every validation step that
 * way (650 threads for 360 cold lookups, measured). A resolver's steps run here instead (see {@code
 * CoalescingResolver}). At least two workers, so that one step blocked in application code never
 * stops the others; a worker that blocks in {@code join()} is compensated, as in any {@link
 * ForkJoinPool}; idle workers end after 30 s, so an idle application keeps no DNS thread.
 */
public final class DnsExecutor {

  private static final AtomicInteger THREADS = new AtomicInteger();

  private DnsExecutor() {}

  private static final class Holder {
    static final ForkJoinPool POOL = create();
  }

  /** The shared pool, created on first use. */
  public static ForkJoinPool shared() {
    return Holder.POOL;
  }

  private static ForkJoinPool create() {
    int parallelism = Math.max(2, Runtime.getRuntime().availableProcessors());
    ForkJoinPool.ForkJoinWorkerThreadFactory factory =
        pool -> {
          ForkJoinWorkerThread t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
          t.setName("mailtls-dns-" + THREADS.incrementAndGet());
          t.setDaemon(true);
          return t;
        };
    return new ForkJoinPool(
        parallelism,
        factory,
        null,
        true, // FIFO for event-style tasks that are never joined
        0,
        parallelism + 256,
        1,
        null,
        30,
        TimeUnit.SECONDS);
  }
}
