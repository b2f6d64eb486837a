package io.mailtls.testkit.internal.dns;

import io.mailtls.testkit.DnsQuery;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.BindException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sockets of a test DNS server: one UDP socket and one TCP listener on the same address and
 * port, each served by daemon threads that hand every message to a {@link Responder}.
 *
 * <p>Thread-safe. Bounded: at most {@link #MAX_TCP_CONNECTIONS} TCP connections at once (more are
 * closed at once), each closed after {@link #TCP_IDLE_MILLIS} without a query.
 */
public final class DnsSocketServer implements AutoCloseable {
  /** The most TCP connections served at once. */
  public static final int MAX_TCP_CONNECTIONS = 64;

  /** A TCP connection idle for this long is closed (RFC 7766 §6.2.3 suggests seconds). */
  public static final int TCP_IDLE_MILLIS = 10_000;

  private static final Logger LOG = LoggerFactory.getLogger(DnsSocketServer.class);
  private static final int BIND_ATTEMPTS = 20;
  private static final int MAX_UDP_MESSAGE = 65_535;
  private static final long JOIN_MILLIS = 5_000;

  private final DatagramSocket udp;
  private final ServerSocket tcp;
  private final Responder responder;

  /** How long each response is held back before it is sent; 0 for none. */
  private final long latencyNanos;

  /** Sends delayed UDP responses, so that a delay never holds up the receiving thread. */
  private final @Nullable ScheduledExecutorService delayed;

  private final Thread udpThread;
  private final Thread acceptThread;
  private final ExecutorService connections;
  private final Semaphore connectionSlots = new Semaphore(MAX_TCP_CONNECTIONS);
  private final Set<Socket> openSockets = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  private DnsSocketServer(
      DatagramSocket udp, ServerSocket tcp, Responder responder, long latencyNanos) {
    this.udp = udp;
    this.tcp = tcp;
    this.responder = responder;
    this.latencyNanos = latencyNanos;
    String suffix = "-" + udp.getLocalPort();
    this.delayed =
        latencyNanos > 0
            ? Executors.newSingleThreadScheduledExecutor(
                r -> daemon(r, "TestDnsServer-udp-delayed" + suffix))
            : null;
    this.udpThread = daemon(this::serveUdp, "TestDnsServer-udp" + suffix);
    this.acceptThread = daemon(this::acceptTcp, "TestDnsServer-tcp-accept" + suffix);
    AtomicInteger counter = new AtomicInteger();
    ThreadFactory factory =
        r -> {
          Thread t = new Thread(r, "TestDnsServer-tcp" + suffix + "-" + counter.incrementAndGet());
          t.setDaemon(true);
          return t;
        };
    this.connections = Executors.newCachedThreadPool(factory);
  }

  /**
   * Binds UDP and TCP on {@code address} and one port, and starts serving.
   *
   * @param port the port, or 0 for an ephemeral port free for both UDP and TCP
   * @throws IOException if the sockets cannot be bound
   */
  public static DnsSocketServer start(InetAddress address, int port, Responder responder)
      throws IOException {
    return start(address, port, responder, 0);
  }

  /**
   * As {@link #start(InetAddress, int, Responder)}, holding every response back for {@code
   * latencyNanos} before it is sent, as a distant server would: UDP responses are sent by a timer
   * thread, so concurrent queries are delayed side by side, not one after another; a TCP connection
   * answers its queries in order, each after the delay.
   *
   * @param latencyNanos the delay per response, 0 for none
   */
  public static DnsSocketServer start(
      InetAddress address, int port, Responder responder, long latencyNanos) throws IOException {
    if (latencyNanos < 0) {
      throw new IllegalArgumentException("latency must not be negative: " + latencyNanos);
    }
    IOException last = null;
    for (int attempt = 0; attempt < BIND_ATTEMPTS; attempt++) {
      DatagramSocket udp = new DatagramSocket(null);
      ServerSocket tcp = null;
      try {
        udp.bind(new InetSocketAddress(address, port));
        tcp = new ServerSocket();
        tcp.setReuseAddress(true);
        tcp.bind(new InetSocketAddress(address, udp.getLocalPort()), MAX_TCP_CONNECTIONS);
        DnsSocketServer server = new DnsSocketServer(udp, tcp, responder, latencyNanos);
        server.udpThread.start();
        server.acceptThread.start();
        return server;
      } catch (IOException e) {
        udp.close();
        if (tcp != null) {
          tcp.close();
        }
        last = e;
        // An ephemeral UDP port whose TCP twin is taken: try another one.
        if (port != 0 || !(e instanceof BindException)) {
          throw e;
        }
      }
    }
    throw last;
  }

  /** The bound address and port. */
  public InetSocketAddress localAddress() {
    return new InetSocketAddress(udp.getLocalAddress(), udp.getLocalPort());
  }

  private void serveUdp() {
    byte[] buffer = new byte[MAX_UDP_MESSAGE];
    while (!closed) {
      DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
      try {
        udp.receive(packet);
        byte[] query = Arrays.copyOfRange(packet.getData(), packet.getOffset(), packet.getLength());
        byte[] response = responder.respond(query, DnsQuery.Transport.UDP);
        if (response != null && response.length > 0) {
          DatagramPacket reply =
              new DatagramPacket(response, response.length, packet.getSocketAddress());
          ScheduledExecutorService timer = delayed;
          if (timer == null) {
            udp.send(reply);
          } else {
            sendLater(timer, reply);
          }
        }
      } catch (IOException e) {
        if (!closed) {
          LOG.debug("UDP exchange failed; serving on", e);
        }
      } catch (RuntimeException e) {
        // Never let one message kill the server.
        LOG.warn("unexpected failure answering a UDP query; serving on", e);
      }
    }
  }

  private void sendLater(ScheduledExecutorService timer, DatagramPacket reply) {
    try {
      // Nothing waits for the send: a failure is logged by the task itself.
      var unused =
          timer.schedule(
              () -> {
                try {
                  udp.send(reply);
                } catch (IOException e) {
                  if (!closed) {
                    LOG.debug("delayed UDP response failed", e);
                  }
                }
              },
              latencyNanos,
              TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      // closed meanwhile: the response is dropped, as the socket is
    }
  }

  private void acceptTcp() {
    while (!closed) {
      Socket socket;
      try {
        socket = tcp.accept();
      } catch (IOException e) {
        if (closed || tcp.isClosed()) {
          return;
        }
        LOG.debug("TCP accept failed; serving on", e);
        continue;
      }
      if (!connectionSlots.tryAcquire()) {
        closeQuietly(socket); // bounded: too many connections at once
        continue;
      }
      openSockets.add(socket);
      try {
        connections.execute(() -> serveConnection(socket));
      } catch (RuntimeException e) { // rejected after close()
        openSockets.remove(socket);
        connectionSlots.release();
        closeQuietly(socket);
      }
    }
  }

  /** RFC 1035 §4.2.2 and RFC 7766 §6.2.1: length-prefixed messages, several per connection. */
  private void serveConnection(Socket socket) {
    try (socket) {
      socket.setSoTimeout(TCP_IDLE_MILLIS);
      socket.setTcpNoDelay(true);
      DataInputStream in = new DataInputStream(socket.getInputStream());
      OutputStream out = socket.getOutputStream();
      while (!closed) {
        int length = in.readUnsignedShort(); // at most 65,535: every message fits
        byte[] query = new byte[length];
        in.readFully(query);
        byte[] response = responder.respond(query, DnsQuery.Transport.TCP);
        if (response == null || response.length == 0) {
          continue; // dropped: the client waits for its timeout
        }
        if (latencyNanos > 0) {
          TimeUnit.NANOSECONDS.sleep(latencyNanos);
        }
        byte[] framed = new byte[response.length + 2];
        framed[0] = (byte) (response.length >>> 8);
        framed[1] = (byte) response.length;
        System.arraycopy(response, 0, framed, 2, response.length);
        out.write(framed);
        out.flush();
      }
    } catch (EOFException | SocketTimeoutException e) {
      // the client is done, or idle: close
    } catch (SocketException e) {
      if (!closed) {
        LOG.debug("TCP connection failed", e);
      }
    } catch (IOException | RuntimeException e) {
      LOG.debug("TCP connection failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt(); // close(): the connection ends
    } finally {
      openSockets.remove(socket);
      connectionSlots.release();
    }
  }

  /** Closes the sockets and every connection, and waits for the server threads to end. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    udp.close();
    closeQuietly(tcp);
    for (Socket socket : openSockets) {
      closeQuietly(socket);
    }
    connections.shutdownNow();
    if (delayed != null) {
      delayed.shutdownNow();
    }
    try {
      udpThread.join(JOIN_MILLIS);
      acceptThread.join(JOIN_MILLIS);
      connections.awaitTermination(JOIN_MILLIS, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static Thread daemon(Runnable task, String name) {
    Thread thread = new Thread(task, name);
    thread.setDaemon(true);
    return thread;
  }

  private static void closeQuietly(AutoCloseable closeable) {
    try {
      closeable.close();
    } catch (Exception e) {
      LOG.trace("close failed", e);
    }
  }
}
