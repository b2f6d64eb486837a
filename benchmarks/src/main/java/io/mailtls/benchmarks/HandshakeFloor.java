package io.mailtls.benchmarks;

import io.mailtls.core.DnsRecord;
import io.mailtls.core.DomainName;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.StarttlsProbe;
import io.mailtls.core.TlsContextFactory;
import io.mailtls.core.TlsRequirement;
import io.mailtls.core.internal.tls.TlsSupport;
import io.mailtls.dane.DaneResolver;
import jakarta.mail.Session;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.X509ExtendedTrustManager;
import org.jspecify.annotations.Nullable;

/**
 * The JDK's own handshake floor against mailtls (docs/benchmarks.md "Handshake floor"), in one run
 * of interleaved rounds on one client thread against the same sink and certificates:
 *
 * <ul>
 *   <li>{@code jdk_full}: the least a client can do for a verified STARTTLS session with JSSE
 *       alone: connect, greeting, EHLO, STARTTLS, a full TLS 1.3 handshake (one shared {@link
 *       SSLContext} with the JDK's PKIX trust manager, endpoint identification of {@code
 *       localhost}; the session invalidated afterwards so that none resumes), EHLO, QUIT. A minimal
 *       SMTP client of a few lines, without timeouts or reply checks beyond the code;
 *   <li>{@code mailtls_full}: mailtls's {@link StarttlsProbe} under PKIX for {@code localhost}: the
 *       same exchange as the transport opens a session, with a full handshake;
 *   <li>{@code jdk_resumed}: as {@code jdk_full}, the session resumed (TLS 1.3 ticket);
 *   <li>{@code jdk_resumed_send}: as {@code jdk_resumed}, then one pipelined MAIL, RCPT, DATA and
 *       the message: the floor of a new connection per message;
 *   <li>{@code b_mailtls_newconn}, {@code b_angus_send_nodelay}: {@link EndToEnd}'s (b), a new
 *       connection per message, mailtls's relay transport and Angus Mail's {@code Transport.send}
 *       with {@code TCP_NODELAY}, both resuming sessions.
 * </ul>
 *
 * With {@code --cpu-samples} N (0 = none), it then runs every contender above in rotation until the
 * JIT compilers are done with them (at most {@code --settle-s}), then N times in rotation (each
 * rotation in a shuffled order), one operation at a time (with {@code nothing}, an empty operation:
 * what the reading costs by itself), and records the CPU time of every thread of this process over
 * each ({@code all_threads_cpu_op}, to the nanosecond from Linux's per-thread schedstat, {@link
 * ThreadsCpu}; the part of it the JIT compilers, the collector and the VM thread took in {@code
 * jit_cpu_op}, {@code gc_cpu_op}, {@code vm_cpu_op}; where schedstat is missing, {@code
 * process_cpu_op}, the process's clock, which moves in 10 ms steps): the medians resolve what the
 * rounds' totals blur on a shared machine; then the same again with the CPU time of the process's
 * Java threads over each ({@code java_threads_cpu_op}, from {@link ThreadMXBean}); then DANE
 * against PKIX handshake CPU ({@code thread_cpu_handshake}): N times each of {@code pkix}, {@code
 * dane_ee}, {@code dane_ta} in shuffled rotations, each a full handshake through mailtls's own TLS
 * layer ({@link TlsSupport#layer} with the trust manager the transport uses for the requirement, a
 * new context per handshake as for an unresumed session), and the CPU time of this thread ({@link
 * ThreadMXBean}) over the handshake and its certificate check alone (not the SMTP exchange around
 * it): written to {@code <out>-cpu.csv}, one row per requirement.
 */
public final class HandshakeFloor {

  static final List<String> CPU_COLUMNS =
      List.of(
          "benchmark",
          "measure",
          "contender",
          "baseline",
          "samples",
          "median_cpu_us",
          "mean_cpu_us",
          "trimmed_mean_cpu_us",
          "ratio_median",
          "ratio_trimmed_mean",
          "min_block_ratio",
          "max_block_ratio");

  private HandshakeFloor() {}

  public static void main(String[] argv) throws Exception {
    run(argv);
    System.exit(0);
  }

  /**
   * Options: {@code --seconds} per contender (15) over {@code --rounds} (5), {@code --warmup} (2),
   * {@code --size} (10240), {@code --cpu-samples} (1000), {@code --settle-s} (120), {@code --out}
   * (benchmarks/results/floor.csv), {@code --workdir}.
   */
  public static Map<String, Rounds.Result> run(String[] argv) throws Exception {
    Args args = new Args(argv);
    double seconds = args.decimal("seconds", 15);
    int rounds = args.integer("rounds", 5);
    double warmup = args.decimal("warmup", 2);
    int size = args.integer("size", 10240);
    int cpuSamples = args.integer("cpu-samples", 1000);
    double settleSeconds = args.decimal("settle-s", 120);
    Path out = Path.of(args.string("out", "benchmarks/results/floor.csv"));
    Path work =
        Path.of(args.string("workdir", Files.createTempDirectory("mailtls-floor").toString()));
    args.done();

    Csv csv = new Csv(out, Rounds.COLUMNS);
    Csv ratios = new Csv(EndToEnd.ratioFile(out), Rounds.RATIO_COLUMNS);
    try (PeerProcess peer = PeerProcess.start(work, List.of(), "--mx-hosts", "0")) {
      KeyStore trust = peer.trustStore();
      int port = peer.port("smtp_port");
      InetSocketAddress sink = new InetSocketAddress(Mailtls.loopback(), port);
      byte[] bytes = Messages.rfc5322(EndToEnd.TO, size);
      List<Rounds.Contender> all = new ArrayList<>();
      try (SecureSmtpTransport newConn = Mailtls.relay(trust, port, false);
          StarttlsProbe probe =
              StarttlsProbe.builder()
                  .heloName(Mailtls.HELO)
                  .port(port)
                  .trustStore(trust)
                  .dane(DaneResolver.builder().dns(Mailtls.hostsFile()).build())
                  .build()) {
        Session angus = Angus.session(trust, port, true);
        DomainName localhost = DomainName.of("localhost");
        all.add(new Jdk("jdk_full", sink, trust, false, null, 0));
        all.add(
            new Rounds.Contender("mailtls_full", "mailtls", "handshake", 0, 0) {
              @Override
              protected boolean send(int thread) {
                return probe
                    .probe(
                        Optional.of(localhost),
                        Mailtls.loopback(),
                        new TlsRequirement.Pkix(List.of(localhost)))
                    .authentication()
                    .map(a -> a == io.mailtls.core.Authentication.VERIFIED)
                    .orElse(false);
              }
            });
        all.add(new Jdk("jdk_resumed", sink, trust, true, null, 0));
        all.add(new Jdk("jdk_resumed_send", sink, trust, true, bytes, size));
        all.add(new EndToEnd.MailtlsBytes("b_mailtls_newconn", newConn, bytes, size));
        all.add(new EndToEnd.AngusSend("b_angus_send_nodelay", angus, bytes, size));
        EndToEnd.checkFirst(all);
        Map<String, Rounds.Result> totals =
            new Rounds("floor", peer, 1, csv).run(all, warmup, rounds, seconds / rounds);
        Rounds.ratio(ratios, "floor", 0, "mailtls_full", "jdk_full", totals);
        Rounds.ratio(ratios, "floor", size, "b_mailtls_newconn", "jdk_resumed_send", totals);
        Rounds.ratio(ratios, "floor", size, "b_angus_send_nodelay", "jdk_resumed_send", totals);
        Rounds.ratio(ratios, "floor", size, "b_mailtls_newconn", "b_angus_send_nodelay", totals);
        if (cpuSamples > 0) {
          Csv cpuCsv = new Csv(cpuFile(out), CPU_COLUMNS);
          Map<String, Op> ops = new LinkedHashMap<>();
          for (Rounds.Contender c : all) {
            ops.put(c.scenario, () -> c.send(0));
          }
          // what reading the CPU times around an op costs by itself
          ops.put("nothing", () -> true);
          if (ThreadsCpu.available()) {
            try (ThreadsCpu threads = new ThreadsCpu()) {
              alternate(
                  List.of("all_threads_cpu_op", "jit_cpu_op", "gc_cpu_op", "vm_cpu_op"),
                  ops,
                  cpuSamples,
                  cpuCsv,
                  () -> {
                    ThreadsCpu.Sample k = threads.sample();
                    return new long[] {k.total(), k.jit(), k.gc(), k.vm()};
                  },
                  threads,
                  settleSeconds);
            }
          } else {
            alternate(
                List.of("process_cpu_op"),
                ops,
                cpuSamples,
                cpuCsv,
                () -> new long[] {processCpu()},
                null,
                0);
          }
          alternate(
              List.of("java_threads_cpu_op"),
              ops,
              cpuSamples,
              cpuCsv,
              () -> new long[] {javaThreadsCpu()},
              null,
              0);
          daneAgainstPkix(peer, sink, trust, cpuSamples, cpuCsv);
        }
        return totals;
      } finally {
        for (Rounds.Contender c : all) {
          c.close();
        }
      }
    }
  }

  /** {@code floor.csv} → {@code floor-cpu.csv}, beside it. */
  static Path cpuFile(Path out) {
    String name = out.getFileName().toString();
    String base = name.endsWith(".csv") ? name.substring(0, name.length() - 4) : name;
    return out.resolveSibling(base + "-cpu.csv");
  }

  // ------------------------------------------------------------------ DANE against PKIX, CPU

  /** One operation of a contender; true when it did what it should. */
  @FunctionalInterface
  interface Op {
    boolean run() throws Exception;
  }

  /**
   * The CPU time of all of this process's live Java threads, exact to the microsecond, where the
   * process's CPU clock moves in 10 ms steps on some machines: the client's own threads (caller,
   * timers, pools), without the JIT compiler's and the collector's (which are not Java threads).
   */
  static long javaThreadsCpu() {
    ThreadMXBean t = ManagementFactory.getThreadMXBean();
    long sum = 0;
    for (long id : t.getAllThreadIds()) {
      long c = t.getThreadCpuTime(id);
      if (c > 0) {
        sum += c;
      }
    }
    return sum;
  }

  private static long processCpu() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  /** CPU times read together, one per measure of {@link #alternate}. */
  @FunctionalInterface
  interface CpuSampler {
    long[] sample() throws IOException;
  }

  /**
   * Runs every op {@code samples} times in rotation, reading {@code cpu} around each (one value per
   * measure), and writes per op and measure its median and trimmed mean and their ratios to the
   * ratio's baseline: for {@code jdk_*} ops none, for {@code mailtls_full} {@code jdk_full}, for
   * the (b) ops {@code jdk_resumed_send}; and {@code b_mailtls_newconn} against {@code
   * b_angus_send_nodelay}. Before that, a tenth as many rotations unrecorded; with {@code settle},
   * then blocks of 50 rotations, read as the recorded ones are, until the JIT compilers took under
   * 0.5 % of the process's CPU in three blocks in a row, at most {@code settleSeconds}: a compiler
   * thread works beside the op it compiles for, so its CPU falls on whichever op runs then, and
   * methods called once per op reach the last tier only after some ten thousand ops. The recorded
   * samples are meant for code compiled already, as in a long-running sender.
   */
  private static void alternate(
      List<String> measures,
      Map<String, Op> ops,
      int samples,
      Csv csv,
      CpuSampler cpu,
      @Nullable ThreadsCpu settle,
      double settleSeconds)
      throws Exception {
    List<String> names = new ArrayList<>(ops.keySet());
    int m = measures.size();
    rotate(names, ops, Math.max(20, samples / 10), cpu, m);
    String settled = null;
    if (settle != null) {
      long start = System.nanoTime();
      long end = start + (long) (settleSeconds * 1e9);
      int rotations = 0;
      int quiet = 0;
      double share = 1;
      while (quiet < 3 && System.nanoTime() < end) {
        ThreadsCpu.Sample s0 = settle.sample();
        rotate(names, ops, 50, cpu, m);
        rotations += 50;
        ThreadsCpu.Sample s1 = settle.sample();
        share = (double) (s1.jit() - s0.jit()) / Math.max(1, s1.total() - s0.total());
        quiet = share < 0.005 ? quiet + 1 : 0;
      }
      settled =
          String.format(
              Locale.ROOT,
              "floor: %s: %d rotations more in %.0f s for the JIT to settle (%s), its share of"
                  + " the last block %.2f %%",
              measures.get(0),
              rotations,
              (System.nanoTime() - start) / 1e9,
              quiet >= 3 ? "settled" : "time limit reached",
              share * 100);
    }
    Map<String, long[][]> v = rotate(names, ops, samples, cpu, m);
    if (settled != null) {
      // printed only now: formatting compiles code of its own, beside the recorded samples
      System.out.println(settled);
    }
    for (int j = 0; j < m; j++) {
      writeRows(measures.get(j), names, j, v, csv);
    }
  }

  /**
   * {@code count} rotations of every op, each in its own order ({@link #order}), so that no op
   * always follows another: per op, the {@code measures} values of {@code cpu} read around each
   * run. Warm-up rotations run this same code, so that the JIT compiles it as it will be measured.
   */
  private static Map<String, long[][]> rotate(
      List<String> names, Map<String, Op> ops, int count, CpuSampler cpu, int measures)
      throws Exception {
    Map<String, long[][]> into = new LinkedHashMap<>();
    for (String n : names) {
      into.put(n, new long[measures][count]);
    }
    Random shuffle = new Random(ORDER_SEED);
    for (int i = 0; i < count; i++) {
      for (String n : order(names, shuffle)) {
        long[] t0 = cpu.sample();
        if (!ops.get(n).run()) {
          throw new IllegalStateException(n + " failed");
        }
        long[] t1 = cpu.sample();
        long[][] v = into.get(n);
        for (int j = 0; j < measures; j++) {
          v[j][i] = t1[j] - t0[j];
        }
      }
    }
    return into;
  }

  private static void writeRows(
      String measure, List<String> names, int j, Map<String, long[][]> v, Csv csv) {
    Map<String, String> baselines = new LinkedHashMap<>();
    baselines.put("jdk_full", "jdk_full");
    baselines.put("mailtls_full", "jdk_full");
    baselines.put("jdk_resumed", "jdk_full");
    baselines.put("jdk_resumed_send", "jdk_resumed_send");
    baselines.put("b_mailtls_newconn", "jdk_resumed_send");
    baselines.put("b_angus_send_nodelay", "jdk_resumed_send");
    for (String n : names) {
      String base = baselines.getOrDefault(n, n);
      cpuRow(csv, measure, n, base, v.get(n)[j], v.get(base)[j]);
    }
    if (v.containsKey("b_mailtls_newconn") && v.containsKey("b_angus_send_nodelay")) {
      cpuRow(
          csv,
          measure,
          "b_mailtls_newconn",
          "b_angus_send_nodelay",
          v.get("b_mailtls_newconn")[j],
          v.get("b_angus_send_nodelay")[j]);
    }
  }

  private static void cpuRow(
      Csv csv, String measure, String name, String baseName, long[] v, long[] base) {
    double[] blocks = blockRatios(v, base, 10);
    csv.row(
        "floor",
        measure,
        name,
        baseName,
        v.length,
        median(v) / 1e3,
        Arrays.stream(v).average().orElse(Double.NaN) / 1e3,
        trimmedMean(v) / 1e3,
        median(v) / median(base),
        trimmedMean(v) / trimmedMean(base),
        Arrays.stream(blocks).min().orElse(Double.NaN),
        Arrays.stream(blocks).max().orElse(Double.NaN));
  }

  private static void daneAgainstPkix(
      PeerProcess peer, InetSocketAddress sink, KeyStore trust, int samples, Csv csv)
      throws Exception {
    List<X509Certificate> chain = peer.sinkChain();
    DomainName host = DomainName.of("mx.bench.test");
    Map<String, TlsRequirement> reqs = new LinkedHashMap<>();
    reqs.put("pkix", new TlsRequirement.Pkix(List.of(host)));
    reqs.put(
        "dane_ee",
        new TlsRequirement.Dane(
            List.of(new DnsRecord.Tlsa(3, 1, 1, Handshake.spkiSha256(chain.get(0)))),
            host,
            List.of(host),
            true));
    reqs.put(
        "dane_ta",
        new TlsRequirement.Dane(
            List.of(new DnsRecord.Tlsa(2, 1, 1, Handshake.spkiSha256(chain.get(1)))),
            host,
            List.of(host),
            true));
    TlsSupport tls =
        new TlsSupport(
            trust,
            TlsContextFactory.JDK,
            Optional.of(DaneResolver.builder().dns(Mailtls.hostsFile()).build()));
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    List<String> names = new ArrayList<>(reqs.keySet());
    Map<String, long[]> cpu = new LinkedHashMap<>();
    for (String n : names) {
      cpu.put(n, new long[samples]);
    }
    int warm = Math.max(20, samples / 10);
    Random shuffle = new Random(ORDER_SEED);
    for (int i = -warm; i < samples; i++) {
      for (String n : order(names, shuffle)) {
        long t = handshakeCpu(tls, sink, host, reqs.get(n), threads);
        if (i >= 0) {
          cpu.get(n)[i] = t;
        }
      }
    }
    for (String n : names) {
      cpuRow(csv, "thread_cpu_handshake", n, "pkix", cpu.get(n), cpu.get("pkix"));
    }
  }

  /**
   * This thread's CPU time over one verified handshake under {@code requirement}, after EHLO and
   * STARTTLS (not counted), through mailtls's TLS layer.
   */
  private static long handshakeCpu(
      TlsSupport tls,
      InetSocketAddress sink,
      DomainName host,
      TlsRequirement requirement,
      ThreadMXBean threads)
      throws IOException {
    try (Socket plain = new Socket()) {
      plain.setTcpNoDelay(true);
      plain.connect(sink);
      Smtp smtp = new Smtp(plain);
      smtp.expect(220);
      smtp.command("EHLO " + Mailtls.HELO, 250);
      smtp.command("STARTTLS", 220);
      X509ExtendedTrustManager tm = tls.trustManagerFor(requirement);
      long t0 = threads.getCurrentThreadCpuTime();
      SSLSocket s = tls.layer(plain, sink, Optional.of(host), tm);
      s.startHandshake();
      long t = threads.getCurrentThreadCpuTime() - t0;
      Smtp secure = new Smtp(s);
      secure.command("EHLO " + Mailtls.HELO, 250);
      secure.command("QUIT", 221);
      s.close();
      return t;
    }
  }

  /** The seed of the orders: the same orders in every run. */
  private static final long ORDER_SEED = 13;

  /**
   * {@code names} in an order drawn from {@code shuffle}. A rotation that only starts one further
   * on each time keeps the cyclic order, so each op would nearly always follow the same other op
   * and inherit what that one leaves behind (its connection's close on the sink, its data in the
   * CPU's caches); in shuffled orders each op follows each other op about equally often.
   */
  private static List<String> order(List<String> names, Random shuffle) {
    List<String> order = new ArrayList<>(names);
    Collections.shuffle(order, shuffle);
    return order;
  }

  private static double median(long[] v) {
    long[] s = v.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2.0;
  }

  /** The mean of the middle 80 %. */
  private static double trimmedMean(long[] v) {
    long[] s = v.clone();
    Arrays.sort(s);
    int cut = s.length / 10;
    return Arrays.stream(s, cut, s.length - cut).average().orElse(Double.NaN);
  }

  /** The ratio of medians in each of {@code n} consecutive blocks of samples. */
  private static double[] blockRatios(long[] v, long[] base, int n) {
    int per = Math.max(1, v.length / n);
    List<Double> r = new ArrayList<>();
    for (int b = 0; b + per <= v.length; b += per) {
      r.add(
          median(Arrays.copyOfRange(v, b, b + per)) / median(Arrays.copyOfRange(base, b, b + per)));
    }
    return r.stream().mapToDouble(Double::doubleValue).toArray();
  }

  // ------------------------------------------------------------------ the JSSE floor

  /** A minimal SMTP client over bare JSSE. */
  static final class Jdk extends Rounds.Contender {
    private final InetSocketAddress sink;
    private final boolean resume;
    private final byte[] message;
    private final SSLContext context;

    Jdk(
        String scenario,
        InetSocketAddress sink,
        KeyStore trust,
        boolean resume,
        byte[] message,
        int size) {
      super(scenario, "jdk", message == null ? "handshake" : "bytes", size, 0);
      this.sink = sink;
      this.resume = resume;
      this.message = message == null ? null : dotStuffed(message);
      this.context = Mailtls.sslContext(trust);
    }

    /** RFC 5321 §4.5.2, done once: the floor pays no encoding per message. */
    private static byte[] dotStuffed(byte[] message) {
      String text = new String(message, StandardCharsets.US_ASCII);
      String stuffed = (text.startsWith(".") ? "." : "") + text.replace("\r\n.", "\r\n..");
      return stuffed.getBytes(StandardCharsets.US_ASCII);
    }

    @Override
    protected boolean send(int thread) throws Exception {
      try (Socket plain = new Socket()) {
        plain.setTcpNoDelay(true);
        plain.connect(sink);
        Smtp smtp = new Smtp(plain);
        smtp.expect(220);
        smtp.command("EHLO " + Mailtls.HELO, 250);
        smtp.command("STARTTLS", 220);
        SSLSocket s =
            (SSLSocket)
                context.getSocketFactory().createSocket(plain, "localhost", sink.getPort(), true);
        SSLParameters p = s.getSSLParameters();
        p.setEndpointIdentificationAlgorithm("HTTPS"); // the name localhost, checked by the JDK
        p.setProtocols(new String[] {"TLSv1.3"});
        s.setSSLParameters(p);
        s.startHandshake();
        Smtp secure = new Smtp(s);
        secure.command("EHLO " + Mailtls.HELO, 250);
        if (message != null) {
          secure.pipeline(
              "MAIL FROM:<" + Messages.FROM + ">\r\nRCPT TO:<" + EndToEnd.TO + ">\r\nDATA\r\n",
              250,
              250,
              354);
          secure.data(message);
          secure.expect(250);
        }
        secure.command("QUIT", 221);
        if (!resume) {
          s.getSession().invalidate(); // the next handshake is a full one
        }
        s.close();
        return true;
      }
    }
  }

  /** Reads replies and writes commands; a reply with another code throws. */
  static final class Smtp {
    private final InputStream in;
    private final OutputStream out;

    Smtp(Socket s) throws IOException {
      this.in = new BufferedInputStream(s.getInputStream(), 8192);
      this.out = new BufferedOutputStream(s.getOutputStream(), 65536);
    }

    void command(String line, int code) throws IOException {
      out.write((line + "\r\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      expect(code);
    }

    void pipeline(String lines, int... codes) throws IOException {
      out.write(lines.getBytes(StandardCharsets.US_ASCII));
      out.flush();
      for (int c : codes) {
        expect(c);
      }
    }

    /** The message as it is (CRLF line ends, dot-stuffed), then the final dot. */
    void data(byte[] message) throws IOException {
      out.write(message);
      if (message.length < 2 || message[message.length - 2] != '\r') {
        out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
      }
      out.write(".\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
    }

    /** One reply, its last line the one with a space after the code. */
    void expect(int code) throws IOException {
      while (true) {
        StringBuilder line = new StringBuilder();
        int b;
        while ((b = in.read()) != '\n') {
          if (b < 0) {
            throw new IOException("connection closed awaiting " + code);
          }
          line.append((char) b);
        }
        if (line.length() < 4 || !line.substring(0, 3).equals(Integer.toString(code))) {
          throw new IOException(
              String.format(Locale.ROOT, "expected %d, got %s", code, line.toString().trim()));
        }
        if (line.charAt(3) == ' ') {
          return;
        }
      }
    }
  }
}
