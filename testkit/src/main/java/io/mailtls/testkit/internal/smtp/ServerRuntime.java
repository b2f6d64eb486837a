package io.mailtls.testkit.internal.smtp;

import io.mailtls.testkit.SmtpMessage;
import io.mailtls.testkit.SmtpSession;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running part of a mock SMTP server: the listening socket, an accept thread, one daemon thread
 * per connection, and the records they produce.
 *
 * <p>Thread-safe.
 */
public final class ServerRuntime implements SessionRecorder.Listener {

  private static final Logger log = LoggerFactory.getLogger(ServerRuntime.class);
  private static final Duration JOIN_TIMEOUT = Duration.ofSeconds(2);

  private final ServerConfig config;
  private final ServerSocket serverSocket;
  private final Thread acceptor;
  private final CountDownLatch closed = new CountDownLatch(1);
  private final Set<Socket> liveSockets = ConcurrentHashMap.newKeySet();
  private final Set<Thread> threads = ConcurrentHashMap.newKeySet();

  private final Object lock = new Object();
  private final List<SessionRecorder> sessions = new ArrayList<>();
  private final List<SmtpMessage> messages = new ArrayList<>();
  private int closedSessions;

  private ServerRuntime(ServerConfig config) throws IOException {
    this.config = config;
    this.serverSocket = new ServerSocket();
    try {
      if (config.receiveBufferSize() > 0) {
        // Set before bind, so that accepted sockets inherit it and the window scale suits it.
        serverSocket.setReceiveBufferSize(config.receiveBufferSize());
      }
      serverSocket.bind(new InetSocketAddress(config.address(), config.port()), 50);
    } catch (IOException e) {
      serverSocket.close();
      throw new IOException("cannot listen on " + config.address() + ":" + config.port(), e);
    }
    this.acceptor = new Thread(this::acceptLoop, "mock-smtp-accept-" + serverSocket.getLocalPort());
    acceptor.setDaemon(true);
  }

  /** Binds the listening socket and starts accepting connections. */
  public static ServerRuntime start(ServerConfig config) throws IOException {
    ServerRuntime runtime = new ServerRuntime(config);
    runtime.acceptor.start();
    return runtime;
  }

  /** The configuration. */
  public ServerConfig config() {
    return config;
  }

  /** The bound address and port. */
  public InetSocketAddress localAddress() {
    return (InetSocketAddress) serverSocket.getLocalSocketAddress();
  }

  private void acceptLoop() {
    while (!isClosed()) {
      Socket socket;
      try {
        socket = serverSocket.accept();
      } catch (IOException e) {
        if (!isClosed()) {
          log.warn("mock SMTP server on {} stopped accepting", localAddress(), e);
        }
        return;
      }
      startSession(socket);
    }
  }

  private void startSession(Socket socket) {
    SessionRecorder recorder;
    synchronized (lock) {
      recorder =
          new SessionRecorder(
              sessions.size(),
              (InetSocketAddress) socket.getRemoteSocketAddress(),
              (InetSocketAddress) socket.getLocalSocketAddress(),
              this);
      sessions.add(recorder);
    }
    liveSockets.add(socket);
    Thread thread =
        new Thread(
            () -> {
              try {
                new SessionHandler(this, socket, recorder).run();
              } finally {
                liveSockets.remove(socket);
                threads.remove(Thread.currentThread());
                recorder.close();
              }
            },
            "mock-smtp-" + localAddress().getPort() + "-session-" + recorder.id());
    thread.setDaemon(true);
    threads.add(thread);
    thread.start();
    if (isClosed()) {
      closeQuietly(socket);
    }
  }

  /** Whether {@link #close()} has been called. */
  public boolean isClosed() {
    return closed.getCount() == 0;
  }

  /** Waits up to {@code timeout} for {@link #close()}; returns whether it happened. */
  boolean awaitClose(Duration timeout) throws InterruptedException {
    return closed.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  /** Snapshot of every session so far, in accept order. */
  public List<SmtpSession> sessions() {
    synchronized (lock) {
      return List.copyOf(sessions);
    }
  }

  /** Snapshot of every message received so far, in order of completion. */
  public List<SmtpMessage> messages() {
    synchronized (lock) {
      return List.copyOf(messages);
    }
  }

  /**
   * Waits until at least {@code count} sessions have ended; returns all sessions then.
   *
   * @throws AssertionError on timeout, describing the sessions seen
   */
  public List<SmtpSession> awaitSessions(int count, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (lock) {
      while (closedSessions < count) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new AssertionError(
              "expected "
                  + count
                  + " ended SMTP sessions within "
                  + timeout
                  + ", saw "
                  + closedSessions
                  + " ended of "
                  + sessions);
        }
        TimeUnit.NANOSECONDS.timedWait(lock, left);
      }
      return List.copyOf(sessions);
    }
  }

  /**
   * Waits until at least {@code count} messages have been received; returns all messages then.
   *
   * @throws AssertionError on timeout
   */
  public List<SmtpMessage> awaitMessages(int count, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (lock) {
      while (messages.size() < count) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new AssertionError(
              "expected "
                  + count
                  + " SMTP messages within "
                  + timeout
                  + ", saw "
                  + messages.size()
                  + " in "
                  + sessions);
        }
        TimeUnit.NANOSECONDS.timedWait(lock, left);
      }
      return List.copyOf(messages);
    }
  }

  @Override
  public void messageRecorded(SmtpMessage message) {
    synchronized (lock) {
      messages.add(message);
      lock.notifyAll();
    }
  }

  @Override
  public void sessionClosed(SessionRecorder session) {
    synchronized (lock) {
      closedSessions++;
      lock.notifyAll();
    }
  }

  /**
   * Stops accepting, closes every connection (which ends blocked reads, writes and stalls) and
   * waits briefly for the session threads. Idempotent.
   */
  public void close() {
    if (isClosed()) {
      return;
    }
    closed.countDown();
    closeQuietly(serverSocket);
    for (Socket socket : liveSockets) {
      closeQuietly(socket);
    }
    long deadline = System.nanoTime() + JOIN_TIMEOUT.toNanos();
    List<Thread> all = new ArrayList<>(threads);
    all.add(acceptor);
    for (Thread thread : all) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        break;
      }
      try {
        thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  static void closeQuietly(AutoCloseable closeable) {
    try {
      closeable.close();
    } catch (Exception e) {
      // Closing is best effort: the peer may already be gone.
    }
  }
}
