package io.mailtls.benchmarks;

import io.mailtls.core.DeliveryPlan;
import io.mailtls.core.TransportPolicyResolver;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Planning at a distance (docs/benchmarks.md "Cold resolution"): the peer's DNS server holds every
 * response back {@code --latency-ms} (50 ms), and its MTA-STS server every policy response as long.
 * Every plan uses full policy (DNSSEC validation in process, MTA-STS, DANE).
 *
 * <ul>
 *   <li>{@code cold}: a new resolver stack per plan (no validated key, no policy cached), one new
 *       domain each;
 *   <li>{@code warm_keys_new_domain}: one stack that has planned another domain: the keys of {@code
 *       .}, {@code test.} and {@code provider.test} are cached, the domain's are not;
 *   <li>{@code warm_same_domain}: the same domain again: keys and policy cached (mailtls has no DNS
 *       answer cache, so MX, addresses, TLSA and TXT are asked again);
 *   <li>{@code concurrent}: {@code --callers} (1000) threads plan {@code one.test} at once on a new
 *       stack: how many TXT queries and policy fetches that makes.
 * </ul>
 *
 * Each row has the plan's longest dependent chain of round trips, counted from its structure
 * ({@link #expectedChain}), and the measured time divided by the latency.
 */
public final class ColdResolution {

  static final List<String> COLUMNS =
      List.of(
          "benchmark",
          "scenario",
          "sample",
          "domain",
          "callers",
          "latency_ms",
          "plan_ms",
          "structural_round_trips",
          "observed_dns_rounds",
          "measured_round_trips",
          "dns_queries",
          "mx_queries",
          "txt_queries",
          "policy_fetches",
          "plans_with_dane",
          "plans_with_mta_sts",
          "client_cpu_ms",
          "peer_cpu_ms");

  private ColdResolution() {}

  public static void main(String[] argv) throws Exception {
    run(argv);
    System.exit(0);
  }

  /**
   * Options: {@code --latency-ms} (50), {@code --samples} per scenario (10), {@code --callers}
   * (1000), {@code --out} (benchmarks/results/cold.csv), {@code --workdir}.
   *
   * @return the number of rows written
   */
  public static int run(String[] argv) throws Exception {
    Args args = new Args(argv);
    int latency = args.integer("latency-ms", 50);
    int samples = args.integer("samples", 10);
    int callers = args.integer("callers", 1000);
    Path out = Path.of(args.string("out", "benchmarks/results/cold.csv"));
    Path work =
        Path.of(args.string("workdir", Files.createTempDirectory("mailtls-cold").toString()));
    args.done();

    Csv csv = new Csv(out, COLUMNS);
    int rows = 0;
    // Domains 0..samples-1 for cold plans, samples..2*samples for the warm-key ones.
    try (PeerProcess peer =
        PeerProcess.start(
            work,
            List.of(),
            "--domains",
            Integer.toString(2 * samples + 1),
            "--mx-hosts",
            "4",
            "--dns-latency-ms",
            Integer.toString(latency),
            "--sts-latency-ms",
            Integer.toString(latency))) {
      KeyStore trust = peer.trustStore();
      InetSocketAddress dnsAt = new InetSocketAddress(Mailtls.loopback(), peer.port("dns_port"));
      String anchor = peer.dnsTrustAnchor();
      int stsPort = peer.port("sts_port");

      for (int i = 0; i < samples; i++) {
        try (Mailtls.Policies p =
            Mailtls.policies(Mailtls.dnssec(dnsAt, anchor), trust, stsPort, 1000)) {
          row(csv, peer, "cold", i, DirectMx.domain(i), latency, Mailtls.planner(p), true);
          rows++;
        }
      }
      try (Mailtls.Policies p =
          Mailtls.policies(Mailtls.dnssec(dnsAt, anchor), trust, stsPort, 1000)) {
        TransportPolicyResolver planner = Mailtls.planner(p);
        Mailtls.plan(planner, DirectMx.domain(samples));
        for (int i = 0; i < samples; i++) {
          row(
              csv,
              peer,
              "warm_keys_new_domain",
              i,
              DirectMx.domain(samples + 1 + i),
              latency,
              planner,
              false);
          rows++;
        }
        for (int i = 0; i < samples; i++) {
          row(csv, peer, "warm_same_domain", i, DirectMx.domain(samples), latency, planner, false);
          rows++;
        }
      }
      concurrent(csv, peer, dnsAt, anchor, trust, stsPort, latency, callers);
      rows++;
    }
    return rows;
  }

  private static void row(
      Csv csv,
      PeerProcess peer,
      String scenario,
      int sample,
      String domain,
      int latency,
      TransportPolicyResolver planner,
      boolean cold) {
    Map<String, Long> before = peer.stats();
    peer.clearLogs();
    long cpu0 = cpuNanos();
    long t0 = System.nanoTime();
    DeliveryPlan plan = Mailtls.plan(planner, domain);
    double ms = (System.nanoTime() - t0) / 1e6;
    Map<String, Long> after = peer.stats();
    Path log = peer.dumpQueryLog("queries-" + scenario + "-" + sample + ".txt");
    boolean sameDomainAgain = scenario.equals("warm_same_domain");
    csv.row(
        "cold",
        scenario,
        sample,
        domain,
        1,
        latency,
        ms,
        expectedChain(plan, cold, !sameDomainAgain),
        dnsRounds(log, latency),
        ms / latency,
        after.get("dns_queries") - before.get("dns_queries"),
        peer.dnsQueries(domain, "MX"),
        peer.dnsQueries("_mta-sts." + domain, "TXT"),
        peer.policyFetches(domain),
        Mailtls.daneFirst(plan) ? 1 : 0,
        Mailtls.stsApplied(plan) ? 1 : 0,
        (cpuNanos() - cpu0) / 1e6,
        (after.get("cpu_ns") - before.get("cpu_ns")) / 1e6);
  }

  /**
   * The longest dependent chain of round trips a plan of this structure makes, the larger of
   *
   * <ul>
   *   <li>MX: the MX query; the validator's key fetches for the domain's zone; the MX host's A and
   *       AAAA (in parallel, one round trip) with the key fetches for the host's zone; the TLSA
   *       query when DANE applies;
   *   <li>MTA-STS: the TXT query with the domain zone's key fetches; when the policy is fetched,
   *       the policy host's A and AAAA and the HTTPS fetch (counted as the one response delay the
   *       server injects).
   * </ul>
   *
   * Key fetches, sequential as dnsjava's validator makes them: cold, the root's DNSKEY, then DS and
   * DNSKEY for {@code test.} and for the domain's zone (5); with {@code .} and {@code test.}
   * cached, DS and DNSKEY of the domain's zone (2) unless it was validated before. The MX host's
   * zone ({@code provider.test}) adds its DS and DNSKEY when cold.
   */
  static int expectedChain(DeliveryPlan plan, boolean cold, boolean newDomain) {
    int domainKeys = cold ? 5 : newDomain ? 2 : 0;
    int hostKeys = cold ? 2 : 0;
    int mx = 1 + domainKeys + 1 + hostKeys + (Mailtls.daneFirst(plan) ? 1 : 0);
    int sts = 1 + domainKeys + (newDomain && Mailtls.stsApplied(plan) ? 2 : 0);
    return Math.max(mx, sts);
  }

  static long cpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean)
            java.lang.management.ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  /**
   * How many rounds of DNS queries a plan waited for, read from the peer's query log: with every
   * response held back one latency, a query sent within 80 % of a latency of the round's first
   * query went out in the same round (in parallel), a later one in a new round (it waited for an
   * answer, or for CPU).
   */
  static int dnsRounds(Path queryLog, int latencyMs) {
    List<java.time.Instant> times = new ArrayList<>();
    try {
      for (String line : Files.readAllLines(queryLog)) {
        if (!line.isBlank()) {
          times.add(java.time.Instant.parse(line.substring(0, line.indexOf(' '))));
        }
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    times.sort(null);
    int rounds = 0;
    java.time.Instant start = null;
    long window = latencyMs * 800_000L;
    for (java.time.Instant t : times) {
      if (start == null || java.time.Duration.between(start, t).toNanos() > window) {
        rounds++;
        start = t;
      }
    }
    return rounds;
  }

  private static void concurrent(
      Csv csv,
      PeerProcess peer,
      InetSocketAddress dnsAt,
      String anchor,
      KeyStore trust,
      int stsPort,
      int latency,
      int callers)
      throws Exception {
    try (Mailtls.Policies p =
        Mailtls.policies(Mailtls.dnssec(dnsAt, anchor), trust, stsPort, 1000)) {
      TransportPolicyResolver planner = Mailtls.planner(p);
      peer.clearLogs();
      Map<String, Long> before = peer.stats();
      CountDownLatch ready = new CountDownLatch(callers);
      CountDownLatch go = new CountDownLatch(1);
      AtomicInteger dane = new AtomicInteger();
      AtomicInteger sts = new AtomicInteger();
      List<Thread> threads = new ArrayList<>();
      for (int i = 0; i < callers; i++) {
        Thread t =
            new Thread(
                () -> {
                  ready.countDown();
                  try {
                    go.await();
                  } catch (InterruptedException e) {
                    return;
                  }
                  DeliveryPlan plan = Mailtls.plan(planner, "one.test");
                  if (Mailtls.daneFirst(plan)) {
                    dane.incrementAndGet();
                  }
                  if (Mailtls.stsApplied(plan)) {
                    sts.incrementAndGet();
                  }
                },
                "caller-" + i);
        t.setDaemon(true);
        threads.add(t);
        t.start();
      }
      ready.await();
      long cpu0 = cpuNanos();
      long t0 = System.nanoTime();
      go.countDown();
      for (Thread t : threads) {
        t.join();
      }
      double ms = (System.nanoTime() - t0) / 1e6;
      Map<String, Long> after = peer.stats();
      Path log = peer.dumpQueryLog("queries-concurrent.txt");
      csv.row(
          "cold",
          "concurrent",
          0,
          "one.test",
          callers,
          latency,
          ms,
          "",
          dnsRounds(log, latency),
          ms / latency,
          after.get("dns_queries") - before.get("dns_queries"),
          peer.dnsQueries("one.test", "MX"),
          peer.dnsQueries("_mta-sts.one.test", "TXT"),
          peer.policyFetches("one.test"),
          dane.get(),
          sts.get(),
          (cpuNanos() - cpu0) / 1e6,
          (after.get("cpu_ns") - before.get("cpu_ns")) / 1e6);
    }
  }
}
