package io.mailtls.core.internal.transport;

import io.mailtls.core.DomainName;
import io.mailtls.core.FailureType;
import io.mailtls.core.TlsRequirement;
import io.mailtls.core.internal.tls.TlsVerification;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * Idle SMTP connections kept for reuse, and a cap on sessions per destination address. Thread-safe.
 *
 * <p>Every live connection to a destination, busy or idle, counts against that destination's cap,
 * so no more than {@code maxPerDestination} sessions are ever open to it. A caller at the cap waits
 * for a connection to come back (and takes it if it suits), or for one to close. A connection is
 * reused only for the same host name, address and TLS verification (its TLS state was set up for
 * it: {@link Key}), while it is younger than the reuse time limit and has been idle no longer than
 * the idle time (as Postfix's {@code smtp_connection_reuse_time_limit}, 300 s by default, bounds
 * reuse by time rather than by a small count), and within the optional transaction count cap; a
 * connection that saw 421 or any failure is closed, never pooled.
 *
 * <p>Idle connections expire on a timer too ({@link #expireIdle()}, which the transport runs
 * periodically), not only when their destination is used again: a sender reaching tens of thousands
 * of domains a day must not keep a socket, its buffers and TLS state per domain until shutdown (nor
 * leave peers' closed connections in CLOSE_WAIT).
 */
public final class ConnectionPool implements AutoCloseable {

  /**
   * What a pooled connection was set up for: the address, the host name, whether TLS was required
   * (an opportunistic session may be plaintext) and the substance of the verification its handshake
   * passed ({@link TlsVerification}), not the recipient domain that asked for it. A connection is
   * reused only for a key that is equal, so only where its handshake would have verified the peer
   * the same way.
   */
  record Key(
      InetSocketAddress address,
      Optional<DomainName> host,
      boolean requiresTls,
      TlsVerification verification) {

    /** The key of a session to {@code address} for {@code host} under {@code requirement}. */
    static Key of(
        InetSocketAddress address, Optional<DomainName> host, TlsRequirement requirement) {
      return new Key(address, host, requirement.requiresTls(), TlsVerification.of(requirement));
    }

    // Written out rather than the record's generated pair: a key is hashed and compared for every
    // message, and the generated ones go through method handles.
    @Override
    public boolean equals(@Nullable Object o) {
      return o instanceof Key k
          && requiresTls == k.requiresTls
          && address.equals(k.address)
          && host.equals(k.host)
          && verification.equals(k.verification);
    }

    @Override
    public int hashCode() {
      return ((address.hashCode() * 31 + host.hashCode()) * 31 + Boolean.hashCode(requiresTls)) * 31
          + verification.hashCode();
    }
  }

  private final int maxPerDestination;
  private final long idleNanos;
  private final long reuseNanos;
  private final int maxTransactions;
  private final long acquireNanos;
  private final LongSupplier nanoTime;
  private final Map<InetSocketAddress, Integer> live = new HashMap<>();
  private final Map<Key, Deque<SmtpConnection>> idle = new HashMap<>();
  private boolean closed;

  /**
   * @param maxPerDestination the most live sessions to one address
   * @param idleTime how long an idle session is kept; zero turns reuse off
   * @param reuseTimeLimit how long after it was opened a session may still be reused
   * @param maxTransactions the most transactions one session carries ({@link Integer#MAX_VALUE}: no
   *     cap)
   * @param acquireTimeout how long {@link #checkout} waits at the cap
   * @param nanoTime the clock of every bound (injectable for tests)
   */
  public ConnectionPool(
      int maxPerDestination,
      Duration idleTime,
      Duration reuseTimeLimit,
      int maxTransactions,
      Duration acquireTimeout,
      LongSupplier nanoTime) {
    this.maxPerDestination = maxPerDestination;
    this.idleNanos = idleTime.toNanos();
    this.reuseNanos = reuseTimeLimit.toNanos();
    this.maxTransactions = maxTransactions;
    this.acquireNanos = acquireTimeout.toNanos();
    this.nanoTime = nanoTime;
  }

  /**
   * An idle connection for {@code key}, or empty once a slot for a new connection is reserved (the
   * caller then opens it, and {@link #release}s or {@link #discard}s it). Waits while the
   * destination is at its cap.
   *
   * @throws SessionFailure when nothing frees up within the acquire timeout, or once the pool is
   *     closed: a closed transport opens no new connection
   */
  Optional<SmtpConnection> checkout(Key key) throws SessionFailure {
    List<SmtpConnection> toClose = new ArrayList<>();
    // Slots of connections in toClose that pass to the caller instead of being freed.
    int handedOver = 0;
    try {
      synchronized (this) {
        long deadline = nanoTime.getAsLong() + acquireNanos;
        while (true) {
          if (closed) {
            throw closedFailure(key);
          }
          SmtpConnection c = takeIdle(key, toClose);
          if (c != null) {
            return Optional.of(c);
          }
          int n = live.getOrDefault(key.address(), 0);
          if (n < maxPerDestination) {
            live.put(key.address(), n + 1);
            return Optional.empty();
          }
          // At the cap: a stale idle connection dropped above still holds its slot until its
          // QUIT is done (below); the caller takes it over and opens only after that.
          if (!toClose.isEmpty()) {
            handedOver = 1;
            return Optional.empty();
          }
          // An idle connection set up for another requirement may hold the slot.
          SmtpConnection other = takeAnyIdle(key.address());
          if (other != null) {
            toClose.add(other); // its slot passes to the caller once it is closed
            handedOver = 1;
            return Optional.empty();
          }
          long left = deadline - nanoTime.getAsLong();
          if (left <= 0) {
            throw new SessionFailure(
                FailureType.CONNECTION_FAILED,
                "no session to "
                    + key.address()
                    + " became free within "
                    + Duration.ofNanos(acquireNanos));
          }
          try {
            wait(Math.max(1, left / 1_000_000));
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SessionFailure(FailureType.CONNECTION_FAILED, "interrupted");
          }
        }
      }
    } finally {
      // Closed before the caller opens anything, and their slots freed only once closed: a
      // connection that is still saying QUIT counts against the cap.
      quitAndFree(toClose, handedOver);
    }
  }

  /**
   * QUITs the connections, together within one QUIT bound ({@link SmtpConnection#quitAll}: many
   * idle sessions to servers that stopped answering hold {@link #close()} or the idle-expiry timer
   * for one bound, not one each), then frees the slots of all but {@code keep} of them.
   */
  private void quitAndFree(List<SmtpConnection> connections, int keep) {
    if (connections.isEmpty()) {
      return;
    }
    try {
      SmtpConnection.quitAll(connections);
    } finally {
      synchronized (this) {
        for (int i = keep; i < connections.size(); i++) {
          decrement(connections.get(i).address);
        }
      }
    }
  }

  /**
   * A usable idle connection for the key; stale ones are moved to {@code toClose}, still holding
   * their slots (the caller frees them once closed).
   */
  private @Nullable SmtpConnection takeIdle(Key key, List<SmtpConnection> toClose) {
    Deque<SmtpConnection> q = idle.get(key);
    long now = nanoTime.getAsLong();
    SmtpConnection found = null;
    while (found == null && q != null && !q.isEmpty()) {
      SmtpConnection c = q.pollFirst();
      if (expired(c, now)) {
        toClose.add(c);
        continue;
      }
      c.takenFromPool(now); // the clock read above: no other on the way to the next message
      found = c;
    }
    if (q != null && q.isEmpty()) {
      idle.remove(key); // no empty queue per destination ever reached
    }
    return found;
  }

  private boolean expired(SmtpConnection c, long now) {
    return c.isBroken() || now - c.idleSince() > idleNanos || tooOld(c, now);
  }

  /** Past the reuse time limit, counted from when the session was opened. */
  private boolean tooOld(SmtpConnection c, long now) {
    return now - c.openedAt() >= reuseNanos;
  }

  /**
   * Fails once the pool is closed, for a caller about to open a connection in a slot it already
   * holds (a new session after a stale pooled one, a plaintext retry after TLS failed): a closed
   * transport opens no new connection.
   */
  synchronized void requireOpen(Key key) throws SessionFailure {
    if (closed) {
      throw closedFailure(key);
    }
  }

  private static SessionFailure closedFailure(Key key) {
    return new SessionFailure(
        FailureType.CONNECTION_FAILED,
        "the transport was closed: no new session to " + key.address());
  }

  /** Notes that {@code c} was opened now: its reuse time limit counts from here. */
  void opened(SmtpConnection c) {
    c.openedAt(nanoTime.getAsLong());
  }

  @SuppressWarnings("ModifyCollectionInEnhancedForLoop") // returns right after the removal
  private @Nullable SmtpConnection takeAnyIdle(InetSocketAddress address) {
    for (Map.Entry<Key, Deque<SmtpConnection>> e : idle.entrySet()) {
      if (e.getKey().address().equals(address) && !e.getValue().isEmpty()) {
        SmtpConnection c = e.getValue().pollLast();
        if (e.getValue().isEmpty()) {
          idle.remove(e.getKey());
        }
        return c;
      }
    }
    return null;
  }

  /**
   * Closes every idle connection past its idle time (or found broken), with QUIT (RFC 5321
   * §4.1.1.10), and frees its slot. The transport calls this on a timer; callers of {@link
   * #checkout} never wait for it. Returns how many were closed.
   */
  public int expireIdle() {
    List<SmtpConnection> toClose = new ArrayList<>();
    synchronized (this) {
      long now = nanoTime.getAsLong();
      Iterator<Deque<SmtpConnection>> queues = idle.values().iterator();
      while (queues.hasNext()) {
        Deque<SmtpConnection> q = queues.next();
        q.removeIf(
            c -> {
              if (expired(c, now)) {
                toClose.add(c);
                return true;
              }
              return false;
            });
        if (q.isEmpty()) {
          queues.remove();
        }
      }
    }
    quitAndFree(toClose, 0);
    return toClose.size();
  }

  /** Returns a healthy connection for reuse, or closes it when it may not be reused. */
  void release(Key key, SmtpConnection c) {
    synchronized (this) {
      long now = nanoTime.getAsLong();
      if (!c.hasOpenedAt()) {
        c.openedAt(now); // not stamped at open: its reuse time limit counts from now
      }
      if (!closed
          && !c.isBroken()
          && c.transactions() < maxTransactions
          && idleNanos > 0
          && !tooOld(c, now)) {
        c.idleFrom(now);
        idle.computeIfAbsent(key, k -> new ArrayDeque<>()).addFirst(c);
        notifyAll();
        return;
      }
    }
    // Its slot is freed once it is closed: until then it still counts against the cap.
    quitAndFree(List.of(c), 0);
  }

  /** Closes a connection (or frees the slot of one that never opened: pass null). */
  void discard(Key key, @Nullable SmtpConnection c) {
    if (c != null) {
      c.close();
    }
    synchronized (this) {
      decrement(key.address());
    }
  }

  private void decrement(InetSocketAddress address) {
    live.computeIfPresent(address, (a, n) -> n <= 1 ? null : n - 1);
    notifyAll();
  }

  /** The clock of every bound, which the transport's timings read too. */
  LongSupplier ticker() {
    return nanoTime;
  }

  /**
   * The number of live connections that are not idle: in a transaction, or being opened or closed
   * (for metrics).
   */
  public synchronized int busyCount() {
    int live = this.live.values().stream().mapToInt(Integer::intValue).sum();
    return Math.max(0, live - idleCount());
  }

  /** The number of idle connections (for tests and metrics). */
  public synchronized int idleCount() {
    return idle.values().stream().mapToInt(Deque::size).sum();
  }

  /**
   * QUITs and closes every idle connection, within one QUIT bound for them all (a connection whose
   * server has not answered by then is closed unanswered); later releases close instead of pooling,
   * and later {@link #checkout}s (and those waiting at a cap) fail: nothing new is opened.
   */
  @Override
  public void close() {
    List<SmtpConnection> all = new ArrayList<>();
    synchronized (this) {
      closed = true;
      idle.values().forEach(all::addAll);
      idle.clear();
      notifyAll();
    }
    quitAndFree(all, 0);
  }
}
