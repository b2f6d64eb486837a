package io.mailtls.tlsrpt;

import io.mailtls.core.DomainName;
import java.net.URI;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Where one day's report for one policy domain stands in the {@link TlsRptReporter}: what a {@link
 * PendingReportStore} keeps across restarts, and what a {@link DeliveryRun} lists. Immutable.
 *
 * <p>A report is written once its domain's {@code _smtp._tls} record is found, and then kept (its
 * bytes, so its {@code report-id} stays the same on every retry) until each destination has taken
 * it or been given up.
 *
 * @param day the UTC day
 * @param policyDomain the policy domain
 * @param stage where it stands
 * @param report the report, once written (from {@link Stage#DELIVERING} on)
 * @param destinations the {@code rua} destinations and how each stands, once found
 * @param lookups how many {@code _smtp._tls} lookups failed so far
 * @param firstLookup when the first lookup was made
 * @param nextLookup when to look up again ({@link Stage#DISCOVERING} after a failed lookup)
 * @param detail the last thing that happened, for the operator
 */
public record PendingReport(
    LocalDate day,
    DomainName policyDomain,
    Stage stage,
    Optional<TlsRptReport> report,
    List<Destination> destinations,
    int lookups,
    Optional<Instant> firstLookup,
    Optional<Instant> nextLookup,
    String detail) {

  /** Where a report stands. */
  public enum Stage {
    /** The {@code _smtp._tls} record is to be looked up (again, after a failed lookup). */
    DISCOVERING,
    /** Written; some destination still to be tried. */
    DELIVERING,
    /** Settled: every destination is final and at least one took the report. */
    DELIVERED,
    /**
     * Settled: no destination took it (each failed permanently or for the whole retry period), or
     * the lookup failed for the whole retry period; the listener was told.
     */
    ABANDONED,
    /** Settled: the domain publishes no (usable) TLS-RPT record, so no report is sent (§3). */
    NOT_REQUESTED
  }

  /** How one destination stands. */
  public enum DestinationState {
    /** To be tried (again) at {@link Destination#nextAttempt}. */
    PENDING,
    /** It took the report. */
    DELIVERED,
    /** Given up: a permanent failure, no channel for its scheme, or the retry period is over. */
    ABANDONED
  }

  /**
   * One {@code rua} destination of a report.
   *
   * @param uri the destination
   * @param state how it stands
   * @param attempts how many deliveries were tried
   * @param firstAttempt when the first was tried
   * @param nextAttempt when to try next ({@link DestinationState#PENDING} only)
   * @param lastOutcome what the last attempt got
   */
  public record Destination(
      URI uri,
      DestinationState state,
      int attempts,
      Optional<Instant> firstAttempt,
      Optional<Instant> nextAttempt,
      Optional<ReportOutcome> lastOutcome) {
    public Destination {
      Objects.requireNonNull(uri, "uri");
      Objects.requireNonNull(state, "state");
      Objects.requireNonNull(firstAttempt, "firstAttempt");
      Objects.requireNonNull(nextAttempt, "nextAttempt");
      Objects.requireNonNull(lastOutcome, "lastOutcome");
      if (attempts < 0) {
        throw new IllegalArgumentException("attempts must not be negative: " + attempts);
      }
      if (state == DestinationState.PENDING && nextAttempt.isEmpty()) {
        throw new IllegalArgumentException("a pending destination needs a next attempt");
      }
    }

    /** A destination not tried yet, due at {@code now}. */
    static Destination fresh(URI uri, Instant now) {
      return new Destination(
          uri, DestinationState.PENDING, 0, Optional.empty(), Optional.of(now), Optional.empty());
    }
  }

  public PendingReport {
    Objects.requireNonNull(day, "day");
    Objects.requireNonNull(policyDomain, "policyDomain");
    Objects.requireNonNull(stage, "stage");
    Objects.requireNonNull(report, "report");
    destinations = List.copyOf(destinations);
    Objects.requireNonNull(firstLookup, "firstLookup");
    Objects.requireNonNull(nextLookup, "nextLookup");
    Objects.requireNonNull(detail, "detail");
    if (stage == Stage.DELIVERING && (report.isEmpty() || destinations.isEmpty())) {
      throw new IllegalArgumentException(
          "a report being delivered needs its bytes and destinations");
    }
    if (report.isPresent()
        && (!report.get().day().equals(day) || !report.get().policyDomain().equals(policyDomain))) {
      throw new IllegalArgumentException("the report is not " + policyDomain + "'s of " + day);
    }
  }

  /** A report whose record is still to be looked up, due at {@code now}. */
  static PendingReport discovering(LocalDate day, DomainName policyDomain, Instant now) {
    return new PendingReport(
        day,
        policyDomain,
        Stage.DISCOVERING,
        Optional.empty(),
        List.of(),
        0,
        Optional.empty(),
        Optional.of(now),
        "not looked up yet");
  }

  /**
   * The key the reporter claims ({@link ReportClaim}) and a store files it under: {@code
   * tlsrpt/<day>/<policy domain>}.
   */
  public String key() {
    return key(day, policyDomain);
  }

  static String key(LocalDate day, DomainName policyDomain) {
    return "tlsrpt/" + day + "/" + policyDomain;
  }

  /**
   * Whether nothing is left to do: {@link Stage#DELIVERED}, {@link Stage#ABANDONED} or {@link
   * Stage#NOT_REQUESTED}.
   */
  public boolean settled() {
    return stage == Stage.DELIVERED || stage == Stage.ABANDONED || stage == Stage.NOT_REQUESTED;
  }

  /** When something is next to be tried; empty once settled. */
  public Optional<Instant> nextAttempt() {
    if (stage == Stage.DISCOVERING) {
      return nextLookup;
    }
    if (stage != Stage.DELIVERING) {
      return Optional.empty();
    }
    return destinations.stream()
        .filter(d -> d.state() == DestinationState.PENDING)
        .map(d -> d.nextAttempt().orElseThrow())
        .min(Instant::compareTo);
  }

  /** Whether something is to be tried at {@code now}. */
  public boolean due(Instant now) {
    return nextAttempt().map(t -> !t.isAfter(now)).orElse(false);
  }

  /**
   * Whether the report is {@link Stage#DELIVERING} with no destination left pending: every result
   * is kept but not the stage that follows from them (a process that died, or a store that failed,
   * between the two saves). Nothing is to be sent; the stage is to be set, at once.
   */
  boolean awaitsItsStage() {
    return stage == Stage.DELIVERING
        && destinations.stream().noneMatch(d -> d.state() == DestinationState.PENDING);
  }

  PendingReport withStage(Stage s, String why) {
    return new PendingReport(
        day, policyDomain, s, report, destinations, lookups, firstLookup, Optional.empty(), why);
  }

  PendingReport withDestinations(List<Destination> ds, String why) {
    return new PendingReport(
        day, policyDomain, stage, report, ds, lookups, firstLookup, nextLookup, why);
  }
}
