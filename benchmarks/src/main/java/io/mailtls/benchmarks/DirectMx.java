package io.mailtls.benchmarks;

import io.mailtls.benchmarks.peer.World;
import io.mailtls.core.DeliveryPlan;
import io.mailtls.core.DnsResolver;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SecureSmtpTransport;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Direct to MX with full recipient policy, against relay speed, in one run of interleaved rounds
 * (docs/benchmarks.md "Direct to MX"). The peer serves testkit-signed zones, an MTA-STS policy
 * ({@code enforce}) for every domain, and the sink as every MX host with a DANE-EE TLSA record of
 * its key. The client validates DNSSEC in process ({@code DnssecResolver} with the peer's trust
 * anchor), looks up MTA-STS through {@code MtaStsResolver} and {@code OkHttpPolicyFetcher}
 * (in-memory cache large enough for every domain) and DANE through {@code DaneResolver}; every
 * message asks the planner for its plan (reused from the plan cache until the earliest TTL among
 * its inputs, with DNS answers from the resolver's validated-answer cache), and is delivered
 * DANE-verified (checked before timing starts).
 *
 * <ul>
 *   <li>{@code direct_one_domain}: every message to {@code one.test};
 *   <li>{@code direct_n_domains}: messages to {@code d00000.test ... d(N-1).test} in turn, over
 *       {@code --mx-hosts} MX hosts; before timing, each domain is planned once (its policy fetched
 *       and cached), reported as the row {@code warmup_plan_n_domains};
 *   <li>{@code direct_fanout_domains}: every message to {@code --fanout} recipients, each in
 *       another of the N domains (the domains of one message are delivered at the same time, issue
 *       13); a row's messages are such messages, not recipients;
 *   <li>{@code relay_reuse}: the relay path of {@link EndToEnd} ({@code a_mailtls_reuse}) to the
 *       same sink, the yardstick of "full policy at relay speed";
 *   <li>{@code relay_spread}: a diagnostic, not a target: the relay path without recipient policy,
 *       spread over the same MX hosts as {@code direct_n_domains} (message <i>i</i> relayed to
 *       {@code mx(i mod K + 1)} by one of K relay transports, PKIX-verified for that host's name),
 *       so that {@code direct_n_domains / relay_spread} is the cost of policy alone and {@code
 *       relay_spread / relay_reuse} the cost of the spread over hosts, in the same run.
 * </ul>
 */
public final class DirectMx {

  private DirectMx() {}

  public static void main(String[] argv) throws Exception {
    run(argv);
    System.exit(0);
  }

  /**
   * Options: {@code --domains} N (10000), {@code --mx-hosts} (4), {@code --seconds} measured per
   * contender (20) over {@code --rounds} (5), {@code --warmup} seconds per contender (3), {@code
   * --threads} (4), {@code --size} (10240), {@code --fanout} recipient domains per message of
   * {@code direct_fanout_domains} (10), {@code --ttl-s} the TTL of the peer's records and negative
   * answers (300, the testkit's default), {@code --out} (benchmarks/results/direct.csv), {@code
   * --workdir}.
   */
  public static Map<String, Rounds.Result> run(String[] argv) throws Exception {
    Args args = new Args(argv);
    int domains = args.integer("domains", 10_000);
    int mxHosts = args.integer("mx-hosts", 4);
    double seconds = args.decimal("seconds", 20);
    int rounds = args.integer("rounds", 5);
    double warmup = args.decimal("warmup", 3);
    int threads = args.integer("threads", 4);
    int size = args.integer("size", 10240);
    int fanout = args.integer("fanout", 10);
    int ttl = args.integer("ttl-s", 300);
    Path out = Path.of(args.string("out", "benchmarks/results/direct.csv"));
    Path work =
        Path.of(args.string("workdir", Files.createTempDirectory("mailtls-direct").toString()));
    args.done();

    Csv csv = new Csv(out, Rounds.COLUMNS);
    Csv ratios = new Csv(EndToEnd.ratioFile(out), Rounds.RATIO_COLUMNS);
    try (PeerProcess peer =
        PeerProcess.start(
            work,
            List.of(),
            "--domains",
            Integer.toString(domains),
            "--mx-hosts",
            Integer.toString(mxHosts),
            "--ttl-s",
            Integer.toString(ttl))) {
      System.err.println(
          "peer world of " + domains + " domains built in " + peer.worldMillis() + " ms");
      KeyStore trust = peer.trustStore();
      int smtpPort = peer.port("smtp_port");
      DnsResolver dns =
          Mailtls.dnssec(
              new InetSocketAddress(Mailtls.loopback(), peer.port("dns_port")),
              peer.dnsTrustAnchor());
      byte[] toOne = Messages.rfc5322("rcpt@one.test", size);
      try (Mailtls.Policies policies =
              Mailtls.policies(dns, trust, peer.port("sts_port"), domains + 100);
          SecureSmtpTransport direct = Mailtls.direct(policies, trust, smtpPort);
          SecureSmtpTransport relay = Mailtls.relay(trust, smtpPort, true);
          SpreadRelays spread = new SpreadRelays(trust, mxHosts, smtpPort)) {
        // Before timing: full policy really applies, and delivery is DANE-verified.
        for (String d : List.of("one.test", domain(0))) {
          RecipientResult r = Mailtls.sendChecked(direct, Messages.FROM, "rcpt@" + d, toOne);
          if (!Mailtls.deliveredDaneVerified(r) || !Mailtls.stsApplied(r.plan())) {
            throw new IllegalStateException(
                "not delivered DANE-verified under MTA-STS: " + r + "\n" + r.plan().reasons());
          }
        }
        // The spread relays deliver PKIX-verified to each MX host's name, as the relay does.
        for (SecureSmtpTransport t : spread.transports) {
          RecipientResult r = Mailtls.sendChecked(t, Messages.FROM, EndToEnd.TO, toOne);
          if (!Mailtls.deliveredVerified(r)) {
            throw new IllegalStateException("relay_spread not delivered verified: " + r);
          }
        }
        // The transport that is timed plans every domain before timing, so its own plan cache
        // (not a separate planner's) holds every domain's plan when the rounds start.
        warmPlans(csv, peer, direct, domains, threads, mxHosts);
        // Recipient addresses made once: the timed loop charges mailtls's work, not the driver's
        // formatting of a domain name per recipient.
        String[] recipients = new String[domains];
        for (int i = 0; i < domains; i++) {
          recipients[i] = "rcpt@" + domain(i);
        }
        List<Rounds.Contender> all =
            List.of(
                new Direct("direct_one_domain", direct, size, new String[] {"rcpt@one.test"}),
                new Direct("direct_n_domains", direct, size, recipients),
                new FanOut("direct_fanout_domains", direct, size, recipients, fanout),
                new EndToEnd.MailtlsBytes(
                    "relay_reuse", relay, Messages.rfc5322(EndToEnd.TO, size), size),
                new RelaySpread("relay_spread", spread, size));
        Map<String, Rounds.Result> totals =
            new Rounds("direct", peer, threads, csv).run(all, warmup, rounds, seconds / rounds);
        Rounds.ratio(ratios, "direct", size, "direct_one_domain", "relay_reuse", totals);
        Rounds.ratio(ratios, "direct", size, "direct_n_domains", "relay_reuse", totals);
        Rounds.ratio(ratios, "direct", size, "direct_n_domains", "relay_spread", totals);
        Rounds.ratio(ratios, "direct", size, "relay_spread", "relay_reuse", totals);
        return totals;
      }
    }
  }

  /** Recipient domain {@code i}, as the peer names it. */
  static String domain(long i) {
    return String.format(Locale.ROOT, "d%05d.test", i);
  }

  /**
   * Plans every domain once through {@code transport}, the very transport that is timed, on {@code
   * threads} threads, so that timed sending finds their policies, DNS answers and plans in its
   * caches; every plan must use DANE and MTA-STS. Written as one row.
   */
  private static void warmPlans(
      Csv csv,
      PeerProcess peer,
      SecureSmtpTransport transport,
      int domains,
      int threads,
      int mxHosts)
      throws Exception {
    Map<String, Long> before = peer.stats();
    long cpu0 =
        ((com.sun.management.OperatingSystemMXBean)
                java.lang.management.ManagementFactory.getOperatingSystemMXBean())
            .getProcessCpuTime();
    long t0 = System.nanoTime();
    AtomicLong next = new AtomicLong();
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    List<Future<Long>> futures = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      futures.add(
          pool.submit(
              () -> {
                long bad = 0;
                for (long i = next.getAndIncrement(); i < domains; i = next.getAndIncrement()) {
                  DeliveryPlan p = Mailtls.plan(transport, domain(i));
                  if (!Mailtls.daneFirst(p) || !Mailtls.stsApplied(p)) {
                    bad++;
                  }
                }
                return bad;
              }));
    }
    long bad = 0;
    for (Future<Long> f : futures) {
      bad += f.get();
    }
    pool.shutdown();
    long nanos = System.nanoTime() - t0;
    long cpu =
        ((com.sun.management.OperatingSystemMXBean)
                    java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime()
            - cpu0;
    Map<String, Long> after = peer.stats();
    long queries = after.get("dns_queries") - before.get("dns_queries");
    csv.row(
        "direct",
        "warmup_plan_n_domains",
        "mailtls",
        "plan",
        0,
        threads,
        domains,
        "warmup",
        nanos / 1e9,
        domains - bad,
        bad,
        domains * 1e9 / nanos,
        domains == 0 ? Double.NaN : cpu / 1e3 / domains,
        0,
        domains == 0 ? Double.NaN : (after.get("cpu_ns") - before.get("cpu_ns")) / 1e3 / domains,
        0,
        domains == 0 ? Double.NaN : (double) queries / domains,
        after.get("sts_requests") - before.get("sts_requests"));
    if (bad > 0) {
      throw new IllegalStateException(
          bad
              + " of "
              + domains
              + " plans did not apply DANE and MTA-STS ("
              + mxHosts
              + " MX hosts)");
    }
  }

  /** Messages to one recipient each, in the given recipients' domains in turn. */
  static final class Direct extends Rounds.Contender {
    private final SecureSmtpTransport transport;
    private final String[] recipients;
    private final byte[] message;
    private final AtomicLong next = new AtomicLong();
    private final int count;

    Direct(String scenario, SecureSmtpTransport transport, int size, String[] recipients) {
      super(scenario, "mailtls", "bytes", size, recipients.length);
      this.transport = transport;
      this.recipients = recipients;
      this.count = recipients.length;
      this.message = Messages.rfc5322("rcpt@recipient.test", size);
    }

    @Override
    protected boolean send(int thread) {
      return Mailtls.send(
          transport, Messages.FROM, recipients[(int) (next.getAndIncrement() % count)], message);
    }
  }

  /**
   * One relay transport per MX host of the peer ({@code mx1.provider.test} at 127.0.0.11, ...),
   * each with the library's default connection reuse.
   */
  static final class SpreadRelays implements AutoCloseable {
    final SecureSmtpTransport[] transports;

    SpreadRelays(KeyStore trust, int mxHosts, int port) throws java.net.UnknownHostException {
      transports = new SecureSmtpTransport[mxHosts];
      for (int k = 1; k <= mxHosts; k++) {
        transports[k - 1] =
            Mailtls.relayTo(
                trust,
                "mx" + k + "." + World.PROVIDER,
                java.net.InetAddress.getByAddress(new byte[] {127, 0, 0, (byte) (10 + k)}),
                port);
      }
    }

    @Override
    public void close() {
      for (SecureSmtpTransport t : transports) {
        t.close();
      }
    }
  }

  /** Message {@code i} relayed through the {@code i mod K}-th of the spread relays. */
  static final class RelaySpread extends Rounds.Contender {
    private final SecureSmtpTransport[] transports;
    private final byte[] message;
    private final AtomicLong next = new AtomicLong();

    RelaySpread(String scenario, SpreadRelays relays, int size) {
      super(scenario, "mailtls", "bytes", size, 0);
      this.transports = relays.transports;
      this.message = Messages.rfc5322(EndToEnd.TO, size);
    }

    @Override
    protected boolean send(int thread) {
      return Mailtls.send(
          transports[(int) (next.getAndIncrement() % transports.length)],
          Messages.FROM,
          EndToEnd.TO,
          message);
    }
  }

  /** One message to {@code fanout} recipients in as many consecutive domains of the N. */
  static final class FanOut extends Rounds.Contender {
    private final SecureSmtpTransport transport;
    private final byte[] message;
    private final AtomicLong next = new AtomicLong();
    private final String[] recipients;
    private final int count;
    private final int fanout;

    FanOut(
        String scenario, SecureSmtpTransport transport, int size, String[] recipients, int fanout) {
      super(scenario, "mailtls", "bytes", size, recipients.length);
      if (fanout < 1) {
        throw new IllegalArgumentException("--fanout must be positive: " + fanout);
      }
      this.transport = transport;
      this.recipients = recipients;
      this.count = recipients.length;
      this.fanout = Math.min(fanout, count);
      this.message = Messages.rfc5322("rcpt@recipient.test", size);
    }

    @Override
    protected boolean send(int thread) {
      long first = next.getAndAdd(fanout);
      String[] to = new String[fanout];
      for (int i = 0; i < fanout; i++) {
        to[i] = recipients[(int) ((first + i) % count)];
      }
      return transport
          .send(
              io.mailtls.core.Envelope.of(Messages.FROM, to),
              io.mailtls.core.MessageContent.of(message))
          .allDelivered();
    }
  }
}
