package io.mailtls.redis;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.MtaStsServer;
import io.mailtls.testkit.TestDnsServer;
import io.mailtls.testkit.TestPki;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.InetAddress;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 18, TLS-RPT across a fleet: senders in separate JVMs, each a {@link
 * io.mailtls.core.SecureSmtpTransport} counting through a {@link
 * io.mailtls.tlsrpt.TlsRptAggregator} into one {@link RedisAggregateStore}, deliver real messages
 * (signed DNS, MTA-STS over HTTPS, STARTTLS at mock MX hosts on loopback); then two {@link
 * io.mailtls.tlsrpt.TlsRptReporter}s in two more JVMs, each with its own {@link RedisReportClaim},
 * flush the ended day at once. The HTTPS endpoint every domain's {@code rua} names receives exactly
 * one report per policy domain, whose counts are the sum over the senders: the sessions the mock
 * servers saw.
 *
 * <ul>
 *   <li>{@code good.fleet.test}: no policy, STARTTLS with a good certificate (successes);
 *   <li>{@code plain.fleet.test}: no policy, no STARTTLS ({@code starttls-not-supported});
 *   <li>{@code sts.fleet.test}: MTA-STS {@code enforce}; its preferred MX presents a certificate
 *       for another name ({@code certificate-host-mismatch}), the second a good one.
 * </ul>
 */
@Timeout(value = 300, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class FleetTlsRptReportTest {

  private static final TestPki PKI = TestPki.create();
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final String DAY = "2026-12-05";
  private static final String COUNT_AT = DAY + "T10:00:00Z";
  private static final String REPORT_AT = "2026-12-06T00:30:00Z";
  private static final String REPORTS_HOST = "reports.fleet.test";

  private final List<AutoCloseable> closeables = new ArrayList<>();
  private final Map<String, MockSmtpServer> mx = new LinkedHashMap<>();
  private final List<Process> children = new ArrayList<>();
  private MockWebServer reports;
  private TestDnsServer dns;
  private MtaStsServer sts;
  private Path anchor;
  private Path root;
  private Path tmp;

  @BeforeEach
  void world(@TempDir Path tmp) throws Exception {
    this.tmp = tmp;
    reports = new MockWebServer();
    reports.useHttps(
        PKI.root().leaf().dnsNames(REPORTS_HOST).issue().serverSslContext().getSocketFactory());
    reports.start(InetAddress.getLoopbackAddress(), 0);
    closeables.add(reports);
    int port = 0;
    String[][] hosts = {
      {"mx.good.fleet.test", "127.0.12.1", "mx.good.fleet.test"},
      {"mx.plain.fleet.test", "127.0.12.2", null},
      {"mx1.sts.fleet.test", "127.0.12.3", "elsewhere.fleet.test"},
      {"mx2.sts.fleet.test", "127.0.12.4", "mx2.sts.fleet.test"},
    };
    for (String[] h : hosts) {
      MockSmtpServer.Builder b =
          MockSmtpServer.builder()
              .address(InetAddress.getByName(h[1]))
              .hostname(h[0])
              .idleTimeout(Duration.ofSeconds(20));
      if (port != 0) {
        b.port(port);
      }
      if (h[2] != null) {
        b.tls(PKI.root().leaf().dnsNames(h[2]).issue().serverSslContext());
      }
      MockSmtpServer s = b.start();
      closeables.add(s);
      port = s.port();
      mx.put(h[0], s);
    }
    sts =
        MtaStsServer.builder()
            .pki(PKI)
            .domain(
                "sts.fleet.test",
                MtaStsServer.policyText(
                    "enforce", 86400, "mx1.sts.fleet.test", "mx2.sts.fleet.test"))
            .start();
    closeables.add(sts);
    String https = "https://" + REPORTS_HOST + ":" + reports.getPort() + "/tlsrpt";
    dns =
        TestDnsServer.builder()
            .zone(
                "fleet.test",
                z -> {
                  z.a(REPORTS_HOST, InetAddress.getLoopbackAddress().getHostAddress());
                  z.mailHost(
                      "good.fleet.test", 10, "mx.good.fleet.test", mx.get("mx.good.fleet.test"));
                  z.mailHost(
                      "plain.fleet.test", 10, "mx.plain.fleet.test", mx.get("mx.plain.fleet.test"));
                  z.mailHost(
                      "sts.fleet.test", 10, "mx1.sts.fleet.test", mx.get("mx1.sts.fleet.test"));
                  z.mailHost(
                      "sts.fleet.test", 20, "mx2.sts.fleet.test", mx.get("mx2.sts.fleet.test"));
                  sts.publish(z, "sts.fleet.test", "fleet1");
                  for (String d : List.of("good", "plain", "sts")) {
                    z.txt("_smtp._tls." + d + ".fleet.test", "v=TLSRPTv1; rua=" + https);
                  }
                })
            .start();
    closeables.add(dns);
    anchor = tmp.resolve("anchor");
    Files.writeString(anchor, dns.trustAnchor(), StandardCharsets.US_ASCII);
    root = tmp.resolve("root.pem");
    Files.writeString(
        root,
        "-----BEGIN CERTIFICATE-----\n"
            + Base64.getMimeEncoder().encodeToString(PKI.root().certificate().getEncoded())
            + "\n-----END CERTIFICATE-----\n",
        StandardCharsets.US_ASCII);
  }

  @AfterEach
  void close() throws Exception {
    for (Process p : children) {
      p.destroyForcibly();
    }
    for (int i = closeables.size() - 1; i >= 0; i--) {
      closeables.get(i).close();
    }
  }

  @Test
  void threeSendersTwoReportersOneReportPerPolicyDomainWithTheSummedCounts() throws Exception {
    RedisServerProcess redis = RedisServerProcess.start();
    closeables.add(redis);
    Map<String, Integer> before = sessions();

    // Three processes, three mixes of outcomes, counting at once.
    Child a = child(redis, "count", COUNT_AT);
    Child b = child(redis, "count", COUNT_AT);
    Child c = child(redis, "count", COUNT_AT);
    for (int i = 0; i < 3; i++) {
      assertThat(a.ask("send b@good.fleet.test")).isEqualTo("DELIVERED");
      assertThat(b.ask("send b@sts.fleet.test")).isEqualTo("DELIVERED"); // via mx2, after mx1
      assertThat(c.ask("send b@plain.fleet.test")).isEqualTo("DELIVERED"); // opportunistic
    }
    assertThat(b.ask("send c@good.fleet.test")).isEqualTo("DELIVERED");
    assertThat(c.ask("send c@sts.fleet.test")).isEqualTo("DELIVERED");
    for (Child x : List.of(a, b, c)) {
      assertThat(x.ask("quit")).as("pending lost failed").isEqualTo("0 0 0");
      x.awaitExit();
    }
    Map<String, Integer> seen = seenSince(before);
    assertThat(seen)
        .containsEntry("mx.good.fleet.test", 4)
        .containsEntry("mx.plain.fleet.test", 3)
        .containsEntry("mx1.sts.fleet.test", 4)
        .containsEntry("mx2.sts.fleet.test", 4);

    Map<String, JsonNode> got = reportConcurrently(redis);
    assertReports(got, seen);
  }

  @Test
  void countsMadeWhileRedisWasKilledArriveInTheReport() throws Exception {
    // Redis keeps its data across the restart (append-only file, each write synced), as a
    // production Redis would: what is tested is the counts made while it was down.
    RedisServerProcess redis =
        RedisServerProcess.start("--appendonly", "yes", "--appendfsync", "always");
    closeables.add(redis);
    Map<String, Integer> before = sessions();
    Child a = child(redis, "count", COUNT_AT);
    Child b = child(redis, "count", COUNT_AT);
    assertThat(a.ask("send b@good.fleet.test")).isEqualTo("DELIVERED");
    assertThat(b.ask("send b@sts.fleet.test")).isEqualTo("DELIVERED");
    redis.kill();
    // Deliveries go on; their counts wait in the sender's memory.
    assertThat(a.ask("send c@good.fleet.test")).isEqualTo("DELIVERED");
    assertThat(a.ask("send b@plain.fleet.test")).isEqualTo("DELIVERED");
    assertThat(a.ask("send c@sts.fleet.test")).isEqualTo("DELIVERED");
    assertThat(a.ask("pending")).isEqualTo("3 0 0");
    redis.restart();
    // The next delivery's merge reaches Redis and sends what waited first.
    assertThat(a.ask("send d@good.fleet.test")).isEqualTo("DELIVERED");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!a.ask("pending").equals("0 0 0")) {
      assertThat(System.nanoTime() - deadline).as("the kept counts were not merged").isNegative();
      assertThat(a.ask("send e@good.fleet.test")).isEqualTo("DELIVERED");
    }
    assertThat(a.ask("quit")).isEqualTo("0 0 0");
    assertThat(b.ask("quit")).isEqualTo("0 0 0");
    a.awaitExit();
    b.awaitExit();
    Map<String, Integer> seen = seenSince(before);
    assertThat(seen.get("mx.plain.fleet.test")).isEqualTo(1);
    assertThat(seen.get("mx1.sts.fleet.test")).isEqualTo(2);

    Map<String, JsonNode> got = reportConcurrently(redis);
    assertReports(got, seen);
  }

  /** Two reporter JVMs flush the day at once; the reports the endpoint received, by domain. */
  private Map<String, JsonNode> reportConcurrently(RedisServerProcess redis) throws Exception {
    for (int i = 0; i < 6; i++) {
      reports.enqueue(new MockResponse.Builder().code(200).build());
    }
    Child r1 = child(redis, "report", REPORT_AT);
    Child r2 = child(redis, "report", REPORT_AT);
    assertThat(r1.read()).isEqualTo("ready");
    assertThat(r2.read()).isEqualTo("ready");
    r1.write("flush " + DAY);
    r2.write("flush " + DAY);
    String run1 = r1.read();
    String run2 = r2.read();
    assertThat(r1.ask("quit")).isEqualTo("done");
    assertThat(r2.ask("quit")).isEqualTo("done");
    r1.awaitExit();
    r2.awaitExit();
    // Each domain DELIVERED by exactly one of them; the other left it to the holder.
    for (String d : List.of("good", "plain", "sts")) {
      String delivered = d + ".fleet.test=DELIVERED";
      assertThat(List.of(run1, run2))
          .as("%s / %s", run1, run2)
          .filteredOn(r -> r.contains(delivered))
          .hasSize(1);
    }
    assertThat(run1 + " " + run2)
        .as("the day's counts discarded")
        .contains("settled=[" + DAY + "]");

    Map<String, JsonNode> got = new TreeMap<>();
    int n = reports.getRequestCount();
    for (int i = 0; i < n; i++) {
      RecordedRequest req = reports.takeRequest(5, TimeUnit.SECONDS);
      assertThat(req).isNotNull();
      assertThat(req.getHeaders().get("Content-Type")).isEqualTo("application/tlsrpt+gzip");
      JsonNode json;
      try (GZIPInputStream in =
          new GZIPInputStream(new ByteArrayInputStream(req.getBody().toByteArray()))) {
        json = JSON.readTree(in);
      }
      String d = json.at("/policies/0/policy/policy-domain").asText();
      assertThat(got.put(d, json)).as("a second report for %s", d).isNull();
    }
    assertThat(got.keySet())
        .containsExactly("good.fleet.test", "plain.fleet.test", "sts.fleet.test");

    // Nothing left in Redis to report again.
    try (RedisAggregateStore store =
        RedisAggregateStore.newBuilder(redis.uri())
            .keyPrefix("fleet")
            .commandTimeout(Duration.ofSeconds(5))
            .build()) {
      assertThat(store.days()).isEmpty();
      assertThat(store.read(LocalDate.parse(DAY))).isEmpty();
    }
    return got;
  }

  private static void assertReports(Map<String, JsonNode> got, Map<String, Integer> seen) {
    for (JsonNode r : got.values()) {
      assertThat(r.at("/date-range/start-datetime").asText()).isEqualTo(DAY + "T00:00:00Z");
      assertThat(r.get("policies")).hasSize(1);
    }
    JsonNode good = got.get("good.fleet.test").at("/policies/0");
    assertThat(good.at("/policy/policy-type").asText()).isEqualTo("no-policy-found");
    assertSummary(good, seen.get("mx.good.fleet.test"), 0);

    JsonNode plain = got.get("plain.fleet.test").at("/policies/0");
    assertSummary(plain, 0, seen.get("mx.plain.fleet.test"));
    assertThat(plain.at("/failure-details/0/result-type").asText())
        .isEqualTo("starttls-not-supported");

    JsonNode sts = got.get("sts.fleet.test").at("/policies/0");
    assertThat(sts.at("/policy/policy-type").asText()).isEqualTo("sts");
    assertSummary(sts, seen.get("mx2.sts.fleet.test"), seen.get("mx1.sts.fleet.test"));
    assertThat(sts.at("/failure-details/0/result-type").asText())
        .isEqualTo("certificate-host-mismatch");
    assertThat(sts.at("/failure-details/0/receiving-mx-hostname").asText())
        .isEqualTo("mx1.sts.fleet.test");
  }

  private static void assertSummary(JsonNode policy, long successes, long failures) {
    assertThat(policy.at("/summary/total-successful-session-count").asLong())
        .as("successes of %s", policy.at("/policy/policy-domain"))
        .isEqualTo(successes);
    assertThat(policy.at("/summary/total-failure-session-count").asLong())
        .as("failures of %s", policy.at("/policy/policy-domain"))
        .isEqualTo(failures);
    long details = 0;
    for (JsonNode d : policy.path("failure-details")) {
      details += d.get("failed-session-count").asLong();
    }
    assertThat(details).isEqualTo(failures);
  }

  private Map<String, Integer> sessions() {
    Map<String, Integer> m = new HashMap<>();
    mx.forEach((h, s) -> m.put(h, s.sessions().size()));
    return m;
  }

  private Map<String, Integer> seenSince(Map<String, Integer> before) {
    Map<String, Integer> m = new TreeMap<>();
    mx.forEach((h, s) -> m.put(h, s.sessions().size() - before.get(h)));
    return m;
  }

  private Child child(RedisServerProcess redis, String mode, String clock) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-cp");
    cmd.add(classPath());
    cmd.add(FleetRptProcess.class.getName());
    cmd.addAll(
        List.of(
            mode,
            Integer.toString(redis.port()),
            Integer.toString(dns.socketAddress().getPort()),
            anchor.toString(),
            root.toString(),
            Integer.toString(sts.port()),
            Integer.toString(mx.get("mx.good.fleet.test").port()),
            clock));
    Path log = tmp.resolve("child-" + children.size() + ".log");
    Process p = new ProcessBuilder(cmd).redirectError(log.toFile()).start();
    children.add(p);
    return new Child(p, log);
  }

  /** A child JVM driven line by line. */
  private static final class Child {
    private final Process process;
    private final Path log;
    private final BufferedReader out;
    private final Writer in;

    Child(Process process, Path log) {
      this.process = process;
      this.log = log;
      this.out =
          new BufferedReader(
              new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
      this.in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
    }

    void write(String line) throws IOException {
      in.write(line + "\n");
      in.flush();
    }

    String read() throws IOException {
      String line = out.readLine();
      assertThat(line).as("the child ended; its log:\n%s", logText()).isNotNull();
      return line.strip();
    }

    String ask(String line) throws IOException {
      write(line);
      return read();
    }

    void awaitExit() throws InterruptedException {
      assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(process.exitValue()).as(logText()).isZero();
    }

    private String logText() {
      try {
        return Files.readString(log);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  /** This test's class path and module path, all on a class path, and its own classes. */
  private static String classPath() {
    Set<String> entries = new LinkedHashSet<>();
    for (String property : List.of("java.class.path", "jdk.module.path")) {
      String value = System.getProperty(property);
      if (value != null && !value.isBlank()) {
        entries.addAll(List.of(value.split(File.pathSeparator)));
      }
    }
    for (Class<?> c : List.of(FleetRptProcess.class, RedisAggregateStore.class)) {
      try {
        entries.add(
            Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString());
      } catch (URISyntaxException e) {
        throw new IllegalStateException(e);
      }
    }
    return String.join(File.pathSeparator, entries);
  }
}
