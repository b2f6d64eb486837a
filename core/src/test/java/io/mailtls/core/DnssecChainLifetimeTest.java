package io.mailtls.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.testkit.DnsZoneBuilder;
import io.mailtls.testkit.FakeClock;
import io.mailtls.testkit.TestDnsServer;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.Type;

/**
 * How long {@link DnssecResolver} keeps a secure answer, bounded by the chain of trust that
 * validated it (RFC 4035 §5: the DNSKEY and DS RRsets from the trust anchor down to the answer's
 * signer), against the testkit's signed zones on loopback. The answer's own RRSIG runs 30 days and
 * its TTL is an hour; a DNSKEY or DS signature on the way that expires in 10 minutes (RFC 4034
 * §3.1.5, RFC 4035 §5.3.1, §5.3.3), or a key RRset with a shorter TTL, ends the answer's life
 * sooner: past it the chain no longer validates, and a TLSA record kept as secure would keep DANE
 * trusting keys its zone can no longer vouch for.
 */
@SuppressWarnings("CanonicalDuration") // TTLs in seconds, as DNS zones give them
class DnssecChainLifetimeTest {

  private static final String TLSA_NAME = "_25._tcp.mx.chain.test";

  /** Real time, whole seconds: signatures are made and checked against it. */
  private final FakeClock clock = new FakeClock(Instant.now().truncatedTo(ChronoUnit.SECONDS));

  private TestDnsServer dns;

  @AfterEach
  void stop() {
    if (dns != null) {
      dns.close();
    }
  }

  /**
   * A server whose key RRsets (DNSKEY, DS) have TTL {@code keyTtl}, with {@code chain.test} (its
   * own records an hour, signed for 30 days) edited by {@code zone} and {@code test.} by {@code
   * parent}.
   */
  private void start(
      Duration keyTtl, Consumer<DnsZoneBuilder> parent, Consumer<DnsZoneBuilder> zone) {
    dns =
        TestDnsServer.builder()
            .clock(clock)
            .generatedTtl(keyTtl)
            .zone("test", parent)
            .zone(
                "chain.test",
                z -> {
                  z.ttl(Duration.ofSeconds(3600))
                      .a("mx.chain.test", "127.0.0.2")
                      .tlsa(TLSA_NAME, 3, 1, 1, new byte[32]);
                  zone.accept(z);
                })
            .start();
  }

  private DnsResolver resolver() {
    return DnssecResolver.builder()
        .upstream(dns.socketAddress())
        .trustAnchors(TrustAnchors.parse(dns.trustAnchor()))
        .clock(clock)
        .queryTimeout(Duration.ofSeconds(3))
        .retries(0)
        .build();
  }

  private static DnsAnswer tlsa(DnsResolver r) {
    return r.resolve(DomainName.of(TLSA_NAME), DnsRecordType.TLSA);
  }

  /**
   * The answer is secure with the chain's shortest lifetime, {@code expected}, and served from the
   * cache until just before then. After it, it is asked for again, and never served from the cache
   * as validated on the old chain: when a signature on the way has expired, the answer is either
   * bogus or, where dnsjava's validator still holds the zone's keys (its key cache reads the system
   * clock, not this test's; {@link #theValidatorDropsKeysWhenTheirChainExpires} is the same in real
   * time), secure for no time at all.
   */
  private void assertKeptFor(Duration expected, boolean expiredSignature) {
    DnsResolver r = resolver();
    DnsAnswer first = tlsa(r);
    assertThat(first.outcome()).as("%s", first).isEqualTo(DnsOutcome.DATA);
    assertThat(first.isSecure()).as("%s", first).isTrue();
    assertThat(first.ttl()).as("the TTL of %s", first).isEqualTo(expected);

    clock.advance(expected.minusSeconds(1));
    assertThat(tlsa(r).isSecure()).isTrue();
    assertThat(dns.queryCount(TLSA_NAME + ".", Type.TLSA)).as("served from the cache").isEqualTo(1);

    clock.advance(Duration.ofSeconds(2));
    DnsAnswer later = tlsa(r);
    assertThat(dns.queryCount(TLSA_NAME + ".", Type.TLSA))
        .as("asked again once the chain's lifetime is over")
        .isEqualTo(2);
    if (expiredSignature) {
      assertThat(later.state() == DnssecState.BOGUS || later.ttl().isZero())
          .as("validated on a chain whose signature expired, yet kept: %s", later)
          .isTrue();
      tlsa(r);
      assertThat(dns.queryCount(TLSA_NAME + ".", Type.TLSA))
          .as("not served from the cache as validated")
          .isEqualTo(3);
    } else {
      assertThat(later.isSecure()).as("%s", later).isTrue();
    }
  }

  /** The zone's own DNSKEY RRset is signed for 10 minutes (RFC 4035 §5.3.1, §5.3.3). */
  @Test
  void aSecureAnswerLastsNoLongerThanItsZonesDnskeySignature() {
    start(
        Duration.ofSeconds(3600),
        p -> {},
        z -> z.signatureValidity(Type.DNSKEY, Duration.ofSeconds(600)));
    assertKeptFor(Duration.ofSeconds(600), true);
  }

  /** The DS RRset for the zone, in the parent {@code test.}, is signed for 10 minutes. */
  @Test
  void aSecureAnswerLastsNoLongerThanTheDsSignatureInItsParent() {
    start(
        Duration.ofSeconds(3600),
        p -> p.signatureValidity(Type.DS, Duration.ofSeconds(600)),
        z -> {});
    assertKeptFor(Duration.ofSeconds(600), true);
  }

  /** Further up: the parent {@code test.}'s own DNSKEY RRset is signed for 10 minutes. */
  @Test
  void aSecureAnswerLastsNoLongerThanItsParentsDnskeySignature() {
    start(
        Duration.ofSeconds(3600),
        p -> p.signatureValidity(Type.DNSKEY, Duration.ofSeconds(600)),
        z -> {});
    assertKeptFor(Duration.ofSeconds(600), true);
  }

  /**
   * The DNSKEY and DS RRsets have a TTL of 2 minutes, the answer an hour: the keys it was validated
   * with are kept no longer than that, and neither is the answer. Past it the chain is fetched and
   * validated again, and the answer is secure again.
   */
  @Test
  void aSecureAnswerLastsNoLongerThanTheTtlOfTheKeysThatValidatedIt() {
    start(Duration.ofSeconds(120), p -> {}, z -> {});
    assertKeptFor(Duration.ofSeconds(120), false);
  }

  /**
   * In real time, as dnsjava's key cache reads it: the zone's DNSKEY RRset is signed for 3 s and
   * has a TTL of an hour, which dnsjava would keep its validated keys for (up to 15 minutes)
   * without looking at their signature again. Handed the keys with a TTL lowered to their chain's
   * time left, it drops them with the chain, fetches them again, and finds their signature expired:
   * the answer is bogus, not secure on keys no signature vouches for any more (RFC 4035 §5.3.1).
   */
  @Test
  void theValidatorDropsKeysWhenTheirChainExpires() throws InterruptedException {
    dns =
        TestDnsServer.builder()
            .generatedTtl(Duration.ofSeconds(3600))
            .zone(
                "chain.test",
                z ->
                    z.ttl(Duration.ofSeconds(3600))
                        .signatureValidity(Type.DNSKEY, Duration.ofSeconds(3))
                        .a("mx.chain.test", "127.0.0.2")
                        .tlsa(TLSA_NAME, 3, 1, 1, new byte[32]))
            .start();
    Instant expiry = Instant.now().plusSeconds(3);
    DnsResolver r =
        DnssecResolver.builder()
            .upstream(dns.socketAddress())
            .trustAnchors(TrustAnchors.parse(dns.trustAnchor()))
            .queryTimeout(Duration.ofSeconds(3))
            .retries(0)
            .build();
    DnsAnswer first = tlsa(r);
    assertThat(first.isSecure()).as("%s", first).isTrue();
    assertThat(first.ttl()).as("%s", first).isLessThanOrEqualTo(Duration.ofSeconds(3));
    Thread.sleep(Math.max(0, Duration.between(Instant.now(), expiry).toMillis()) + 1_500);
    DnsAnswer later = tlsa(r);
    assertThat(later.state())
        .as("validated with keys whose signature expired: %s", later)
        .isEqualTo(DnssecState.BOGUS);
  }
}
