package io.mailtls.redis;

import io.lettuce.core.RedisURI;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A TCP relay on loopback in front of a real redis-server that holds every byte of Redis's answers
 * for a fixed delay before passing it on: a Redis that answers, slowly (a network with a long round
 * trip, or a busy server). Commands reach Redis at once and in order.
 */
final class SlowLink implements AutoCloseable {

  private final ServerSocket listener;
  private final int upstreamPort;
  private final Duration delay;
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private final ScheduledExecutorService later = Executors.newSingleThreadScheduledExecutor();
  private volatile boolean closed;

  SlowLink(int upstreamPort, Duration delay) throws IOException {
    this.upstreamPort = upstreamPort;
    this.delay = delay;
    this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread accept = new Thread(this::accept, "slow-link-accept");
    accept.setDaemon(true);
    accept.start();
  }

  RedisURI uri() {
    return RedisURI.create("redis://127.0.0.1:" + listener.getLocalPort());
  }

  private void accept() {
    while (!closed) {
      try {
        Socket client = listener.accept();
        Socket server;
        try {
          server = new Socket(InetAddress.getLoopbackAddress(), upstreamPort);
        } catch (IOException e) {
          client.close(); // Redis is down: so is the link
          continue;
        }
        sockets.add(client);
        sockets.add(server);
        pump(client, server, Duration.ZERO);
        pump(server, client, delay);
      } catch (IOException e) {
        return; // closed
      }
    }
  }

  /** Copies {@code from} to {@code to}, each chunk {@code hold} after it was read. */
  private void pump(Socket from, Socket to, Duration hold) {
    Thread t =
        new Thread(
            () -> {
              byte[] buf = new byte[16384];
              try (InputStream in = from.getInputStream()) {
                OutputStream out = to.getOutputStream();
                int n;
                while ((n = in.read(buf)) > 0) {
                  byte[] chunk = java.util.Arrays.copyOf(buf, n);
                  if (hold.isZero()) {
                    out.write(chunk);
                    out.flush();
                  } else {
                    // One thread writes every delayed chunk: order is kept.
                    var unused =
                        later.schedule(
                            () -> {
                              try {
                                out.write(chunk);
                                out.flush();
                              } catch (IOException e) {
                                closeQuietly(to);
                              }
                            },
                            hold.toNanos(),
                            TimeUnit.NANOSECONDS);
                  }
                }
              } catch (IOException e) {
                // one side closed
              }
              closeQuietly(to);
              closeQuietly(from);
            },
            "slow-link-pump");
    t.setDaemon(true);
    t.start();
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // closing
    }
  }

  @Override
  public void close() throws IOException {
    closed = true;
    listener.close();
    sockets.forEach(SlowLink::closeQuietly);
    later.shutdownNow();
  }
}
