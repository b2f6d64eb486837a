package io.mailtls.reliability.concurrency;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DnsAnswer;
import io.mailtls.core.DnsOutcome;
import io.mailtls.core.DnsRecordType;
import io.mailtls.core.DnssecResolver;
import io.mailtls.core.DnssecState;
import io.mailtls.core.DomainName;
import io.mailtls.core.TrustAnchors;
import io.mailtls.testkit.FakeClock;
import io.mailtls.testkit.TestDnsServer;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.Type;

/**
 * A burst of cold DNSSEC lookups through one {@link DnssecResolver} (its answer cache and single
 * flight, the coalescing of identical upstream queries, dnsjava's validator): every domain's MX,
 * {@code _mta-sts} TXT and MX host A record asked four times at once, all at the same moment,
 * against the testkit's signed zones. Every lookup validates as secure data, and every data query
 * reaches the server exactly once: the identical lookups shared one resolution; and the burst
 * starts a handful of threads, not one per validation step. (The bounds are generous and retries
 * off, so that a slow machine cannot turn a late answer into a second query; docs/reliability.md
 * tells what happens with tight bounds and several resolvers.)
 */
class ColdDnsBurstTest {

  @Test
  void
      aBurstOfIdenticalColdLookupsValidatesAsksEachQuestionOnceAndStartsNoThreadPerValidationStep() {
    int domains = StressBudget.scaled(30);
    int copies = 4;
    // the validator reads signature validity against the real time
    FakeClock clock = new FakeClock(Instant.now());
    TestDnsServer.Builder b = TestDnsServer.builder().clock(clock);
    for (int i = 0; i < domains; i++) {
      String zone = "b" + i + ".test";
      b.zone(
          zone,
          z ->
              z.mx(zone, 10, "mx." + zone)
                  .a("mx." + zone, "127.0.0.2")
                  .txt("_mta-sts." + zone, "v=STSv1; id=1"));
    }
    try (TestDnsServer dns = b.start()) {
      DnssecResolver r =
          DnssecResolver.builder()
              .upstream(dns.socketAddress())
              .trustAnchors(TrustAnchors.parse(dns.trustAnchor()))
              .clock(clock)
              .queryTimeout(Duration.ofSeconds(30))
              .lookupTimeout(Duration.ofSeconds(90))
              .retries(0)
              .build();
      long threadsBefore = ManagementFactory.getThreadMXBean().getTotalStartedThreadCount();
      List<CompletableFuture<DnsAnswer>> all = new ArrayList<>();
      for (int c = 0; c < copies; c++) {
        for (int i = 0; i < domains; i++) {
          String zone = "b" + i + ".test";
          all.add(r.resolveAsync(DomainName.of(zone), DnsRecordType.MX));
          all.add(r.resolveAsync(DomainName.of("_mta-sts." + zone), DnsRecordType.TXT));
          all.add(r.resolveAsync(DomainName.of("mx." + zone), DnsRecordType.A));
        }
      }
      List<DnsAnswer> notSecure = new ArrayList<>();
      for (CompletableFuture<DnsAnswer> f : all) {
        DnsAnswer a = f.join();
        if (a.outcome() != DnsOutcome.DATA || a.state() != DnssecState.SECURE) {
          notSecure.add(a);
        }
      }
      assertThat(notSecure).as("lookups that did not validate").isEmpty();
      long threadsStarted =
          ManagementFactory.getThreadMXBean().getTotalStartedThreadCount() - threadsBefore;
      // Regression (a thread per validation step): dnsjava's validator continues each step with
      // an "async" step naming no executor; with a common pool parallelism below 2 (2 CPUs) the
      // JDK runs each on a new thread: 650 threads for these 360 lookups before, 454 with only the
      // DNS pool. The resolver's futures now run those steps on its executor, a pool of a few
      // daemon threads (4 threads started, measured).
      assertThat(threadsStarted)
          .as("threads started for %d cold lookups", all.size())
          .isLessThan(32);
      for (int i = 0; i < domains; i++) {
        String zone = "b" + i + ".test.";
        assertThat(dns.queryCount(zone, Type.MX)).as("MX " + zone).isEqualTo(1);
        assertThat(dns.queryCount("_mta-sts." + zone, Type.TXT)).as("TXT " + zone).isEqualTo(1);
        assertThat(dns.queryCount("mx." + zone, Type.A)).as("A mx." + zone).isEqualTo(1);
      }
    }
  }
}
