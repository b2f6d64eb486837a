package io.mailtls.core.memory;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DeliveryPlan;
import io.mailtls.core.DnssecResolver;
import io.mailtls.core.NextHop;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.TransportPolicyResolver;
import io.mailtls.core.TrustAnchors;
import io.mailtls.testkit.TestDnsServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The plan cache holds each plan's MX answer whole: 250 MX records with long names (a few KB on the
 * wire, thanks to name compression, and about 100 KB of heap) under names of the peer's choosing.
 * Planning 1,000 such domains with the default plan cache (20,000 next hops) must not keep 100 MB.
 * Runs only in the {@code bounded-memory} surefire execution (-Xmx64m).
 */
class PlanCacheMemoryTest {

  private static final String LONG =
      "a".repeat(60) + "." + "b".repeat(60) + "." + "c".repeat(60) + ".h.huge.test";

  @BeforeAll
  static void heapIsBounded() {
    Peers.assertHeapLimitInForce();
  }

  @Test
  @Timeout(300)
  void plansOfDomainsWithHugeMxRrsetsStayWithinABoundOfMemory() throws Exception {
    try (TestDnsServer dns =
        TestDnsServer.builder()
            .zone(
                "huge.test",
                z -> {
                  z.ttl(Duration.ofHours(1));
                  for (int i = 0; i < 250; i++) {
                    z.mx("*.huge.test", 10, "x" + i + "." + LONG);
                  }
                  z.a("*.h.huge.test", "127.0.0.2");
                })
            .start()) {
      DnssecResolver resolver =
          DnssecResolver.builder()
              .upstream(dns.socketAddress())
              .trustAnchors(TrustAnchors.parse(dns.trustAnchor()))
              .cacheSize(2_000)
              .queryTimeout(Duration.ofSeconds(5))
              .retries(1)
              .build();
      TransportPolicyResolver planner =
          TransportPolicyResolver.builder().withoutMtaSts().withoutDane().dns(resolver).build();
      for (int from = 0; from < 1_000; from += 20) {
        List<CompletableFuture<DeliveryPlan>> batch = new ArrayList<>();
        for (int i = from; i < from + 20; i++) {
          batch.add(
              planner.planAsync(NextHop.parse("d" + i + ".huge.test"), TlsLevel.OPPORTUNISTIC));
        }
        for (CompletableFuture<DeliveryPlan> f : batch) {
          DeliveryPlan p = f.get();
          assertThat(p.failure()).as("%s", p).isEmpty();
        }
      }
      System.gc();
      Runtime rt = Runtime.getRuntime();
      assertThat(rt.totalMemory() - rt.freeMemory()).isLessThan(48L << 20);
    }
  }
}
