package io.mailtls.tlsrpt;

import java.time.Duration;

/**
 * Elects the one process that writes and delivers a given report, so that a fleet of senders
 * sharing an {@link AggregateStore} sends each policy domain's daily report once. The {@link
 * TlsRptReporter} claims a report's key ({@code tlsrpt/<day>/<policy domain>}) before it looks up,
 * writes or delivers that report. It releases the claim once the report is settled; while the
 * report it wrote still waits for a retry, it {@link #renew}s the claim until that retry and a
 * lease beyond, so that the report goes out once, under one {@code report-id}. A key it cannot
 * claim is left to the holder.
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

  /**
   * Extends a claim this caller holds to {@code lease} from now, so that it keeps a report it has
   * written but not yet settled until its next attempt: no other process writes a second report for
   * the same day and domain meanwhile (RFC 8460 §4.1). Returns false when this caller holds no
   * claim on the key (never took it, released it, or its lease lapsed).
   *
   * <p>Default: {@link #release} then {@link #tryClaim}, which another caller may win in between;
   * an implementation that can extend its own claim atomically should.
   */
  default boolean renew(String reportKey, Duration lease) {
    release(reportKey);
    return tryClaim(reportKey, lease);
  }

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
