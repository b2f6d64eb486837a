package io.mailtls.tlsrpt;

import io.mailtls.core.DomainName;
import io.mailtls.tlsrpt.PendingReport.Destination;
import io.mailtls.tlsrpt.PendingReport.DestinationState;
import io.mailtls.tlsrpt.PendingReport.Stage;
import java.io.IOException;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a day's counts into delivered reports (RFC 8460 §3, §4, §5): for each policy domain of an
 * ended UTC day it looks up the {@code _smtp._tls} record, writes the report, and delivers it to
 * every {@code rua} destination through the {@link ReportChannel} that supports the destination's
 * scheme, trying again on the {@link RetrySchedule} (§5.5) and keeping what is not settled in a
 * {@link PendingReportStore} across restarts. docs/tls-rpt.md describes the whole.
 *
 * <ul>
 *   <li>A domain without a (usable) record gets no report (§3); a failed lookup is tried again on
 *       the same schedule, never read as "no reporting".
 *   <li>A report is written once, when its record is found, and kept as bytes: every retry sends
 *       the same report with the same {@code report-id}.
 *   <li>A report is settled when every destination took it, failed permanently, or failed for the
 *       whole retry period ({@link PendingReport.Stage#DELIVERED} if at least one took it, else
 *       {@link PendingReport.Stage#ABANDONED}). Each destination given up is reported to the {@link
 *       Listener} once; nothing is dropped silently.
 *   <li>The day's counts are discarded from the {@link AggregateStore} only when every report of
 *       the day is settled; then the day's entries leave the pending store.
 * </ul>
 *
 * <p>Nothing starts a thread by surprise: the application calls {@link #flush}, {@link #retryDue}
 * or {@link #runDue} itself, or gives a {@link ScheduledExecutorService} to the builder and calls
 * {@link #start}; {@link #close} cancels only what {@code start} scheduled. Deliveries run on the
 * calling (or scheduled) thread, one run at a time. The stores, discovery and channels are the
 * application's: the reporter does not close them. Thread-safe.
 */
public final class TlsRptReporter implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(TlsRptReporter.class);

  /**
   * Told what happens to each report. Called on the thread of the run, after the new state is kept;
   * a listener that throws is logged and otherwise ignored. Every method has an empty default.
   */
  public interface Listener {

    /** {@code destination} took {@code report} after {@code attempts} attempts. */
    default void reportDelivered(
        TlsRptReport report, URI destination, ReportOutcome.Delivered outcome, int attempts) {}

    /** An attempt failed; the report is kept and tried again at {@code nextAttempt}. */
    default void reportDeferred(
        TlsRptReport report,
        URI destination,
        ReportOutcome.NotDelivered outcome,
        int attempts,
        Instant nextAttempt) {}

    /**
     * {@code destination} is given up: it failed permanently, no channel delivers its scheme, or
     * the retry period is over. Called once per report and destination.
     */
    default void reportAbandoned(
        TlsRptReport report,
        URI destination,
        ReportOutcome.NotDelivered lastOutcome,
        int attempts) {}

    /**
     * The {@code _smtp._tls} lookup of {@code policyDomain} failed; it is tried again at {@code
     * nextAttempt}, or, when that is empty, given up after the retry period (no report is sent).
     */
    default void discoveryFailed(
        LocalDate day,
        DomainName policyDomain,
        String reason,
        int attempts,
        Optional<Instant> nextAttempt) {}

    /** {@code policyDomain} publishes no usable TLS-RPT record: no report (RFC 8460 §3). */
    default void notRequested(LocalDate day, DomainName policyDomain, String reason) {}
  }

  private final AggregateStore counts;
  private final PendingReportStore pending;
  private final TlsRptDiscovery discovery;
  private final TlsRptReportWriter writer;
  private final List<ReportChannel> channels;
  private final Clock clock;
  private final Listener listener;
  private final ReportClaim claim;
  private final Duration claimLease;
  private final RetrySchedule schedule;
  private final @Nullable ScheduledExecutorService executor;
  private final Duration interval;
  private final Object runLock = new Object();
  private @Nullable ScheduledFuture<?> scheduled;

  private TlsRptReporter(Builder b) {
    this.counts = Objects.requireNonNull(b.counts, "aggregateStore");
    this.pending = b.pending;
    this.discovery = Objects.requireNonNull(b.discovery, "discovery");
    this.writer = Objects.requireNonNull(b.writer, "writer");
    this.channels = List.copyOf(b.channels);
    this.clock = b.clock;
    this.listener = b.listener;
    this.claim = b.claim != null ? b.claim : new InProcessReportClaim(b.clock);
    this.claimLease = b.claimLease;
    this.schedule = b.schedule;
    this.executor = b.executor;
    this.interval = b.interval;
  }

  /** A builder; the aggregate store, discovery, writer and channels are required. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Reports {@code day}: for each policy domain with counts that day, looks up its record, writes
   * its report and delivers it (entries of the day already kept are tried if due); discards the
   * day's counts once every report of the day is settled. A day that has not ended in UTC (RFC 8460
   * §4.1) is refused: nothing is done and {@link DeliveryRun#refused} says why. Calling it again
   * for the same day writes no second report for a domain.
   *
   * @throws IOException if a store fails (what was kept before stays kept)
   */
  public DeliveryRun flush(LocalDate day) throws IOException {
    synchronized (runLock) {
      return flushLocked(day);
    }
  }

  private DeliveryRun flushLocked(LocalDate day) throws IOException {
    Objects.requireNonNull(day, "day");
    Instant now = clock.instant();
    LocalDate today = LocalDate.ofInstant(now, ZoneOffset.UTC);
    if (!day.isBefore(today)) {
      return new DeliveryRun(
          now,
          Optional.of(
              day
                  + " has not ended in UTC (RFC 8460 §4.1: reports cover whole UTC days); it is "
                  + now),
          List.of(),
          List.of(),
          new TreeSet<>());
    }
    Map<AppliedPolicy, PolicyCounts> dayCounts = counts.readForReport(day);
    Map<DomainName, PendingReport> entries = entriesOf(day);
    Set<DomainName> domains = new TreeSet<>(entries.keySet());
    dayCounts.keySet().forEach(p -> domains.add(p.policyDomain()));
    List<PendingReport> results = new ArrayList<>();
    List<String> elsewhere = new ArrayList<>();
    for (DomainName domain : domains) {
      PendingReport e = entries.get(domain);
      boolean fresh = e == null;
      if (e == null) {
        e = PendingReport.discovering(day, domain, now);
      }
      PendingReport after = attempt(e, dayCounts, now, elsewhere, !fresh);
      if (!(fresh && after.equals(e))) {
        // A fresh entry left as it was is another holder's report: not this process's entry.
        entries.put(domain, after);
      }
      results.add(after);
    }
    SortedSet<LocalDate> settled = new TreeSet<>();
    if (settle(day, dayCounts, entries)) {
      settled.add(day);
    }
    return new DeliveryRun(now, Optional.empty(), results, elsewhere, settled);
  }

  /**
   * Tries every kept report whose next attempt is due (a lookup or deliveries), then discards the
   * counts of each day whose reports are now all settled.
   *
   * @throws IOException if a store fails
   */
  public DeliveryRun retryDue() throws IOException {
    synchronized (runLock) {
      return retryDueLocked();
    }
  }

  private DeliveryRun retryDueLocked() throws IOException {
    Instant now = clock.instant();
    Map<LocalDate, Map<DomainName, PendingReport>> byDay = new TreeMap<>();
    for (PendingReport r : pending.load()) {
      byDay.computeIfAbsent(r.day(), d -> new TreeMap<>()).put(r.policyDomain(), r);
    }
    List<PendingReport> results = new ArrayList<>();
    List<String> elsewhere = new ArrayList<>();
    SortedSet<LocalDate> settled = new TreeSet<>();
    for (Map.Entry<LocalDate, Map<DomainName, PendingReport>> day : byDay.entrySet()) {
      Map<AppliedPolicy, PolicyCounts> dayCounts = counts.readForReport(day.getKey());
      for (PendingReport e : List.copyOf(day.getValue().values())) {
        if (e.due(now) || e.awaitsItsStage()) {
          PendingReport after = attempt(e, dayCounts, now, elsewhere, true);
          day.getValue().put(e.policyDomain(), after);
          results.add(after);
        }
      }
      if (settle(day.getKey(), dayCounts, day.getValue())) {
        settled.add(day.getKey());
      }
    }
    return new DeliveryRun(now, Optional.empty(), results, elsewhere, settled);
  }

  /**
   * What the scheduler runs: {@link #flush} of every ended day the aggregate store holds counts
   * for, then {@link #retryDue}; one run listing everything. A day whose counts the store cannot
   * give (unreadable, over a store's bound) is logged and left for the next run, and the other days
   * and the retries still run: one bad day never holds the others' reports back.
   *
   * @throws IOException if a store fails: the store's list of days or the pending reports, or,
   *     after every other day and the retries ran, the first day that could not be flushed (the
   *     others' failures suppressed in it)
   */
  public DeliveryRun runDue() throws IOException {
    synchronized (runLock) {
      return runDueLocked();
    }
  }

  private DeliveryRun runDueLocked() throws IOException {
    Instant now = clock.instant();
    LocalDate today = LocalDate.ofInstant(now, ZoneOffset.UTC);
    Map<String, PendingReport> results = new LinkedHashMap<>();
    Set<String> elsewhere = new LinkedHashSet<>();
    SortedSet<LocalDate> settled = new TreeSet<>();
    IOException failedDay = null;
    for (LocalDate day : counts.days()) {
      if (day.isBefore(today)) {
        DeliveryRun r;
        try {
          r = flushLocked(day);
        } catch (IOException e) {
          log.warn("TLS-RPT: the counts of {} could not be flushed; the other days go on", day, e);
          if (failedDay == null) {
            failedDay = e;
          } else {
            failedDay.addSuppressed(e);
          }
          continue;
        }
        r.reports().forEach(p -> results.put(p.key(), p));
        elsewhere.addAll(r.claimedElsewhere());
        settled.addAll(r.settledDays());
      }
    }
    DeliveryRun r = retryDueLocked();
    r.reports().forEach(p -> results.put(p.key(), p));
    elsewhere.addAll(r.claimedElsewhere());
    settled.addAll(r.settledDays());
    if (failedDay != null) {
      throw failedDay;
    }
    return new DeliveryRun(
        now, Optional.empty(), List.copyOf(results.values()), List.copyOf(elsewhere), settled);
  }

  /** Every report kept now: not settled, or settled while its day's counts are not discarded. */
  public List<PendingReport> pending() throws IOException {
    return pending.load();
  }

  /**
   * Schedules {@link #runDue} on the builder's executor every {@code interval}, the first run at
   * once. Failures of a run are logged; the next run tries again.
   *
   * @throws IllegalStateException if the builder was given no executor, or it is already started
   */
  public synchronized void start() {
    if (executor == null) {
      throw new IllegalStateException("no scheduler: give one to the builder, or call runDue()");
    }
    if (scheduled != null) {
      throw new IllegalStateException("already started");
    }
    scheduled =
        executor.scheduleWithFixedDelay(
            this::scheduledRun, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void scheduledRun() {
    try {
      runDue();
    } catch (IOException | RuntimeException e) {
      log.warn("TLS-RPT: a scheduled run failed; the next one tries again", e);
    }
  }

  /**
   * Cancels what {@link #start} scheduled (a run in progress finishes); the executor, stores and
   * channels stay open: they are the application's.
   */
  @Override
  public void close() {
    ScheduledFuture<?> f;
    synchronized (this) {
      f = scheduled;
      scheduled = null;
    }
    if (f != null) {
      f.cancel(false);
    }
  }

  private Map<DomainName, PendingReport> entriesOf(LocalDate day) throws IOException {
    Map<DomainName, PendingReport> m = new TreeMap<>();
    for (PendingReport r : pending.load()) {
      if (r.day().equals(day)) {
        m.put(r.policyDomain(), r);
      }
    }
    return m;
  }

  /**
   * Claims the report, does what is due, keeps the result; returns the entry as it now stands.
   * {@code kept}: the entry is this process's own (kept from an earlier run), whose claim it may
   * still hold.
   */
  private PendingReport attempt(
      PendingReport e,
      Map<AppliedPolicy, PolicyCounts> dayCounts,
      Instant now,
      List<String> elsewhere,
      boolean kept)
      throws IOException {
    if (e.settled() || !(e.due(now) || e.awaitsItsStage())) {
      return e;
    }
    String key = e.key();
    if (!((kept && claim.renew(key, claimLease)) || claim.tryClaim(key, claimLease))) {
      elsewhere.add(key);
      return e;
    }
    PendingReport after = e;
    try {
      if (after.stage() == Stage.DISCOVERING) {
        after = discover(after, dayCounts, now);
      }
      if (after.stage() == Stage.DELIVERING) {
        after = deliver(after, now);
      }
      if (after.settled()) {
        claim.markSettled(key); // no other process writes it again
      }
      return after;
    } finally {
      Optional<Instant> next = after.nextAttempt();
      if (next.isPresent()) {
        // Not settled: this process keeps what it wrote (the report-id, the counts) for its next
        // attempt, and the claim with it, so that no other process of the fleet writes a second
        // report for the day meanwhile (RFC 8460 §4.1); a process that dies lets it lapse.
        Duration wait = Duration.between(clock.instant(), next.get());
        claim.renew(key, (wait.isNegative() ? Duration.ZERO : wait).plus(claimLease));
      } else {
        claim.release(key);
      }
    }
  }

  private PendingReport discover(
      PendingReport e, Map<AppliedPolicy, PolicyCounts> dayCounts, Instant now) throws IOException {
    TlsRptLookup lookup;
    try {
      lookup = discovery.lookup(e.policyDomain());
    } catch (RuntimeException ex) {
      lookup = new TlsRptLookup.Failed("lookup failed: " + ex);
    }
    if (lookup instanceof TlsRptLookup.NotPublished n) {
      PendingReport after = e.withStage(Stage.NOT_REQUESTED, "no report: " + n.reason());
      pending.save(after);
      tell(() -> listener.notRequested(e.day(), e.policyDomain(), n.reason()));
      return after;
    }
    if (lookup instanceof TlsRptLookup.Failed f) {
      int lookups = e.lookups() + 1;
      Instant first = e.firstLookup().orElse(now);
      Optional<Instant> next = schedule.next(first, lookups, now);
      PendingReport after =
          next.isPresent()
              ? new PendingReport(
                  e.day(),
                  e.policyDomain(),
                  Stage.DISCOVERING,
                  Optional.empty(),
                  List.of(),
                  lookups,
                  Optional.of(first),
                  next,
                  f.reason())
              : new PendingReport(
                  e.day(),
                  e.policyDomain(),
                  Stage.ABANDONED,
                  Optional.empty(),
                  List.of(),
                  lookups,
                  Optional.of(first),
                  Optional.empty(),
                  "no _smtp._tls answer for the whole retry period; last: " + f.reason());
      pending.save(after);
      tell(() -> listener.discoveryFailed(e.day(), e.policyDomain(), f.reason(), lookups, next));
      return after;
    }
    TlsRptRecord record = ((TlsRptLookup.Found) lookup).record();
    Map<AppliedPolicy, PolicyCounts> mine = new HashMap<>();
    dayCounts.forEach(
        (p, c) -> {
          if (p.policyDomain().equals(e.policyDomain())) {
            mine.put(p, c);
          }
        });
    if (mine.isEmpty()) {
      // The counts left the store (discarded elsewhere) before the report could be written.
      PendingReport after =
          e.withStage(Stage.ABANDONED, "no counts left for the report; nothing to send");
      pending.save(after);
      return after;
    }
    TlsRptReport report = writer.write(e.day(), e.policyDomain(), mine);
    List<Destination> ds = new ArrayList<>();
    for (URI uri : new LinkedHashSet<>(record.rua())) {
      ds.add(Destination.fresh(uri, now));
    }
    PendingReport written =
        new PendingReport(
            e.day(),
            e.policyDomain(),
            Stage.DELIVERING,
            Optional.of(report),
            ds,
            e.lookups(),
            Optional.of(e.firstLookup().orElse(now)),
            Optional.empty(),
            "written, " + ds.size() + " destination(s)");
    pending.save(written); // kept before any delivery: a crash resends this report, not a new one
    return written;
  }

  private PendingReport deliver(PendingReport e, Instant now) throws IOException {
    TlsRptReport report = e.report().orElseThrow();
    List<Destination> ds = new ArrayList<>(e.destinations());
    for (int i = 0; i < ds.size(); i++) {
      Destination d = ds.get(i);
      if (d.state() != DestinationState.PENDING || d.nextAttempt().orElseThrow().isAfter(now)) {
        continue;
      }
      ReportChannel channel = channelFor(d.uri());
      Instant first = d.firstAttempt().orElse(now);
      Destination after;
      Runnable tellIt;
      if (channel == null) {
        ReportOutcome.NotDelivered none =
            new ReportOutcome.NotDelivered(
                "no channel delivers " + scheme(d.uri()) + ": destinations", true);
        after =
            new Destination(
                d.uri(),
                DestinationState.ABANDONED,
                d.attempts(),
                d.firstAttempt(),
                Optional.empty(),
                Optional.of(none));
        int attempts = d.attempts();
        tellIt = () -> listener.reportAbandoned(report, d.uri(), none, attempts);
      } else {
        ReportOutcome outcome = deliverOnce(channel, d.uri(), report);
        int attempts = d.attempts() + 1;
        if (outcome instanceof ReportOutcome.Delivered ok) {
          after =
              new Destination(
                  d.uri(),
                  DestinationState.DELIVERED,
                  attempts,
                  Optional.of(first),
                  Optional.empty(),
                  Optional.of(ok));
          tellIt = () -> listener.reportDelivered(report, d.uri(), ok, attempts);
        } else {
          ReportOutcome.NotDelivered no = (ReportOutcome.NotDelivered) outcome;
          Optional<Instant> next =
              no.permanent() ? Optional.empty() : schedule.next(first, attempts, now);
          if (next.isPresent()) {
            after =
                new Destination(
                    d.uri(),
                    DestinationState.PENDING,
                    attempts,
                    Optional.of(first),
                    next,
                    Optional.of(no));
            Instant at = next.get();
            tellIt = () -> listener.reportDeferred(report, d.uri(), no, attempts, at);
          } else {
            after =
                new Destination(
                    d.uri(),
                    DestinationState.ABANDONED,
                    attempts,
                    Optional.of(first),
                    Optional.empty(),
                    Optional.of(no));
            tellIt = () -> listener.reportAbandoned(report, d.uri(), no, attempts);
          }
        }
      }
      ds.set(i, after);
      e = e.withDestinations(ds, d.uri() + ": " + after.state());
      pending.save(e); // after each destination: a crash never sends twice to one that took it
      tell(tellIt);
    }
    boolean open = ds.stream().anyMatch(d -> d.state() == DestinationState.PENDING);
    if (!open) {
      boolean any = ds.stream().anyMatch(d -> d.state() == DestinationState.DELIVERED);
      e =
          e.withStage(
              any ? Stage.DELIVERED : Stage.ABANDONED,
              any ? "delivered" : "no destination took the report");
      pending.save(e);
    }
    return e;
  }

  private static ReportOutcome deliverOnce(ReportChannel channel, URI uri, TlsRptReport report) {
    try {
      return Objects.requireNonNull(channel.deliver(uri, report), "channel returned null");
    } catch (RuntimeException ex) {
      // A channel must not throw; if one does, the attempt failed and is tried again.
      return new ReportOutcome.NotDelivered("the channel failed: " + ex, false);
    }
  }

  private @Nullable ReportChannel channelFor(URI uri) {
    for (ReportChannel c : channels) {
      try {
        if (c.supports(uri)) {
          return c;
        }
      } catch (RuntimeException ex) {
        log.warn("TLS-RPT: channel {} failed on supports({})", c, uri, ex);
      }
    }
    return null;
  }

  private static String scheme(URI uri) {
    String s = uri.getScheme();
    return s == null ? "(no scheme)" : s.toLowerCase(Locale.ROOT);
  }

  /**
   * Discards {@code day}'s counts and then its entries when every report of the day is settled:
   * each policy domain with counts has a settled entry, or the claim says another process settled
   * it ({@link ReportClaim#isSettled}), and no entry is unsettled.
   */
  private boolean settle(
      LocalDate day,
      Map<AppliedPolicy, PolicyCounts> dayCounts,
      Map<DomainName, PendingReport> entries)
      throws IOException {
    boolean settledElsewhere = false;
    for (AppliedPolicy p : dayCounts.keySet()) {
      PendingReport e = entries.get(p.policyDomain());
      if (e != null && e.settled()) {
        continue;
      }
      if (claim.isSettled(PendingReport.key(day, p.policyDomain()))) {
        // Another process of the fleet wrote and settled it (an entry of this process for it, a
        // copy it could not send while the other held the claim, is dropped below, never sent).
        settledElsewhere = true;
        continue;
      }
      return false;
    }
    for (PendingReport e : entries.values()) {
      if (!e.settled() && !claim.isSettled(e.key())) {
        return false;
      }
    }
    if (entries.isEmpty() && !settledElsewhere) {
      return false;
    }
    boolean hadCounts = !dayCounts.isEmpty();
    if (hadCounts) {
      counts.discard(day);
    }
    // Entries go after the counts: a crash in between leaves settled entries with no counts, which
    // the next run removes here; never counts without the entries that say they were reported.
    for (DomainName d : entries.keySet()) {
      pending.remove(day, d);
    }
    return hadCounts;
  }

  private void tell(Runnable call) {
    try {
      call.run();
    } catch (RuntimeException ex) {
      log.warn("TLS-RPT: the listener failed", ex);
    }
  }

  /** Builds a {@link TlsRptReporter}. Each setter may be called once. */
  public static final class Builder {
    private @Nullable AggregateStore counts;
    private PendingReportStore pending = new InMemoryPendingReportStore();
    private boolean pendingSet;
    private @Nullable TlsRptDiscovery discovery;
    private @Nullable TlsRptReportWriter writer;
    private List<ReportChannel> channels = List.of();
    private Clock clock = Clock.systemUTC();
    private boolean clockSet;
    private Listener listener = new Listener() {};
    private boolean listenerSet;
    private @Nullable ReportClaim claim;
    private Duration claimLease = Duration.ofMinutes(30);
    private boolean claimLeaseSet;
    private RetrySchedule schedule = RetrySchedule.rfc8460();
    private boolean scheduleSet;
    private @Nullable ScheduledExecutorService executor;
    private Duration interval = Duration.ofMinutes(5);

    private Builder() {}

    /** Where the counts are (required). */
    public Builder aggregateStore(AggregateStore store) {
      if (counts != null) {
        throw new IllegalStateException("aggregateStore already set");
      }
      this.counts = Objects.requireNonNull(store, "aggregateStore");
      return this;
    }

    /**
     * Where reports not yet settled are kept (default: in memory, lost with the process; give a
     * {@link FilePendingReportStore} to keep them across restarts).
     */
    public Builder pendingStore(PendingReportStore store) {
      if (pendingSet) {
        throw new IllegalStateException("pendingStore already set");
      }
      this.pending = Objects.requireNonNull(store, "pendingStore");
      pendingSet = true;
      return this;
    }

    /** Finds each policy domain's {@code rua} list (required). */
    public Builder discovery(TlsRptDiscovery discovery) {
      if (this.discovery != null) {
        throw new IllegalStateException("discovery already set");
      }
      this.discovery = Objects.requireNonNull(discovery, "discovery");
      return this;
    }

    /** Writes the reports: submitter, contact, organisation (required). */
    public Builder writer(TlsRptReportWriter writer) {
      if (this.writer != null) {
        throw new IllegalStateException("writer already set");
      }
      this.writer = Objects.requireNonNull(writer, "writer");
      return this;
    }

    /**
     * The channels, asked in this order which one {@link ReportChannel#supports} a destination
     * (required, at least one). A destination no channel supports is given up and reported.
     */
    public Builder channels(List<? extends ReportChannel> channels) {
      if (!this.channels.isEmpty()) {
        throw new IllegalStateException("channels already set");
      }
      List<ReportChannel> copy = List.copyOf(channels);
      if (copy.isEmpty()) {
        throw new IllegalArgumentException("at least one channel is needed");
      }
      this.channels = copy;
      return this;
    }

    /** The clock for day windows, retries and claims (default: the system's UTC clock). */
    public Builder clock(Clock clock) {
      if (clockSet) {
        throw new IllegalStateException("clock already set");
      }
      this.clock = Objects.requireNonNull(clock, "clock");
      clockSet = true;
      return this;
    }

    /**
     * Told what happens to each report (default: nobody; the log and the run results still say).
     */
    public Builder listener(Listener listener) {
      if (listenerSet) {
        throw new IllegalStateException("listener already set");
      }
      this.listener = Objects.requireNonNull(listener, "listener");
      listenerSet = true;
      return this;
    }

    /** Elects one process per report (default: an {@link InProcessReportClaim} on the clock). */
    public Builder claim(ReportClaim claim) {
      if (this.claim != null) {
        throw new IllegalStateException("claim already set");
      }
      this.claim = Objects.requireNonNull(claim, "claim");
      return this;
    }

    /** How long a claim lasts if its holder dies before releasing it (default 30 minutes). */
    public Builder claimLease(Duration lease) {
      if (claimLeaseSet) {
        throw new IllegalStateException("claimLease already set");
      }
      this.claimLease = positive(lease, "claimLease");
      claimLeaseSet = true;
      return this;
    }

    /** When to try again (default {@link RetrySchedule#rfc8460()}: 15 min doubling, 24 h). */
    public Builder retrySchedule(RetrySchedule schedule) {
      if (scheduleSet) {
        throw new IllegalStateException("retrySchedule already set");
      }
      this.schedule = Objects.requireNonNull(schedule, "retrySchedule");
      scheduleSet = true;
      return this;
    }

    /**
     * The executor {@link #start} schedules {@link #runDue} on, every {@code interval}. Without one
     * the reporter never runs by itself. The executor stays the application's to shut down.
     */
    public Builder scheduler(ScheduledExecutorService executor, Duration interval) {
      if (this.executor != null) {
        throw new IllegalStateException("scheduler already set");
      }
      this.interval = positive(interval, "interval");
      this.executor = Objects.requireNonNull(executor, "executor");
      return this;
    }

    private static Duration positive(Duration d, String what) {
      Objects.requireNonNull(d, what);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(what + " must be positive: " + d);
      }
      return d;
    }

    /** The reporter. */
    public TlsRptReporter build() {
      if (counts == null || discovery == null || writer == null || channels.isEmpty()) {
        throw new IllegalStateException(
            "aggregateStore, discovery, writer and channels are required");
      }
      return new TlsRptReporter(this);
    }
  }
}
