package io.mailtls.core.internal.transport;

import java.time.Duration;

/**
 * The time budget of one message's content transfer, as Postfix's {@code smtp_min_data_rate} with
 * {@code smtp_per_request_deadline} (3.7 and later): it starts at the data block timeout (RFC 5321
 * §4.5.3.2.5); each write, and each reply to a BDAT chunk, spends the time it took; each write then
 * earns its octets divided by the minimum rate, the budget never growing beyond its start. Every
 * operation of the transfer is bounded by what is left, so a peer that takes the content at a
 * trickle, each write well within the data block timeout, cannot hold the session for hours: the
 * transfer of {@code n} octets takes at most {@code dataBlock + n / minDataRate}.
 *
 * <p>Not thread-safe: one connection's sending thread uses it.
 */
final class TransferBudget {

  private final long capNanos;
  private final long minDataRate;
  private boolean active;
  private long leftNanos;

  /**
   * @param cap the budget at the start, and its most (the data block timeout)
   * @param minDataRate octets per second; 0 for no budget (each operation bounded alone)
   */
  TransferBudget(Duration cap, long minDataRate) {
    this.capNanos = cap.toNanos();
    this.minDataRate = minDataRate;
  }

  /** The content transfer starts, with a full budget; nothing happens when the rate is off. */
  void start() {
    active = minDataRate > 0;
    leftNanos = capNanos;
  }

  /** The content transfer is over (sent, or failed): later operations are bounded alone. */
  void end() {
    active = false;
  }

  /** Whether a transfer is under way with a budget. */
  boolean active() {
    return active;
  }

  long minDataRate() {
    return minDataRate;
  }

  /** The budget left, in nanoseconds; zero or less when it is spent. */
  long leftNanos() {
    return leftNanos;
  }

  /**
   * The bound of the next operation: {@code limit}, or the budget left when that is less (while a
   * transfer is under way). Only called while the budget is not spent.
   */
  Duration bound(Duration limit) {
    if (!active || leftNanos >= limit.toNanos()) {
      return limit;
    }
    return Duration.ofNanos(Math.max(1, leftNanos));
  }

  /**
   * An operation of the transfer took {@code elapsedNanos} and sent {@code octets} (0 for a reply):
   * the budget spends the one and earns {@code octets / minDataRate} seconds, up to its cap.
   */
  void spent(long elapsedNanos, long octets) {
    if (!active) {
      return;
    }
    long earned =
        octets >= Long.MAX_VALUE / 1_000_000_000L
            ? capNanos
            : Math.min(capNanos, octets * 1_000_000_000L / minDataRate);
    leftNanos = Math.min(capNanos, leftNanos - elapsedNanos + earned);
  }

  /** What a timeout of the transfer says. */
  String slower() {
    return "message transfer slower than "
        + minDataRate
        + " octets/s beyond its "
        + Duration.ofNanos(capNanos)
        + " of slack";
  }
}
