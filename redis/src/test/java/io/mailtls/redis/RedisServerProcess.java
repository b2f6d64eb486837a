package io.mailtls.redis;

import io.lettuce.core.RedisURI;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code redis-server} for the tests: its own process on 127.0.0.1 and a free port, its data
 * in a temporary directory, no persistence, never the system instance on 6379. It can be killed
 * (SIGKILL), frozen (SIGSTOP, a Redis that accepts connections and never answers) and restarted on
 * the same port. The binary is {@code redis-server} from the PATH, or {@code -Dredis.server=...};
 * when there is none the test fails, saying how to install it ({@code .ci/run} does).
 */
final class RedisServerProcess implements AutoCloseable {

  private final Path binary;
  private final Path dir;
  private final int port;
  private final List<String> extraArgs;
  private Process process;

  private RedisServerProcess(Path binary, Path dir, int port, List<String> extraArgs) {
    this.binary = binary;
    this.dir = dir;
    this.port = port;
    this.extraArgs = extraArgs;
    this.process = launch();
  }

  /** Starts a server on a free loopback port. */
  static RedisServerProcess start(String... extraArgs) {
    try {
      return new RedisServerProcess(
          binary(), Files.createTempDirectory("mailtls-redis"), freePort(), List.of(extraArgs));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static Path binary() {
    String configured = System.getProperty("redis.server");
    if (configured != null && !configured.isBlank()) {
      Path p = Path.of(configured);
      if (Files.isExecutable(p)) {
        return p;
      }
      throw new AssertionError("-Dredis.server=" + configured + " is not an executable file");
    }
    String path = System.getenv().getOrDefault("PATH", "");
    List<String> dirs = new ArrayList<>(List.of(path.split(java.io.File.pathSeparator)));
    dirs.add("/usr/bin");
    dirs.add("/usr/sbin");
    dirs.add("/usr/local/bin");
    for (String d : dirs) {
      if (d.isEmpty()) {
        continue;
      }
      Path p = Path.of(d, "redis-server");
      if (Files.isExecutable(p)) {
        return p;
      }
    }
    throw new AssertionError(
        "redis-server not found on the PATH: the mailtls-redis tests need a real Redis. Install"
            + " it (Debian: apt-get install redis-server; .ci/run does) or pass"
            + " -Dredis.server=/path/to/redis-server");
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      int port = s.getLocalPort();
      if (port == 6379) {
        return freePort();
      }
      return port;
    }
  }

  private Process launch() {
    List<String> cmd = new ArrayList<>();
    cmd.add(binary.toString());
    cmd.addAll(
        List.of(
            "--bind", "127.0.0.1",
            "--port", Integer.toString(port),
            "--dir", dir.toString(),
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
            "--logfile", dir.resolve("redis.log").toString()));
    cmd.addAll(extraArgs);
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      p.getOutputStream().close();
      awaitPing(p);
      return p;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void awaitPing(Process p) throws IOException {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (System.nanoTime() < deadline) {
      if (!p.isAlive()) {
        throw new AssertionError(
            "redis-server exited with " + p.exitValue() + ": " + log() + output(p));
      }
      if (answersPing()) {
        return;
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException(e);
      }
    }
    p.destroyForcibly();
    throw new AssertionError("redis-server did not answer PING on port " + port + ": " + log());
  }

  /** Whether the server answers an inline PING with +PONG or a -NOAUTH error (it runs). */
  private boolean answersPing() {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 500);
      s.setSoTimeout(1000);
      OutputStream out = s.getOutputStream();
      out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      byte[] buf = new byte[64];
      int n = in.read(buf);
      String reply = n > 0 ? new String(buf, 0, n, StandardCharsets.US_ASCII) : "";
      return reply.startsWith("+PONG") || reply.startsWith("-NOAUTH");
    } catch (IOException e) {
      return false;
    }
  }

  private String log() {
    try {
      Path log = dir.resolve("redis.log");
      return Files.exists(log) ? Files.readString(log) : "";
    } catch (IOException e) {
      return e.toString();
    }
  }

  private static String output(Process p) {
    try {
      return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return e.toString();
    }
  }

  int port() {
    return port;
  }

  RedisURI uri() {
    return RedisURI.create("redis://127.0.0.1:" + port);
  }

  /** Kills the server with SIGKILL: no shutdown, its data (all in memory) gone. */
  void kill() {
    process.destroyForcibly();
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Starts the server again, empty, on the same port. */
  void restart() {
    if (process.isAlive()) {
      kill();
    }
    process = launch();
  }

  /** SIGSTOP: the server keeps its connections and answers nothing until {@link #resume()}. */
  void freeze() {
    signal("STOP");
  }

  /** SIGCONT after {@link #freeze()}. */
  void resume() {
    signal("CONT");
  }

  private void signal(String name) {
    try {
      Process kill =
          new ProcessBuilder("kill", "-" + name, Long.toString(process.pid()))
              .redirectErrorStream(true)
              .start();
      if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
        throw new AssertionError("kill -" + name + " failed: " + output(kill));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  @Override
  public void close() {
    kill(); // SIGKILL ends a frozen server too
    try (var files = Files.walk(dir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // a temporary directory; nothing to do
    }
  }
}
