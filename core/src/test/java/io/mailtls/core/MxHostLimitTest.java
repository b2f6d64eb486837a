package io.mailtls.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.testkit.DnsQuery;
import io.mailtls.testkit.TestDnsServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import javax.net.ssl.X509ExtendedTrustManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.Type;

/**
 * An MX RRset with far more hosts than are ever tried: only the first {@link
 * MxResolver#MAX_MX_HOSTS} in preference order are resolved and planned (their A, AAAA and TLSA
 * lookups), the rest are dropped and the decision record says how many. Against the testkit's
 * signed DNS, which counts the queries it receives.
 */
class MxHostLimitTest {

  private static final int PUBLISHED = 200;

  private static TestDnsServer dns;
  private static DnsResolver resolver;

  /** {@code mxNNN.DOMAIN} at preference NNN + 1, so that preference order is name order. */
  private static String host(String domain, int i) {
    return String.format("mx%03d.%s", i, domain);
  }

  private static List<String> hosts(String domain, int count) {
    return IntStream.range(0, count).mapToObj(i -> host(domain, i)).toList();
  }

  @BeforeAll
  static void start() {
    TestDnsServer.Builder b = TestDnsServer.builder();
    for (String domain : List.of("many.test", "plan.many.test", "sts.many.test")) {
      b.zone(
          domain,
          z -> {
            for (int i = 0; i < PUBLISHED; i++) {
              // listed out of order: the bound applies after sorting by preference
              int j = PUBLISHED - 1 - i;
              z.mx(domain, j + 1, host(domain, j)).a(host(domain, j), "127.0.2." + (j % 250 + 1));
            }
          });
    }
    dns = b.start();
    resolver =
        DnssecResolver.builder()
            .upstream(dns.socketAddress())
            .trustAnchors(TrustAnchors.parse(dns.trustAnchor()))
            .queryTimeout(Duration.ofSeconds(2))
            .lookupTimeout(Duration.ofSeconds(20))
            .build();
  }

  @AfterAll
  static void stop() {
    dns.close();
  }

  /** The distinct names below {@code domain} asked for with {@code types}. */
  private static List<String> asked(String domain, int... types) {
    List<String> out = new ArrayList<>();
    for (DnsQuery q : dns.queries()) {
      boolean typed = IntStream.of(types).anyMatch(t -> t == q.type());
      String key = Type.string(q.type()) + " " + q.name();
      if (typed && q.name().endsWith("." + domain + ".") && !out.contains(key)) {
        out.add(key);
      }
    }
    return out;
  }

  @Test
  void rfc5321Section5_1_onlyTheFirstHostsInPreferenceOrderAreResolved() {
    MxResolution r =
        MxResolver.builder()
            .dns(resolver)
            .random(new Random(1))
            .build()
            .resolve(NextHop.parse("many.test"));
    assertThat(r.kind()).isEqualTo(MxResolution.Kind.MX);
    assertThat(r.hosts())
        .extracting(h -> h.name().toString())
        .containsExactlyElementsOf(hosts("many.test", MxResolver.MAX_MX_HOSTS));
    assertThat(r.notes())
        .anyMatch(
            n ->
                n.contains(PUBLISHED + " MX hosts")
                    && n.contains((PUBLISHED - MxResolver.MAX_MX_HOSTS) + " dropped"));
    // A and AAAA for the kept hosts only
    assertThat(asked("many.test", Type.A, Type.AAAA))
        .hasSizeLessThanOrEqualTo(2 * MxResolver.MAX_MX_HOSTS)
        .noneMatch(q -> q.contains(host("many.test", MxResolver.MAX_MX_HOSTS)));
  }

  @Test
  void aPlanLooksUpTlsaForTheKeptHostsOnlyAndSaysHowManyWereDropped() {
    AtomicInteger tlsaLookups = new AtomicInteger();
    DaneProvider counting =
        new DaneProvider() {
          @Override
          public CompletableFuture<TlsaLookup> lookupAsync(MxHost host, MxResolution mx) {
            tlsaLookups.incrementAndGet();
            return CompletableFuture.completedFuture(
                new TlsaLookup.None(host.name(), "no TLSA published"));
          }

          @Override
          public X509ExtendedTrustManager trustManager(TlsRequirement.Dane requirement) {
            throw new UnsupportedOperationException();
          }
        };
    DeliveryPlan plan =
        TransportPolicyResolver.builder()
            .dns(resolver)
            .withoutMtaSts()
            .dane(counting)
            .random(new Random(1))
            .build()
            .plan(NextHop.parse("plan.many.test"), TlsLevel.OPPORTUNISTIC);
    assertThat(plan.failure()).isEmpty();
    assertThat(plan.hosts())
        .extracting(h -> h.name().orElseThrow().toString())
        .containsExactlyElementsOf(hosts("plan.many.test", MxResolver.MAX_MX_HOSTS));
    assertThat(plan.skipped()).isEmpty();
    assertThat(tlsaLookups).hasValue(MxResolver.MAX_MX_HOSTS);
    assertThat(plan.reasons())
        .anyMatch(l -> l.contains((PUBLISHED - MxResolver.MAX_MX_HOSTS) + " dropped"));
    assertThat(asked("plan.many.test", Type.A, Type.AAAA))
        .hasSizeLessThanOrEqualTo(2 * MxResolver.MAX_MX_HOSTS);
  }

  /**
   * RFC 8461 §4.1 filters the kept hosts: those the policy names are planned over PKIX; a host the
   * policy names beyond the bound is never planned, and when no kept host matches the domain is
   * deferred as for any enforce mismatch.
   */
  @Test
  void anEnforcePolicyFiltersTheKeptHosts() {
    String domain = "sts.many.test";
    String kept = host(domain, 3);
    String dropped = host(domain, 150);
    MtaStsPolicySource enforce =
        new MtaStsPolicySource() {
          @Override
          public CompletableFuture<MtaStsLookup> lookupAsync(DomainName d) {
            return CompletableFuture.completedFuture(
                new MtaStsLookup.Found(
                    d,
                    new MtaStsPolicy(
                        "1", MtaStsMode.ENFORCE, List.of(kept, dropped), Duration.ofDays(1)),
                    false,
                    ""));
          }

          @Override
          public CompletableFuture<MtaStsLookup> recheckAsync(DomainName d) {
            return lookupAsync(d);
          }
        };
    DeliveryPlan plan =
        TransportPolicyResolver.builder()
            .dns(resolver)
            .mtaSts(enforce)
            .withoutDane()
            .random(new Random(1))
            .build()
            .plan(NextHop.parse(domain), TlsLevel.OPPORTUNISTIC);
    assertThat(plan.hosts())
        .singleElement()
        .satisfies(
            h -> {
              assertThat(h.name()).contains(DomainName.of(kept));
              assertThat(h.requirement())
                  .isEqualTo(new TlsRequirement.Pkix(List.of(DomainName.of(kept))));
            });
    assertThat(plan.skipped())
        .hasSize(MxResolver.MAX_MX_HOSTS - 1)
        .allMatch(s -> s.failure() == FailureType.STS_POLICY_INVALID)
        .noneMatch(s -> s.host().equals(DomainName.of(dropped)));
  }
}
