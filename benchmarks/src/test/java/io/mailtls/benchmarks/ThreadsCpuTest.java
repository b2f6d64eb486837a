package io.mailtls.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/** The per-thread CPU reading {@link HandshakeFloor} measures every thread of the process with. */
class ThreadsCpuTest {

  @Test
  void threadsAreSortedByTheirKernelNames() {
    assertThat(ThreadsCpu.kind("C2 CompilerThre")).isEqualTo(ThreadsCpu.Kind.JIT);
    assertThat(ThreadsCpu.kind("C1 CompilerThre")).isEqualTo(ThreadsCpu.Kind.JIT);
    assertThat(ThreadsCpu.kind("Sweeper thread")).isEqualTo(ThreadsCpu.Kind.JIT);
    assertThat(ThreadsCpu.kind("GC Thread#1")).isEqualTo(ThreadsCpu.Kind.GC);
    assertThat(ThreadsCpu.kind("G1 Conc#0")).isEqualTo(ThreadsCpu.Kind.GC);
    assertThat(ThreadsCpu.kind("G1 Refine#0")).isEqualTo(ThreadsCpu.Kind.GC);
    assertThat(ThreadsCpu.kind("VM Thread")).isEqualTo(ThreadsCpu.Kind.VM);
    assertThat(ThreadsCpu.kind("VM Periodic Tas")).isEqualTo(ThreadsCpu.Kind.VM);
    assertThat(ThreadsCpu.kind("main")).isEqualTo(ThreadsCpu.Kind.JAVA);
    assertThat(ThreadsCpu.kind("pool-1-thread-1")).isEqualTo(ThreadsCpu.Kind.JAVA);
  }

  @Test
  void theCallersWorkCountsAndAnEndedThreadKeepsWhatWasRead() throws Exception {
    assumeTrue(ThreadsCpu.available(), "Linux's per-thread schedstat");
    try (ThreadsCpu cpu = new ThreadsCpu()) {
      ThreadsCpu.Sample s0 = cpu.sample();
      long until = System.nanoTime() + 30_000_000;
      long spins = 0;
      while (System.nanoTime() < until) {
        spins++;
      }
      ThreadsCpu.Sample s1 = cpu.sample();
      assertThat(spins).isPositive();
      // the calling thread's own exact clock: it ran for most of the 30 ms
      assertThat(s1.java() - s0.java()).isGreaterThan(10_000_000);

      CountDownLatch started = new CountDownLatch(1);
      CountDownLatch release = new CountDownLatch(1);
      Thread worker =
          new Thread(
              () -> {
                long end = System.nanoTime() + 30_000_000;
                while (System.nanoTime() < end) {
                  Thread.onSpinWait();
                }
                started.countDown();
                try {
                  release.await();
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              },
              "spinner");
      worker.start();
      started.await();
      ThreadsCpu.Sample s2 = cpu.sample();
      release.countDown();
      worker.join();
      cpu.sample(); // sees the worker gone
      ThreadsCpu.Sample s3 = cpu.sample();
      // the worker's spin was read while it lived
      assertThat(s2.java() - s1.java()).isGreaterThan(10_000_000);
      // once it ended, what was read of it stays: no total goes back
      assertThat(s3.java()).isGreaterThanOrEqualTo(s2.java());
      assertThat(s3.total()).isGreaterThanOrEqualTo(s2.total());
      assertThat(s3.jit()).isGreaterThanOrEqualTo(s2.jit());
      assertThat(s3.gc()).isGreaterThanOrEqualTo(s2.gc());
    }
  }

  @Test
  void onlyTheThreadThatMadeItSamples() throws Exception {
    assumeTrue(ThreadsCpu.available(), "Linux's per-thread schedstat");
    try (ThreadsCpu cpu = new ThreadsCpu()) {
      Throwable[] thrown = new Throwable[1];
      Thread other =
          new Thread(
              () -> {
                try {
                  cpu.sample();
                } catch (Throwable t) {
                  thrown[0] = t;
                }
              });
      other.start();
      other.join();
      assertThat(thrown[0]).isInstanceOf(IllegalStateException.class);
    }
  }
}
