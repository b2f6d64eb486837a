package io.mailtls.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.benchmarks.micro.EncoderBenchmark;
import io.mailtls.benchmarks.micro.PlanBenchmark;
import io.mailtls.benchmarks.micro.PlanCacheBenchmark;
import io.mailtls.benchmarks.micro.SmtpReplyBenchmark;
import io.mailtls.benchmarks.micro.TlsaMatchBenchmark;
import io.mailtls.mtasts.StsPolicyParseBenchmark;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Every JMH benchmark once, in this JVM ({@code -f 0 -wi 0 -i 1 -r 100ms}): it runs, its set-up
 * holds (the plan benchmark checks that DANE and MTA-STS apply), and it has a positive score. No
 * score is compared with anything.
 */
class MicroBenchmarkSmokeTest {

  @Test
  void everyBenchmarkRunsOnce() throws Exception {
    List<Class<?>> classes =
        List.of(
            PlanBenchmark.class,
            PlanCacheBenchmark.class,
            StsPolicyParseBenchmark.class,
            TlsaMatchBenchmark.class,
            SmtpReplyBenchmark.class,
            EncoderBenchmark.class);
    OptionsBuilder b = new OptionsBuilder();
    for (Class<?> c : classes) {
      b.include(c.getName() + "\\.");
    }
    Options options =
        b.forks(0)
            .warmupIterations(0)
            .measurementIterations(1)
            .measurementTime(TimeValue.milliseconds(100))
            .shouldFailOnError(true)
            // one small size for the many-domain hit: set-up time, not the benchmark's point
            .param("domains", "1000")
            .build();
    Collection<RunResult> results = new Runner(options).run();
    Set<String> ran =
        results.stream().map(r -> r.getParams().getBenchmark()).collect(Collectors.toSet());
    assertThat(ran)
        .containsExactlyInAnyOrder(
            PlanBenchmark.class.getName() + ".plan",
            PlanBenchmark.class.getName() + ".planKnownHop",
            PlanBenchmark.class.getName() + ".planUncached",
            PlanBenchmark.class.getName() + ".mapGet",
            PlanBenchmark.class.getName() + ".mapGetNextHop",
            PlanBenchmark.class.getName() + ".systemClockMillis",
            PlanCacheBenchmark.class.getName() + ".hitAmongMany",
            PlanCacheBenchmark.class.getName() + ".mapGetAmongMany",
            StsPolicyParseBenchmark.class.getName() + ".parsePolicy",
            StsPolicyParseBenchmark.class.getName() + ".selectTxtRecord",
            TlsaMatchBenchmark.class.getName() + ".daneEe",
            TlsaMatchBenchmark.class.getName() + ".daneTa",
            TlsaMatchBenchmark.class.getName() + ".jdkPkix",
            SmtpReplyBenchmark.class.getName() + ".singleLine",
            SmtpReplyBenchmark.class.getName() + ".ehloEightLines",
            EncoderBenchmark.class.getName() + ".dotStuffCrlf",
            EncoderBenchmark.class.getName() + ".dotStuffBareLf",
            EncoderBenchmark.class.getName() + ".bdatCrlf",
            EncoderBenchmark.class.getName() + ".scan");
    for (RunResult r : results) {
      assertThat(r.getPrimaryResult().getScore()).as(r.getParams().getBenchmark()).isPositive();
    }
  }
}
