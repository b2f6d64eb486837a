package io.mailtls.spring;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/**
 * The one daemon thread, {@code mailtls-mta-sts-refresh}, that refreshes cached MTA-STS policies
 * before they expire (RFC 8461 §3.3); started when the first policy is cached, stopped with the
 * application context. A bean of its own type, not a {@link ScheduledExecutorService} bean: Spring
 * Boot's task scheduling backs off when one of those exists, and would run the application's
 * {@code @Scheduled} methods on it.
 */
public final class MailtlsRefreshScheduler implements AutoCloseable {

  private final ScheduledExecutorService executor =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "mailtls-mta-sts-refresh");
            t.setDaemon(true);
            return t;
          });

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
