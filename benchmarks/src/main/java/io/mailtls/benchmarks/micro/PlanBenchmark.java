package io.mailtls.benchmarks.micro;

import io.mailtls.benchmarks.Mailtls;
import io.mailtls.benchmarks.peer.World;
import io.mailtls.core.DeliveryPlan;
import io.mailtls.core.DomainName;
import io.mailtls.core.NextHop;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.TransportPolicyResolver;
import io.mailtls.testkit.TestPki;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A plan for a known domain against a bare {@link ConcurrentHashMap#get}. The plan was made once in
 * set-up (MX, A, AAAA, TLSA and the {@code _mta-sts} TXT record, validated, against the testkit's
 * signed DNS on loopback in this JVM, and the MTA-STS policy fetched), so {@code plan} is a hit in
 * {@link TransportPolicyResolver}'s plan cache: the caller's {@code NextHop.Domain(DomainName.of(
 * "one.test"))} (which parses and normalises the name), one map lookup and an expiry check. {@code
 * planKnownHop} is the same hit with the next hop made once, the cache's own cost; {@code mapGet}
 * is a bare map lookup with a constant {@code String} key (whose hash the string keeps), {@code
 * mapGetNextHop} the same with the plan cache's own kind of key (a {@code NextHop.Domain} made
 * once, as {@code planKnownHop} uses), the fair yardstick; {@code systemClockMillis} one read of
 * the system clock. {@code planUncached} plans from scratch with the plan cache turned off, where
 * every DNS answer still comes from the resolver's answer cache and the MTA-STS policy from its
 * cache.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class PlanBenchmark {

  private World world;
  private Mailtls.Policies policies;
  private TransportPolicyResolver planner;
  private TransportPolicyResolver uncached;
  private final NextHop hop = new NextHop.Domain(DomainName.of("one.test"));
  private final ConcurrentHashMap<String, DeliveryPlan> plans = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<NextHop, DeliveryPlan> plansByHop = new ConcurrentHashMap<>();
  private final java.time.Clock clock = java.time.Clock.systemUTC();

  @Setup
  public void setUp() {
    TestPki pki = TestPki.create();
    TestPki.Issued sink = pki.root().leaf().dnsNames("mx1." + World.PROVIDER).issue();
    world =
        new World(
            pki, sink.spkiSha256(), 0, 1, Duration.ZERO, Duration.ZERO, Duration.ofMinutes(5));
    policies =
        Mailtls.policies(
            Mailtls.dnssec(world.dns.socketAddress(), world.dns.trustAnchor()),
            pki.trustStore(),
            world.sts.port(),
            1000);
    planner = Mailtls.planner(policies);
    DeliveryPlan warm = Mailtls.plan(planner, "one.test");
    if (!Mailtls.daneFirst(warm) || !Mailtls.stsApplied(warm)) {
      throw new IllegalStateException("the plan does not use DANE and MTA-STS: " + warm.reasons());
    }
    uncached = planner.newBuilder().planCacheSize(0).build();
    plans.put("one.test", warm);
    plansByHop.put(hop, warm);
    for (int i = 0; i < 1000; i++) {
      plans.put("d" + i + ".test", warm);
      plansByHop.put(new NextHop.Domain(DomainName.of("d" + i + ".test")), warm);
    }
  }

  @TearDown
  public void tearDown() {
    policies.close();
    world.close();
  }

  @Benchmark
  public DeliveryPlan plan() {
    return Mailtls.plan(planner, "one.test");
  }

  @Benchmark
  public DeliveryPlan planKnownHop() {
    return planner.plan(hop, TlsLevel.OPPORTUNISTIC);
  }

  @Benchmark
  public DeliveryPlan planUncached() {
    return Mailtls.plan(uncached, "one.test");
  }

  @Benchmark
  public DeliveryPlan mapGet() {
    return plans.get("one.test");
  }

  /** The fair yardstick: a map lookup with a key of the plan cache's kind, made once. */
  @Benchmark
  public DeliveryPlan mapGetNextHop() {
    return plansByHop.get(hop);
  }

  /** One read of the system clock (what a plan-cache hit read before it kept a coarse time). */
  @Benchmark
  public long systemClockMillis() {
    return clock.millis();
  }
}
