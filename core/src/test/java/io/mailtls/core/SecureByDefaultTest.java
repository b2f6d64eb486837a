package io.mailtls.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 11 items 4 and 12: a transport that ignores recipients' MTA-STS or DANE policies cannot be
 * built by accident, the opt-out is explicit and shows in the decision record, and the EHLO name is
 * required and fully qualified.
 */
class SecureByDefaultTest {

  /** Never asked: these tests build, they do not resolve (a plan answers from an address). */
  private static final DnsResolver NO_DNS =
      (name, type) ->
          CompletableFuture.failedFuture(new AssertionError("no lookup expected: " + name));

  @Test
  void recipientPoliciesOffByDefaultCannotBeBuiltByAccident() {
    assertThatThrownBy(
            () -> SecureSmtpTransport.builder().dns(NO_DNS).heloName("mail.example.com").build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("MTA-STS")
        .hasMessageContaining("StandardTransport.builder(stateDirectory)")
        .hasMessageContaining(".withoutMtaSts()");
    assertThatThrownBy(
            () ->
                SecureSmtpTransport.builder()
                    .dns(NO_DNS)
                    .heloName("mail.example.com")
                    .withoutMtaSts()
                    .build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("DANE")
        .hasMessageContaining(".withoutDane()");
    SecureSmtpTransport.builder()
        .dns(NO_DNS)
        .heloName("mail.example.com")
        .withoutMtaSts()
        .withoutDane()
        .build()
        .close();
  }

  /**
   * A transport-wide relay takes every message, so a destination policy map beside it would never
   * be consulted: a {@code dane-only} entry would go through the relay where the same sender level
   * defers. The two together are refused rather than the map silently dropped.
   */
  @Test
  void aRelayAndADestinationPolicyMapAreNotBuiltTogether() throws Exception {
    DestinationPolicyMap map = DestinationPolicyMap.parse("bank.example dane-only\n");
    assertThatThrownBy(
            () ->
                SecureSmtpTransport.builder()
                    .dns(NO_DNS)
                    .heloName("mail.example.com")
                    .relay(SmartHost.builder("relay.example.com").build())
                    .destinationPolicies(map)
                    .build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("destinationPolicies(...) would never be consulted");
  }

  /** A period that cannot be subtracted from now would defer every message: refused. */
  @Test
  void aDowngradePeriodBeyondTenYearsIsRefused() {
    DowngradeProtection.Builder b = DowngradeProtection.builder(DowngradeMemory.inMemory(10));
    assertThatThrownBy(() -> b.period(java.time.temporal.ChronoUnit.FOREVER.getDuration()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at most");
    assertThat(b.period(DowngradeProtection.MAX_PERIOD).build()).isNotNull();
  }

  /**
   * A domain the bound pushes out of an in-memory downgrade memory is unprotected from then on: the
   * memory counts it (and logs), where it was forgotten without a sign.
   */
  @Test
  void anInMemoryDowngradeMemoryCountsTheDomainsItForgets() {
    DowngradeMemory memory = DowngradeMemory.inMemory(16);
    java.time.Instant at = java.time.Instant.parse("2026-01-01T00:00:00Z");
    for (int i = 0; i < 40; i++) {
      memory.raise(DomainName.of("d" + i + ".example"), TransportSecurity.TLS, at);
    }
    long forgotten =
        ((io.mailtls.core.internal.transport.InMemoryDowngradeStore) memory).forgotten();
    assertThat(forgotten).isPositive();
    assertThat(memory.toString()).contains(forgotten + " forgotten");
  }

  @Test
  void anOptOutIsAChoiceMadeOnce() {
    assertThatThrownBy(() -> SecureSmtpTransport.builder().withoutMtaSts().withoutMtaSts())
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> TransportPolicyResolver.builder().withoutDane().withoutDane())
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void thePolicyResolverNeedsTheSameChoice() {
    assertThatThrownBy(() -> TransportPolicyResolver.builder().dns(NO_DNS).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("withoutMtaSts()");
    assertThatThrownBy(() -> TransportPolicyResolver.builder().dns(NO_DNS).withoutMtaSts().build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("withoutDane()");
  }

  @Test
  void anOptOutIsVisibleInTheDecisionRecord() {
    DeliveryPlan plan =
        TransportPolicyResolver.builder()
            .dns(
                (name, type) ->
                    CompletableFuture.completedFuture(
                        DnsAnswer.failed(
                            name, type, DnssecState.INDETERMINATE, DnsFailure.SERVFAIL, 2, "test")))
            .withoutMtaSts()
            .withoutDane()
            .build()
            .plan(NextHop.parse("example.test"), TlsLevel.OPPORTUNISTIC);
    assertThat(plan.reasons())
        .contains("MTA-STS not consulted: this resolver was built withoutMtaSts()")
        .contains("DANE not consulted: this resolver was built withoutDane()");
  }

  @Test
  void aRelayHidesRecipientsPoliciesSoNeedsNoOptOut() {
    SecureSmtpTransport.builder()
        .dns(NO_DNS)
        .heloName("mail.example.com")
        .relay(SmartHost.builder("relay.example.com").build())
        .build()
        .close();
  }

  @Test
  void ehloNameIsRequired() {
    assertThatThrownBy(
            () -> SecureSmtpTransport.builder().dns(NO_DNS).withoutMtaSts().withoutDane().build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("heloName")
        .hasMessageContaining("RFC 5321 §4.1.1.1");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "localhost",
        "mail",
        "localhost.localdomain",
        "mail.localdomain",
        "mx.localhost",
        "_smtp.example.com"
      })
  void ehloNameMustBeFullyQualified(String name) {
    assertThatThrownBy(() -> SecureSmtpTransport.builder().heloName(name))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("fully qualified");
  }

  @ParameterizedTest
  @ValueSource(strings = {"mail.example.com", "MX1.Example.COM.", "bücher.example"})
  void fullyQualifiedEhloNamesAreTaken(String name) {
    SecureSmtpTransport.builder().heloName(name);
  }
}
