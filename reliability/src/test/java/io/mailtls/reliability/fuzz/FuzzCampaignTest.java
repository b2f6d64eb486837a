package io.mailtls.reliability.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Coverage-guided fuzzing of every {@link FuzzTarget} with Jazzer, one JVM per target (Jazzer
 * fuzzes one target per JVM): {@code com.code_intelligence.jazzer.Jazzer} with {@link FuzzMain} as
 * the target class, the target's seeds and findings as read-only corpora, and a generated corpus
 * and crash artifacts under {@code target/fuzz/<target>/}.
 *
 * <p>System properties (docs/reliability.md, "Fuzzing"): {@code fuzz.seconds}, the budget per
 * target (CI: 15); {@code fuzz.targets}, a comma-separated subset of target names (default: all);
 * {@code fuzz.parallel}, how many targets fuzz at once (default 2); {@code fuzz.seed}, libFuzzer's
 * seed (default: {@value #CI_SEED} for runs of up to {@value #FIXED_SEED_UP_TO} s, so that the
 * bounded CI run mutates the same way every time and a red CI run is the tree's doing, not
 * chance's; random for longer runs, which are there to explore). A target fails when Jazzer reports
 * a finding (the input is saved as {@code crash-*} in its directory, and the JVM's output is shown)
 * or when it does not finish within its budget plus {@value #STARTUP_SECONDS} s.
 */
class FuzzCampaignTest {

  private static final long STARTUP_SECONDS = 240;

  /** The libFuzzer seed of bounded runs. */
  static final long CI_SEED = 1;

  /** The longest budget per target that fuzzes with {@link #CI_SEED} unless told otherwise. */
  static final long FIXED_SEED_UP_TO = 120;

  private static final ExecutorService JVMS =
      Executors.newFixedThreadPool(Integer.getInteger("fuzz.parallel", 2));

  @AfterAll
  static void stop() {
    JVMS.shutdownNow();
  }

  @TestFactory
  List<DynamicTest> fuzzEveryTarget() {
    long seconds = Long.parseLong(System.getProperty("fuzz.seconds", "15"));
    String only = System.getProperty("fuzz.targets", "");
    List<DynamicTest> tests = new ArrayList<>();
    for (String name : FuzzTargets.names()) {
      if (only.isBlank() || List.of(only.split(",", -1)).contains(name)) {
        Future<Run> run = JVMS.submit(() -> fuzz(name, seconds));
        tests.add(DynamicTest.dynamicTest(name, () -> run.get().check()));
      }
    }
    assertThat(tests).as("fuzz.targets=%s names no target", only).isNotEmpty();
    return tests;
  }

  /** One finished (or stopped) Jazzer JVM. */
  private record Run(String name, boolean finished, int exit, Path log, String output) {

    void check() {
      System.out.println("---- " + name + ": " + summary(output));
      assertThat(finished)
          .as("%s did not finish within its budget and %d s; log %s", name, STARTUP_SECONDS, log)
          .isTrue();
      assertThat(exit)
          .as("Jazzer found a broken promise in %s (log %s):%n%s", name, log, tail(output))
          .isZero();
      assertThat(output).as("Jazzer ran %s (log %s)", name, log).contains("Done ");
      // "Done N runs" counts the corpus inputs replayed at start-up too ("#M INITED"): a run
      // that spent its budget loading the corpus mutated nothing, and proves nothing new.
      assertThat(mutatedRuns(output))
          .as("%s ran no input beyond its corpus (log %s): %s", name, log, summary(output))
          .isPositive();
    }
  }

  private static final Pattern INITED = Pattern.compile("(?m)^#(\\d+)\\s+INITED ");
  private static final Pattern DONE = Pattern.compile("(?m)^Done (\\d+) runs ");

  /** The runs after the corpus was loaded: libFuzzer's "Done N runs" less its "#M INITED". */
  static long mutatedRuns(String output) {
    Matcher inited = INITED.matcher(output);
    Matcher done = DONE.matcher(output);
    if (!inited.find() || !done.find()) {
      return 0;
    }
    return Long.parseLong(done.group(1)) - Long.parseLong(inited.group(1));
  }

  private static Run fuzz(String name, long seconds) throws IOException, InterruptedException {
    FuzzTarget target = FuzzTargets.byName(name);
    Path work = Path.of("target", "fuzz", name).toAbsolutePath();
    Path generated = work.resolve("corpus");
    Files.createDirectories(generated);
    Path log = work.resolve("jazzer.log");
    // Coverage of mailtls and of the libraries the target names; nothing else is instrumented.
    List<String> packages = new ArrayList<>(List.of("io.mailtls.**"));
    packages.addAll(target.instrumented());
    String includes = String.join(":", packages);
    // Findings of an earlier run are in the log of that run; this run reports its own.
    try (var old = Files.list(work)) {
      for (Path file : old.toList()) {
        String f = file.getFileName().toString();
        if (f.startsWith("crash-") || f.startsWith("Crash_") || f.startsWith("timeout-")) {
          Files.delete(file);
        }
      }
    }

    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx1g");
    command.add("-XX:+UseSerialGC");
    if (seconds <= 120) {
      // Short runs: C1 only halves the start-up cost, and C1 code runs fast enough for a few
      // seconds of fuzzing; long runs get the full JIT.
      command.add("-XX:TieredStopAtLevel=1");
    }
    command.add("-Duser.language=" + System.getProperty("user.language", "en"));
    command.add("-Duser.country=" + System.getProperty("user.country", ""));
    command.add("-cp");
    command.add(classPath());
    command.add("com.code_intelligence.jazzer.Jazzer");
    command.add("--target_class=" + FuzzMain.class.getName());
    command.add("--target_args=" + name);
    command.add("--instrumentation_includes=" + includes);
    command.add("--custom_hook_includes=" + includes);
    command.add("--reproducer_path=" + work);
    command.add("-max_total_time=" + seconds);
    // libFuzzer's seed 0 means a random one (printed as "Seed: N" in the log).
    long seed = Long.getLong("fuzz.seed", seconds <= FIXED_SEED_UP_TO ? CI_SEED : 0);
    command.add("-seed=" + seed);
    command.add("-max_len=16384");
    command.add("-timeout=" + (FuzzHarness.TIME_BOUND.toSeconds() * 4));
    command.add("-rss_limit_mb=0");
    command.add("-print_final_stats=1");
    command.add("-artifact_prefix=" + work + File.separator);
    command.add(generated.toString());
    for (Path corpus : FuzzCorpus.directories(target)) {
      command.add(corpus.toString());
    }
    Files.writeString(work.resolve("command.txt"), String.join(" ", command) + "\n");

    Process process =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    boolean finished = process.waitFor(seconds + STARTUP_SECONDS, TimeUnit.SECONDS);
    if (!finished) {
      process.destroyForcibly().waitFor();
    }
    String output = Files.readString(log, StandardCharsets.UTF_8);
    return new Run(name, finished, finished ? process.exitValue() : -1, log, output);
  }

  /** The test class path: surefire's, not its booter jar's. */
  private static String classPath() {
    String surefire = System.getProperty("surefire.test.class.path");
    return surefire != null && !surefire.isBlank()
        ? surefire
        : System.getProperty("java.class.path");
  }

  /** libFuzzer's start and end lines: coverage at start, runs done, units added. */
  private static String summary(String output) {
    StringBuilder sb = new StringBuilder();
    for (String line : output.lines().toList()) {
      if (line.startsWith("Done ")
          || line.startsWith("stat::new_units_added")
          || line.contains("INITED cov:")) {
        sb.append(line.strip()).append("; ");
      }
    }
    return sb.length() == 0 ? tail(output) : sb.toString();
  }

  private static String tail(String output) {
    return output.length() <= 6000 ? output : output.substring(output.length() - 6000);
  }
}
