package io.mailtls.tlsrpt;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A {@link ReportClaim} among the threads of one process: a key is held until it is released or its
 * lease has run out by the clock. Thread-safe.
 */
public final class InProcessReportClaim implements ReportClaim {

  private final Clock clock;
  private final Map<String, Instant> held = new HashMap<>();

  /** Claims whose leases run by {@code clock}. */
  public InProcessReportClaim(Clock clock) {
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  @Override
  public synchronized boolean tryClaim(String reportKey, Duration lease) {
    return leaseFor(reportKey, lease, false);
  }

  /**
   * Extends the claim when it is held and its lease has not run out. Among the threads of one
   * process a claim names no holder: the reporter renews only the claims of reports it keeps.
   */
  @Override
  public synchronized boolean renew(String reportKey, Duration lease) {
    return leaseFor(reportKey, lease, true);
  }

  /** Sets the lease when the key is held ({@code renewal}) or free (not); the caller locks. */
  private boolean leaseFor(String reportKey, Duration lease, boolean renewal) {
    Objects.requireNonNull(reportKey, "reportKey");
    Objects.requireNonNull(lease, "lease");
    Instant now = clock.instant();
    Instant until = held.get(reportKey);
    if ((until != null && now.isBefore(until)) != renewal) {
      return false;
    }
    held.put(reportKey, now.plus(lease));
    return true;
  }

  @Override
  public synchronized void release(String reportKey) {
    held.remove(Objects.requireNonNull(reportKey, "reportKey"));
  }
}
