package io.mailtls.benchmarks.peer;

import io.mailtls.benchmarks.Args;
import io.mailtls.testkit.TestPki;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.xbill.DNS.Type;

/**
 * The other side of every end-to-end benchmark, in a JVM of its own so that the client's process
 * CPU time is the client's alone: the {@link SmtpSink} and, with {@code --domains}, the signed DNS
 * and MTA-STS {@link World} in front of it. The PKI is made here; the client gets its root as a
 * PKCS#12 trust store, the sink's chain as PEM and the DNS trust anchor in {@code --workdir}.
 *
 * <p>Started by {@link io.mailtls.benchmarks.PeerProcess}. It prints one line {@code ready
 * key=value ...} and then answers commands on standard input, one line each:
 *
 * <ul>
 *   <li>{@code stats}: {@code stats messages=.. bytes=.. connections=.. handshakes=..
 *       dns_queries=.. sts_requests=.. cpu_ns=..}
 *   <li>{@code count NAME TYPE}: how many DNS queries for that name and type were logged
 *   <li>{@code fetches DOMAIN}: how many times that domain's policy was requested
 *   <li>{@code dump FILE}: writes the DNS query log (time, type, name) to FILE in the workdir
 *   <li>{@code clear}: empties the DNS query log and the MTA-STS request log
 *   <li>{@code quit} (or end of input): stops
 * </ul>
 */
public final class Peer {

  /** The password of the PKCS#12 files the peer writes. */
  public static final String PASSWORD = "benchmark";

  private Peer() {}

  /**
   * Options: {@code --workdir DIR} (required), {@code --mx-hosts K} (addresses 127.0.0.11.. for the
   * sink besides 127.0.0.1; default 4), {@code --domains N} (start the DNS and MTA-STS world with N
   * recipient domains besides one.test; default none), {@code --dns-latency-ms}, {@code
   * --sts-latency-ms}.
   */
  public static void main(String[] argv) throws Exception {
    Args args = new Args(argv);
    Path work = Path.of(args.string("workdir", null));
    int mxHosts = args.integer("mx-hosts", 4);
    int domains = args.integer("domains", -1);
    Duration dnsLatency = Duration.ofMillis(args.integer("dns-latency-ms", 0));
    Duration stsLatency = Duration.ofMillis(args.integer("sts-latency-ms", 0));
    Duration ttl = Duration.ofSeconds(args.integer("ttl-s", 300));
    args.done();
    // Standard output is the control channel: nothing else may write to it.
    PrintStream control =
        new PrintStream(
            new java.io.FileOutputStream(java.io.FileDescriptor.out), true, StandardCharsets.UTF_8);
    System.setOut(System.err);

    TestPki pki = TestPki.create();
    TestPki.Ca inter = pki.root().intermediate("mailtls benchmark intermediate");
    List<String> names = new ArrayList<>(List.of("localhost", "mx.bench.test"));
    for (int k = 1; k <= mxHosts; k++) {
      names.add("mx" + k + "." + World.PROVIDER);
    }
    TestPki.Issued leaf = inter.leaf().dnsNames(names.toArray(String[]::new)).issue();
    Files.createDirectories(work);
    KeyStore trust = pki.trustStore();
    try (OutputStream o = Files.newOutputStream(work.resolve("truststore.p12"))) {
      KeyStore p12 = KeyStore.getInstance("PKCS12");
      p12.load(null, null);
      for (String alias : java.util.Collections.list(trust.aliases())) {
        p12.setCertificateEntry(alias, trust.getCertificate(alias));
      }
      p12.store(o, PASSWORD.toCharArray());
    }
    Files.writeString(work.resolve("sink-chain.pem"), leaf.chainPem());

    List<InetAddress> addresses = new ArrayList<>();
    addresses.add(InetAddress.getByAddress(new byte[] {127, 0, 0, 1}));
    for (int k = 1; k <= mxHosts; k++) {
      addresses.add(InetAddress.getByAddress(new byte[] {127, 0, 0, (byte) (10 + k)}));
    }
    SmtpSink sink = SmtpSink.start(addresses, 0, leaf.serverSslContext(), "mx.bench.test");
    World world = null;
    StringBuilder ready = new StringBuilder("ready smtp_port=").append(sink.port());
    if (domains >= 0) {
      long t0 = System.nanoTime();
      world = new World(pki, leaf.spkiSha256(), domains, mxHosts, dnsLatency, stsLatency, ttl);
      Files.writeString(work.resolve("dns-anchor.txt"), world.dns.trustAnchor());
      ready
          .append(" dns_port=")
          .append(world.dns.port())
          .append(" sts_port=")
          .append(world.sts.port())
          .append(" world_ms=")
          .append((System.nanoTime() - t0) / 1_000_000);
    }
    control.println(ready);

    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    String line;
    try {
      while ((line = in.readLine()) != null) {
        String[] cmd = line.trim().split(" +", -1);
        switch (cmd[0]) {
          case "stats" ->
              control.println(
                  "stats messages="
                      + sink.messages()
                      + " bytes="
                      + sink.bytes()
                      + " connections="
                      + sink.connections()
                      + " handshakes="
                      + sink.handshakes()
                      + " dns_queries="
                      + (world == null ? 0 : world.dns.totalQueryCount())
                      + " sts_requests="
                      + (world == null ? 0 : world.sts.requests().size())
                      + " cpu_ns="
                      + os.getProcessCpuTime());
          case "count" ->
              control.println(
                  "count "
                      + (world == null ? 0 : world.dns.queryCount(cmd[1], Type.value(cmd[2]))));
          case "fetches" ->
              control.println("fetches " + (world == null ? 0 : world.sts.requestCount(cmd[1])));
          case "dump" -> {
            // the DNS query log, one query a line with its time: for reading a plan's chain
            StringBuilder sb = new StringBuilder();
            if (world != null) {
              for (var q : world.dns.queries()) {
                sb.append(q.time())
                    .append(' ')
                    .append(Type.string(q.type()))
                    .append(' ')
                    .append(q.name())
                    .append(' ')
                    .append(q.transport())
                    .append('\n');
              }
            }
            Files.writeString(work.resolve(cmd[1]), sb);
            control.println("dumped");
          }
          case "clear" -> {
            if (world != null) {
              world.dns.clearQueryLog();
              world.sts.clearRequests();
            }
            control.println("cleared");
          }
          case "quit" -> {
            return;
          }
          default -> control.println("error unknown command " + cmd[0]);
        }
      }
    } catch (IOException e) {
      // the driver went away: stop
    } finally {
      sink.close();
      if (world != null) {
        world.close();
      }
      control.println("bye");
      System.exit(0); // the MTA-STS server's threads would keep the JVM alive
    }
  }
}
