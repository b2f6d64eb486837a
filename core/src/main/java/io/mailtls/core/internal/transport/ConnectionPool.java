package io.mailtls.core.internal.transport;

import io.mailtls.core.DomainName;
import io.mailtls.core.TlsRequirement;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Idle SMTP connections kept for reuse, and a cap on sessions per destination address. Thread-safe.
 *
 * <p>Every live connection to a destination, busy or idle, holds one of that destination's
 * permits, so no more than {@code maxPerDestination} sessions are ever open to it. A connection
 * is reused only for the same host name, address and TLS requirement (its TLS state was set up
 * for that requirement), within the idle time and transaction count bounds; a connection that
 * saw 421 or any failure is closed, never pooled.
 */
public final class ConnectionPool implements AutoCloseable {

  /** What a pooled connection was set up for. */
  record Key(InetSocketAddress address, Optional<DomainName> host, TlsRequirement requirement) {}

  private final int maxPerDestination;
  private final long idleNanos;
  private final int maxTransactions;
  private final Duration acquireTimeout;
  private final LongSupplier nanoTime;
  private final Map<InetSocketAddress, Semaphore> permits = new HashMap<>();
  private final Map<Key, Deque<SmtpConnection>> idle = new HashMap<>();
  private boolean closed;

  public ConnectionPool(int maxPerDestination, Duration idleTime, int maxTransactions,
      Duration acquireTimeout, LongSupplier nanoTime) {
    this.maxPerDestination = maxPerDestination;
    this.idleNanos = idleTime.toNanos();
    this.maxTransactions = maxTransactions;
    this.acquireTimeout = acquireTimeout;
    this.nanoTime = nanoTime;
  }

  /**
   * An idle connection for {@code key}, or empty after taking a permit for a new one (the caller
   * then opens it, and {@link #release}s or {@link #discard}s it). Blocks while the destination is
   * at its cap.
   *
   * @throws SessionFailure when no permit frees up within the acquire timeout
   */
  Optional<SmtpConnection> checkout(Key key) throws SessionFailure {
    Semaphore sem;
    synchronized (this) {
      Deque<SmtpConnection> q = idle.get(key);
      long now = nanoTime.getAsLong();
      while (q != null && !q.isEmpty()) {
        SmtpConnection c = q.pollFirst();
        if (c.isBroken() || now - c.idleSince() > idleNanos) {
          closeAndFree(c);
          continue;
        }
        return Optional.of(c);
      }
      sem = permits.computeIfAbsent(key.address(), a -> new Semaphore(maxPerDestination, true));
      if (!sem.tryAcquire()) {
        // At the cap: an idle connection set up for another requirement may hold the permit.
        if (evictOneIdle(key.address()) && sem.tryAcquire()) {
          return Optional.empty();
        }
      } else {
        return Optional.empty();
      }
    }
    try {
      if (sem.tryAcquire(acquireTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
        return Optional.empty();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    throw new SessionFailure(io.mailtls.core.FailureType.CONNECTION_FAILED,
        "no session to " + key.address() + " became free within " + acquireTimeout);
  }

  private boolean evictOneIdle(InetSocketAddress address) {
    for (Iterator<Map.Entry<Key, Deque<SmtpConnection>>> it = idle.entrySet().iterator();
        it.hasNext(); ) {
      Map.Entry<Key, Deque<SmtpConnection>> e = it.next();
      if (e.getKey().address().equals(address) && !e.getValue().isEmpty()) {
        SmtpConnection c = e.getValue().pollLast();
        c.quit();
        permits.get(address).release();
        return true;
      }
    }
    return false;
  }

  /** Returns a healthy connection for reuse, or closes it when it may not be reused. */
  void release(Key key, SmtpConnection c) {
    synchronized (this) {
      if (!closed && !c.isBroken() && c.transactions() < maxTransactions) {
        c.idleFrom(nanoTime.getAsLong());
        idle.computeIfAbsent(key, k -> new ArrayDeque<>()).addFirst(c);
        return;
      }
    }
    c.quit();
    freePermit(key.address());
  }

  /** Closes a connection (or frees the permit of one that never opened: pass null). */
  void discard(Key key, SmtpConnection c) {
    if (c != null) {
      c.close();
    }
    freePermit(key.address());
  }

  private synchronized void freePermit(InetSocketAddress address) {
    Semaphore sem = permits.get(address);
    if (sem != null) {
      sem.release();
    }
  }

  private void closeAndFree(SmtpConnection c) {
    c.close();
    Semaphore sem = permits.get(c.address);
    if (sem != null) {
      sem.release();
    }
  }

  /** The number of idle connections (for tests and metrics). */
  public synchronized int idleCount() {
    return idle.values().stream().mapToInt(Deque::size).sum();
  }

  /** QUITs and closes every idle connection; later releases close instead of pooling. */
  @Override
  public void close() {
    Deque<SmtpConnection> all = new ArrayDeque<>();
    synchronized (this) {
      closed = true;
      idle.values().forEach(all::addAll);
      idle.clear();
    }
    for (SmtpConnection c : all) {
      c.quit();
      freePermit(c.address);
    }
  }
}
