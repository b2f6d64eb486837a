package io.mailtls.interop;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mailtls.core.Authentication;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.FailureType;
import io.mailtls.core.PolicySource;
import io.mailtls.core.TlsLevel;
import io.mailtls.interop.InteropEnv.Stored;
import io.mailtls.interop.Scenario.Expect;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The {@code mailtls} command line (its shaded jar, run as a process) against the environment: one
 * {@code mailtls send --json} per sender level with one recipient at every scenario domain, checked
 * against {@link Scenario} through the documented JSON (docs/cli-json.md) and Postfix's maildirs.
 */
class CliInteropTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Map<TlsLevel, Run> RUNS = new EnumMap<>(TlsLevel.class);
  private static final InteropEnv.Undelivered UNDELIVERED = new InteropEnv.Undelivered();

  /** One CLI run: the message it sent, its exit code and its JSON document. */
  @SuppressWarnings("ArrayRecordComponent") // a result read once, never compared
  record Run(
      TlsLevel level, String messageId, byte[] message, int exit, JsonNode json, String stderr) {
    JsonNode recipient(Scenario s) {
      for (JsonNode r : json.get("recipients")) {
        if (r.get("recipient").asText().equals(rcpt(s, level))) {
          return r;
        }
      }
      throw new AssertionError("no recipient " + rcpt(s, level) + " in " + json);
    }
  }

  /** This run's recipients: unique, so that Postfix's log tells this run's deliveries apart. */
  private static final String RUN = UUID.randomUUID().toString().substring(0, 8);

  static String rcpt(Scenario s, TlsLevel level) {
    return "cli-" + level.token() + "-" + RUN + "@" + s.domain;
  }

  @BeforeAll
  static void runTheCliOncePerLevel(@TempDir Path tmp) throws Exception {
    InteropEnv.requireUp();
    Path jar = Path.of(System.getProperty("interop.cliJar"));
    assertThat(jar).as("the CLI jar (built by the cli module)").isRegularFile();
    String java = ProcessHandle.current().info().command().orElse("java");
    List<CompletableFuture<Void>> all = new ArrayList<>();
    // one thread per run (each waits for its process), never the shared common pool
    ExecutorService pool = Executors.newFixedThreadPool(TlsLevel.values().length);
    for (TlsLevel level : TlsLevel.values()) {
      String id = "cli-" + level.token() + "." + UUID.randomUUID() + "@interop.mailtls.test";
      String text =
          "From: <"
              + Library.SENDER
              + ">\r\n"
              + "To: <cli@interop.mailtls.test>\r\n"
              + "Date: Thu, 1 Jan 2026 00:00:00 +0000\r\n"
              + "Message-ID: <"
              + id
              + ">\r\n"
              + "Subject: interop CLI "
              + level.token()
              + "\r\n"
              + "\r\n"
              + "Sent by mailtls send --level "
              + level.token()
              + "\r\n"
              + ".a line that starts with a dot\r\n";
      byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
      Path file = tmp.resolve(level.token() + ".eml");
      Files.write(file, bytes);
      List<String> cmd =
          new ArrayList<>(
              List.of(
                  java,
                  "-jar",
                  jar.toString(),
                  "send",
                  "--from",
                  Library.SENDER,
                  "--level",
                  level.token(),
                  "--file",
                  file.toString(),
                  "--resolver",
                  InteropEnv.UNBOUND,
                  "--trust-anchor",
                  InteropEnv.STATE.resolve("root-anchor.ds").toString(),
                  "--ca-file",
                  InteropEnv.STATE.resolve("pki/ca.crt").toString(),
                  "--ca-only",
                  "--helo",
                  "cli.interop.mailtls.test",
                  "--timeout",
                  "10",
                  "--json"));
      for (Scenario s : Scenario.values()) {
        cmd.addAll(List.of("--to", rcpt(s, level)));
      }
      all.add(
          CompletableFuture.runAsync(
              () -> {
                Run run = run(level, cmd, id, bytes);
                synchronized (RUNS) {
                  RUNS.put(level, run);
                }
              },
              pool));
    }
    try {
      CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(5, TimeUnit.MINUTES);
    } finally {
      pool.shutdownNow();
    }
  }

  private static Run run(TlsLevel level, List<String> cmd, String id, byte[] message) {
    try {
      InteropEnv.ProcessResult r =
          InteropEnv.runBounded(new ProcessBuilder(cmd), Duration.ofMinutes(4), "mailtls send");
      JsonNode json = JSON.readTree(r.stdout());
      return new Run(level, id, message, r.exit(), json, r.stderr());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @AfterAll
  static void nothingUndeliveredArrivedLater() throws Exception {
    UNDELIVERED.assertNoneArrived();
  }

  static Stream<Arguments> matrix() {
    return ScenarioMatrixTest.matrix();
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("matrix")
  void cliJsonAndMaildir(Scenario s, TlsLevel level) throws Exception {
    Run run = RUNS.get(level);
    JsonNode r = run.recipient(s);
    Expect e = s.expect(level);
    String what = s + " at " + level + ": " + r;
    assertThat(r.get("status").asText()).as("status, " + what).isEqualTo(e.status().name());
    assertThat(text(r.get("authentication")))
        .as("authentication, " + what)
        .isEqualTo(e.authentication().map(Authentication::name));
    assertThat(r.get("policy").get("source").asText())
        .as("policy.source, " + what)
        .isEqualTo(token(e.source()));
    assertThat(r.get("policy").get("level").asText()).isEqualTo(level.token());
    assertThat(failures(r))
        .as("failure types, " + what)
        .containsExactlyInAnyOrderElementsOf(e.failures());
    // what TLS-RPT reports, policyFailures lists: every failed attempt under a recipient policy
    // (DANE, MTA-STS), and every failure of a delivered message that no attempt shows (a policy
    // that could not be had, a testing-mode failure)
    List<String> policyFailures =
        iterate(r.get("policyFailures")).stream().map(x -> x.get("failure").asText()).toList();
    Set<String> attemptFailures = new TreeSet<>();
    for (JsonNode a : r.get("attempts")) {
      if (!a.get("failure").isNull()) {
        attemptFailures.add(a.get("failure").asText());
        if (Set.of("dane", "mta-sts").contains(a.get("source").asText())
            && !a.get("tlsRpt").isNull()) {
          assertThat(policyFailures)
              .as("policyFailures, " + what)
              .contains(a.get("failure").asText());
        }
      }
    }
    if (e.status() == DeliveryStatus.DELIVERED) {
      for (FailureType f : e.failures()) {
        if (f.tlsRptResultType().isPresent() && !attemptFailures.contains(f.name())) {
          assertThat(policyFailures).as("policyFailures, " + what).contains(f.name());
        }
      }
    }
    for (JsonNode x : iterate(r.get("attempts"), r.get("policyFailures"))) {
      if (!x.get("failure").isNull()) {
        assertThat(text(x.get("tlsRpt")))
            .as("tlsRpt of %s", x)
            .isEqualTo(FailureType.valueOf(x.get("failure").asText()).tlsRptResultType());
      }
    }
    if (e.status() == DeliveryStatus.DELIVERED) {
      Path file = InteropEnv.awaitInMaildir(s.domain, run.messageId(), Duration.ofSeconds(10));
      assertThat(
              InteropEnv.awaitPostfixLogged(
                  InteropEnv.deliveredNeedle(rcpt(s, level)), Duration.ofSeconds(10)))
          .as("Postfix's log")
          .isTrue();
      Stored stored = InteropEnv.split(Files.readAllBytes(file));
      String received = stored.received().get(0);
      if (r.get("tls").isNull()) {
        assertThat(received).contains("with ESMTP ").doesNotContain("ESMTPS");
      } else {
        assertThat(received)
            .contains("with ESMTPS")
            .contains("using " + r.get("tls").get("protocol").asText() + " with cipher ");
      }
      String sent = new String(run.message(), StandardCharsets.US_ASCII).replace("\r\n", "\n");
      assertThat(new String(stored.rest(), StandardCharsets.ISO_8859_1))
          .as("stored %s", file)
          .isEqualTo(sent);
      assertThat(stored.rest()).isEqualTo(sent.getBytes(StandardCharsets.US_ASCII));
    } else {
      UNDELIVERED.record(
          s.domain, run.messageId(), InteropEnv.deliveredNeedle(rcpt(s, level)), what);
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(TlsLevel.class)
  void exitCodeAndSummary(TlsLevel level) {
    Run run = RUNS.get(level);
    int delivered = 0;
    int deferred = 0;
    int bounced = 0;
    for (Scenario s : Scenario.values()) {
      switch (s.expect(level).status()) {
        case DELIVERED -> delivered++;
        case DEFERRED -> deferred++;
        case BOUNCED -> bounced++;
      }
    }
    int expectedExit = deferred > 0 ? 75 : bounced > 0 ? 69 : 0;
    assertThat(run.exit()).as("exit code; stderr:\n%s", run.stderr()).isEqualTo(expectedExit);
    assertThat(run.json().get("exitCode").asInt()).isEqualTo(expectedExit);
    assertThat(run.json().get("schema").asText()).isEqualTo("mailtls.send/1");
    JsonNode summary = run.json().get("summary");
    assertThat(summary.get("delivered").asInt()).isEqualTo(delivered);
    assertThat(summary.get("deferred").asInt()).isEqualTo(deferred);
    assertThat(summary.get("bounced").asInt()).isEqualTo(bounced);
  }

  /**
   * For DELIVERED: every failure the JSON reports (attempts, skipped hosts, policy failures). For
   * DEFERRED/BOUNCED: the one that decided: the last failed attempt, else the first skipped host,
   * else the type that leads the {@code reason}.
   */
  private static Set<FailureType> failures(JsonNode r) {
    Set<FailureType> out = new TreeSet<>();
    if (r.get("status").asText().equals("DELIVERED")) {
      for (JsonNode x : iterate(r.get("attempts"), r.get("skipped"), r.get("policyFailures"))) {
        if (!x.get("failure").isNull()) {
          out.add(FailureType.valueOf(x.get("failure").asText()));
        }
      }
      return out;
    }
    JsonNode attempts = r.get("attempts");
    for (int i = attempts.size() - 1; i >= 0; i--) {
      if (!attempts.get(i).get("failure").isNull()) {
        return Set.of(FailureType.valueOf(attempts.get(i).get("failure").asText()));
      }
    }
    if (!r.get("skipped").isEmpty()) {
      return Set.of(FailureType.valueOf(r.get("skipped").get(0).get("failure").asText()));
    }
    String reason = r.get("reason").asText();
    return Set.of(FailureType.valueOf(reason.substring(0, reason.indexOf(':'))));
  }

  private static List<JsonNode> iterate(JsonNode... arrays) {
    List<JsonNode> out = new ArrayList<>();
    for (JsonNode a : arrays) {
      a.forEach(out::add);
    }
    return out;
  }

  private static Optional<String> text(JsonNode n) {
    return n == null || n.isNull() ? Optional.empty() : Optional.of(n.asText());
  }

  private static String token(PolicySource s) {
    return s == PolicySource.MTA_STS ? "mta-sts" : s.name().toLowerCase(Locale.ROOT);
  }
}
