package io.mailtls.reliability.concurrency;

import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.StressOptions;

/**
 * How hard the concurrency stress tests push: {@code -Dmailtls.stress.factor=N} multiplies every
 * iteration count, thread count bound and message count (default 1, the bounded CI run;
 * docs/reliability.md, "Concurrency stress").
 */
final class StressBudget {

  private StressBudget() {}

  /** The multiplier, at least 1. */
  static int factor() {
    return Math.max(1, Integer.getInteger("mailtls.stress.factor", 1));
  }

  /** {@code base} times the factor. */
  static int scaled(int base) {
    return Math.multiplyExact(base, factor());
  }

  /**
   * Lincheck's model checker over {@code test}'s operations: 4 scenarios of 3 threads with {@code
   * actorsPerThread} operations each, 100 interleavings per scenario (both times the factor).
   */
  static void modelCheck(Class<?> test, int actorsPerThread) {
    new ModelCheckingOptions()
        .iterations(scaled(4))
        .invocationsPerIteration(scaled(100))
        .threads(3)
        .actorsPerThread(actorsPerThread)
        .check(test);
  }

  /** As {@link #modelCheck}, the scenarios run on real threads (Lincheck's stress mode). */
  static void stressCheck(Class<?> test, int actorsPerThread) {
    new StressOptions()
        .iterations(scaled(4))
        .invocationsPerIteration(scaled(100))
        .threads(3)
        .actorsPerThread(actorsPerThread)
        .check(test);
  }
}
