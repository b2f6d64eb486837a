package io.mailtls.tlsrpt;

import io.mailtls.core.DomainName;
import java.time.LocalDate;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/** A {@link PendingReportStore} in memory: lost when the process ends. Thread-safe. */
public final class InMemoryPendingReportStore implements PendingReportStore {

  private final Map<String, PendingReport> entries = new HashMap<>();

  /** An empty store. */
  public InMemoryPendingReportStore() {}

  @Override
  public synchronized List<PendingReport> load() {
    return List.copyOf(entries.values());
  }

  @Override
  public synchronized void save(PendingReport report) {
    entries.put(report.key(), Objects.requireNonNull(report, "report"));
  }

  @Override
  public synchronized void remove(LocalDate day, DomainName policyDomain) {
    entries.remove(PendingReport.key(day, policyDomain));
  }

  /** Nothing to release. */
  @Override
  public void close() {}
}
