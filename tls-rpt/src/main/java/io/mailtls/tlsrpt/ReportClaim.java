package io.mailtls.tlsrpt;

import java.time.Duration;

/**
 * Elects the one process that writes and delivers a given report, so that a fleet of senders
 * sharing an {@link AggregateStore} sends each policy domain's daily report once. The {@link
 * TlsRptReporter} claims a report's key ({@code tlsrpt/<day>/<policy domain>}) before it looks up,
 * writes or delivers that report, and releases it afterwards; a key it cannot claim is left to the
 * holder for this run.
 *
 * <p>{@link InProcessReportClaim} (the default) elects among the threads of one process; a store
 * shared by a fleet implements this with a lease on its side. Implementations are thread-safe.
 */
public interface ReportClaim {

  /**
   * Claims {@code reportKey} for {@code lease} (after which the claim lapses, so that a process
   * that died does not hold it forever).
   *
   * @return whether this caller now holds the claim; false if another holds an unexpired one
   */
  boolean tryClaim(String reportKey, Duration lease);

  /** Gives up a claim this caller holds; nothing happens if it holds none. */
  void release(String reportKey);

  /**
   * Records, before the holder releases it, that the report of {@code reportKey} is settled
   * (delivered, given up, or not requested), so that no caller claims it again and the reporters of
   * other processes, whose own {@link PendingReportStore} does not know of it, count it as settled
   * ({@link #isSettled}). Default: nothing (one process's {@link PendingReportStore} knows).
   */
  default void markSettled(String reportKey) {}

  /**
   * Whether some caller marked {@code reportKey} settled ({@link #markSettled}); false when
   * unknown. Default: false.
   */
  default boolean isSettled(String reportKey) {
    return false;
  }
}
