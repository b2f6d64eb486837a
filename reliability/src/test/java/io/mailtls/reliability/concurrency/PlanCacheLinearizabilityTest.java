package io.mailtls.reliability.concurrency;

import io.mailtls.core.DeliveryPlan;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.internal.policy.PlanCache;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.jetbrains.lincheck.datastructures.IntGen;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/**
 * {@link PlanCache} is linearizable: every concurrent history of get, put (live and already
 * expired) and remove over a few hops and levels, including the eviction that a full cache runs,
 * has the results of some sequential order of the same calls. Lincheck explores the interleavings
 * (model checking) and runs them on real threads (stress); the sequential specification is the
 * cache itself, run on one thread.
 *
 * <p>{@link PlanCache#size()} is left out on purpose: it is {@link
 * java.util.concurrent.ConcurrentHashMap#size()}, an estimate that Lincheck shows is not
 * linearizable (a put seen by a get may be missing from a concurrent size); the cache only uses it
 * to decide when to make room, where an estimate is enough.
 */
@Param(name = "hop", gen = IntGen.class, conf = "0:2")
@Param(name = "level", gen = IntGen.class, conf = "0:1")
@Param(name = "plan", gen = IntGen.class, conf = "0:2")
public class PlanCacheLinearizabilityTest {

  private static final List<DeliveryPlan> PLANS = RealPlans.make(3);
  private static final TlsLevel[] LEVELS = {TlsLevel.OPPORTUNISTIC, TlsLevel.ENFORCED};
  private static final long NOW = 1_000_000L;

  /** Two hops fit: the third put runs the eviction. */
  private final PlanCache cache =
      new PlanCache(Clock.fixed(Instant.ofEpochMilli(NOW), ZoneOffset.UTC), 2);

  /** Which plan the cache holds for (hop, level): its index, or null. */
  @Operation
  public @Nullable Integer get(@Param(name = "hop") int hop, @Param(name = "level") int level) {
    DeliveryPlan p = cache.get(RealPlans.hop(hop), LEVELS[level]);
    return p == null ? null : PLANS.indexOf(p);
  }

  @Operation
  public void put(
      @Param(name = "hop") int hop,
      @Param(name = "level") int level,
      @Param(name = "plan") int plan) {
    cache.put(RealPlans.hop(hop), LEVELS[level], PLANS.get(plan), NOW + 60_000, 0);
  }

  /** A plan that is already expired: the put removes what was there. */
  @Operation
  public void putExpired(@Param(name = "hop") int hop, @Param(name = "level") int level) {
    cache.put(RealPlans.hop(hop), LEVELS[level], PLANS.get(0), NOW, 0);
  }

  @Operation
  public void remove(@Param(name = "hop") int hop, @Param(name = "level") int level) {
    cache.remove(RealPlans.hop(hop), LEVELS[level]);
  }

  @Test
  void modelChecking() {
    StressBudget.modelCheck(getClass(), 2);
  }

  @Test
  void stress() {
    StressBudget.stressCheck(getClass(), 2);
  }
}
