package io.mailtls.core.internal.transport;

import java.util.List;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;

/**
 * The timer of a transport or a probe: runs the checks of its connections' time bounds ({@link
 * SocketWatch}, one scheduled check for all of them) and whatever else its owner schedules.
 * Cancelled tasks leave its queue at once.
 */
public final class Watchdog extends ScheduledThreadPoolExecutor {

  private final SocketWatch.Group sockets = new SocketWatch.Group(this, System::nanoTime);

  /**
   * @param threads the core threads
   * @param threadFactory makes them (daemon threads with the owner's name)
   */
  public Watchdog(int threads, ThreadFactory threadFactory) {
    super(threads, threadFactory);
    setRemoveOnCancelPolicy(true);
  }

  /** The connections whose time bounds this timer keeps. */
  SocketWatch.Group sockets() {
    return sockets;
  }

  /**
   * Stops the timer and closes the socket of every connection it still watches: the checks that
   * would have cut their operations short are cancelled, so an operation under way (the idle
   * expiry's QUIT, a probe's read) would otherwise wait for the peer without any bound. Operations
   * started later fail at once ({@link SocketWatch#start}).
   */
  @Override
  public List<Runnable> shutdownNow() {
    List<Runnable> pending = super.shutdownNow();
    sockets.closeAll();
    return pending;
  }
}
