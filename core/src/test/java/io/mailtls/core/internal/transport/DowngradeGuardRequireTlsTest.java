package io.mailtls.core.internal.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.Attempt;
import io.mailtls.core.Authentication;
import io.mailtls.core.DeliveryPlan;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DnsAnswer;
import io.mailtls.core.DnsOutcome;
import io.mailtls.core.DnsRecordType;
import io.mailtls.core.DnssecState;
import io.mailtls.core.DomainName;
import io.mailtls.core.DowngradeMemory;
import io.mailtls.core.DowngradeProtection;
import io.mailtls.core.EmailAddress;
import io.mailtls.core.FailureType;
import io.mailtls.core.MtaStsMode;
import io.mailtls.core.MtaStsPolicy;
import io.mailtls.core.MxHost;
import io.mailtls.core.MxResolution;
import io.mailtls.core.NextHop;
import io.mailtls.core.PlannedHost;
import io.mailtls.core.PolicySource;
import io.mailtls.core.SmtpReply;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.TlsRequirement;
import io.mailtls.core.TransportSecurity;
import io.mailtls.core.internal.Values;
import io.mailtls.core.internal.policy.MessageTlsOption;
import io.mailtls.core.internal.policy.MessageTlsPolicy;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Downgrade memory and REQUIRETLS (docs/design.md §1): the memory records what the next hop's own
 * plan asked of a host, never a per-message raise, and its floor is judged on the requirement a
 * REQUIRETLS message will use each host with. The end-to-end cases are in mailtls-standard's {@code
 * RequireTlsDowngradeMemoryTest}.
 */
class DowngradeGuardRequireTlsTest {

  private static final DomainName DOMAIN = DomainName.of("example.test");
  private static final DomainName MX = DomainName.of("mx.example.test");
  private static final NextHop HOP = new NextHop.Domain(DOMAIN);
  private static final InetAddress ADDRESS = address("192.0.2.1");
  private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");

  private static InetAddress address(String ip) {
    try {
      return InetAddress.getByName(ip);
    } catch (java.net.UnknownHostException e) {
      throw new IllegalArgumentException(ip, e);
    }
  }

  private static MtaStsPolicy policy(MtaStsMode mode) {
    return new MtaStsPolicy("1", mode, List.of(MX.toString()), Duration.ofDays(7));
  }

  /** The plan of one MX host with {@code requirement}, under {@code policy}. */
  private static DeliveryPlan plan(TlsRequirement requirement, Optional<MtaStsPolicy> policy) {
    DnsAnswer v4 =
        DnsAnswer.builder(MX, DnsRecordType.A, DnsOutcome.DATA, DnssecState.INSECURE).build();
    DnsAnswer v6 =
        DnsAnswer.builder(MX, DnsRecordType.AAAA, DnsOutcome.NODATA, DnssecState.INSECURE).build();
    MxHost h = Values.mxHost(MX, 10, false, List.of(ADDRESS), v4, v6);
    boolean pkix = requirement instanceof TlsRequirement.Pkix;
    return Values.deliveryPlan(
        HOP,
        Optional.of(TlsLevel.OPPORTUNISTIC),
        Values.mxResolution(HOP, MxResolution.Kind.MX, List.of(h), Optional.empty(), List.of()),
        List.of(
            Values.plannedHost(
                Optional.of(MX),
                List.of(ADDRESS),
                requirement,
                pkix ? PolicySource.MTA_STS : PolicySource.NONE,
                "test",
                pkix ? Optional.empty() : policy.map(p -> new TlsRequirement.Pkix(List.of(MX))))),
        List.of(),
        Optional.empty(),
        List.of(),
        List.of(),
        policy);
  }

  private static DeliveryPlan testingPlan() {
    return plan(new TlsRequirement.Opportunistic(), Optional.of(policy(MtaStsMode.TESTING)));
  }

  private static DeliveryPlan enforcePlan() {
    return plan(new TlsRequirement.Pkix(List.of(MX)), Optional.of(policy(MtaStsMode.ENFORCE)));
  }

  private static DowngradeGuard.Verdict authenticatedSeen() {
    DowngradeMemory.Seen seen =
        DowngradeMemory.Seen.NOTHING.raise(TransportSecurity.AUTHENTICATED_TLS, NOW);
    DowngradeGuard.Verdict v = DowngradeGuard.decide(seen, NOW, Duration.ofDays(30), false);
    assertThat(v.kind()).isEqualTo(DowngradeGuard.Kind.REQUIRE_AUTHENTICATION);
    return v;
  }

  /** The delivering attempt of the message plan made from {@code nextHop} for {@code option}. */
  private static Attempt delivered(DeliveryPlan nextHop, MessageTlsOption option) {
    DeliveryPlan message = MessageTlsPolicy.apply(nextHop, option, false);
    PlannedHost h = message.hosts().get(0);
    Authentication auth =
        h.requirement().requiresAuthentication()
            ? Authentication.VERIFIED
            : Authentication.ENCRYPTED;
    return Values.attempt(
        h.name(),
        new InetSocketAddress(ADDRESS, 25),
        h.requirement(),
        h.source(),
        Optional.empty(),
        Optional.of(auth),
        Optional.empty(),
        Optional.of(SmtpReply.local(250, "ok")),
        "",
        Optional.empty(),
        Optional.empty(),
        io.mailtls.core.Timings.NONE,
        message.mtaSts(),
        false,
        Optional.empty(),
        false);
  }

  @Test
  void aRequireTlsSessionRaisedUnderATestingPolicyIsRecordedAsTls() {
    Attempt a = delivered(testingPlan(), MessageTlsOption.REQUIRETLS);
    assertThat(a.requirement()).isInstanceOf(TlsRequirement.Pkix.class);
    assertThat(a.authentication()).contains(Authentication.VERIFIED);
    assertThat(DowngradeGuard.recorded(List.of(testingPlan()), a)).contains(TransportSecurity.TLS);
  }

  @Test
  void aSessionTheRecipientsPolicyAuthenticatesIsRecordedAsAuthenticated() {
    for (MessageTlsOption option : List.of(MessageTlsOption.DEFAULT, MessageTlsOption.REQUIRETLS)) {
      Attempt a = delivered(enforcePlan(), option);
      assertThat(DowngradeGuard.recorded(List.of(enforcePlan()), a))
          .as("%s", option)
          .contains(TransportSecurity.AUTHENTICATED_TLS);
    }
    Attempt ordinary = delivered(testingPlan(), MessageTlsOption.DEFAULT);
    assertThat(DowngradeGuard.recorded(List.of(testingPlan()), ordinary))
        .contains(TransportSecurity.TLS);
  }

  @Test
  void anAttemptNoPlanNamesIsRecordedAtMostAsTls() {
    Attempt a = delivered(enforcePlan(), MessageTlsOption.DEFAULT);
    DeliveryPlan elsewhere = plan(new TlsRequirement.Pkix(List.of(MX)), Optional.empty());
    assertThat(DowngradeGuard.recorded(List.of(elsewhere), a)).contains(TransportSecurity.TLS);
  }

  @Test
  void theGuardRecordsNoAuthenticatedTlsForARaisedSession() {
    DowngradeMemory memory = DowngradeMemory.inMemory(10);
    DowngradeGuard guard =
        DowngradeGuard.of(
            Optional.of(
                DowngradeProtection.builder(memory)
                    .clock(java.time.Clock.fixed(NOW, java.time.ZoneOffset.UTC))
                    .build()));
    Attempt a = delivered(testingPlan(), MessageTlsOption.REQUIRETLS);
    guard.record(
        List.of(testingPlan()),
        List.of(
            Values.recipientResult(
                EmailAddress.parse("b@example.test"),
                DeliveryStatus.DELIVERED,
                SmtpReply.local(250, "ok"),
                Optional.of(a),
                MessageTlsPolicy.apply(testingPlan(), MessageTlsOption.REQUIRETLS, false),
                List.of(a))));
    assertThat(memory.seen(DOMAIN).tls()).contains(NOW);
    assertThat(memory.seen(DOMAIN).authenticatedTls()).isEmpty();
  }

  @Test
  void anOrdinaryMessageUnderTheFloorIsStillDeferred() {
    DeliveryPlan guarded = DowngradeGuard.apply(testingPlan(), authenticatedSeen());
    assertThat(guarded.hosts()).isEmpty();
    assertThat(guarded.failure().orElseThrow().type()).isEqualTo(FailureType.DOWNGRADE_DETECTED);
    assertThat(guarded.failure().orElseThrow().reply().code()).isEqualTo(451);
    DeliveryPlan header =
        DowngradeGuard.apply(
            testingPlan(), authenticatedSeen(), MessageTlsOption.TLS_REQUIRED_NO, false);
    assertThat(header.failure().orElseThrow().type()).isEqualTo(FailureType.DOWNGRADE_DETECTED);
  }

  @Test
  void aRequireTlsMessageThatRaisesTheHostMeetsTheFloor() {
    DeliveryPlan guarded =
        DowngradeGuard.apply(
            testingPlan(), authenticatedSeen(), MessageTlsOption.REQUIRETLS, false);
    assertThat(guarded.failure()).isEmpty();
    assertThat(guarded.hosts()).extracting(PlannedHost::name).containsExactly(Optional.of(MX));
    assertThat(guarded.reasons())
        .anyMatch(l -> l.contains("mx.example.test kept: REQUIRETLS raises it to PKIX"));
    // and the message's plan then authenticates it
    DeliveryPlan message = MessageTlsPolicy.apply(guarded, MessageTlsOption.REQUIRETLS, false);
    assertThat(message.hosts().get(0).requirement().requiresAuthentication()).isTrue();
  }

  @Test
  void aRequireTlsMessageWithoutAPolicyListingTheHostIsStillDeferred() {
    DeliveryPlan none = plan(new TlsRequirement.Opportunistic(), Optional.empty());
    DeliveryPlan guarded =
        DowngradeGuard.apply(none, authenticatedSeen(), MessageTlsOption.REQUIRETLS, false);
    assertThat(guarded.hosts()).isEmpty();
    assertThat(guarded.failure().orElseThrow().type()).isEqualTo(FailureType.DOWNGRADE_DETECTED);
  }
}
