package io.mailtls.tlsrpt;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DnssecResolver;
import io.mailtls.core.DomainName;
import io.mailtls.core.TrustAnchors;
import io.mailtls.testkit.FakeClock;
import io.mailtls.testkit.TestDnsServer;
import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.Type;

/**
 * {@link TlsRptDiscovery} against the testkit's signed DNS, validated in process: a record,
 * several, none, a failed lookup and a bogus answer, and the TTL cache.
 */
class TlsRptDiscoveryTest {

  private static TestDnsServer dns;
  private static DnssecResolver resolver;

  @BeforeAll
  static void start() {
    dns =
        TestDnsServer.builder()
            .zone(
                "rpt.test",
                z ->
                    z.ttl(Duration.ofMinutes(10))
                        .txt("_smtp._tls.one.rpt.test", "v=TLSRPTv1; rua=mailto:tls@", "rpt.test")
                        .txt("_smtp._tls.one.rpt.test", "v=spf1 -all")
                        .txt("_smtp._tls.two.rpt.test", "v=TLSRPTv1; rua=mailto:a@rpt.test")
                        .txt("_smtp._tls.two.rpt.test", "v=TLSRPTv1; rua=mailto:b@rpt.test")
                        .txt("_smtp._tls.bad.rpt.test", "v=TLSRPTv1; rua=mailto:a!b@rpt.test")
                        .txt("_smtp._tls.fails.rpt.test", "v=TLSRPTv1; rua=mailto:a@rpt.test")
                        .txt("_smtp._tls.forged.rpt.test", "v=TLSRPTv1; rua=mailto:a@rpt.test")
                        .a("none.rpt.test", "127.0.0.1"))
            .start();
    dns.servfail("_smtp._tls.fails.rpt.test", Type.TXT);
    dns.corruptSignatures("_smtp._tls.forged.rpt.test", Type.TXT);
    resolver =
        DnssecResolver.builder()
            .upstream(dns.socketAddress())
            .trustAnchors(TrustAnchors.parse(dns.trustAnchor()))
            .queryTimeout(Duration.ofSeconds(2))
            .lookupTimeout(Duration.ofSeconds(8))
            .cacheSize(0)
            .failureCacheTtl(Duration.ZERO)
            .build();
  }

  @AfterAll
  static void stop() {
    dns.close();
  }

  private static TlsRptDiscovery discovery(FakeClock clock) {
    return TlsRptDiscovery.builder().dns(resolver).clock(clock).build();
  }

  @Test
  void findsTheOneRecordAmongOtherTxtAndJoinsItsStrings() {
    TlsRptLookup l = discovery(new FakeClock()).lookup(DomainName.of("one.rpt.test"));
    assertThat(l)
        .isInstanceOfSatisfying(
            TlsRptLookup.Found.class,
            f -> {
              assertThat(f.record().rua()).containsExactly(URI.create("mailto:tls@rpt.test"));
              assertThat(f.ttl()).isPositive().isLessThanOrEqualTo(Duration.ofMinutes(10));
            });
  }

  @Test
  void severalRecordsNoneAndInvalidMeanNoReporting() {
    TlsRptDiscovery d = discovery(new FakeClock());
    assertThat(d.lookup(DomainName.of("two.rpt.test")))
        .isInstanceOfSatisfying(
            TlsRptLookup.NotPublished.class,
            n -> assertThat(n.reason()).contains("exactly one is allowed"));
    assertThat(d.lookup(DomainName.of("bad.rpt.test")))
        .isInstanceOfSatisfying(
            TlsRptLookup.NotPublished.class, n -> assertThat(n.reason()).contains("'!'"));
    assertThat(d.lookup(DomainName.of("none.rpt.test")))
        .isInstanceOf(TlsRptLookup.NotPublished.class);
    assertThat(d.lookup(DomainName.of("nowhere.rpt.test")))
        .isInstanceOfSatisfying(
            TlsRptLookup.NotPublished.class, n -> assertThat(n.reason()).contains("NXDOMAIN"));
  }

  @Test
  void failuresAreNeverNoReportingAndNeverCached() {
    FakeClock clock = new FakeClock();
    TlsRptDiscovery d = discovery(clock);
    DomainName fails = DomainName.of("fails.rpt.test");
    assertThat(d.lookup(fails)).isInstanceOf(TlsRptLookup.Failed.class);
    assertThat(d.lookup(DomainName.of("forged.rpt.test")))
        .isInstanceOfSatisfying(
            TlsRptLookup.Failed.class, f -> assertThat(f.reason()).contains("BOGUS"));
    int before = dns.queryCount("_smtp._tls.fails.rpt.test", Type.TXT);
    assertThat(d.lookup(fails)).isInstanceOf(TlsRptLookup.Failed.class);
    assertThat(dns.queryCount("_smtp._tls.fails.rpt.test", Type.TXT)).isGreaterThan(before);
  }

  @Test
  void answersAreCachedForTheirTtl() {
    FakeClock clock = new FakeClock();
    TlsRptDiscovery d = discovery(clock);
    DomainName one = DomainName.of("one.rpt.test");
    TlsRptLookup.Found first = (TlsRptLookup.Found) d.lookup(one);
    int queries = dns.queryCount("_smtp._tls.one.rpt.test", Type.TXT);
    clock.advance(first.ttl().minusSeconds(1));
    TlsRptLookup.Found cached = (TlsRptLookup.Found) d.lookup(one);
    assertThat(cached.ttl()).isEqualTo(Duration.ofSeconds(1));
    assertThat(dns.queryCount("_smtp._tls.one.rpt.test", Type.TXT)).isEqualTo(queries);
    clock.advance(Duration.ofSeconds(1));
    assertThat(d.lookup(one)).isInstanceOf(TlsRptLookup.Found.class);
    assertThat(dns.queryCount("_smtp._tls.one.rpt.test", Type.TXT)).isGreaterThan(queries);
  }
}
