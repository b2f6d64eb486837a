package io.mailtls.benchmarks;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Runs contenders against one peer in interleaved rounds: round r runs every contender once, for
 * the same time, in an order rotated by r, so that a slow spell of a shared machine hits each about
 * equally and the ratios of one run hold. Counts messages, errors, this process's CPU time (the
 * client's: the peer is another process) and the peer's counters over each run.
 */
public final class Rounds {

  /** The CSV columns of the end-to-end drivers. */
  public static final List<String> COLUMNS =
      List.of(
          "benchmark",
          "scenario",
          "client",
          "input",
          "size_bytes",
          "threads",
          "domains",
          "round",
          "seconds",
          "messages",
          "errors",
          "msg_per_s",
          "client_cpu_us_per_msg",
          "peer_messages",
          "peer_cpu_us_per_msg",
          "connections",
          "dns_queries_per_msg",
          "policy_fetches");

  /** The CSV columns of the ratio files. */
  public static final List<String> RATIO_COLUMNS =
      List.of(
          "benchmark",
          "size_bytes",
          "numerator",
          "denominator",
          "msg_per_s_ratio",
          "min_round_ratio",
          "max_round_ratio",
          "client_cpu_per_msg_ratio");

  /** One way of sending: a client, an input and a message size. */
  public abstract static class Contender implements AutoCloseable {
    final String scenario;
    final String client;
    final String input;
    final int size;
    final int domains;

    protected Contender(String scenario, String client, String input, int size, int domains) {
      this.scenario = scenario;
      this.client = client;
      this.input = input;
      this.size = size;
      this.domains = domains;
    }

    /** Sends one message from client thread {@code thread}; true when it was delivered. */
    protected abstract boolean send(int thread) throws Exception;

    /** Releases what the contender holds; failures to close are not the benchmark's concern. */
    @Override
    public void close() {}

    public String key() {
      return scenario + "@" + size;
    }
  }

  /** What one run (or the sum of runs) of a contender measured. */
  public static final class Result {
    long nanos;
    long messages;
    long errors;
    long cpuNanos;
    long peerMessages;
    long peerCpuNanos;
    long connections;
    long dnsQueries;
    long fetches;
    final List<Double> roundRates = new ArrayList<>();

    void add(Result r) {
      nanos += r.nanos;
      messages += r.messages;
      errors += r.errors;
      cpuNanos += r.cpuNanos;
      peerMessages += r.peerMessages;
      peerCpuNanos += r.peerCpuNanos;
      connections += r.connections;
      dnsQueries += r.dnsQueries;
      fetches += r.fetches;
      roundRates.add(r.rate());
    }

    public double rate() {
      return nanos == 0 ? 0 : messages * 1e9 / nanos;
    }

    public double cpuMicrosPerMessage() {
      return messages == 0 ? Double.NaN : cpuNanos / 1e3 / messages;
    }

    public long messages() {
      return messages;
    }
  }

  private final String benchmark;
  private final PeerProcess peer;
  private final int threads;
  private final Csv csv;
  private final Map<String, Result> totals = new LinkedHashMap<>();
  private volatile Throwable firstError;
  private final AtomicLong errorsPrinted = new AtomicLong();

  public Rounds(String benchmark, PeerProcess peer, int threads, Csv csv) {
    this.benchmark = benchmark;
    this.peer = peer;
    this.threads = threads;
    this.csv = csv;
  }

  private static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  /**
   * Runs {@code warmupSeconds} of each contender unrecorded, then {@code rounds} rounds of {@code
   * secondsPerRound} each, writing a row per contender and round and one row per contender for all
   * rounds ({@code round = all}).
   */
  public Map<String, Result> run(
      List<? extends Contender> contenders,
      double warmupSeconds,
      int rounds,
      double secondsPerRound)
      throws InterruptedException {
    if (warmupSeconds > 0) {
      for (Contender c : contenders) {
        once(c, warmupSeconds);
      }
    }
    for (Contender c : contenders) {
      totals.put(c.key(), new Result());
    }
    for (int r = 0; r < rounds; r++) {
      for (int i = 0; i < contenders.size(); i++) {
        Contender c = contenders.get((i + r) % contenders.size());
        Result res = once(c, secondsPerRound);
        totals.get(c.key()).add(res);
        row(c, Integer.toString(r + 1), res);
      }
    }
    for (Contender c : contenders) {
      row(c, "all", totals.get(c.key()));
    }
    return totals;
  }

  private void row(Contender c, String round, Result r) {
    csv.row(
        benchmark,
        c.scenario,
        c.client,
        c.input,
        c.size,
        threads,
        c.domains,
        round,
        r.nanos / 1e9,
        r.messages,
        r.errors,
        r.rate(),
        r.cpuMicrosPerMessage(),
        r.peerMessages,
        r.messages == 0 ? Double.NaN : r.peerCpuNanos / 1e3 / r.messages,
        r.connections,
        r.messages == 0 ? Double.NaN : (double) r.dnsQueries / r.messages,
        r.fetches);
  }

  /** One timed run of a contender on {@link #threads} threads. */
  public Result once(Contender c, double seconds) throws InterruptedException {
    long deadline;
    AtomicLong ok = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    CountDownLatch go = new CountDownLatch(1);
    List<Thread> workers = new ArrayList<>();
    long[] end = new long[1];
    for (int t = 0; t < threads; t++) {
      int id = t;
      Thread w =
          new Thread(
              () -> {
                try {
                  go.await();
                } catch (InterruptedException e) {
                  return;
                }
                long stop = end[0];
                while (System.nanoTime() < stop) {
                  try {
                    if (c.send(id)) {
                      ok.incrementAndGet();
                    } else {
                      failed.incrementAndGet();
                      report(c, null);
                    }
                  } catch (Exception | Error e) {
                    failed.incrementAndGet();
                    report(c, e);
                  }
                }
              },
              "client-" + c.scenario + "-" + t);
      workers.add(w);
      w.start();
    }
    Map<String, Long> before = peer.stats();
    long cpu0 = processCpuNanos();
    long t0 = System.nanoTime();
    deadline = t0 + (long) (seconds * 1e9);
    end[0] = deadline;
    go.countDown();
    for (Thread w : workers) {
      w.join();
    }
    long t1 = System.nanoTime();
    long cpu1 = processCpuNanos();
    Map<String, Long> after = peer.stats();
    Result r = new Result();
    r.nanos = t1 - t0;
    r.messages = ok.get();
    r.errors = failed.get();
    r.cpuNanos = cpu1 - cpu0;
    r.peerMessages = after.get("messages") - before.get("messages");
    r.peerCpuNanos = after.get("cpu_ns") - before.get("cpu_ns");
    r.connections = after.get("connections") - before.get("connections");
    r.dnsQueries = after.get("dns_queries") - before.get("dns_queries");
    r.fetches = after.get("sts_requests") - before.get("sts_requests");
    return r;
  }

  private void report(Contender c, Throwable e) {
    if (e != null && firstError == null) {
      firstError = e;
    }
    if (errorsPrinted.incrementAndGet() <= 5) {
      System.err.println("[" + c.scenario + "] not delivered" + (e == null ? "" : ": " + e));
    }
  }

  /**
   * Writes the ratio of two contenders' totals (numerator over denominator), with the smallest and
   * largest ratio of a single round.
   */
  public static void ratio(
      Csv out,
      String benchmark,
      int size,
      String numerator,
      String denominator,
      Map<String, Result> totals) {
    Result n = totals.get(numerator + "@" + size);
    Result d = totals.get(denominator + "@" + size);
    if (n == null || d == null) {
      throw new IllegalArgumentException("no totals for " + numerator + " or " + denominator);
    }
    double min = Double.MAX_VALUE;
    double max = 0;
    for (int i = 0; i < n.roundRates.size(); i++) {
      double ratio = n.roundRates.get(i) / d.roundRates.get(i);
      min = Math.min(min, ratio);
      max = Math.max(max, ratio);
    }
    out.row(
        benchmark,
        size,
        numerator,
        denominator,
        n.rate() / d.rate(),
        min,
        max,
        n.cpuMicrosPerMessage() / d.cpuMicrosPerMessage());
  }
}
