package io.mailtls.tlsrpt;

import io.mailtls.core.DomainName;
import java.time.Instant;
import java.time.LocalDate;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * What one {@link TlsRptReporter#flush}, {@link TlsRptReporter#retryDue} or {@link
 * TlsRptReporter#runDue} did. Immutable.
 *
 * @param at when it ran, by the reporter's clock
 * @param refused why nothing was done, if so (a day that has not ended in UTC, RFC 8460 §4.1)
 * @param reports each report it looked at, as it stands after the run (what happened to each
 *     destination is in {@link PendingReport#destinations()})
 * @param claimedElsewhere the keys of reports another holder of the {@link ReportClaim} was
 *     handling
 * @param settledDays the days whose counts were discarded from the aggregate store in this run
 *     because every report of the day is settled
 */
public record DeliveryRun(
    Instant at,
    Optional<String> refused,
    List<PendingReport> reports,
    List<String> claimedElsewhere,
    SortedSet<LocalDate> settledDays) {

  public DeliveryRun {
    Objects.requireNonNull(at, "at");
    Objects.requireNonNull(refused, "refused");
    reports = List.copyOf(reports);
    claimedElsewhere = List.copyOf(claimedElsewhere);
    settledDays = Collections.unmodifiableSortedSet(new TreeSet<>(settledDays));
  }

  /** The entry of {@code policyDomain}'s report of {@code day} in this run, if it has one. */
  public Optional<PendingReport> report(LocalDate day, DomainName policyDomain) {
    return reports.stream()
        .filter(r -> r.day().equals(day) && r.policyDomain().equals(policyDomain))
        .findFirst();
  }
}
