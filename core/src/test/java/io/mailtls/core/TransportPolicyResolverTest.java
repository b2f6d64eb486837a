package io.mailtls.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailtls.testkit.TestDnsServer;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Delivery plans: MX candidates with their TLS requirements and the decision record. */
class TransportPolicyResolverTest {

  private static TestDnsServer dns;
  private static DnsResolver resolver;

  @BeforeAll
  static void start() {
    dns =
        TestDnsServer.builder()
            .zone(
                "example.test",
                z ->
                    z.mx("example.test", 10, "mx1.example.test")
                        .a("mx1.example.test", "127.0.0.2")
                        .mx("example.test", 20, "mx2.example.test")
                        .a("mx2.example.test", "127.0.0.3")
                        .mx("example.test", 30, "gone.example.test"))
            .zone(
                "four.test",
                z ->
                    z.mx("four.test", 10, "a.four.test")
                        .a("a.four.test", "127.0.0.11")
                        .mx("four.test", 20, "b.four.test")
                        .a("b.four.test", "127.0.0.12")
                        .mx("four.test", 30, "c.four.test")
                        .a("c.four.test", "127.0.0.13")
                        .mx("four.test", 40, "d.four.test")
                        .a("d.four.test", "127.0.0.14"))
            .start();
    resolver =
        DnssecResolver.builder()
            .upstream(dns.socketAddress())
            .trustAnchors(TrustAnchors.parse(dns.trustAnchor()))
            .queryTimeout(Duration.ofSeconds(2))
            .build();
  }

  @AfterAll
  static void stop() {
    dns.close();
  }

  private static TransportPolicyResolver planner(DnsResolver r) {
    return TransportPolicyResolver.builder()
        .withoutMtaSts()
        .withoutDane()
        .dns(r)
        .random(new Random(3))
        .build();
  }

  @Test
  void opportunisticPlanTriesHostsInOrderAndRecordsSkippedOnes() {
    DeliveryPlan plan =
        planner(resolver).plan(NextHop.parse("example.test"), TlsLevel.OPPORTUNISTIC);
    assertThat(plan.failure()).isEmpty();
    assertThat(plan.hosts())
        .extracting(h -> h.name().orElseThrow().toString())
        .containsExactly("mx1.example.test", "mx2.example.test");
    assertThat(plan.hosts())
        .allSatisfy(
            h -> {
              assertThat(h.requirement()).isInstanceOf(TlsRequirement.Opportunistic.class);
              assertThat(h.source()).isEqualTo(PolicySource.NONE);
            });
    assertThat(plan.skipped())
        .singleElement()
        .satisfies(
            s -> {
              assertThat(s.host()).isEqualTo(DomainName.of("gone.example.test"));
              assertThat(s.reason()).contains("no A or AAAA");
            });
    assertThat(plan.reasons()).anyMatch(r -> r.contains("sender level opportunistic"));
  }

  @Test
  void enforcedPlanRequiresTlsFromTheSender() {
    DeliveryPlan plan = planner(resolver).plan(NextHop.parse("example.test"), TlsLevel.ENFORCED);
    assertThat(plan.hosts())
        .allSatisfy(
            h -> {
              assertThat(h.requirement()).isInstanceOf(TlsRequirement.Encrypted.class);
              assertThat(h.requirement().requiresTls()).isTrue();
              assertThat(h.source()).isEqualTo(PolicySource.SENDER);
            });
  }

  @Test
  void stsAndDaneRequiredFailClosedWithoutProviders() {
    for (TlsLevel level : new TlsLevel[] {TlsLevel.STS_REQUIRED, TlsLevel.DANE_REQUIRED}) {
      DeliveryPlan plan = planner(resolver).plan(NextHop.parse("example.test"), level);
      assertThat(plan.hosts()).isEmpty();
      assertThat(plan.failure().orElseThrow().status()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(plan.failure().orElseThrow().type()).isEqualTo(FailureType.POLICY_UNAVAILABLE);
    }
  }

  @Test
  void addressLiteralIsOneHostWithoutName() throws Exception {
    DeliveryPlan plan =
        planner(resolver).plan(NextHop.parse("[127.0.0.9]"), TlsLevel.OPPORTUNISTIC);
    assertThat(plan.hosts())
        .singleElement()
        .satisfies(
            h -> {
              assertThat(h.name()).isEmpty();
              assertThat(h.addresses()).containsExactly(InetAddress.getByName("127.0.0.9"));
            });
  }

  /**
   * Lookups that do not depend on each other run concurrently: every host's A and AAAA lookups are
   * all in flight before any of them is answered. The wrapper holds every address answer back until
   * all eight have been asked; sequential lookups would never get there.
   */
  @Test
  void addressLookupsOfAllHostsRunConcurrently() throws Exception {
    List<CompletableFuture<Void>> gates = new ArrayList<>();
    CompletableFuture<Void> allAsked = new CompletableFuture<>();
    DnsResolver gated =
        (name, type) -> {
          CompletableFuture<DnsAnswer> real = resolver.resolveAsync(name, type);
          if (type == DnsRecordType.MX) {
            return real;
          }
          synchronized (gates) {
            gates.add(null);
            if (gates.size() == 8) {
              allAsked.complete(null);
            }
          }
          return allAsked.thenCompose(v -> real);
        };
    DeliveryPlan plan =
        planner(gated)
            .planAsync(NextHop.parse("four.test"), TlsLevel.OPPORTUNISTIC)
            .get(5, TimeUnit.SECONDS);
    assertThat(allAsked).isDone();
    assertThat(plan.hosts()).hasSize(4);
  }

  /**
   * {@code newBuilder()}: the derived resolver follows the MTA-STS policy the original opted out
   * of, and otherwise plans as the original does (the same DNS, random source and DANE opt-out);
   * the original is unchanged.
   */
  @Test
  void aDerivedResolverOverridesOneSettingAndKeepsEveryOther() {
    MtaStsPolicySource enforceMx2 =
        new MtaStsPolicySource() {
          @Override
          public CompletableFuture<MtaStsLookup> lookupAsync(DomainName d) {
            return CompletableFuture.completedFuture(
                new MtaStsLookup.Found(
                    d,
                    new MtaStsPolicy(
                        "1", MtaStsMode.ENFORCE, List.of("mx2.example.test"), Duration.ofDays(1)),
                    false,
                    ""));
          }

          @Override
          public CompletableFuture<MtaStsLookup> recheckAsync(DomainName d) {
            return lookupAsync(d);
          }
        };
    TransportPolicyResolver original = planner(resolver);
    TransportPolicyResolver derived = original.newBuilder().mtaSts(enforceMx2).build();

    DeliveryPlan viaDerived = derived.plan(NextHop.parse("example.test"), TlsLevel.OPPORTUNISTIC);
    assertThat(viaDerived.hosts())
        .singleElement()
        .satisfies(
            h -> {
              assertThat(h.name()).contains(DomainName.of("mx2.example.test"));
              assertThat(h.requirement()).isInstanceOf(TlsRequirement.Pkix.class);
              assertThat(h.source()).isEqualTo(PolicySource.MTA_STS);
            });
    assertThat(viaDerived.skipped())
        .extracting(SkippedHost::failure)
        .containsExactly(FailureType.STS_POLICY_INVALID, FailureType.CONNECTION_FAILED);
    assertThat(viaDerived.reasons())
        .anyMatch(r -> r.contains("withoutDane()"))
        .noneMatch(r -> r.contains("withoutMtaSts()"));

    DeliveryPlan viaOriginal = original.plan(NextHop.parse("example.test"), TlsLevel.OPPORTUNISTIC);
    assertThat(viaOriginal.hosts())
        .extracting(h -> h.name().orElseThrow().toString())
        .containsExactly("mx1.example.test", "mx2.example.test");
    assertThat(viaOriginal.reasons()).anyMatch(r -> r.contains("withoutMtaSts()"));

    assertThatThrownBy(() -> original.newBuilder().withoutDane().withoutDane())
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("dane already chosen");
    assertThatThrownBy(() -> original.newBuilder().dns(resolver).dns(resolver))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("dns already set");
  }
}
