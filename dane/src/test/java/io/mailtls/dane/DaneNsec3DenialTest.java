package io.mailtls.dane;

import static io.mailtls.dane.DaneTrustManagerTest.LEAF;
import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DeliveryPlan;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DnsResolver;
import io.mailtls.core.DnssecResolver;
import io.mailtls.core.DnssecState;
import io.mailtls.core.MxResolution;
import io.mailtls.core.MxResolver;
import io.mailtls.core.NextHop;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.TlsRequirement;
import io.mailtls.core.TlsaLookup;
import io.mailtls.core.TransportPolicyResolver;
import io.mailtls.core.TrustAnchors;
import io.mailtls.testkit.TestDnsServer;
import io.mailtls.testkit.Tlsa;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.Type;

/**
 * DANE discovery through zones that deny existence with NSEC3 (RFC 5155), as most TLDs and many
 * mail domains do: a TLSA query answered with a secure NSEC3 NODATA or NXDOMAIN means no DANE for
 * the host (RFC 7672 §2.2), while a denial whose NSEC3 proof is missing is bogus, and the host is
 * never used: with no other host the domain is deferred (RFC 7672 §2.1.1), never sent without DANE.
 */
class DaneNsec3DenialTest {

  private static final byte[] NO_SALT = new byte[0];

  private static TestDnsServer dns;
  private static DnsResolver resolver;
  private static TransportPolicyResolver planner;

  @BeforeAll
  static void start() {
    dns =
        TestDnsServer.builder()
            .zone(
                "nsec3mail.test",
                z ->
                    z.nsec3(0, NO_SALT, false)
                        // nothing at _25._tcp.mx.nsec3mail.test: the TLSA answer is NXDOMAIN
                        .mx("nsec3mail.test", 10, "mx.nsec3mail.test")
                        .a("mx.nsec3mail.test", "127.0.0.2")
                        // a TXT at the TLSA owner: the TLSA answer is NODATA
                        .mx("nodata.nsec3mail.test", 10, "mx-nodata.nsec3mail.test")
                        .a("mx-nodata.nsec3mail.test", "127.0.0.2")
                        .txt(Tlsa.smtpOwner("mx-nodata.nsec3mail.test"), "not a TLSA record")
                        // the same, but the server leaves the NSEC3 proof out
                        .mx("bogus.nsec3mail.test", 10, "mx-bogus.nsec3mail.test")
                        .a("mx-bogus.nsec3mail.test", "127.0.0.2")
                        .txt(Tlsa.smtpOwner("mx-bogus.nsec3mail.test"), "not a TLSA record")
                        // and DANE itself, in the NSEC3 zone
                        .mx("dane.nsec3mail.test", 10, "mx-dane.nsec3mail.test")
                        .a("mx-dane.nsec3mail.test", "127.0.0.2")
                        .tlsaFor(Tlsa.smtpOwner("mx-dane.nsec3mail.test"), 3, 1, 1, LEAF))
            .start();
    dns.omitDenialProofs(Tlsa.smtpOwner("mx-bogus.nsec3mail.test"), Type.TLSA);
    resolver =
        DnssecResolver.builder()
            .upstream(dns.socketAddress())
            .trustAnchors(TrustAnchors.parse(dns.trustAnchor()))
            .queryTimeout(Duration.ofSeconds(2))
            .retries(0)
            .lookupTimeout(Duration.ofSeconds(5))
            .build();
    planner =
        TransportPolicyResolver.builder()
            .dns(resolver)
            .withoutMtaSts()
            .dane(DaneResolver.builder().dns(resolver).build())
            .build();
  }

  @AfterAll
  static void stop() {
    dns.close();
  }

  private static TlsaLookup lookup(String nextHop) {
    MxResolution mx = MxResolver.builder().dns(resolver).build().resolve(NextHop.parse(nextHop));
    assertThat(mx.hosts()).as("MX hosts of %s: %s", nextHop, mx).hasSize(1);
    assertThat(mx.mxState()).as("%s", mx).isEqualTo(DnssecState.SECURE);
    return DaneResolver.builder().dns(resolver).build().lookupAsync(mx.hosts().get(0), mx).join();
  }

  private static DeliveryPlan plan(String nextHop) {
    return planner.plan(NextHop.parse(nextHop), TlsLevel.OPPORTUNISTIC);
  }

  @Test
  void aSecureNsec3DenialOfTheTlsaRecordsMeansNoDane() {
    TlsaLookup nx = lookup("nsec3mail.test");
    assertThat(nx).as("%s", nx).isInstanceOf(TlsaLookup.None.class);
    assertThat(((TlsaLookup.None) nx).reason()).contains("NXDOMAIN");
    TlsaLookup nodata = lookup("nodata.nsec3mail.test");
    assertThat(nodata).as("%s", nodata).isInstanceOf(TlsaLookup.None.class);
    assertThat(((TlsaLookup.None) nodata).reason()).contains("NODATA");

    DeliveryPlan plan = plan("nodata.nsec3mail.test");
    assertThat(plan.failure()).as("%s", plan).isEmpty();
    assertThat(plan.hosts()).hasSize(1);
    assertThat(plan.hosts().get(0).requirement())
        .as("%s", plan)
        .isNotInstanceOf(TlsRequirement.Dane.class);
  }

  @Test
  void tlsaRecordsInAnNsec3ZoneMakeDaneMandatory() {
    TlsaLookup usable = lookup("dane.nsec3mail.test");
    assertThat(usable).as("%s", usable).isInstanceOf(TlsaLookup.Usable.class);
    DeliveryPlan plan = plan("dane.nsec3mail.test");
    assertThat(plan.hosts().get(0).requirement()).isInstanceOf(TlsRequirement.Dane.class);
  }

  @Test
  void aTlsaDenialWithoutItsNsec3ProofDefersTheDomain() {
    TlsaLookup bogus = lookup("bogus.nsec3mail.test");
    assertThat(bogus).as("%s", bogus).isInstanceOf(TlsaLookup.Failed.class);
    assertThat(((TlsaLookup.Failed) bogus).reason()).contains("BOGUS");

    DeliveryPlan plan = plan("bogus.nsec3mail.test");
    assertThat(plan.hosts()).as("%s", plan).isEmpty();
    assertThat(plan.failure()).as("%s", plan).isPresent();
    assertThat(plan.failure().get().status()).isEqualTo(DeliveryStatus.DEFERRED);
  }
}
