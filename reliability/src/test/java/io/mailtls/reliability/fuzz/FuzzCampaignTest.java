package io.mailtls.reliability.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Coverage-guided fuzzing of every {@link FuzzTarget} with Jazzer, one JVM per target (Jazzer
 * fuzzes one target per JVM): {@code com.code_intelligence.jazzer.Jazzer} with {@link FuzzMain} as
 * the target class, the target's seeds and findings as read-only corpora, and a generated corpus
 * and crash artifacts under {@code target/fuzz/<target>/}.
 *
 * <p>System properties (docs/reliability.md, "Fuzzing"): {@code fuzz.seconds}, the budget per
 * target (CI: 15); {@code fuzz.targets}, a comma-separated subset of target names (default: all). A
 * target fails when Jazzer reports a finding (the input is saved as {@code crash-*} in its
 * directory, and the JVM's output is printed) or when it does not finish in its budget plus a
 * minute.
 */
class FuzzCampaignTest {

  private static final Duration STARTUP_ALLOWANCE = Duration.ofSeconds(60);

  @TestFactory
  List<DynamicTest> fuzzEveryTarget() {
    long seconds = Long.parseLong(System.getProperty("fuzz.seconds", "15"));
    String only = System.getProperty("fuzz.targets", "");
    List<DynamicTest> tests = new ArrayList<>();
    for (FuzzTarget target : FuzzTargets.ALL) {
      if (only.isBlank() || List.of(only.split(",", -1)).contains(target.name())) {
        tests.add(DynamicTest.dynamicTest(target.name(), () -> fuzz(target, seconds)));
      }
    }
    assertThat(tests).as("fuzz.targets=%s names no target", only).isNotEmpty();
    return tests;
  }

  private static void fuzz(FuzzTarget target, long seconds) throws Exception {
    Path work = Path.of("target", "fuzz", target.name()).toAbsolutePath();
    Path generated = work.resolve("corpus");
    Files.createDirectories(generated);
    Path log = work.resolve("jazzer.log");

    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx1g");
    command.add("-XX:+UseSerialGC");
    command.add("-Duser.language=" + System.getProperty("user.language", "en"));
    command.add("-Duser.country=" + System.getProperty("user.country", ""));
    command.add("-cp");
    command.add(classPath());
    command.add("com.code_intelligence.jazzer.Jazzer");
    command.add("--target_class=" + FuzzMain.class.getName());
    command.add("--target_args=" + target.name());
    // Coverage of mailtls and of the libraries that parse for it; the rest runs uninstrumented.
    command.add(
        "--instrumentation_includes=io.mailtls.**:org.xbill.DNS.**:jakarta.mail.**"
            + ":org.eclipse.angus.**:okhttp3.**:okio.**");
    command.add("--reproducer_path=" + work);
    command.add("-max_total_time=" + seconds);
    command.add("-max_len=16384");
    command.add("-timeout=" + (FuzzHarness.TIME_BOUND.toSeconds() * 3));
    command.add("-rss_limit_mb=0");
    command.add("-print_final_stats=1");
    command.add("-artifact_prefix=" + work + File.separator);
    command.add(generated.toString());
    for (Path corpus : FuzzCorpus.directories(target)) {
      command.add(corpus.toString());
    }

    Process process =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    boolean finished = process.waitFor(seconds + STARTUP_ALLOWANCE.toSeconds(), TimeUnit.SECONDS);
    if (!finished) {
      process.destroyForcibly().waitFor();
    }
    String output = Files.readString(log, StandardCharsets.UTF_8);
    System.out.println("---- " + target.name() + ": " + summary(output));
    assertThat(finished)
        .as("%s did not finish within %d s; log %s", target.name(), seconds + 60, log)
        .isTrue();
    assertThat(process.exitValue())
        .as("Jazzer found a broken promise in %s (log %s):%n%s", target.name(), log, tail(output))
        .isZero();
    assertThat(output).as("Jazzer ran %s", target.name()).contains("Done ");
  }

  /** The test class path: surefire's, not its booter jar's. */
  private static String classPath() {
    String surefire = System.getProperty("surefire.test.class.path");
    return surefire != null && !surefire.isBlank()
        ? surefire
        : System.getProperty("java.class.path");
  }

  /** libFuzzer's final line ("Done N runs in S second(s)") and the coverage reached. */
  private static String summary(String output) {
    StringBuilder sb = new StringBuilder();
    for (String line : output.lines().toList()) {
      if (line.startsWith("Done ")
          || line.startsWith("stat::number_of_executed_units")
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
