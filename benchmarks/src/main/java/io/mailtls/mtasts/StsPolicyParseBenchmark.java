package io.mailtls.mtasts;

import io.mailtls.core.MtaStsPolicy;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * MTA-STS parsing: the policy body (RFC 8461 §3.2) and the {@code _mta-sts} TXT record (§3.1). The
 * policy parser is package-private in the {@code mta-sts} module, so this benchmark lives in its
 * package; the benchmarks run on the class path, where that package is not sealed.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class StsPolicyParseBenchmark {

  private final String policy =
      "version: STSv1\r\nmode: enforce\r\nmx: mx1.example.com\r\n"
          + "mx: mx2.example.com\r\nmx: *.backup.example.net\r\nmax_age: 604800\r\n";
  private final List<String> txt = List.of("v=spf1 -all", "v=STSv1; id=20260101T000000;");

  @Benchmark
  public MtaStsPolicy parsePolicy() {
    return StsPolicyParser.parse(policy, "20260101T000000");
  }

  @Benchmark
  public StsRecord.Selection selectTxtRecord() {
    return StsRecord.select(txt);
  }
}
