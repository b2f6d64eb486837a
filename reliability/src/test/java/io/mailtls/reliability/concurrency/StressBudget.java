package io.mailtls.reliability.concurrency;

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
}
