package io.mailtls.benchmarks.micro;

import io.mailtls.core.DeliveryPlan;
import io.mailtls.core.DomainName;
import io.mailtls.core.MxResolution;
import io.mailtls.core.NextHop;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.internal.Values;
import io.mailtls.core.internal.policy.PlanCache;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A plan-cache hit among many domains, each asked in a shuffled order, as an ESP's messages ask
 * them: the entry of the domain asked is seldom still in the CPU's caches, so a hit costs the
 * memory reads between the map and the plan, not the instructions. {@code hitAmongMany} asks the
 * transport's {@code PlanCache} (system clock, as a transport has it); {@code mapGetAmongMany} asks
 * a bare {@link ConcurrentHashMap} keyed by {@code NextHop}, the kind of key a caller holds, with
 * the same probes in the same order. Each probe is a next hop made apart from the cached one (as a
 * message's recipient makes one), and every plan is an object of its own. {@code PlanBenchmark}
 * measures the hit for one domain, whose entry stays in the caches.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class PlanCacheBenchmark {

  @Param({"10000", "100000"})
  public int domains;

  private PlanCache cache;
  private final ConcurrentHashMap<NextHop, DeliveryPlan> map = new ConcurrentHashMap<>();
  private NextHop[] probes;
  private int next;

  @Setup
  public void setUp() {
    cache = new PlanCache(Clock.systemUTC(), domains + 1);
    long expires = System.currentTimeMillis() + TimeUnit.HOURS.toMillis(1);
    NextHop[] stored = new NextHop[domains];
    for (int i = 0; i < domains; i++) {
      NextHop hop = new NextHop.Domain(DomainName.of(name(i)));
      stored[i] = hop;
      DeliveryPlan plan = plan(hop);
      cache.put(hop, TlsLevel.OPPORTUNISTIC, plan, expires, 0);
      map.put(hop, plan);
    }
    // Probes made apart from the stored keys (new strings, names and hops), in a shuffled order.
    probes = new NextHop[domains];
    Random random = new Random(13);
    for (int i = 0; i < domains; i++) {
      probes[i] = new NextHop.Domain(DomainName.of(name(i)));
    }
    for (int i = domains - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      NextHop t = probes[i];
      probes[i] = probes[j];
      probes[j] = t;
    }
    for (NextHop p : probes) {
      if (cache.get(p, TlsLevel.OPPORTUNISTIC) == null || map.get(p) == null) {
        throw new IllegalStateException("not cached: " + p);
      }
    }
  }

  private static String name(int i) {
    return "d" + i + ".test"; // a new string each time
  }

  private static DeliveryPlan plan(NextHop hop) {
    return Values.deliveryPlan(
        hop,
        Optional.of(TlsLevel.OPPORTUNISTIC),
        Values.mxResolution(
            hop, MxResolution.Kind.NO_MAIL_HOST, List.of(), Optional.empty(), List.of()),
        List.of(),
        List.of(),
        Optional.empty(),
        List.of("benchmark plan"),
        List.of(),
        Optional.empty());
  }

  private NextHop probe() {
    int i = next;
    next = i + 1 == probes.length ? 0 : i + 1;
    return probes[i];
  }

  @Benchmark
  public DeliveryPlan hitAmongMany() {
    return cache.get(probe(), TlsLevel.OPPORTUNISTIC);
  }

  @Benchmark
  public DeliveryPlan mapGetAmongMany() {
    return map.get(probe());
  }
}
