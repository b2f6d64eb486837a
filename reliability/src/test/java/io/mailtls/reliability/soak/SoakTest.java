package io.mailtls.reliability.soak;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DnssecResolver;
import io.mailtls.core.DomainName;
import io.mailtls.core.Envelope;
import io.mailtls.core.MessageContent;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SenderPolicy;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.TrustAnchors;
import io.mailtls.dane.DaneResolver;
import io.mailtls.mtasts.InMemoryPolicyStore;
import io.mailtls.mtasts.MtaStsResolver;
import io.mailtls.mtasts.OkHttpPolicyFetcher;
import io.mailtls.reliability.fuzz.ReferenceSmtpData;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.MtaStsServer;
import io.mailtls.testkit.SmtpMessage;
import io.mailtls.testkit.SmtpSession;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.xbill.DNS.Type;

/**
 * The fault-injection soak of issue 14 (docs/reliability.md, "Fault-injection soak"): thousands of
 * messages through one shared {@link SecureSmtpTransport}, direct to MX with full recipient policy
 * (in-process DNSSEC validation, MTA-STS over HTTPS, DANE), against testkit servers that fail at
 * random from a fixed seed; then every report is checked against the servers' own records.
 *
 * <p>{@code -Dsoak.seed=N} (default 42) and {@code -Dsoak.messages=N} (default 10,000) choose the
 * run; {@code -Dsoak.round=N} (default 250) how many messages share one "weather" of DNS and HTTPS
 * faults.
 */
class SoakTest {

  static final long SEED = Long.getLong("soak.seed", 42);
  static final int MESSAGES = Integer.getInteger("soak.messages", 10_000);
  static final int ROUND = Integer.getInteger("soak.round", 250);

  /** The client's bound on every SMTP step; server stalls last longer. */
  static final Duration SMTP_TIMEOUT = Duration.ofMillis(1500);

  static final Duration SERVER_STALL = Duration.ofMillis(2500);

  /** Heap growth allowed between before and after, after full GCs. */
  static final long HEAP_TOLERANCE = 8L * 1024 * 1024;

  static final Map<TlsLevel, String> SENDER_DOMAINS =
      Map.of(
          TlsLevel.OPPORTUNISTIC, "opp.sender.test",
          TlsLevel.ENFORCED, "enf.sender.test",
          TlsLevel.STS_REQUIRED, "sts.sender.test",
          TlsLevel.DANE_REQUIRED, "dane.sender.test");

  static final List<TlsLevel> LEVELS =
      List.of(
          TlsLevel.OPPORTUNISTIC, TlsLevel.ENFORCED, TlsLevel.STS_REQUIRED, TlsLevel.DANE_REQUIRED);

  /** One message: its id, level, and recipients with their domains. */
  record Sent(int id, TlsLevel level, String sender, List<String> recipients, boolean eightBit) {}

  /** One recipient's result, compactly. */
  record Outcome(DeliveryStatus status, boolean tls) {}

  /** Everything one run saw. */
  static final class Run {
    final Map<String, Outcome> outcomes = new ConcurrentHashMap<>(); // "id|rcpt"
    final Queue<String> violations = new ConcurrentLinkedQueue<>();
    final Queue<String> unexplained = new ConcurrentLinkedQueue<>();
    final Map<String, AtomicLong> counts = new ConcurrentHashMap<>();
    final Map<String, Integer> weather = new TreeMap<>();

    /**
     * Message id to the SHA-256 of the octets a receiver must record for it: the content with every
     * line break as CRLF (RFC 5321 §2.3.8, §4.5.2), which is what DATA after dot-unstuffing and
     * BDAT (RFC 3030 §2) both deliver.
     */
    final Map<Integer, String> expectedDigests = new ConcurrentHashMap<>();

    int messages;
    long recipients;

    void count(String key) {
      counts.computeIfAbsent(key, k -> new AtomicLong()).incrementAndGet();
    }

    void violation(String what) {
      count("violations");
      if (violations.size() < 200) {
        violations.add(what);
      }
    }

    long get(String key) {
      AtomicLong v = counts.get(key);
      return v == null ? 0 : v.get();
    }
  }

  @Test
  @Timeout(value = 30, unit = TimeUnit.MINUTES)
  void soak() throws Exception {
    long t0 = System.nanoTime();
    // A short run first, so that classes, dnsjava's shared selector and JIT threads exist
    // before the baseline is taken.
    soakOnce(SEED ^ 0x5EED, Math.min(60, MESSAGES), new Run(), false);
    Resources before = Resources.take();

    Run run = new Run();
    SoakFaults faults = soakOnce(SEED, MESSAGES, run, true);
    Resources after = settle(before);
    long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);

    StringBuilder summary = new StringBuilder();
    summary.append(
        String.format(
            Locale.ROOT,
            "soak: seed %d, %d messages, %d recipients, %d s%n",
            SEED,
            run.messages,
            run.recipients,
            seconds));
    summary.append("  per status:").append(filtered(run, "status.")).append('\n');
    summary.append("  per level and status:").append(filtered(run, "level.")).append('\n');
    summary
        .append("  bounces by domain kind, level, reply code, failure:")
        .append(filtered(run, "bounce."))
        .append('\n');
    summary.append("  accounting:").append(filtered(run, "acct.")).append('\n');
    summary.append("  SMTP faults injected: ").append(faults.counts()).append('\n');
    summary.append("  DNS/HTTPS weather applied: ").append(run.weather).append('\n');
    summary.append(
        String.format(
            Locale.ROOT,
            "  resources before: %d fds %s, %d threads, heap %d MiB%n",
            before.fdCount(),
            before.fds(),
            before.threadCount(),
            before.heapUsed() >> 20));
    summary.append(
        String.format(
            Locale.ROOT,
            "  resources after:  %d fds %s, %d threads, heap %d MiB%n",
            after.fdCount(),
            after.fds(),
            after.threadCount(),
            after.heapUsed() >> 20));
    summary
        .append("  accepted but DEFERRED without a late reply: ")
        .append(run.unexplained.stream().limit(20).toList())
        .append('\n');
    summary.append("  violations: ").append(run.get("violations")).append('\n');
    run.violations.forEach(v -> summary.append("    ").append(v).append('\n'));
    System.out.print(summary);

    assertThat(run.violations).as(summary.toString()).isEmpty();
    assertThat(run.messages).isEqualTo(MESSAGES);
    // Every status and every fault family actually happened.
    for (DeliveryStatus s : DeliveryStatus.values()) {
      assertThat(run.get("status." + s)).as("recipients %s", s).isPositive();
    }
    assertThat(faults.counts().keySet())
        .contains(
            "DATA_END_DISCONNECT",
            "MID_DATA_DROP",
            "TLS_HANDSHAKE_ABORT",
            "RCPT_550",
            "BDAT_451",
            "BDAT_DISCONNECT",
            "DATA_END_RESET",
            "MID_DATA_CLOSE_NOTIFY",
            "MID_DATA_CLOSE_WITHOUT_NOTIFY",
            "MID_DATA_STALL",
            "MAIL_STALL",
            "RCPT_STALL",
            "EHLO_STALL");
    assertThat(run.weather.keySet().stream().anyMatch(k -> k.startsWith("dns.drop"))).isTrue();
    assertThat(run.weather.keySet().stream().anyMatch(k -> k.startsWith("https."))).isTrue();
    // Resources: nothing leaked.
    assertThat(after.socketLikeCount())
        .as("sockets, pipes and the like")
        .isEqualTo(before.socketLikeCount());
    assertThat(leakedThreads(before, after)).as("threads by name, beyond the baseline").isEmpty();
    assertThat(after.threads()).as("threads by name").doesNotContainKey(COARSE_CLOCK);
    // The shared DNS pool is not a leak, but it stays small: a few workers, not one per step.
    assertThat(after.threads().getOrDefault(DNS_POOL, 0)).as("DNS pool threads").isLessThan(32);
    assertThat(after.heapUsed()).isLessThan(before.heapUsed() + HEAP_TOLERANCE);
  }

  /**
   * The thread counts without OkHttp's process-wide task runner, whose threads (shared by every
   * OkHttp client and MockWebServer in the JVM) idle out only after 60 s, and without the plan
   * cache's process-wide coarse clock, which may be running when the baseline is taken and stops
   * one second after the last plan lookup ({@link #settle} waits for it to stop), and without the
   * DNS layer's process-wide pool, whose threads (at least two, more while some are blocked) idle
   * out after 30 s.
   */
  static Map<String, Integer> withoutShared(Map<String, Integer> threads) {
    Map<String, Integer> out = new TreeMap<>(threads);
    out.remove("OkHttp TaskRunner");
    out.remove(COARSE_CLOCK);
    out.remove(DNS_POOL);
    return out;
  }

  /**
   * The threads, by name, of which {@code after} has more than {@code before} (without the shared
   * ones): a leak. A thread of the baseline that has ended since (an idle pool thread of the JDK or
   * of MockWebServer) is not one.
   */
  static Map<String, Integer> leakedThreads(Resources before, Resources after) {
    Map<String, Integer> baseline = withoutShared(before.threads());
    Map<String, Integer> leaked = new TreeMap<>();
    withoutShared(after.threads())
        .forEach(
            (name, n) -> {
              int was = baseline.getOrDefault(name, 0);
              if (n > was) {
                leaked.put(name, n - was);
              }
            });
    return leaked;
  }

  /** The DNS layer's shared pool's threads, numbers stripped. */
  private static final String DNS_POOL = "mailtls-dns-#";

  /** The name of the plan cache's shared clock thread. */
  private static final String COARSE_CLOCK = "mailtls-coarse-clock";

  private static String filtered(Run run, String prefix) {
    Map<String, Long> out = new TreeMap<>();
    run.counts.forEach(
        (k, v) -> {
          if (k.startsWith(prefix)) {
            out.put(k.substring(prefix.length()), v.get());
          }
        });
    return " " + out;
  }

  /**
   * Waits up to 10 s for descriptors and threads to come back to {@code before}, and for the coarse
   * clock thread to stop (nothing plans once the transport is closed).
   */
  private static Resources settle(Resources before) throws InterruptedException {
    Resources now = Resources.take();
    for (int i = 0; i < 20; i++) {
      if (now.socketLikeCount() == before.socketLikeCount()
          && leakedThreads(before, now).isEmpty()
          && !now.threads().containsKey(COARSE_CLOCK)) {
        break;
      }
      Thread.sleep(500);
      now = Resources.take();
    }
    return now;
  }

  private static SoakFaults soakOnce(long seed, int messages, Run run, boolean inject)
      throws Exception {
    SoakFaults faults = new SoakFaults(seed, SERVER_STALL);
    SplittableRandom random = new SplittableRandom(seed);
    Map<String, Sent> sent = new HashMap<>();
    try (SoakWorld world = new SoakWorld(faults, SERVER_STALL)) {
      DnssecResolver dns =
          DnssecResolver.builder()
              .upstream(world.dns.socketAddress())
              .trustAnchors(TrustAnchors.parse(world.dns.trustAnchor()))
              .queryTimeout(Duration.ofMillis(400))
              .lookupTimeout(Duration.ofMillis(1500))
              .maxCacheTtl(Duration.ofSeconds(1))
              .build();
      X509TrustManager trust = world.pki.trustManager();
      SSLContext tls = SSLContext.getInstance("TLS");
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(world.pki.trustStore());
      tls.init(null, tmf.getTrustManagers(), null);
      OkHttpClient http =
          new OkHttpClient.Builder().sslSocketFactory(tls.getSocketFactory(), trust).build();
      MtaStsResolver sts =
          MtaStsResolver.builder()
              .dns(dns)
              .fetcher(
                  OkHttpPolicyFetcher.builder()
                      .client(http)
                      .dns(dns)
                      .port(world.sts.port())
                      .connectTimeout(Duration.ofSeconds(1))
                      .readTimeout(Duration.ofSeconds(1))
                      .callTimeout(Duration.ofMillis(1500))
                      .build())
              .store(new InMemoryPolicyStore(1000))
              .build();
      SenderPolicy.Builder levels = SenderPolicy.builder().defaultLevel(TlsLevel.DANE_REQUIRED);
      SENDER_DOMAINS.forEach((level, domain) -> levels.level(domain, level));
      SecureSmtpTransport transport =
          SecureSmtpTransport.builder()
              .dns(dns)
              .heloName("client.soak.test")
              .port(world.smtpPort())
              .trustStore(world.pki.trustStore())
              .timeouts(
                  new SmtpTimeouts(
                      Duration.ofSeconds(2),
                      SMTP_TIMEOUT,
                      SMTP_TIMEOUT,
                      SMTP_TIMEOUT,
                      SMTP_TIMEOUT,
                      SMTP_TIMEOUT,
                      SMTP_TIMEOUT))
              .senderPolicy(levels.build())
              .mtaSts(sts)
              .dane(DaneResolver.builder().dns(dns).build())
              .alsoClose(sts)
              .build();
      try {
        // Warm-up, no faults: one message per domain, so that every MTA-STS policy is cached
        // (RFC 8461 §5.1: a cached enforce policy holds through later fetch failures).
        List<String> all = new ArrayList<>(world.domains.keySet());
        int id = 0;
        for (String domain : all) {
          // A cold JVM can take longer than the short timeouts for its first handshakes: each
          // domain gets a few tries (each a message of its own, checked like every other).
          boolean delivered = false;
          for (int tries = 0; tries < 5 && !delivered; tries++) {
            Sent s =
                new Sent(
                    id,
                    TlsLevel.OPPORTUNISTIC,
                    sender(id, TlsLevel.OPPORTUNISTIC),
                    List.of("warm" + id + "@" + domain),
                    false);
            id++;
            sent.put(s.sender(), s);
            DeliveryReport report = transport.send(envelope(s), content(s, 300, random, run));
            check(world, s, report, run);
            delivered = report.allDelivered();
          }
          assertThat(delivered).as("warm-up delivery to %s", domain).isTrue();
        }
        faults.enabled(inject);
        int round = 0;
        while (id < messages) {
          List<Runnable> cleanup = inject ? weather(world, random, round, run) : List.of();
          List<CompletableFuture<Void>> pending = new ArrayList<>();
          for (int k = 0; k < ROUND && id < messages; k++, id++) {
            Sent s = message(id, random, all);
            sent.put(s.sender(), s);
            MessageContent c = content(s, size(random), random, run);
            pending.add(
                transport
                    .sendAsync(envelope(s), c)
                    .thenAccept(report -> check(world, s, report, run))
                    .exceptionally(
                        e -> {
                          run.violation(s.id() + ": sendAsync failed: " + e);
                          return null;
                        }));
          }
          CompletableFuture.allOf(pending.toArray(new CompletableFuture<?>[0]))
              .get(5, TimeUnit.MINUTES);
          cleanup.forEach(Runnable::run);
          round++;
        }
        run.messages = id;
      } finally {
        transport.close();
        http.dispatcher().executorService().shutdown();
        http.connectionPool().evictAll();
      }
      // The transport's connections are gone: every server session ends.
      for (MockSmtpServer server : world.servers) {
        for (SmtpSession session : server.sessions()) {
          if (!session.awaitClosed(Duration.ofSeconds(10))) {
            run.violation(server + ": session " + session.id() + " still open after close()");
          }
        }
      }
      reconcile(world, sent, faults, run);
      run.outcomes.clear(); // so that the heap after the soak holds no record of it
      run.expectedDigests.clear();
    }
    return faults;
  }

  // ------------------------------------------------------------------ the messages

  private static String sender(int id, TlsLevel level) {
    return "m" + id + "@" + SENDER_DOMAINS.get(level);
  }

  private static Sent message(int id, SplittableRandom r, List<String> domains) {
    TlsLevel level = LEVELS.get(r.nextInt(LEVELS.size()));
    double x = r.nextDouble();
    int count = x < 0.6 ? 1 + r.nextInt(3) : x < 0.9 ? 4 + r.nextInt(12) : 16 + r.nextInt(35);
    int domainCount = 1 + r.nextInt(Math.min(4, count));
    List<String> chosen = new ArrayList<>(domains);
    for (int i = chosen.size() - 1; i > 0; i--) {
      int j = r.nextInt(i + 1);
      String t = chosen.get(i);
      chosen.set(i, chosen.get(j));
      chosen.set(j, t);
    }
    chosen = chosen.subList(0, domainCount);
    List<String> recipients = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      recipients.add("u" + id + "-" + i + "@" + chosen.get(i % domainCount));
    }
    return new Sent(id, level, sender(id, level), recipients, r.nextInt(20) == 0);
  }

  private static int size(SplittableRandom r) {
    double x = r.nextDouble();
    if (x < 0.004) {
      return (1 << 20) + r.nextInt(256 * 1024); // large enough for BDAT (RFC 3030) where offered
    }
    x = r.nextDouble();
    return x < 0.6
        ? 200 + r.nextInt(4000)
        : x < 0.95 ? 4000 + r.nextInt(40_000) : 64_000 + r.nextInt(200_000);
  }

  private static Envelope envelope(Sent s) {
    return Envelope.of(s.sender(), s.recipients().toArray(new String[0]));
  }

  private static MessageContent content(Sent s, int size, SplittableRandom r, Run run) {
    StringBuilder b = new StringBuilder(size + 512);
    b.append("From: <").append(s.sender()).append(">\r\n");
    b.append("To: undisclosed-recipients:;\r\n");
    b.append("Subject: soak message ").append(s.id()).append("\r\n");
    b.append("Message-ID: <soak-").append(s.id()).append("@sender.test>\r\n");
    b.append("X-Soak-Id: ").append(s.id()).append("\r\n\r\n");
    long lineSeed = r.nextLong();
    boolean eightBit = s.eightBit();
    if (eightBit) {
      b.append("Grüße aus Köln\r\n"); // at least one 8-bit line (RFC 6152)
    }
    SplittableRandom lines = new SplittableRandom(lineSeed);
    while (b.length() < size) {
      if (eightBit && lines.nextInt(10) == 0) {
        b.append("Grüße aus Köln, ça va ? ");
      }
      int n = 1 + lines.nextInt(76);
      if (lines.nextInt(20) == 0) {
        b.append('.'); // dot-stuffing at line starts
      }
      for (int i = 0; i < n; i++) {
        b.append((char) ('a' + lines.nextInt(26)));
      }
      b.append(lines.nextInt(10) == 0 ? "\n" : "\r\n"); // bare LFs too
    }
    byte[] octets = b.toString().getBytes(StandardCharsets.UTF_8);
    run.expectedDigests.put(s.id(), sha256(ReferenceSmtpData.delivered(octets)));
    return MessageContent.of(octets);
  }

  private static String sha256(byte[] octets) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(octets));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  // ------------------------------------------------------------------ DNS and HTTPS weather

  private static List<Runnable> weather(SoakWorld world, SplittableRandom r, int round, Run run) {
    List<Runnable> undo = new ArrayList<>();
    for (SoakWorld.Domain d : world.domains.values()) {
      if (r.nextDouble() < 0.3) {
        List<String[]> targets = new ArrayList<>();
        targets.add(new String[] {d.name(), "MX"});
        targets.add(new String[] {d.mxHost(), "A"});
        if (d.kind().dane) {
          targets.add(new String[] {"_25._tcp." + d.mxHost(), "TLSA"});
        }
        if (d.kind().stsMode != null) {
          targets.add(new String[] {"_mta-sts." + d.name(), "TXT"});
        }
        String[] t = targets.get(r.nextInt(targets.size()));
        int type = Type.value(t[1]);
        switch (r.nextInt(3)) {
          case 0 -> {
            world.dns.drop(t[0], type);
            weather(run, "dns.drop." + t[1]);
          }
          case 1 -> {
            world.dns.servfail(t[0], type);
            weather(run, "dns.servfail." + t[1]);
          }
          default -> {
            world.dns.corruptSignatures(t[0], type);
            weather(run, "dns.bogus." + t[1]);
          }
        }
      }
      if (d.kind().stsMode != null && r.nextDouble() < 0.35) {
        world.bumpPolicyId(d.name(), 1000 + round);
        weather(run, "https.newPolicyId");
        if (r.nextDouble() < 0.75) {
          MtaStsServer.Fault f =
              List.of(
                      MtaStsServer.Fault.STALL,
                      MtaStsServer.Fault.SERVER_ERROR,
                      MtaStsServer.Fault.TRUNCATED_BODY)
                  .get(r.nextInt(3));
          world.sts.fault(d.name(), f);
          weather(run, "https." + f);
          undo.add(() -> world.sts.clearFault(d.name()));
        }
      }
    }
    undo.add(world.dns::clearFaults);
    return undo;
  }

  private static void weather(Run run, String what) {
    synchronized (run.weather) {
      run.weather.merge(what, 1, Integer::sum);
    }
  }

  // ------------------------------------------------------------------ checks

  /** Per report: each recipient exactly once, and no delivery its policy forbids. */
  private static void check(SoakWorld world, Sent s, DeliveryReport report, Run run) {
    Map<String, Integer> seen = new HashMap<>();
    for (RecipientResult r : report.recipients()) {
      seen.merge(r.recipient().toString(), 1, Integer::sum);
    }
    for (String rcpt : s.recipients()) {
      int n = seen.getOrDefault(rcpt, 0);
      if (n != 1) {
        run.violation(s.id() + ": " + rcpt + " reported " + n + " times");
      }
    }
    if (seen.size() != s.recipients().size()) {
      run.violation(s.id() + ": report names recipients not in the envelope: " + seen.keySet());
    }
    synchronized (run) {
      run.recipients += s.recipients().size();
    }
    for (RecipientResult r : report.recipients()) {
      String rcpt = r.recipient().toString();
      run.count("status." + r.status());
      run.count("level." + s.level() + "." + r.status());
      run.outcomes.put(s.id() + "|" + rcpt, new Outcome(r.status(), r.tls().isPresent()));
      SoakWorld.Domain d = world.domains.get(rcpt.substring(rcpt.indexOf('@') + 1));
      int expectedClass =
          switch (r.status()) {
            case DELIVERED -> 2;
            case DEFERRED -> 4;
            case BOUNCED -> 5;
          };
      if (r.reply().code() / 100 != expectedClass) {
        run.violation(s.id() + ": " + rcpt + " " + r.status() + " with reply " + r.reply());
      }
      if (s.eightBit() && d.kind() == SoakWorld.Kind.NONE_PLAIN) {
        run.count("acct.eightBitToServerWithout8BITMIME." + r.status());
      }
      if (r.status() == DeliveryStatus.DELIVERED && r.attempt().isEmpty()) {
        run.violation(s.id() + ": " + rcpt + " DELIVERED without the attempt that delivered it");
      }
      if (r.status() == DeliveryStatus.BOUNCED) {
        run.count(
            "bounce."
                + d.kind()
                + "."
                + s.level()
                + "."
                + r.reply().code()
                + r.attempt().flatMap(a -> a.failure()).map(f -> "." + f).orElse(""));
      }
      if (r.status() == DeliveryStatus.DELIVERED) {
        String why = policyViolation(d, s.level(), r);
        if (why != null) {
          run.violation(
              s.id() + ": " + rcpt + " at " + s.level() + " to " + d.kind() + ": " + why + " " + r);
        }
      }
    }
  }

  /** Why a DELIVERED result breaks the domain's published policy or the sender's level, or null. */
  static String policyViolation(SoakWorld.Domain d, TlsLevel level, RecipientResult r) {
    SoakWorld.Kind k = d.kind();
    if (!r.mxHost().map(h -> h.equals(DomainName.of(d.mxHost()))).orElse(false)) {
      return "delivered via another host than the domain's MX";
    }
    boolean tls = r.tls().isPresent();
    String auth = r.authentication().map(Enum::name).orElse("NONE");
    if (level == TlsLevel.DANE_REQUIRED && !k.dane) {
      return "dane-required delivered to a domain without DANE";
    }
    if (level == TlsLevel.STS_REQUIRED && !k.stsEnforce()) {
      return "sts-required delivered to a domain without an enforce policy";
    }
    if (k.dane) {
      if (!tls
          || !auth.equals("VERIFIED")
          || !(r.attempt().get().requirement() instanceof io.mailtls.core.TlsRequirement.Dane)) {
        return "DANE domain delivered without DANE authentication (" + auth + ")";
      }
      return null;
    }
    if (k.stsEnforce()) {
      if (!tls || !auth.equals("VERIFIED")) {
        return "MTA-STS enforce domain delivered without PKIX authentication (" + auth + ")";
      }
      return null;
    }
    if (level == TlsLevel.ENFORCED) {
      if (!tls) {
        return "enforced delivered without TLS";
      }
      String protocol = r.tls().get().protocol();
      if (!protocol.equals("TLSv1.2") && !protocol.equals("TLSv1.3")) {
        return "enforced delivered over " + protocol;
      }
    }
    return null;
  }

  /** Reports against the servers' records. */
  private static void reconcile(
      SoakWorld world, Map<String, Sent> sent, SoakFaults faults, Run run) {
    Map<Integer, String> senders = new HashMap<>();
    sent.values().forEach(s -> senders.put(s.id(), s.sender()));
    // "id|rcpt" -> how many times a server accepted it (250 to the final dot), and where
    Map<String, Integer> accepted = new HashMap<>();
    Map<String, Integer> lostReply = new HashMap<>();
    Map<String, Boolean> acceptedTls = new HashMap<>();
    for (SoakWorld.Domain d : world.domains.values()) {
      for (SmtpMessage m : d.server().messages()) {
        Sent s = sent.get(m.mailFrom());
        String header = m.header("X-Soak-Id").orElse("?");
        if (s == null || !header.equals(Integer.toString(s.id()))) {
          run.violation(d.name() + ": a message the soak did not send: " + m);
          continue;
        }
        // The data arrived in full (the server recorded it): it must be exactly what was sent, line
        // breaks normalised, dots unstuffed; a server that accepted altered content is no delivery.
        String expected = run.expectedDigests.get(s.id());
        String got = HexFormat.of().formatHex(m.sha256());
        if (!got.equals(expected)) {
          run.violation(
              d.name()
                  + ": message "
                  + s.id()
                  + " arrived altered ("
                  + m.size()
                  + " octets, "
                  + (m.chunked() ? "BDAT" : "DATA")
                  + ", reply "
                  + m.finalReply().map(Object::toString).orElse("none")
                  + ")");
        }
        if (m.accepted() && s.eightBit()) {
          run.count("acct.eightBitAccepted");
          if (d.kind() == SoakWorld.Kind.NONE_PLAIN) { // offers no 8BITMIME
            run.violation(
                d.name() + ": 8-bit message " + s.id() + " sent to a server without 8BITMIME");
          } else if (!m.mailParameters().contains("BODY=8BITMIME")) {
            run.violation(d.name() + ": 8-bit message " + s.id() + " sent without BODY=8BITMIME");
          }
        }
        for (String rcpt : m.recipients()) {
          String key = s.id() + "|" + rcpt;
          if (!rcpt.endsWith("@" + d.name())) {
            run.violation(d.name() + ": received " + key + " meant for another domain");
          }
          if (m.accepted()) {
            accepted.merge(key, 1, Integer::sum);
            acceptedTls.put(key, m.tls());
          } else if (m.finalReply().isEmpty()) {
            lostReply.merge(key, 1, Integer::sum);
          }
        }
      }
    }
    for (Map.Entry<String, Outcome> e : run.outcomes.entrySet()) {
      String key = e.getKey();
      Outcome o = e.getValue();
      int a = accepted.getOrDefault(key, 0);
      if (o.status() == DeliveryStatus.DELIVERED) {
        if (a != 1) {
          run.violation(key + " DELIVERED but accepted " + a + " times by the servers");
        } else if (acceptedTls.get(key) != o.tls()) {
          run.violation(
              key
                  + " DELIVERED with tls="
                  + o.tls()
                  + " but the server saw tls="
                  + acceptedTls.get(key));
        }
        if (lostReply.containsKey(key)) {
          run.count("acct.deliveredAfterLostReply");
        }
      } else if (a > 0) {
        if (o.status() == DeliveryStatus.BOUNCED) {
          run.violation(key + " BOUNCED but a server accepted it " + a + " times");
        } else {
          run.count("acct.acceptedButDeferred(duplicateRisk)");
          String sender = senders.get(Integer.parseInt(key.substring(0, key.indexOf('|'))));
          String domain = key.substring(key.indexOf('@') + 1);
          String tx = sender + "|" + domain;
          if (faults.slowReads.contains(tx)) {
            // The server read the content slowly: the client's wait for the final reply may
            // have run out while the server still read what sat in the socket's buffers.
            run.count("acct.acceptedButDeferredAfterSlowRead");
          } else if (!faults.lateReplies.contains(tx)) {
            // Neither a scripted late reply nor a slow read: the server replied 250 in time,
            // so a DEFERRED here is a 250 the client read and did not report.
            run.count("acct.acceptedButDeferredWithoutLateReply");
            run.unexplained.add(key);
            run.violation(key + " DEFERRED, but its server accepted it " + a + " times, not late");
          }
        }
      }
      if (lostReply.containsKey(key)) {
        run.count("acct.lostFinalReply");
        if (o.status() == DeliveryStatus.BOUNCED) {
          run.violation(key + " BOUNCED after its final reply was lost");
        } else if (o.status() == DeliveryStatus.DEFERRED) {
          run.count("acct.lostFinalReplyDeferred");
        }
      }
    }
    for (String key : accepted.keySet()) {
      if (!run.outcomes.containsKey(key)) {
        run.violation(key + " accepted by a server but not in any report");
      }
    }
  }
}
