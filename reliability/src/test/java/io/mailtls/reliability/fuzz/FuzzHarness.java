package io.mailtls.reliability.fuzz;

import java.lang.management.ManagementFactory;
import java.time.Duration;

/**
 * Runs one input through a {@link FuzzTarget} and turns every broken promise into an {@link
 * AssertionError}: an exception the parser does not document, an input that takes longer than
 * {@link #TIME_BOUND}, or one that allocates more than {@link #memoryBound(int)}. Used alike by the
 * Jazzer runs ({@link FuzzMain}) and the seed-corpus regression ({@link FuzzCorpusRegressionTest}).
 */
public final class FuzzHarness {

  /**
   * Wall time one input may take. Generous: the first inputs of a run also load (and under Jazzer,
   * instrument) the parser's classes; a parser that loops or backtracks on crafted input takes far
   * longer.
   */
  public static final Duration TIME_BOUND = Duration.ofSeconds(3);

  /** Octets one input may make the parser allocate, besides {@link #BYTES_PER_INPUT_BYTE}. */
  public static final long MEMORY_BASE = 64L << 20;

  /** Allocation allowed per octet of input (decoding, copies, the result). */
  public static final long BYTES_PER_INPUT_BYTE = 512;

  private static final com.sun.management.ThreadMXBean THREADS = threads();

  private FuzzHarness() {}

  /** The allocation bound for an input of {@code length} octets. */
  public static long memoryBound(int length) {
    return MEMORY_BASE + BYTES_PER_INPUT_BYTE * length;
  }

  /**
   * Runs the input.
   *
   * @throws AssertionError describing the broken promise
   */
  public static void check(FuzzTarget target, byte[] input) {
    long thread = Thread.currentThread().getId();
    long allocatedBefore = THREADS.getThreadAllocatedBytes(thread);
    long start = System.nanoTime();
    Throwable thrown = null;
    try {
      target.exercise(input.clone());
    } catch (AssertionError e) {
      throw e;
    } catch (Throwable e) { // NOPMD: every throwable is judged below
      thrown = e;
    }
    Duration took = Duration.ofNanos(System.nanoTime() - start);
    long allocated = THREADS.getThreadAllocatedBytes(thread) - allocatedBefore;
    if (thrown != null && !isDocumented(target, thrown)) {
      throw new AssertionError(
          target.name() + ": undocumented " + thrown.getClass().getName() + " on peer input",
          thrown);
    }
    if (took.compareTo(TIME_BOUND) > 0) {
      throw new AssertionError(
          target.name()
              + ": one input of "
              + input.length
              + " octets took "
              + took.toMillis()
              + " ms, more than "
              + TIME_BOUND.toMillis());
    }
    if (allocatedBefore >= 0 && allocated > memoryBound(input.length)) {
      throw new AssertionError(
          target.name()
              + ": one input of "
              + input.length
              + " octets allocated "
              + allocated
              + " bytes, more than "
              + memoryBound(input.length));
    }
  }

  private static boolean isDocumented(FuzzTarget target, Throwable thrown) {
    for (Class<? extends Throwable> type : target.documented()) {
      if (type.isInstance(thrown)) {
        return true;
      }
    }
    return false;
  }

  private static com.sun.management.ThreadMXBean threads() {
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    threads.setThreadAllocatedMemoryEnabled(true);
    return threads;
  }
}
