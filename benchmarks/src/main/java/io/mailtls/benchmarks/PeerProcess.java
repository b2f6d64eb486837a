package io.mailtls.benchmarks;

import io.mailtls.benchmarks.peer.Peer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The driver's handle on a {@link Peer} JVM: started with the driver's own class path, talked to
 * over its standard input and output, its standard error written to {@code peer.log} in the work
 * directory.
 */
public final class PeerProcess implements AutoCloseable {

  private final Process process;
  private final PrintWriter commands;
  private final BufferedReader replies;
  private final Path work;
  private final Map<String, Long> ready;

  private PeerProcess(Process process, Path work) throws IOException {
    this.process = process;
    this.work = work;
    this.commands = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
    this.replies =
        new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    String line = replies.readLine();
    // A JVM agent (a profiler) may print on the same output before the peer is ready.
    while (line != null && !line.startsWith("ready ") && !line.startsWith("error ")) {
      line = replies.readLine();
    }
    if (line == null || !line.startsWith("ready ")) {
      process.destroyForcibly();
      throw new IOException(
          "the peer did not start ("
              + line
              + "); see "
              + work.resolve("peer.log")
              + ":\n"
              + tail(work.resolve("peer.log")));
    }
    this.ready = parse(line);
  }

  /**
   * Starts a peer with {@code options} (see {@link Peer#main}) and waits until it is ready.
   *
   * @param jvmOptions options for the peer JVM, e.g. {@code -Xmx2g}
   */
  public static PeerProcess start(Path work, List<String> jvmOptions, String... options)
      throws IOException {
    Files.createDirectories(work);
    List<String> cmd = new ArrayList<>();
    cmd.add(javaBinary());
    cmd.addAll(jvmOptions);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(Peer.class.getName());
    cmd.add("--workdir");
    cmd.add(work.toString());
    cmd.addAll(List.of(options));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(work.resolve("peer.log").toFile());
    return new PeerProcess(pb.start(), work);
  }

  /** The java launcher of this JVM. */
  public static String javaBinary() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  /** A value of the peer's {@code ready} line, e.g. {@code smtp_port}. */
  public int port(String key) {
    Long v = ready.get(key);
    if (v == null) {
      throw new IllegalStateException("the peer did not say " + key + ": " + ready);
    }
    return v.intValue();
  }

  /** How long the peer took to build its DNS and MTA-STS world, in ms (0 without one). */
  public long worldMillis() {
    return ready.getOrDefault("world_ms", 0L);
  }

  /** The peer's counters ({@code messages}, {@code dns_queries}, {@code cpu_ns}, ...). */
  public synchronized Map<String, Long> stats() {
    return parse(ask("stats", "stats "));
  }

  /** How many DNS queries for {@code name} and {@code type} (e.g. "TXT") the peer logged. */
  public synchronized long dnsQueries(String name, String type) {
    return Long.parseLong(ask("count " + name + " " + type, "count ").substring("count ".length()));
  }

  /** How many times {@code domain}'s MTA-STS policy was requested. */
  public synchronized long policyFetches(String domain) {
    return Long.parseLong(ask("fetches " + domain, "fetches ").substring("fetches ".length()));
  }

  /** Writes the peer's DNS query log to {@code file} in the work directory. */
  public synchronized Path dumpQueryLog(String file) {
    ask("dump " + file, "dumped");
    return work.resolve(file);
  }

  /** Empties the peer's DNS query log and MTA-STS request log. */
  public synchronized void clearLogs() {
    ask("clear", "cleared");
  }

  /** The root of the peer's PKI as a trust store (PKIX for the relay and MTA-STS). */
  public KeyStore trustStore() {
    try (InputStream in = Files.newInputStream(work.resolve("truststore.p12"))) {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(in, Peer.PASSWORD.toCharArray());
      return ks;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The PKCS#12 trust store file (for Angus Mail's trust configuration). */
  public Path trustStoreFile() {
    return work.resolve("truststore.p12");
  }

  /** The chain the sink presents, leaf first. */
  public List<X509Certificate> sinkChain() {
    try (InputStream in = Files.newInputStream(work.resolve("sink-chain.pem"))) {
      List<X509Certificate> out = new ArrayList<>();
      for (var c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        out.add((X509Certificate) c);
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The DNS trust anchor (the root's DS record), when the peer runs a DNS world. */
  public String dnsTrustAnchor() {
    try {
      return Files.readString(work.resolve("dns-anchor.txt"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Sends {@code command} and returns the peer's reply, the first line that starts with {@code
   * reply}; a reply of {@code error} throws. Other lines are skipped: a JVM agent attached to the
   * peer (a profiler) prints its own messages on the same output.
   */
  private String ask(String command, String reply) {
    commands.println(command);
    try {
      String line = replies.readLine();
      while (line != null && !line.startsWith(reply) && !line.startsWith("error ")) {
        line = replies.readLine();
      }
      if (line == null) {
        throw new IllegalStateException(
            "the peer stopped; see "
                + work.resolve("peer.log")
                + ":\n"
                + tail(work.resolve("peer.log")));
      }
      if (line.startsWith("error ")) {
        throw new IllegalStateException("the peer refused \"" + command + "\": " + line);
      }
      return line;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Map<String, Long> parse(String line) {
    Map<String, Long> out = new HashMap<>();
    for (String part : line.split(" ", -1)) {
      int eq = part.indexOf('=');
      if (eq > 0) {
        out.put(part.substring(0, eq), Long.parseLong(part.substring(eq + 1)));
      }
    }
    return out;
  }

  private static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  @Override
  public void close() {
    try {
      commands.println("quit");
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
