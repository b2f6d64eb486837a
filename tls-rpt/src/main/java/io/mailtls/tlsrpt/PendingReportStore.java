package io.mailtls.tlsrpt;

import io.mailtls.core.DomainName;
import java.io.Closeable;
import java.io.IOException;
import java.time.LocalDate;
import java.util.List;

/**
 * Where the {@link TlsRptReporter} keeps the reports it has not settled, and the settled ones until
 * their day's counts are discarded: one {@link PendingReport} per day and policy domain ({@link
 * PendingReport#key()}). Each {@link #save} replaces the entry whole, atomically: after a crash a
 * reader sees the old entry or the new one, never a mix.
 *
 * <p>{@link InMemoryPendingReportStore} is lost with the process; {@link FilePendingReportStore}
 * keeps one file per entry and survives a restart. Implementations are thread-safe.
 */
public interface PendingReportStore extends Closeable {

  /** Every entry, in no particular order. */
  List<PendingReport> load() throws IOException;

  /**
   * Keeps {@code report}, replacing the entry of the same day and policy domain, atomically.
   *
   * @throws IOException if it could not be kept (then the old entry, if any, is still there)
   */
  void save(PendingReport report) throws IOException;

  /** Forgets the entry of {@code day} and {@code policyDomain}, if there is one. */
  void remove(LocalDate day, DomainName policyDomain) throws IOException;
}
