package io.mailtls.reliability.concurrency;

import io.mailtls.core.DeliveryPlan;
import io.mailtls.core.DnssecResolver;
import io.mailtls.core.DomainName;
import io.mailtls.core.NextHop;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.TrustAnchors;
import io.mailtls.testkit.TestDnsServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Delivery plans made by the real planner against the testkit's signed zones, as values for the
 * cache checks (plans are only made by the planner).
 */
final class RealPlans {

  private RealPlans() {}

  /** The hops p0.test … p(n-1).test. */
  static NextHop hop(int i) {
    return new NextHop.Domain(DomainName.of("p" + i + ".test"));
  }

  /** One plan per hop, each for {@link TlsLevel#OPPORTUNISTIC}, all different. */
  static List<DeliveryPlan> make(int n) {
    TestDnsServer.Builder b = TestDnsServer.builder();
    for (int i = 0; i < n; i++) {
      String zone = "p" + i + ".test";
      String ip = "127.0.0." + (100 + i);
      b.zone(zone, z -> z.mx(zone, 10, "mx." + zone).a("mx." + zone, ip));
    }
    try (TestDnsServer dns = b.start();
        SecureSmtpTransport t =
            SecureSmtpTransport.builder()
                .dns(
                    DnssecResolver.builder()
                        .upstream(dns.socketAddress())
                        .trustAnchors(TrustAnchors.parse(dns.trustAnchor()))
                        .queryTimeout(Duration.ofSeconds(10))
                        .lookupTimeout(Duration.ofSeconds(30))
                        .build())
                .heloName("client.sender.test")
                .withoutMtaSts()
                .withoutDane()
                .build()) {
      List<DeliveryPlan> plans = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        plans.add(t.plan(hop(i), TlsLevel.OPPORTUNISTIC));
      }
      return List.copyOf(plans);
    }
  }
}
