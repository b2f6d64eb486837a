package io.mailtls.jakartamail;

import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;

/** Finds live writer threads by their name prefix. */
final class WriterThreadsProbe {

  private WriterThreadsProbe() {}

  static List<Thread> live() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.isAlive() && t.getName().startsWith(MimeMessageContent.WRITER_THREAD_PREFIX))
        .collect(Collectors.toList());
  }

  /**
   * Waits until no writer thread is alive; returns those still alive after {@code patience} (a
   * bound on waiting for threads that are ending anyway, not a performance assertion).
   */
  static List<Thread> awaitNone(Duration patience) throws InterruptedException {
    long deadline = System.nanoTime() + patience.toNanos();
    List<Thread> alive = live();
    while (!alive.isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(10);
      alive = live();
    }
    return alive;
  }
}
