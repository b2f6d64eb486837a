package io.mailtls.redis;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.sentinel.api.sync.RedisSentinelCommands;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A real Redis Sentinel deployment for the tests, all on 127.0.0.1 with free ports and temporary
 * directories: a primary and one replica ({@link RedisServerProcess}es, the replica started with
 * {@code --replicaof}) and three sentinels ({@code redis-server <conf> --sentinel}) monitoring the
 * primary as {@value #MASTER} with quorum 2, {@code down-after-milliseconds} 1000 and {@code
 * failover-timeout} 2000, so that a killed primary is replaced within a few seconds.
 */
final class RedisSentinelGroup implements AutoCloseable {

  static final String MASTER = "mymaster";

  private final RedisServerProcess primary;
  private final RedisServerProcess replica;
  private final List<Sentinel> sentinels = new ArrayList<>();
  private final RedisClient inspector = RedisClient.create();

  private RedisSentinelGroup(String... primaryArgs) {
    primary = RedisServerProcess.start(primaryArgs);
    replica =
        RedisServerProcess.start("--replicaof", "127.0.0.1", Integer.toString(primary.port()));
    try {
      for (int i = 0; i < 3; i++) {
        sentinels.add(new Sentinel(primary.port()));
      }
    } catch (RuntimeException | Error e) {
      close();
      throw e;
    }
  }

  /**
   * Starts the group and waits until every sentinel knows the replica and the two other sentinels
   * (they can then agree on a failover) and the replica is in sync.
   */
  static RedisSentinelGroup start(String... primaryArgs) {
    RedisSentinelGroup g = new RedisSentinelGroup(primaryArgs);
    try {
      await(
          "the replica to sync",
          () -> "up".equals(info(g.commands(g.replica), "master_link_status")));
      for (Sentinel s : g.sentinels) {
        RedisSentinelCommands<String, String> c = g.sentinel(s.port);
        await(
            "sentinel " + s.port + " to know the replica and the other sentinels",
            () -> {
              Map<String, String> m = c.master(MASTER);
              return "1".equals(m.get("num-slaves")) && "2".equals(m.get("num-other-sentinels"));
            });
      }
      return g;
    } catch (RuntimeException | Error e) {
      g.close();
      throw e;
    }
  }

  RedisServerProcess primary() {
    return primary;
  }

  RedisServerProcess replica() {
    return replica;
  }

  /** The URI clients use: the three sentinels and the master's name. */
  RedisURI uri() {
    RedisURI.Builder b = RedisURI.Builder.sentinel("127.0.0.1", sentinels.get(0).port, MASTER);
    for (int i = 1; i < sentinels.size(); i++) {
      b.withSentinel("127.0.0.1", sentinels.get(i).port);
    }
    return b.build();
  }

  /** A direct connection to one server (not through the sentinels), for the test to inspect. */
  RedisCommands<String, String> commands(RedisServerProcess server) {
    return commands(server.port());
  }

  private RedisCommands<String, String> commands(int port) {
    StatefulRedisConnection<String, String> c =
        inspector.connect(
            RedisURI.builder()
                .withHost("127.0.0.1")
                .withPort(port)
                .withTimeout(Duration.ofSeconds(5))
                .build());
    return c.sync();
  }

  private RedisSentinelCommands<String, String> sentinel(int port) {
    return inspector
        .connectSentinel(
            RedisURI.builder()
                .withHost("127.0.0.1")
                .withPort(port)
                .withTimeout(Duration.ofSeconds(5))
                .build())
        .sync();
  }

  /**
   * Waits until every sentinel names the replica as the master and the replica says it is one: the
   * failover after the primary was killed is over.
   */
  void awaitReplicaPromoted() {
    List<RedisSentinelCommands<String, String>> cs = new ArrayList<>();
    for (Sentinel s : sentinels) {
      cs.add(sentinel(s.port));
    }
    RedisCommands<String, String> r = commands(replica);
    await(
        "the sentinels to promote the replica",
        () -> {
          for (RedisSentinelCommands<String, String> c : cs) {
            var addr = (java.net.InetSocketAddress) c.getMasterAddrByName(MASTER);
            if (addr == null || addr.getPort() != replica.port()) {
              return false;
            }
          }
          return "master".equals(info(r, "role"));
        });
  }

  /** {@code SENTINEL FAILOVER}: the sentinels promote the replica while the primary still runs. */
  void forceFailover() {
    sentinel(sentinels.get(0).port).failover(MASTER);
  }

  /** Waits until {@code server} reports {@code role} ({@code master} or {@code slave}). */
  void awaitRole(RedisServerProcess server, String role) {
    RedisCommands<String, String> c = commands(server);
    await(server.port() + " to be a " + role, () -> role.equals(info(c, "role")));
  }

  static String info(RedisCommands<String, String> c, String field) {
    for (String line : c.info("replication").lines().toList()) {
      if (line.startsWith(field + ":")) {
        return line.substring(field.length() + 1).trim();
      }
    }
    return "";
  }

  static void await(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(25);
    while (true) {
      try {
        if (condition.getAsBoolean()) {
          return;
        }
      } catch (RuntimeException e) {
        // not yet: a server starting or stopping
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  @Override
  public void close() {
    inspector.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    for (Sentinel s : sentinels) {
      s.close();
    }
    replica.close();
    primary.close();
  }

  /** One {@code redis-server --sentinel} process with its configuration in its own directory. */
  private static final class Sentinel implements AutoCloseable {
    final int port;
    final Path dir;
    final Process process;

    Sentinel(int primaryPort) {
      try {
        port = RedisServerProcess.freePort();
        dir = Files.createTempDirectory("mailtls-sentinel");
        Path conf = dir.resolve("sentinel.conf");
        Files.writeString(
            conf,
            String.join(
                "\n",
                "port " + port,
                "bind 127.0.0.1",
                "daemonize no",
                "dir " + dir,
                "logfile " + dir.resolve("sentinel.log"),
                "sentinel monitor " + MASTER + " 127.0.0.1 " + primaryPort + " 2",
                "sentinel down-after-milliseconds " + MASTER + " 1000",
                "sentinel failover-timeout " + MASTER + " 2000",
                "sentinel parallel-syncs " + MASTER + " 1",
                ""),
            StandardCharsets.US_ASCII);
        process =
            new ProcessBuilder(
                    RedisServerProcess.binary().toString(), conf.toString(), "--sentinel")
                .redirectErrorStream(true)
                .start();
        process.getOutputStream().close();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      await(
          "sentinel on port " + port + " to start",
          () -> {
            if (!process.isAlive()) {
              throw new AssertionError("redis sentinel exited: " + log());
            }
            try (java.net.Socket sock = new java.net.Socket()) {
              sock.connect(
                  new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), port),
                  500);
              sock.setSoTimeout(1000);
              sock.getOutputStream().write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
              byte[] buf = new byte[16];
              int n = sock.getInputStream().read(buf);
              return n > 0 && new String(buf, 0, n, StandardCharsets.US_ASCII).startsWith("+PONG");
            } catch (IOException e) {
              return false;
            }
          });
    }

    private String log() {
      try {
        Path log = dir.resolve("sentinel.log");
        return Files.exists(log) ? Files.readString(log) : "";
      } catch (IOException e) {
        return e.toString();
      }
    }

    @Override
    public void close() {
      process.destroyForcibly();
      try {
        process.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      try (var files = Files.walk(dir)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      } catch (IOException e) {
        // a temporary directory; nothing to do
      }
    }
  }
}
