package io.mailtls.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import javax.net.ssl.X509ExtendedTrustManager;
import org.junit.jupiter.api.Test;

/**
 * Planning from answers a caller's {@link DnsResolver} or {@link DaneProvider} may give: data that
 * failed validation is never read as "no records" (RFC 4035 §5.5, RFC 7672 §2.1.1), and a TLSA
 * outcome always applies to the host it was asked for (RFC 7672 §2.2).
 */
class CallerResolverPlanningTest {

  private static final DomainName IMPLICIT = DomainName.of("implicit.test");
  private static final DomainName DOMAIN = DomainName.of("dane.test");
  private static final DomainName MX = DomainName.of("mx.dane.test");
  private static final DomainName BOGUS_MX = DomainName.of("bogus.dane.test");

  /** A resolver of the caller's, answering from a table; NXDOMAIN (secure) for the rest. */
  private static DnsResolver table(Map<String, DnsAnswer> answers) {
    return (name, type) ->
        CompletableFuture.completedFuture(
            answers.getOrDefault(
                name + " " + type,
                DnsAnswer.builder(name, type, DnsOutcome.NXDOMAIN, DnssecState.SECURE)
                    .ttl(Duration.ofSeconds(60))
                    .build()));
  }

  private static DnsAnswer answer(
      DomainName name, DnsRecordType type, DnsOutcome outcome, DnssecState state, DnsRecord... r) {
    return DnsAnswer.builder(name, type, outcome, state)
        .records(List.of(r))
        .ttl(Duration.ofSeconds(60))
        .build();
  }

  private static DnsRecord address(String a) throws Exception {
    return new DnsRecord.Address(InetAddress.getByName(a));
  }

  private static Map<String, DnsAnswer> world() throws Exception {
    Map<String, DnsAnswer> m = new HashMap<>();
    // implicit.test: no MX (a secure denial), and an A answer that failed validation although the
    // resolver handed its records over as data
    m.put(
        IMPLICIT + " MX",
        answer(IMPLICIT, DnsRecordType.MX, DnsOutcome.NODATA, DnssecState.SECURE));
    m.put(
        IMPLICIT + " A",
        answer(
            IMPLICIT, DnsRecordType.A, DnsOutcome.DATA, DnssecState.BOGUS, address("127.0.0.5")));
    m.put(
        IMPLICIT + " AAAA",
        answer(IMPLICIT, DnsRecordType.AAAA, DnsOutcome.NODATA, DnssecState.SECURE));
    // dane.test: a secure MX answer naming mx.dane.test (secure address) and bogus.dane.test
    // (whose only address answer failed validation)
    m.put(
        DOMAIN + " MX",
        answer(
            DOMAIN,
            DnsRecordType.MX,
            DnsOutcome.DATA,
            DnssecState.SECURE,
            new DnsRecord.Mx(10, MX),
            new DnsRecord.Mx(20, BOGUS_MX)));
    m.put(
        MX + " A",
        answer(MX, DnsRecordType.A, DnsOutcome.DATA, DnssecState.SECURE, address("127.0.0.6")));
    m.put(MX + " AAAA", answer(MX, DnsRecordType.AAAA, DnsOutcome.NODATA, DnssecState.SECURE));
    m.put(
        BOGUS_MX + " A",
        answer(
            BOGUS_MX, DnsRecordType.A, DnsOutcome.DATA, DnssecState.BOGUS, address("127.0.0.7")));
    m.put(
        BOGUS_MX + " AAAA",
        answer(BOGUS_MX, DnsRecordType.AAAA, DnsOutcome.NODATA, DnssecState.SECURE));
    return m;
  }

  private static TransportPolicyResolver planner(DnsResolver dns, DaneProvider dane) {
    return TransportPolicyResolver.builder()
        .dns(dns)
        .random(new Random(3))
        .withoutMtaSts()
        .dane(dane)
        .build();
  }

  /** A DANE provider that publishes nothing anywhere. */
  private static final DaneProvider NO_DANE =
      new DaneProvider() {
        @Override
        public CompletableFuture<TlsaLookup> lookupAsync(MxHost host, MxResolution mx) {
          return CompletableFuture.completedFuture(new TlsaLookup.None(host.name(), "none"));
        }

        @Override
        public X509ExtendedTrustManager trustManager(TlsRequirement.Dane requirement) {
          throw new AssertionError("no DANE session here");
        }
      };

  /**
   * RFC 4035 §5.5, RFC 5321 §5.1: an address answer that failed validation is a failed lookup. The
   * implicit MX of a domain whose only address answer is bogus is a temporary failure (deferred),
   * never "neither MX nor address records" (bounced), as the MX answer itself already is.
   */
  @Test
  void rfc4035Section5_5ABogusAddressAnswerOfTheImplicitMxDefersNeverBounces() throws Exception {
    DnsResolver dns = table(world());
    MxResolution mx = MxResolver.builder().dns(dns).build().resolve(new NextHop.Domain(IMPLICIT));
    assertThat(mx.kind()).isEqualTo(MxResolution.Kind.TEMPORARY_FAILURE);

    DeliveryPlan plan = planner(dns, NO_DANE).plan(new NextHop.Domain(IMPLICIT), TlsLevel.ENFORCED);
    assertThat(plan.failure()).isPresent();
    assertThat(plan.failure().get().status()).isEqualTo(DeliveryStatus.DEFERRED);
  }

  /**
   * An MX host whose address answer failed validation is skipped for a DNS failure (design table
   * row 17), not as a host that has no A or AAAA records (row 18): the decision record says why.
   */
  @Test
  void aHostWhoseAddressAnswerIsBogusIsSkippedForADnsFailure() throws Exception {
    DeliveryPlan plan =
        planner(table(world()), NO_DANE).plan(new NextHop.Domain(DOMAIN), TlsLevel.ENFORCED);
    assertThat(plan.skipped())
        .singleElement()
        .satisfies(
            s -> {
              assertThat(s.host()).isEqualTo(BOGUS_MX);
              assertThat(s.failure()).isEqualTo(FailureType.DNS_FAILURE);
            });
  }

  /**
   * A DANE provider that labels its outcome with another name than the MX host asked for (the TLSA
   * base domain after a CNAME, say) must not make the planner read the host as "no DANE": usable
   * TLSA records found for mx.dane.test make DANE mandatory for it (RFC 7672 §2.2), whatever name
   * the outcome carries.
   */
  @Test
  void rfc7672Section2_2ATlsaOutcomeAppliesToTheHostItWasAskedFor() throws Exception {
    DnsRecord.Tlsa record = new DnsRecord.Tlsa(3, 1, 1, new byte[32]);
    DomainName base = DomainName.of("alias-target.dane.test");
    DaneProvider dane =
        new DaneProvider() {
          @Override
          public CompletableFuture<TlsaLookup> lookupAsync(MxHost host, MxResolution mx) {
            if (!host.name().equals(MX)) {
              return CompletableFuture.completedFuture(new TlsaLookup.None(host.name(), "none"));
            }
            return CompletableFuture.completedFuture(
                new TlsaLookup.Usable(
                    base, // the expanded name, not the MX host's
                    new TlsRequirement.Dane(List.of(record), base, List.of(base, MX), true),
                    "found at the alias target"));
          }

          @Override
          public X509ExtendedTrustManager trustManager(TlsRequirement.Dane requirement) {
            throw new AssertionError("no session here");
          }
        };
    DeliveryPlan plan =
        planner(table(world()), dane).plan(new NextHop.Domain(DOMAIN), TlsLevel.OPPORTUNISTIC);
    assertThat(plan.hosts())
        .filteredOn(h -> h.name().equals(java.util.Optional.of(MX)))
        .allSatisfy(h -> assertThat(h.requirement().requiresAuthentication()).isTrue());
    assertThat(plan.hosts())
        .noneMatch(h -> h.requirement() instanceof TlsRequirement.Opportunistic);
  }

  /**
   * A relay's address answer that failed validation is never used (RFC 4035 §5.5), as MX resolution
   * already refuses such data: the relay plan is deferred, not made with the forged address.
   */
  @Test
  void rfc4035Section5_5ARelayAddressThatFailedValidationIsNeverUsed() throws Exception {
    DomainName relay = DomainName.of("relay.test");
    Map<String, DnsAnswer> m = world();
    m.put(
        relay + " A",
        answer(relay, DnsRecordType.A, DnsOutcome.DATA, DnssecState.BOGUS, address("127.0.0.8")));
    m.put(
        relay + " AAAA", answer(relay, DnsRecordType.AAAA, DnsOutcome.NODATA, DnssecState.SECURE));
    try (SecureSmtpTransport t =
        SecureSmtpTransport.builder()
            .dns(table(m))
            .heloName("client.sender.test")
            .senderPolicy(SenderPolicy.uniform(TlsLevel.OPPORTUNISTIC))
            .relay(SmartHost.builder("relay.test").build())
            .build()) {
      DeliveryPlan plan = t.plan(NextHop.parse("elsewhere.test"), TlsLevel.OPPORTUNISTIC);
      assertThat(plan.hosts()).flatExtracting(PlannedHost::addresses).isEmpty();
      assertThat(plan.failure()).isPresent();
      assertThat(plan.failure().get().status()).isEqualTo(DeliveryStatus.DEFERRED);
    }
  }
}
