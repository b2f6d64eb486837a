package io.mailtls.interop;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DnsAnswer;
import io.mailtls.core.DnsOutcome;
import io.mailtls.core.DnsRecord;
import io.mailtls.core.DnsRecordType;
import io.mailtls.core.DnsResolver;
import io.mailtls.core.DnssecMode;
import io.mailtls.core.DnssecResolver;
import io.mailtls.core.DnssecSelfCheck;
import io.mailtls.core.DnssecState;
import io.mailtls.core.DomainName;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** DnssecResolver against Unbound: in-process validation from the private root, and TRUST_AD. */
class ResolverInteropTest {

  @BeforeAll
  static void environment() {
    InteropEnv.requireUp();
  }

  private static DnsAnswer resolve(DnsResolver dns, String name, DnsRecordType type)
      throws Exception {
    return dns.resolveAsync(DomainName.of(name), type).get(30, TimeUnit.SECONDS);
  }

  private static void assertSignedAndUnsigned(DnssecResolver dns) throws Exception {
    DnsAnswer mx = resolve(dns, "dane-ee.test", DnsRecordType.MX);
    assertThat(mx.outcome()).as("%s", mx).isEqualTo(DnsOutcome.DATA);
    assertThat(mx.state()).as("%s", mx).isEqualTo(DnssecState.SECURE);
    assertThat(mx.records(DnsRecord.Mx.class))
        .extracting(m -> m.exchange().toString())
        .anySatisfy(x -> assertThat(x).startsWith("mx.dane-ee.test"));

    DnsAnswer tlsa = resolve(dns, "_25._tcp.mx.dane-ee.test", DnsRecordType.TLSA);
    assertThat(tlsa.state()).as("%s", tlsa).isEqualTo(DnssecState.SECURE);
    String expected = Files.readString(InteropEnv.STATE.resolve("tlsa-mx-3-1-1.txt")).trim();
    assertThat(tlsa.records(DnsRecord.Tlsa.class))
        .singleElement()
        .satisfies(
            t -> {
              assertThat(t.usage()).isEqualTo(3);
              assertThat(t.selector()).isEqualTo(1);
              assertThat(t.matchingType()).isEqualTo(1);
              assertThat(HexFormat.of().formatHex(t.data())).isEqualToIgnoringCase(expected);
            });

    DnsAnswer unsigned = resolve(dns, "unsigned.test", DnsRecordType.MX);
    assertThat(unsigned.outcome()).as("%s", unsigned).isEqualTo(DnsOutcome.DATA);
    assertThat(unsigned.state()).as("%s", unsigned).isEqualTo(DnssecState.INSECURE);

    DnsAnswer unsignedTlsa = resolve(dns, "_25._tcp.mx.unsigned.test", DnsRecordType.TLSA);
    assertThat(unsignedTlsa.state()).as("%s", unsignedTlsa).isEqualTo(DnssecState.INSECURE);

    DnsAnswer nx = resolve(dns, "nonexistent.dane-ee.test", DnsRecordType.A);
    assertThat(nx.outcome()).as("%s", nx).isEqualTo(DnsOutcome.NXDOMAIN);
    assertThat(nx.state()).as("%s", nx).isEqualTo(DnssecState.SECURE);
  }

  @Test
  void validateModeWithPrivateRootAnchor() throws Exception {
    assertSignedAndUnsigned(InteropEnv.validatingResolver());
  }

  /**
   * The bogus zones, validated in process (Unbound asked with CD, so mailtls sees the broken data
   * and judges it): expired signatures, a DS matching no key and a corrupted RRSIG over the MX
   * RRset are BOGUS; a corrupted RRSIG over the TLSA RRset leaves the MX SECURE and the TLSA BOGUS.
   */
  @Test
  void bogusZonesAreBogusWhenValidatedInProcess() throws Exception {
    DnssecResolver dns = InteropEnv.validatingResolver();
    for (String zone : new String[] {"bogus-expired.test", "bogus-ds.test", "bogus-mx-sig.test"}) {
      DnsAnswer mx = resolve(dns, zone, DnsRecordType.MX);
      assertThat(mx.state()).as("%s", mx).isEqualTo(DnssecState.BOGUS);
      assertThat(mx.outcome()).as("%s", mx).isEqualTo(DnsOutcome.FAILURE);
    }
    DnsAnswer mx = resolve(dns, "bogus-tlsa-sig.test", DnsRecordType.MX);
    assertThat(mx.state()).as("%s", mx).isEqualTo(DnssecState.SECURE);
    DnsAnswer tlsa = resolve(dns, "_25._tcp.mx.bogus-tlsa-sig.test", DnsRecordType.TLSA);
    assertThat(tlsa.state()).as("%s", tlsa).isEqualTo(DnssecState.BOGUS);
    assertThat(tlsa.outcome()).as("%s", tlsa).isEqualTo(DnsOutcome.FAILURE);
  }

  /** Unbound itself refuses the bogus data: SERVFAIL, which TRUST_AD can only read as a failure. */
  @Test
  void bogusZonesFailThroughUnboundUnderTrustAd() throws Exception {
    DnssecResolver dns = InteropEnv.trustAdResolver();
    for (String name : new String[] {"bogus-expired.test", "bogus-ds.test", "bogus-mx-sig.test"}) {
      DnsAnswer mx = resolve(dns, name, DnsRecordType.MX);
      assertThat(mx.outcome()).as("%s", mx).isEqualTo(DnsOutcome.FAILURE);
      assertThat(mx.state())
          .as("%s", mx)
          .isNotEqualTo(DnssecState.SECURE)
          .isNotEqualTo(DnssecState.INSECURE);
    }
    DnsAnswer tlsa = resolve(dns, "_25._tcp.mx.bogus-tlsa-sig.test", DnsRecordType.TLSA);
    assertThat(tlsa.outcome()).as("%s", tlsa).isEqualTo(DnsOutcome.FAILURE);
  }

  /** Every TLSA record up.sh published is served, SECURE, with the digest of its certificate. */
  @Test
  void tlsaRecordsMatchTheGeneratedCertificates() throws Exception {
    java.util.Properties facts = new java.util.Properties();
    try (var in = Files.newInputStream(InteropEnv.STATE.resolve("facts.properties"))) {
      facts.load(in);
    }
    DnssecResolver dns = InteropEnv.validatingResolver();
    String[][] expected = {
      {"_25._tcp.mx.dane-ta.test", "2 0 1", facts.getProperty("tlsa.taroot.201")},
      {"_25._tcp.mx.dane-ta-spki.test", "2 1 1", facts.getProperty("tlsa.taint.211")},
      {"_25._tcp.mx.dane-self.test", "3 1 1", facts.getProperty("tlsa.self.311")},
      {"_25._tcp.mx.dane-wrong.test", "3 1 1", facts.getProperty("tlsa.wrong.311")},
      {"_25._tcp.mx2.failover.test", "3 1 1", facts.getProperty("tlsa.mx.311")},
    };
    for (String[] e : expected) {
      DnsAnswer a = resolve(dns, e[0], DnsRecordType.TLSA);
      assertThat(a.state()).as("%s", a).isEqualTo(DnssecState.SECURE);
      assertThat(a.records(DnsRecord.Tlsa.class))
          .singleElement()
          .satisfies(
              t -> {
                assertThat(t.usage() + " " + t.selector() + " " + t.matchingType()).isEqualTo(e[1]);
                assertThat(HexFormat.of().formatHex(t.data())).isEqualToIgnoringCase(e[2]);
              });
    }
  }

  @Test
  void trustAdModeAgainstUnbound() throws Exception {
    assertSignedAndUnsigned(InteropEnv.trustAdResolver());
  }

  /**
   * The TRUST_AD start-up self-check (issue 11 item 5) against real software: Unbound, which
   * validates, passes it; NSD, a loopback server that answers authoritatively and never validates,
   * fails it, though TRUST_AD would accept it as an upstream.
   */
  @Test
  void theDnssecSelfCheckTellsAValidatingResolverFromAServerOnLoopback() throws Exception {
    DomainName bogus = DomainName.of("mx.bogus-expired.test");
    DomainName signed = DomainName.of("dane-ee.test");
    DnssecSelfCheck.Result unbound =
        DnssecSelfCheck.run(InteropEnv.trustAdResolver(), bogus, signed);
    assertThat(unbound.problems()).as("Unbound").isEmpty();

    DnssecResolver nsd =
        DnssecResolver.builder()
            .mode(DnssecMode.TRUST_AD)
            .upstream(new InetSocketAddress(InetAddress.getByName("127.0.0.53"), 53))
            .queryTimeout(Duration.ofSeconds(3))
            .build();
    DnssecSelfCheck.Result authoritative = DnssecSelfCheck.run(nsd, bogus, signed);
    assertThat(authoritative.passed()).as("NSD: %s", authoritative).isFalse();
    assertThat(authoritative.problems())
        .anySatisfy(
            p ->
                assertThat(p)
                    .contains("mx.bogus-expired.test resolved")
                    .contains("does not validate"));
  }
}
