package io.mailtls.reliability.fuzz;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

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
   * Runs the input. A bound is broken only when a second run of the same input breaks it too: the
   * parsers are deterministic, and a first run may include loading (and, under Jazzer,
   * instrumenting) classes that the input reaches for the first time.
   *
   * @throws AssertionError describing the broken promise
   */
  public static void check(FuzzTarget target, byte[] input) {
    String overrun = run(target, input);
    if (overrun != null && run(target, input) != null) {
      throw new AssertionError(
          target.name() + ": one input of " + input.length + " octets " + overrun);
    }
  }

  /** One run; throws for an undocumented exception, returns how a bound was broken, or null. */
  private static @Nullable String run(FuzzTarget target, byte[] input) {
    long thread = Thread.currentThread().getId();
    long allocatedBefore = THREADS.getThreadAllocatedBytes(thread);
    long start = System.nanoTime();
    try {
      target.exercise(input.clone());
    } catch (AssertionError e) {
      throw e;
    } catch (Throwable e) { // every throwable is judged here
      if (!isDocumented(target, e)) {
        throw new AssertionError(
            target.name() + ": undocumented " + e.getClass().getName() + " on peer input", e);
      }
    }
    Duration took = Duration.ofNanos(System.nanoTime() - start);
    long allocated = THREADS.getThreadAllocatedBytes(thread) - allocatedBefore;
    if (took.compareTo(TIME_BOUND) > 0) {
      return "took " + took.toMillis() + " ms, more than " + TIME_BOUND.toMillis();
    }
    if (allocatedBefore >= 0 && allocated > memoryBound(input.length)) {
      return "allocated " + allocated + " bytes, more than " + memoryBound(input.length);
    }
    return null;
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
