package io.mailtls.benchmarks;

import io.mailtls.core.DeliveryPlan;
import io.mailtls.core.DnsAnswer;
import io.mailtls.core.DnsOutcome;
import io.mailtls.core.DnsRecord;
import io.mailtls.core.DnsRecordType;
import io.mailtls.core.DnsResolver;
import io.mailtls.core.DnssecState;
import io.mailtls.core.DomainName;
import io.mailtls.core.MessageContent;
import io.mailtls.core.MtaStsLookup;
import io.mailtls.core.MtaStsMode;
import io.mailtls.core.MtaStsPolicy;
import io.mailtls.core.MtaStsPolicySource;
import io.mailtls.core.NextHop;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.TransportPolicyResolver;
import io.mailtls.dane.DaneResolver;
import io.mailtls.mtasts.CachedPolicy;
import io.mailtls.mtasts.InMemoryPolicyStore;
import io.mailtls.testkit.TestDnsServer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Memory (docs/benchmarks.md "Memory"), each part in a child JVM with fixed flags:
 *
 * <ul>
 *   <li>{@code policy_cache}: retained heap per cached MTA-STS policy in an {@link
 *       InMemoryPolicyStore} of {@code --entries} (100,000) domains, each an {@code enforce} policy
 *       with two MX patterns; measured as heap in use after forced full collections ({@code
 *       -XX:+UseSerialGC}, fixed heap), before and after filling, divided by the entries;
 *   <li>{@code dns_answer_mx}, {@code dns_answer_a}: the same for {@link DnsAnswer}s held in a map
 *       keyed by name and type. mailtls has no DNS answer cache today; this is what one would hold
 *       per entry. The answers have the shape the validating resolver returns (checked against a
 *       real MX and A answer from the testkit's signed DNS), with a name per domain;
 *   <li>{@code plan_cache}: retained heap per cached plan in a {@link TransportPolicyResolver}'s
 *       plan cache of {@code --entries} next hops, each plan with its MX, A, AAAA, TLSA answers and
 *       MTA-STS policy ({@link CacheProbe#planner});
 *   <li>{@code stream}: a generated message of {@code --stream-mib} (1024) MiB sent through a relay
 *       transport to the sink under {@code -Xmx64m}: delivered or not, time, peak heap.
 * </ul>
 */
public final class Memory {

  static final List<String> COLUMNS =
      List.of(
          "benchmark",
          "measurement",
          "count",
          "retained_bytes",
          "bytes_per_entry",
          "seconds",
          "mib_per_s",
          "heap_max_mib",
          "heap_peak_mib",
          "delivered");

  private Memory() {}

  public static void main(String[] argv) throws Exception {
    run(argv);
    System.exit(0);
  }

  /**
   * Options: {@code --entries} (100000), {@code --stream-mib} (1024), {@code --out}
   * (benchmarks/results/memory.csv), {@code --workdir}.
   *
   * @return the rows written
   */
  public static List<Map<String, String>> run(String[] argv) throws Exception {
    Args args = new Args(argv);
    int entries = args.integer("entries", 100_000);
    int streamMib = args.integer("stream-mib", 1024);
    Path out = Path.of(args.string("out", "benchmarks/results/memory.csv"));
    Path work =
        Path.of(args.string("workdir", Files.createTempDirectory("mailtls-memory").toString()));
    args.done();
    Csv csv = new Csv(out, COLUMNS);
    List<Map<String, String>> rows = new ArrayList<>();
    for (String what : List.of("policy", "mx", "a", "plan")) {
      for (String line :
          child(
              List.of("-Xms1g", "-Xmx1g", "-XX:+UseSerialGC"),
              CacheProbe.class,
              "--entries",
              Integer.toString(entries),
              "--what",
              what)) {
        rows.add(emit(csv, line));
      }
    }
    try (PeerProcess peer = PeerProcess.start(work, List.of(), "--mx-hosts", "0")) {
      for (String line :
          child(
              List.of("-Xmx64m"),
              StreamProbe.class,
              "--port",
              Integer.toString(peer.port("smtp_port")),
              "--truststore",
              peer.trustStoreFile().toString(),
              "--mib",
              Integer.toString(streamMib))) {
        rows.add(emit(csv, line));
      }
    }
    return rows;
  }

  /** A result line {@code key=value ...} in the CSV's column order. */
  private static Map<String, String> emit(Csv csv, String line) {
    Map<String, String> v = new HashMap<>();
    for (String part : line.split(" ", -1)) {
      int eq = part.indexOf('=');
      v.put(part.substring(0, eq), part.substring(eq + 1));
    }
    Object[] row = new Object[COLUMNS.size()];
    for (int i = 0; i < row.length; i++) {
      row[i] = v.getOrDefault(COLUMNS.get(i), "");
    }
    csv.row(row);
    return v;
  }

  /** Runs {@code main} in a child JVM and returns its result lines ({@code benchmark=...}). */
  private static List<String> child(List<String> jvm, Class<?> main, String... args)
      throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(PeerProcess.javaBinary());
    cmd.addAll(jvm);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(main.getName());
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    List<String> results = new ArrayList<>();
    try (BufferedReader r =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        if (line.startsWith("benchmark=")) {
          results.add(line);
        }
      }
    }
    if (!p.waitFor(30, TimeUnit.MINUTES) || p.exitValue() != 0) {
      throw new IllegalStateException(
          main.getSimpleName() + " failed (exit " + (p.isAlive() ? "none" : p.exitValue()) + ")");
    }
    return results;
  }

  /** Heap in use after full collections, until it stops shrinking. */
  static long settledHeap() throws InterruptedException {
    Runtime rt = Runtime.getRuntime();
    long last = Long.MAX_VALUE;
    for (int i = 0; i < 10; i++) {
      System.gc();
      Thread.sleep(50);
      long used = rt.totalMemory() - rt.freeMemory();
      if (used >= last) {
        return used;
      }
      last = used;
    }
    return last;
  }

  /** The child JVM of the cache measurements. */
  public static final class CacheProbe {
    /** The structure being measured: reachable until its heap is read. */
    static volatile Object kept;

    private CacheProbe() {}

    @SuppressWarnings("ReferenceEquality") // the same plan object again: a plan-cache hit
    public static void main(String[] argv) throws Exception {
      Args args = new Args(argv);
      int n = args.integer("entries", 100_000);
      String what = args.string("what", null);
      args.done();
      Instant now = Instant.now();
      // One structure per JVM: whatever the set-up leaves behind (the DNS server of the real
      // answers, loaded classes) is in the heap before the baseline is read.
      DnsAnswer template =
          switch (what) {
            case "policy", "plan" -> null;
            case "mx" -> realAnswers()[0];
            case "a" -> realAnswers()[1];
            default -> throw new IllegalArgumentException("--what policy, mx, a or plan: " + what);
          };
      long before = settledHeap();
      int count;
      if (what.equals("plan")) {
        TransportPolicyResolver planner = planner(n + 1);
        kept = planner;
        for (int i = 0; i < n; i++) {
          DeliveryPlan p = Mailtls.plan(planner, String.format(Locale.ROOT, "d%06d.test", i));
          if (!Mailtls.daneFirst(p) || !Mailtls.stsApplied(p)) {
            throw new IllegalStateException("not a DANE and MTA-STS plan: " + p.reasons());
          }
        }
        // every plan is a hit now: the cache holds them all
        count = 0;
        for (int i = 0; i < n; i++) {
          NextHop hop =
              new NextHop.Domain(DomainName.of(String.format(Locale.ROOT, "d%06d.test", i)));
          DeliveryPlan again = planner.plan(hop, TlsLevel.OPPORTUNISTIC);
          count += again == planner.plan(hop, TlsLevel.OPPORTUNISTIC) ? 1 : 0;
        }
      } else if (template == null) {
        InMemoryPolicyStore store = new InMemoryPolicyStore(n + 1);
        kept = store;
        for (int i = 0; i < n; i++) {
          String d = String.format(Locale.ROOT, "d%06d.test", i);
          // With its text, as a fetched policy is cached (RFC 8460 §4.5: reports name it).
          MtaStsPolicy p =
              new MtaStsPolicy(
                      "20260101T00000" + i,
                      MtaStsMode.ENFORCE,
                      List.of("mx1." + d, "*.mx." + d),
                      Duration.ofDays(7))
                  .withText(
                      "version: STSv1\r\nmode: enforce\r\nmx: mx1."
                          + d
                          + "\r\nmx: *.mx."
                          + d
                          + "\r\nmax_age: 604800\r\n");
          store.put(DomainName.of(d), CachedPolicy.fetched(p, now));
        }
        count = store.size();
      } else {
        Map<Object, DnsAnswer> cache = new ConcurrentHashMap<>();
        kept = cache;
        for (int i = 0; i < n; i++) {
          DomainName name = DomainName.of(String.format(Locale.ROOT, "d%06d.test", i));
          cache.put(List.of(name, template.type()), like(template, name, i));
        }
        count = cache.size();
      }
      long after = settledHeap();
      if (count != n) {
        throw new IllegalStateException("the structure holds " + count + ", not " + n);
      }
      print(
          what.equals("plan")
              ? "plan_cache"
              : template == null
                  ? "policy_cache"
                  : "dns_answer_" + template.type().name().toLowerCase(Locale.ROOT),
          n,
          after - before);
      System.out.println("done " + (kept != null));
      System.exit(0);
    }

    private static void print(String what, int n, long bytes) {
      System.out.println(
          String.format(
              Locale.ROOT,
              "benchmark=memory measurement=%s count=%d"
                  + " retained_bytes=%d bytes_per_entry=%.1f heap_max_mib=%d",
              what,
              n,
              bytes,
              (double) bytes / n,
              Runtime.getRuntime().maxMemory() >> 20));
    }

    /**
     * A planner with a plan cache of {@code size} next hops over answers shaped as the validating
     * resolver's (secure, one-hour TTL) from a table in memory: {@code dN.test} has the MX host
     * {@code mx1.dN.test} (one host per domain, none shared: the most a plan can hold on its own),
     * an A record, no AAAA, a DANE-EE TLSA record, and an {@code enforce} MTA-STS policy. The
     * answers, TLSA records and policy a plan refers to are counted with it (in a real resolver the
     * DNS answer cache and policy store hold the same objects).
     */
    static TransportPolicyResolver planner(int size) {
      Duration ttl = Duration.ofHours(1);
      DnsResolver dns =
          (name, type) -> {
            String n = name.toString();
            String domain =
                n.startsWith("_25._tcp.mx1.")
                    ? n.substring(13)
                    : n.startsWith("mx1.") ? n.substring(4) : n;
            int i = Integer.parseInt(domain.substring(1, 7));
            DnsAnswer.Builder b;
            switch (type) {
              case MX ->
                  b =
                      DnsAnswer.builder(name, type, DnsOutcome.DATA, DnssecState.SECURE)
                          .records(List.of(new DnsRecord.Mx(10, DomainName.of("mx1." + domain))));
              case A -> {
                try {
                  b =
                      DnsAnswer.builder(name, type, DnsOutcome.DATA, DnssecState.SECURE)
                          .records(
                              List.of(
                                  new DnsRecord.Address(
                                      InetAddress.getByAddress(
                                          new byte[] {
                                            10, (byte) (i >> 16), (byte) (i >> 8), (byte) i
                                          }))));
                } catch (java.net.UnknownHostException e) {
                  throw new IllegalStateException(e);
                }
              }
              case TLSA -> {
                byte[] key = new byte[32];
                java.util.Arrays.fill(key, (byte) i);
                b =
                    DnsAnswer.builder(name, type, DnsOutcome.DATA, DnssecState.SECURE)
                        .records(List.of(new DnsRecord.Tlsa(3, 1, 1, key)));
              }
              default -> b = DnsAnswer.builder(name, type, DnsOutcome.NODATA, DnssecState.SECURE);
            }
            return java.util.concurrent.CompletableFuture.completedFuture(b.ttl(ttl).build());
          };
      MtaStsPolicySource sts =
          new MtaStsPolicySource() {
            @Override
            public java.util.concurrent.CompletableFuture<MtaStsLookup> lookupAsync(
                DomainName domain) {
              String d = domain.toString();
              return java.util.concurrent.CompletableFuture.completedFuture(
                  new MtaStsLookup.Found(
                      domain,
                      new MtaStsPolicy(
                          "20260101T000000" + d,
                          MtaStsMode.ENFORCE,
                          List.of("mx1." + d, "*.mx." + d),
                          Duration.ofDays(7)),
                      true,
                      "",
                      Optional.of(ttl)));
            }

            @Override
            public java.util.concurrent.CompletableFuture<MtaStsLookup> recheckAsync(
                DomainName domain) {
              return lookupAsync(domain);
            }
          };
      return TransportPolicyResolver.builder()
          .dns(dns)
          .mtaSts(sts)
          .dane(DaneResolver.builder().dns(dns).build())
          .planCacheSize(size)
          .build();
    }

    /** A real MX and a real A answer, from the validating resolver against signed zones. */
    private static DnsAnswer[] realAnswers() {
      try (TestDnsServer dns =
          TestDnsServer.builder()
              .zone(
                  "d000000.test",
                  z ->
                      z.mx("d000000.test", 10, "mx1.d000000.test")
                          .a("mx1.d000000.test", "127.0.0.11"))
              .start()) {
        DnsResolver r = Mailtls.dnssec(dns.socketAddress(), dns.trustAnchor());
        DnsAnswer mx = r.resolve(DomainName.of("d000000.test"), DnsRecordType.MX);
        DnsAnswer a = r.resolve(DomainName.of("mx1.d000000.test"), DnsRecordType.A);
        for (DnsAnswer x : List.of(mx, a)) {
          if (x.outcome() != DnsOutcome.DATA
              || x.state() != DnssecState.SECURE
              || x.records().size() != 1) {
            throw new IllegalStateException("unexpected answer from the signed zone: " + x);
          }
        }
        return new DnsAnswer[] {mx, a};
      }
    }

    /** An answer shaped as {@code real}, for the name of domain {@code i}. */
    private static DnsAnswer like(DnsAnswer real, DomainName name, int i) throws Exception {
      DnsRecord first = real.records().get(0);
      DnsRecord record;
      if (first instanceof DnsRecord.Mx mx) {
        record = new DnsRecord.Mx(mx.preference(), DomainName.of("mx1." + name));
      } else if (first instanceof DnsRecord.Address) {
        record =
            new DnsRecord.Address(
                InetAddress.getByAddress(
                    new byte[] {10, (byte) (i >> 16), (byte) (i >> 8), (byte) i}));
      } else {
        throw new IllegalStateException("unexpected record " + real.records());
      }
      DnsAnswer.Builder copy =
          DnsAnswer.builder(name, real.type(), real.outcome(), real.state())
              .records(List.of(record))
              .cnameChain(real.cnameChain())
              .rcode(real.rcode());
      real.failure().ifPresent(copy::failure);
      real.reason().map(String::new).ifPresent(copy::reason);
      return copy.build();
    }
  }

  /** The child JVM of the large message, run under {@code -Xmx64m}. */
  public static final class StreamProbe {
    private StreamProbe() {}

    public static void main(String[] argv) throws Exception {
      Args args = new Args(argv);
      int port = args.integer("port", 0);
      Path trustFile = Path.of(args.string("truststore", null));
      long mib = args.integer("mib", 1024);
      args.done();
      java.security.KeyStore trust = java.security.KeyStore.getInstance("PKCS12");
      try (var in = Files.newInputStream(trustFile)) {
        trust.load(in, io.mailtls.benchmarks.peer.Peer.PASSWORD.toCharArray());
      }
      GeneratedContent content = new GeneratedContent(EndToEnd.TO, mib << 20);
      MessageContent mc = content::open;
      for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
        pool.resetPeakUsage();
      }
      long t0 = System.nanoTime();
      boolean delivered;
      try (SecureSmtpTransport t = Mailtls.relay(trust, port, true)) {
        delivered = Mailtls.send(t, Messages.FROM, EndToEnd.TO, mc);
      }
      double seconds = (System.nanoTime() - t0) / 1e9;
      long peak = 0;
      for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
        if (pool.getType() == MemoryType.HEAP) {
          peak += pool.getPeakUsage().getUsed();
        }
      }
      long gcs = 0;
      for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
        gcs += Math.max(0, gc.getCollectionCount());
      }
      System.err.println("stream: " + gcs + " collections");
      System.out.println(
          String.format(
              Locale.ROOT,
              "benchmark=memory measurement=stream_%dmib"
                  + " count=%d seconds=%.3f mib_per_s=%.1f heap_max_mib=%d heap_peak_mib=%.1f"
                  + " delivered=%s",
              mib,
              content.size(),
              seconds,
              content.size() / 1048576.0 / seconds,
              Runtime.getRuntime().maxMemory() >> 20,
              peak / 1048576.0,
              delivered));
      System.exit(delivered ? 0 : 1);
    }
  }
}
