package io.mailtls.benchmarks;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The CPU time of every thread of this process to the nanosecond, by the kind of thread: the
 * process's own CPU clock ({@code getProcessCpuTime}) moves in 10 ms steps on Linux, and {@link
 * java.lang.management.ThreadMXBean} sees only Java threads, not the JIT compiler's, the
 * collector's or the VM's. Reads Linux's {@code /proc/self/task/<tid>/schedstat} (time on a CPU, in
 * ns), each file kept open and read again from its start; a thread's kind comes from its name
 * ({@code comm}). A thread that ends keeps what was last read of it, so totals never go back; what
 * it ran after that last reading is lost. The kernel brings a running thread's figure up to date at
 * scheduler ticks and switches, so another thread that is running while it is read counts up to a
 * tick late; the calling thread's own time comes from its exact clock. One sampler per measuring
 * thread.
 */
final class ThreadsCpu implements AutoCloseable {

  /** The kinds of thread. */
  enum Kind {
    /** Java threads: the caller's, timers, pools, and the JDK's own Java threads. */
    JAVA,
    /** The JIT compilers ({@code C1/C2 CompilerThread}) and the code cache sweeper. */
    JIT,
    /** The garbage collector's threads ({@code GC Thread#n}, {@code G1 ...}). */
    GC,
    /** The VM thread (safepoints) and the periodic task thread. */
    VM
  }

  private static final Path TASKS = Path.of("/proc/self/task");
  private static final int KINDS = 4;

  private final Map<String, Task> tasks = new HashMap<>();
  private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
  private final Thread owner = Thread.currentThread();
  private final String ownTid;
  private final long[] ended = new long[KINDS];
  private final ByteBuffer buf = ByteBuffer.allocate(128);

  private static final class Task {
    final FileChannel schedstat;
    final int slot;
    long last;

    Task(FileChannel schedstat, Kind kind) {
      this.schedstat = schedstat;
      this.slot = slot(kind);
    }
  }

  /**
   * A sampler for the calling thread: only it may call {@link #sample}.
   *
   * @throws IOException where {@code /proc/thread-self} is missing
   */
  ThreadsCpu() throws IOException {
    // "/proc/thread-self" links to "<pid>/task/<tid>" of the thread that reads it
    ownTid = Files.readSymbolicLink(Path.of("/proc/thread-self")).getFileName().toString();
  }

  /** CPU time so far in ns, per kind of thread. */
  record Sample(long java, long jit, long gc, long vm) {
    long total() {
      return java + jit + gc + vm;
    }
  }

  private static int slot(Kind kind) {
    switch (kind) {
      case JIT:
        return 1;
      case GC:
        return 2;
      case VM:
        return 3;
      default:
        return 0;
    }
  }

  /** Whether this system has per-thread schedstat (Linux with scheduler statistics). */
  static boolean available() {
    return Files.isReadable(
        TASKS.resolve(Long.toString(ProcessHandle.current().pid())).resolve("schedstat"));
  }

  /** The kind of a thread by its name as the kernel holds it (at most 15 octets). */
  static Kind kind(String comm) {
    if (comm.startsWith("C1 CompilerThre")
        || comm.startsWith("C2 CompilerThre")
        || comm.startsWith("Sweeper thread")) {
      return Kind.JIT;
    }
    if (comm.startsWith("GC Thread") || comm.startsWith("G1 ")) {
      return Kind.GC;
    }
    if (comm.equals("VM Thread") || comm.startsWith("VM Periodic")) {
      return Kind.VM;
    }
    return Kind.JAVA;
  }

  /** The CPU time so far of this process's threads, threads that ended included as last read. */
  Sample sample() throws IOException {
    if (Thread.currentThread() != owner) {
      throw new IllegalStateException("a ThreadsCpu samples for the thread that made it");
    }
    long[] out = ended.clone();
    Set<String> seen = new HashSet<>();
    try (DirectoryStream<Path> dir = Files.newDirectoryStream(TASKS)) {
      for (Path p : dir) {
        String tid = p.getFileName().toString();
        seen.add(tid);
        Task t = tasks.get(tid);
        if (t == null) {
          t = open(p);
          if (t == null) {
            continue; // ended between the listing and the open
          }
          tasks.put(tid, t);
        }
        // The kernel brings a running thread's schedstat up to date at each scheduler tick and
        // switch only, so the calling thread's own time would lag by up to a tick: its own clock is
        // exact.
        long v = tid.equals(ownTid) ? threads.getCurrentThreadCpuTime() : read(t);
        if (v >= 0) {
          t.last = v;
        }
        out[t.slot] += t.last;
      }
    }
    List<String> gone = new ArrayList<>();
    for (Map.Entry<String, Task> e : tasks.entrySet()) {
      if (!seen.contains(e.getKey())) {
        gone.add(e.getKey());
      }
    }
    for (String tid : gone) {
      Task t = tasks.remove(tid);
      ended[t.slot] += t.last;
      out[t.slot] += t.last;
      t.schedstat.close();
    }
    return new Sample(out[0], out[1], out[2], out[3]);
  }

  private static @Nullable Task open(Path task) {
    try {
      String comm = Files.readString(task.resolve("comm"), StandardCharsets.US_ASCII).strip();
      return new Task(
          FileChannel.open(task.resolve("schedstat"), StandardOpenOption.READ), kind(comm));
    } catch (IOException e) {
      return null;
    }
  }

  /** The first field of schedstat: ns on a CPU; -1 once the thread is gone. */
  private long read(Task t) {
    buf.clear();
    try {
      if (t.schedstat.read(buf, 0) <= 0) {
        return -1;
      }
    } catch (IOException e) {
      return -1;
    }
    long v = 0;
    for (int i = 0; i < buf.position(); i++) {
      byte b = buf.get(i);
      if (b < '0' || b > '9') {
        break;
      }
      v = v * 10 + (b - '0');
    }
    return v;
  }

  @Override
  public void close() throws IOException {
    for (Task t : tasks.values()) {
      t.schedstat.close();
    }
    tasks.clear();
  }
}
