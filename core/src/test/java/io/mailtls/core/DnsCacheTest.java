package io.mailtls.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.testkit.DnsQuery;
import io.mailtls.testkit.FakeClock;
import io.mailtls.testkit.TestDnsServer;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.Type;

/**
 * {@link DnssecResolver}'s validated-answer cache, against the testkit's signed zones on loopback:
 * TTLs (positive, negative per RFC 2308 §5), expiry by the injected clock, failures never served as
 * data, single flight, and the validator's key cache across zones. Queries are counted at the
 * server.
 */
@SuppressWarnings("CanonicalDuration") // TTLs in seconds, as DNS zones give them
class DnsCacheTest {

  private static final int ZONES = 12;

  /**
   * Starts at the real time: dnsjava's validator bounds how long it keeps validated keys by the
   * signatures' expiry, which it reads against the system clock, so signatures made at another time
   * would leave no key cached. Whole seconds, as signature times are (RFC 4034 §3.1.5).
   */
  private final FakeClock clock = new FakeClock(Instant.now().truncatedTo(ChronoUnit.SECONDS));

  private TestDnsServer dns;

  @AfterEach
  void stop() {
    if (dns != null) {
      dns.close();
    }
  }

  private TestDnsServer start(Duration latency) {
    TestDnsServer.Builder b =
        TestDnsServer.builder()
            .clock(clock)
            .latency(latency)
            .zone(
                "cache.test",
                z ->
                    z.ttl(Duration.ofSeconds(60))
                        .mx("cache.test", 10, "mx.cache.test")
                        .a("mx.cache.test", "127.0.0.2")
                        .ttl(Duration.ofSeconds(20))
                        .cname("alias.cache.test", "mx.cache.test")
                        .txt("_mta-sts.cache.test", "v=STSv1; id=1")
                        .mx("bogus.cache.test", 10, "mx.cache.test"));
    for (int i = 0; i < ZONES; i++) {
      String zone = "z" + i + ".test";
      b.zone(zone, z -> z.mx(zone, 10, "mx." + zone).a("mx." + zone, "127.0.0.3"));
    }
    dns = b.start();
    return dns;
  }

  private DnssecResolver.Builder resolverBuilder() {
    return DnssecResolver.builder()
        .upstream(dns.socketAddress())
        .trustAnchors(TrustAnchors.parse(dns.trustAnchor()))
        .clock(clock)
        .queryTimeout(Duration.ofSeconds(3))
        .retries(0);
  }

  private static DnsAnswer ask(DnsResolver r, String name, DnsRecordType type) {
    return r.resolve(DomainName.of(name), type);
  }

  @Test
  void answersCarryTheTtlOfTheirRrsetsAndOfTheCnameChain() {
    start(Duration.ZERO);
    DnsResolver r = resolverBuilder().build();
    DnsAnswer mx = ask(r, "cache.test", DnsRecordType.MX);
    assertThat(mx.isSecure()).isTrue();
    assertThat(mx.ttl()).isEqualTo(Duration.ofSeconds(60));
    // the CNAME has 20 s, its target's A record 60 s: the answer holds for the shorter
    DnsAnswer alias = ask(r, "alias.cache.test", DnsRecordType.A);
    assertThat(alias.cnameChain()).containsExactly(DomainName.of("mx.cache.test"));
    assertThat(alias.ttl()).isEqualTo(Duration.ofSeconds(20));
  }

  @Test
  void aSecondLookupWithinTheTtlAsksNothingAndCarriesTheTimeLeft() {
    start(Duration.ZERO);
    DnsResolver r = resolverBuilder().build();
    DnsAnswer first = ask(r, "cache.test", DnsRecordType.MX);
    long queries = dns.totalQueryCount();
    clock.advance(Duration.ofSeconds(45));
    DnsAnswer second = ask(r, "cache.test", DnsRecordType.MX);
    assertThat(dns.totalQueryCount()).isEqualTo(queries);
    assertThat(second).isEqualTo(first); // same data and state
    assertThat(second.state()).isEqualTo(DnssecState.SECURE);
    assertThat(second.ttl()).isEqualTo(Duration.ofSeconds(15));
  }

  @Test
  void afterTheTtlTheAnswerIsAskedForAgain() {
    start(Duration.ZERO);
    DnsResolver r = resolverBuilder().build();
    ask(r, "cache.test", DnsRecordType.MX);
    assertThat(dns.queryCount("cache.test.", Type.MX)).isEqualTo(1);
    clock.advance(Duration.ofSeconds(61));
    DnsAnswer again = ask(r, "cache.test", DnsRecordType.MX);
    assertThat(dns.queryCount("cache.test.", Type.MX)).isEqualTo(2);
    assertThat(again.isSecure()).isTrue();
    assertThat(again.ttl()).isEqualTo(Duration.ofSeconds(60));
  }

  @Test
  void negativeAnswersAreCachedForTheSoaMinimum() {
    start(Duration.ZERO);
    DnsResolver r = resolverBuilder().build();
    // The testkit's SOA has TTL 300 and MINIMUM 300 (RFC 2308 §5: the smaller of the two), while
    // the zone's data has 60 s.
    DnsAnswer nx = ask(r, "nosuch.cache.test", DnsRecordType.MX);
    DnsAnswer nodata = ask(r, "mx.cache.test", DnsRecordType.TXT);
    assertThat(nx.outcome()).isEqualTo(DnsOutcome.NXDOMAIN);
    assertThat(nodata.outcome()).isEqualTo(DnsOutcome.NODATA);
    assertThat(nx.isSecure()).isTrue();
    assertThat(nx.ttl()).isEqualTo(Duration.ofSeconds(300));
    assertThat(nodata.ttl()).isEqualTo(Duration.ofSeconds(300));

    clock.advance(Duration.ofSeconds(299));
    assertThat(ask(r, "nosuch.cache.test", DnsRecordType.MX).outcome())
        .isEqualTo(DnsOutcome.NXDOMAIN);
    assertThat(ask(r, "mx.cache.test", DnsRecordType.TXT).outcome()).isEqualTo(DnsOutcome.NODATA);
    assertThat(dns.queryCount("nosuch.cache.test.", Type.MX)).isEqualTo(1);
    assertThat(dns.queryCount("mx.cache.test.", Type.TXT)).isEqualTo(1);

    clock.advance(Duration.ofSeconds(2));
    ask(r, "nosuch.cache.test", DnsRecordType.MX);
    assertThat(dns.queryCount("nosuch.cache.test.", Type.MX)).isEqualTo(2);
  }

  /**
   * RFC 9077 §3–§4 and RFC 4035 §5.3.3: a DNSSEC denial is kept no longer than the NSEC records
   * that prove it, for their TTL and until their signatures expire, though its SOA (TTL and MINIMUM
   * 300 s) says longer. A NODATA for TLSA (no DANE) or an NXDOMAIN kept as secure past its proof
   * would decide delivery on what can no longer be validated.
   */
  @Test
  void rfc9077ASecureDenialIsKeptNoLongerThanItsNsecProof() {
    dns =
        TestDnsServer.builder()
            .clock(clock)
            .zone(
                "nsec-ttl.test",
                z -> z.nsecTtl(Duration.ofSeconds(60)).a("mx.nsec-ttl.test", "127.0.0.2"))
            .zone(
                "nsec-sig.test",
                z ->
                    z.signatureValidity(Type.NSEC, Duration.ofSeconds(120))
                        .a("mx.nsec-sig.test", "127.0.0.2"))
            .start();
    DnsResolver r = resolverBuilder().build();

    // NSEC TTL 60 s: NODATA (the host exists, without TLSA) and NXDOMAIN alike.
    DnsAnswer nodata = ask(r, "mx.nsec-ttl.test", DnsRecordType.TLSA);
    DnsAnswer nx = ask(r, "_25._tcp.nosuch.nsec-ttl.test", DnsRecordType.TLSA);
    assertThat(nodata.outcome()).isEqualTo(DnsOutcome.NODATA);
    assertThat(nx.outcome()).isEqualTo(DnsOutcome.NXDOMAIN);
    assertThat(nodata.isSecure()).isTrue();
    assertThat(nx.isSecure()).isTrue();
    assertThat(nodata.ttl()).as("NODATA, NSEC TTL 60 s").isEqualTo(Duration.ofSeconds(60));
    assertThat(nx.ttl()).as("NXDOMAIN, NSEC TTL 60 s").isEqualTo(Duration.ofSeconds(60));

    // NSEC signatures expiring in 120 s (the SOA's in 30 days).
    DnsAnswer nodataSig = ask(r, "mx.nsec-sig.test", DnsRecordType.TLSA);
    DnsAnswer nxSig = ask(r, "_25._tcp.nosuch.nsec-sig.test", DnsRecordType.TLSA);
    assertThat(nodataSig.outcome()).isEqualTo(DnsOutcome.NODATA);
    assertThat(nxSig.outcome()).isEqualTo(DnsOutcome.NXDOMAIN);
    assertThat(nodataSig.ttl())
        .as("NODATA, NSEC signature expiring in 120 s")
        .isEqualTo(Duration.ofSeconds(120));
    assertThat(nxSig.ttl())
        .as("NXDOMAIN, NSEC signature expiring in 120 s")
        .isEqualTo(Duration.ofSeconds(120));

    // Past the proof's expiry the denial is not served from the cache: validated afresh, the
    // expired NSEC signature makes it bogus, never a secure "no TLSA".
    clock.advance(Duration.ofSeconds(121));
    DnsAnswer expired = ask(r, "mx.nsec-sig.test", DnsRecordType.TLSA);
    assertThat(dns.queryCount("mx.nsec-sig.test.", Type.TLSA)).as("asked again").isGreaterThan(1);
    assertThat(expired.outcome()).isEqualTo(DnsOutcome.FAILURE);
    assertThat(expired.state()).isEqualTo(DnssecState.BOGUS);
  }

  @Test
  void aBogusAnswerIsRememberedOnlyAsTheFailureItIsAndBriefly() {
    start(Duration.ZERO);
    DnsResolver r = resolverBuilder().build();
    dns.corruptSignatures("bogus.cache.test", Type.MX);
    DnsAnswer bogus = ask(r, "bogus.cache.test", DnsRecordType.MX);
    assertThat(bogus.outcome()).isEqualTo(DnsOutcome.FAILURE);
    assertThat(bogus.state()).isEqualTo(DnssecState.BOGUS);
    assertThat(bogus.ttl()).isZero();
    int asked = dns.queryCount("bogus.cache.test.", Type.MX);

    // Within the failure TTL (1 s by default): the same failure, bogus, never data.
    DnsAnswer again = ask(r, "bogus.cache.test", DnsRecordType.MX);
    assertThat(again.state()).isEqualTo(DnssecState.BOGUS);
    assertThat(again.outcome()).isEqualTo(DnsOutcome.FAILURE);
    assertThat(again.records()).isEmpty();
    assertThat(dns.queryCount("bogus.cache.test.", Type.MX)).isEqualTo(asked);

    // After it, the name is validated afresh: still bogus while the signatures are broken...
    clock.advance(Duration.ofSeconds(2));
    assertThat(ask(r, "bogus.cache.test", DnsRecordType.MX).state()).isEqualTo(DnssecState.BOGUS);
    assertThat(dns.queryCount("bogus.cache.test.", Type.MX)).isGreaterThan(asked);
    // ...and secure once they are repaired.
    dns.clearFaults();
    clock.advance(Duration.ofSeconds(2));
    DnsAnswer repaired = ask(r, "bogus.cache.test", DnsRecordType.MX);
    assertThat(repaired.state()).isEqualTo(DnssecState.SECURE);
    assertThat(repaired.outcome()).isEqualTo(DnsOutcome.DATA);
  }

  @Test
  void withoutAFailureTtlEveryFailedLookupAsksAgain() {
    start(Duration.ZERO);
    DnsResolver r = resolverBuilder().failureCacheTtl(Duration.ZERO).build();
    dns.servfail("bogus.cache.test", Type.MX);
    assertThat(ask(r, "bogus.cache.test", DnsRecordType.MX).isSuccess()).isFalse();
    int asked = dns.queryCount("bogus.cache.test.", Type.MX);
    assertThat(ask(r, "bogus.cache.test", DnsRecordType.MX).isSuccess()).isFalse();
    assertThat(dns.queryCount("bogus.cache.test.", Type.MX)).isGreaterThan(asked);
  }

  @Test
  void aCacheSizeOfZeroTurnsTheCacheOff() {
    start(Duration.ZERO);
    DnsResolver r = resolverBuilder().cacheSize(0).build();
    ask(r, "cache.test", DnsRecordType.MX);
    ask(r, "cache.test", DnsRecordType.MX);
    assertThat(dns.queryCount("cache.test.", Type.MX)).isEqualTo(2);
  }

  @Test
  void concurrentIdenticalLookupsMakeOneQuery() throws Exception {
    start(Duration.ofMillis(200));
    DnsResolver r = resolverBuilder().build();
    int callers = 40;
    ExecutorService pool = Executors.newFixedThreadPool(callers);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<DnsAnswer>> answers = new ArrayList<>();
      for (int i = 0; i < callers; i++) {
        answers.add(
            pool.submit(
                () -> {
                  go.await();
                  return ask(r, "cache.test", DnsRecordType.MX);
                }));
      }
      go.countDown();
      for (Future<DnsAnswer> f : answers) {
        assertThat(f.get().isSecure()).isTrue();
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(dns.queryCount("cache.test.", Type.MX)).isEqualTo(1);
  }

  @Test
  void lookupsOfOneZoneThatStartTogetherFetchItsKeysOnce() {
    start(Duration.ofMillis(100));
    DnsResolver r = resolverBuilder().build();
    // MX, A and the MTA-STS TXT record of one cold zone, at once: each needs the zone's DNSKEY
    // (and its DS at the parent), fetched once for all of them.
    CompletableFuture<?>[] all = {
      r.resolveAsync(DomainName.of("cache.test"), DnsRecordType.MX),
      r.resolveAsync(DomainName.of("mx.cache.test"), DnsRecordType.A),
      r.resolveAsync(DomainName.of("_mta-sts.cache.test"), DnsRecordType.TXT)
    };
    CompletableFuture.allOf(all).join();
    for (CompletableFuture<?> f : all) {
      assertThat(((DnsAnswer) f.join()).isSecure()).isTrue();
    }
    assertThat(dns.queryCount("cache.test.", Type.DNSKEY)).isEqualTo(1);
    assertThat(dns.queryCount("cache.test.", Type.DS)).isEqualTo(1);
    assertThat(dns.queryCount("test.", Type.DNSKEY)).isEqualTo(1);
  }

  @Test
  void manyZonesAreValidatedOncePerTtlNotOncePerLookup() {
    start(Duration.ZERO);
    DnsResolver r = resolverBuilder().build();
    // Each zone's first lookup fetches and validates its key chain (dnsjava walks it from the
    // trust anchor for every zone it has no key for yet)...
    for (int i = 0; i < ZONES; i++) {
      assertThat(ask(r, "z" + i + ".test", DnsRecordType.MX).isSecure()).isTrue();
    }
    assertThat(dns.queryCount("z0.test.", Type.DNSKEY)).isEqualTo(1);
    dns.clearQueryLog();
    // ...and no later lookup in any of them fetches a DNSKEY or DS again: the zones' keys stay in
    // the validator's key cache, and the answers in the answer cache.
    for (int round = 0; round < 3; round++) {
      for (int i = 0; i < ZONES; i++) {
        assertThat(ask(r, "z" + i + ".test", DnsRecordType.MX).isSecure()).isTrue();
        assertThat(ask(r, "mx.z" + i + ".test", DnsRecordType.A).isSecure()).isTrue();
      }
    }
    assertThat(keyQueries()).isEmpty();
    assertThat(dns.queries().stream().filter(q -> q.type() == Type.MX)).isEmpty();
    assertThat(dns.queries().stream().filter(q -> q.type() == Type.A)).hasSize(ZONES);

    // After the answers' TTL (300 s) they are asked for again and validated with the zones' keys
    // still cached (dnsjava keeps validated keys up to 900 s): no DNSKEY or DS again.
    clock.advance(Duration.ofSeconds(301));
    dns.clearQueryLog();
    for (int i = 0; i < ZONES; i++) {
      assertThat(ask(r, "z" + i + ".test", DnsRecordType.MX).isSecure()).isTrue();
    }
    assertThat(dns.queries().stream().filter(q -> q.type() == Type.MX)).hasSize(ZONES);
    assertThat(keyQueries()).isEmpty();
  }

  private List<DnsQuery> keyQueries() {
    return dns.queries().stream()
        .filter(q -> q.type() == Type.DNSKEY || q.type() == Type.DS)
        .toList();
  }
}
