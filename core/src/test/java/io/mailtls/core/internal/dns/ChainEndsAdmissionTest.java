package io.mailtls.core.internal.dns;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DnsAnswer;
import io.mailtls.core.DnsRecordType;
import io.mailtls.core.DnssecMode;
import io.mailtls.core.DomainName;
import io.mailtls.core.TrustAnchors;
import io.mailtls.testkit.TestDnsServer;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The chain ends {@link KeyResponseCache} remembers per zone must still hold a zone whose keys
 * dnsjava's validator holds, or every answer that zone signs is kept for no time at all. They were
 * in a Caffeine cache bounded by size, whose admission (W-TinyLFU) may refuse a zone seen once in
 * favour of zones seen often: with more zones in rotation than the bound, a zone just validated
 * lost its end while the validator kept its keys. Against the testkit's signed zones on loopback,
 * with a key cache of 4 zones (so 8 ends).
 */
class ChainEndsAdmissionTest {

  private static final int ZONES = 12;
  private TestDnsServer dns;
  private final ExecutorService executor = Executors.newFixedThreadPool(2);

  @AfterEach
  void stop() {
    executor.shutdownNow();
    if (dns != null) {
      dns.close();
    }
  }

  @Test
  void aZoneJustValidatedKeepsItsChainEndWhenOftenSeenZonesFillTheBound() throws Exception {
    TestDnsServer.Builder b = TestDnsServer.builder().zone("test");
    for (int z = 0; z < ZONES; z++) {
      String zone = "z" + z + ".test";
      b.zone(
          zone,
          c -> {
            c.ttl(Duration.ofHours(1));
            for (int n = 0; n < 10; n++) {
              c.a("h" + n + "." + zone, "127.0.0.2");
            }
          });
    }
    dns = b.start();
    DnsjavaResolver r =
        new DnsjavaResolver(
            new DnsjavaResolver.Settings(
                List.of(dns.socketAddress()),
                DnssecMode.VALIDATE,
                TrustAnchors.parse(dns.trustAnchor()),
                Clock.systemUTC(),
                Duration.ofSeconds(3),
                Duration.ofSeconds(30),
                0,
                8,
                1000,
                executor,
                4));
    // Zones seen often: every name of z0 to z7, in turn.
    for (int n = 0; n < 10; n++) {
      for (int z = 0; z < 8; z++) {
        assertThat(a(r, "h" + n + ".z" + z + ".test").isSecure()).isTrue();
      }
    }
    // A zone seen now, then another: the validator holds both zones' keys.
    DnsAnswer first = a(r, "h0.z10.test");
    assertThat(first.isSecure()).isTrue();
    assertThat(first.ttl()).as("%s", first).isPositive();
    assertThat(a(r, "h0.z11.test").isSecure()).isTrue();

    DnsAnswer again = a(r, "h1.z10.test");
    assertThat(again.isSecure()).as("%s", again).isTrue();
    assertThat(again.ttl())
        .as("the lifetime of %s, signed by a zone whose keys the validator holds", again)
        .isPositive();
  }

  private static DnsAnswer a(DnsjavaResolver r, String name) throws Exception {
    return r.resolveAsync(DomainName.of(name), DnsRecordType.A).get();
  }
}
