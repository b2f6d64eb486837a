package io.mailtls.spring;

import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;

/**
 * The one daemon thread, {@code mailtls-mta-sts-refresh}, that refreshes cached MTA-STS policies
 * before they expire (RFC 8461 §3.3); started when the first policy is cached, stopped with the
 * application context. A bean of its own type, not a {@link ScheduledExecutorService} bean: Spring
 * Boot's task scheduling backs off when one of those exists, and would run the application's
 * {@code @Scheduled} methods on it.
 */
public final class MailtlsRefreshScheduler implements AutoCloseable {

  private final ScheduledThreadPoolExecutor executor =
      new ScheduledThreadPoolExecutor(
          1,
          r -> {
            Thread t = new Thread(r, "mailtls-mta-sts-refresh");
            t.setDaemon(true);
            return t;
          });

  /** The scheduler, its thread not yet started. */
  public MailtlsRefreshScheduler() {
    // A cancelled refresh (of a policy the store evicted) leaves the queue at once, not when due.
    executor.setRemoveOnCancelPolicy(true);
  }

  /** The executor the MTA-STS resolver schedules its refreshes on. */
  public ScheduledExecutorService executor() {
    return executor;
  }

  /** Stops the thread; refreshes not yet run are dropped. */
  @Override
  public void close() {
    executor.shutdownNow();
  }
}
