package io.mailtls.tlsrpt;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.Attempt;
import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DnsRecord;
import io.mailtls.core.DomainName;
import io.mailtls.core.Envelope;
import io.mailtls.core.FailureType;
import io.mailtls.core.MessageContent;
import io.mailtls.core.MtaStsMode;
import io.mailtls.core.MtaStsPolicy;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.TlsRequirement;
import io.mailtls.testkit.FakeClock;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link TlsRptAggregator} behind a real {@link SecureSmtpTransport} delivering to the {@link
 * RptWorld} domains: every session counted once under the policy it was held under, failures
 * grouped by their details, and whole UTC days as windows.
 */
class TlsRptAggregatorTest {

  private static RptWorld world;

  @BeforeAll
  static void start() {
    world = new RptWorld();
  }

  @AfterAll
  static void stop() {
    world.close();
  }

  private static DeliveryReport send(SecureSmtpTransport t, String... recipients) {
    return t.send(Envelope.of(RptWorld.SENDER, recipients), MessageContent.of(RptWorld.MESSAGE));
  }

  private static AppliedPolicy noPolicy(String domain) {
    return AppliedPolicy.noPolicy(DomainName.of(domain));
  }

  @Test
  void everySessionIsCountedUnderThePolicyItWasHeldUnder() {
    FakeClock clock = new FakeClock(Instant.parse("2025-03-01T12:00:00Z"));
    InMemoryAggregateStore store = new InMemoryAggregateStore();
    TlsRptAggregator aggregator = TlsRptAggregator.builder().store(store).clock(clock).build();
    DeliveryReport report;
    try (SecureSmtpTransport t = world.transport(aggregator)) {
      report =
          send(
              t,
              "b@good.rpt.test",
              "b@plain.rpt.test",
              "b@sts.rpt.test",
              "b@dane.rpt.test",
              "b@dane-bad.rpt.test");
    }
    Map<AppliedPolicy, PolicyCounts> day = store.read(LocalDate.parse("2025-03-01"));

    assertThat(day.get(noPolicy("good.rpt.test"))).isEqualTo(PolicyCounts.success());

    RecipientResult plain = report.result("b@plain.rpt.test");
    Attempt plainSession = plain.attempt().orElseThrow();
    // The server's name from its greeting and EHLO reply, the socket's local address.
    assertThat(plainSession.announcedName()).contains("mx.plain.rpt.test");
    assertThat(plainSession.localAddress()).isPresent();
    assertThat(plainSession.localAddress().get().getAddress().isLoopbackAddress()).isTrue();
    assertThat(day.get(noPolicy("plain.rpt.test")))
        .isEqualTo(
            PolicyCounts.failure(
                new FailureDetail(
                    "starttls-not-supported",
                    Optional.of(sendingIp(plainSession)),
                    Optional.of("mx.plain.rpt.test"),
                    Optional.of("mx.plain.rpt.test"),
                    Optional.of(plainSession.address().getAddress().getHostAddress()),
                    Optional.of("PLAINTEXT"),
                    Optional.of("https://www.rfc-editor.org/rfc/rfc8460#section-4.3.1"))));

    RecipientResult sts = report.result("b@sts.rpt.test");
    AppliedPolicy stsPolicy =
        AppliedPolicy.sts(DomainName.of("sts.rpt.test"), sts.plan().mtaSts().orElseThrow());
    assertThat(stsPolicy.policyString())
        .containsExactly(
            "version: STSv1",
            "mode: enforce",
            "mx: mx1.sts.rpt.test",
            "mx: mx2.sts.rpt.test",
            "max_age: 86400");
    Attempt mx1 = sts.attempts().get(0);
    assertThat(mx1.host()).contains(DomainName.of("mx1.sts.rpt.test"));
    assertThat(mx1.failure()).contains(FailureType.CERTIFICATE_HOST_MISMATCH);
    // The handshake failed and the connection is closed: what it knew is kept.
    assertThat(mx1.announcedName()).contains("mx1.sts.rpt.test");
    assertThat(day.get(stsPolicy))
        .isEqualTo(
            new PolicyCounts(
                1,
                1,
                Map.of(
                    new FailureDetail(
                        "certificate-host-mismatch",
                        Optional.of(sendingIp(mx1)),
                        Optional.of("mx1.sts.rpt.test"),
                        Optional.of("mx1.sts.rpt.test"),
                        Optional.of(mx1.address().getAddress().getHostAddress()),
                        Optional.of("CERTIFICATE_HOST_MISMATCH"),
                        Optional.of("https://www.rfc-editor.org/rfc/rfc8460#section-4.3.1")),
                    1L)));

    Attempt dane = report.result("b@dane.rpt.test").attempt().orElseThrow();
    List<DnsRecord.Tlsa> daneRecords = ((TlsRequirement.Dane) dane.requirement()).records();
    assertThat(
            day.get(
                AppliedPolicy.tlsa(
                    DomainName.of("dane.rpt.test"), daneRecords, "mx.dane.rpt.test")))
        .isEqualTo(PolicyCounts.success());

    Attempt bad = report.result("b@dane-bad.rpt.test").attempts().get(0);
    FailureType badType = bad.failure().orElseThrow();
    AppliedPolicy badPolicy =
        AppliedPolicy.tlsa(
            DomainName.of("dane-bad.rpt.test"),
            ((TlsRequirement.Dane) bad.requirement()).records(),
            "mx.dane-bad.rpt.test");
    assertThat(badPolicy.policyString()).hasSize(1).allMatch(s -> s.startsWith("3 1 1 "));
    assertThat(day.get(badPolicy))
        .isEqualTo(
            PolicyCounts.failure(
                new FailureDetail(
                    badType.tlsRptResultType().orElseThrow(),
                    Optional.of(sendingIp(bad)),
                    Optional.of("mx.dane-bad.rpt.test"),
                    Optional.of("mx.dane-bad.rpt.test"),
                    Optional.of(bad.address().getAddress().getHostAddress()),
                    Optional.of(badType.name()),
                    Optional.of("https://www.rfc-editor.org/rfc/rfc8460#section-4.3.1"))));

    assertThat(day).hasSize(5);
    assertThat(store.days()).containsExactly(LocalDate.parse("2025-03-01"));
  }

  /**
   * A policy failure decided while planning about a host that is used all the same is the verdict
   * on the session with that host, counted once (RFC 8460 §4.3, §4.4): an MX outside an MTA-STS
   * {@code testing} policy's patterns, and secure TLSA records none of which is usable (RFC 7672
   * §2.2: TLS required, unauthenticated), each one failed session and no success, though TLS was
   * negotiated.
   */
  @Test
  void aHostThatFailedItsPolicyWhilePlanningButWasUsedIsOneFailedSession() {
    FakeClock clock = new FakeClock(Instant.parse("2025-03-02T12:00:00Z"));
    InMemoryAggregateStore store = new InMemoryAggregateStore();
    TlsRptAggregator aggregator = TlsRptAggregator.builder().store(store).clock(clock).build();
    DeliveryReport report;
    try (SecureSmtpTransport t = world.transport(aggregator)) {
      report = send(t, "b@testing.rpt.test", "b@tlsa-unusable.rpt.test");
    }
    assertThat(report.allDelivered()).as("%s", report).isTrue();
    Map<AppliedPolicy, PolicyCounts> day = store.read(LocalDate.parse("2025-03-02"));

    RecipientResult testing = report.result("b@testing.rpt.test");
    assertThat(testing.plan().mtaSts().orElseThrow().mode()).isEqualTo(MtaStsMode.TESTING);
    Attempt session = testing.attempt().orElseThrow();
    assertThat(session.tls()).isPresent();
    AppliedPolicy testingPolicy =
        AppliedPolicy.sts(DomainName.of("testing.rpt.test"), testing.plan().mtaSts().get());
    assertThat(day.get(testingPolicy))
        .isEqualTo(
            PolicyCounts.failure(
                new FailureDetail(
                    "sts-policy-invalid",
                    Optional.of(sendingIp(session)),
                    Optional.of("mx.testing.rpt.test"),
                    Optional.of("mx.testing.rpt.test"),
                    Optional.of(session.address().getAddress().getHostAddress()),
                    Optional.of("STS_POLICY_INVALID"),
                    Optional.of("https://www.rfc-editor.org/rfc/rfc8460#section-4.3.2.2"))));

    Attempt unusable = report.result("b@tlsa-unusable.rpt.test").attempt().orElseThrow();
    assertThat(unusable.tls()).isPresent();
    assertThat(unusable.requirement()).isInstanceOf(TlsRequirement.Encrypted.class);
    // RFC 8460 §4.4: a tlsa policy's policy-string is its TLSA records, usable or not.
    AppliedPolicy tlsa =
        new AppliedPolicy(
            PolicyType.TLSA,
            DomainName.of("tlsa-unusable.rpt.test"),
            List.of(world.unusableTlsa),
            List.of("mx.tlsa-unusable.rpt.test"));
    assertThat(day.get(tlsa))
        .isEqualTo(
            PolicyCounts.failure(
                new FailureDetail(
                    "tlsa-invalid",
                    Optional.of(sendingIp(unusable)),
                    Optional.of("mx.tlsa-unusable.rpt.test"),
                    Optional.of("mx.tlsa-unusable.rpt.test"),
                    Optional.of(unusable.address().getAddress().getHostAddress()),
                    Optional.of("TLSA_INVALID"),
                    Optional.of("https://www.rfc-editor.org/rfc/rfc8460#section-4.3.2.1"))));
    assertThat(day).hasSize(2);
  }

  /**
   * RFC 8461 §5.1's re-check: the first policy ({@code rc1}, naming {@code mx1} only) leaves the
   * mail undelivered ({@code mx1}'s certificate names another host, {@code mx2} is outside the
   * patterns); the sender finds a new policy ({@code rc2}, naming {@code mx2} only) and delivers
   * through {@code mx2}. Each session counts under the policy it was held under (RFC 8460 §4.4):
   * the first round's two failures under {@code rc1}, the second round's success and failure under
   * {@code rc2}; and the report keeps every attempt, each with its policy.
   */
  @Test
  void afterTheReCheckEachRoundCountsUnderItsOwnPolicy() {
    FakeClock clock = new FakeClock(Instant.parse("2025-03-04T12:00:00Z"));
    InMemoryAggregateStore store = new InMemoryAggregateStore();
    TlsRptAggregator aggregator = TlsRptAggregator.builder().store(store).clock(clock).build();
    DeliveryReport report;
    try (SecureSmtpTransport t = world.recheckTransport(aggregator)) {
      report = send(t, "b@" + RptWorld.RECHECK);
    }
    RecipientResult r = report.result("b@" + RptWorld.RECHECK);
    assertThat(r.status()).as("%s", report).isEqualTo(DeliveryStatus.DELIVERED);
    assertThat(r.attempts()).hasSize(2);
    Attempt mx1 = r.attempts().get(0);
    Attempt mx2 = r.attempts().get(1);
    assertThat(mx1.host()).contains(DomainName.of("mx1." + RptWorld.RECHECK));
    assertThat(mx1.failure()).contains(FailureType.CERTIFICATE_HOST_MISMATCH);
    assertThat(mx2.host()).contains(DomainName.of("mx2." + RptWorld.RECHECK));
    assertThat(r.attempt()).containsSame(mx2);
    MtaStsPolicy first = mx1.mtaStsPolicy().orElseThrow();
    MtaStsPolicy second = mx2.mtaStsPolicy().orElseThrow();
    assertThat(first.id()).isEqualTo("rc1");
    assertThat(second.id()).isEqualTo("rc2");
    assertThat(r.plan().mtaSts()).contains(second);

    DomainName domain = DomainName.of(RptWorld.RECHECK);
    Map<AppliedPolicy, PolicyCounts> day = store.read(LocalDate.parse("2025-03-04"));
    assertThat(day.keySet())
        .containsExactlyInAnyOrder(
            AppliedPolicy.sts(domain, first), AppliedPolicy.sts(domain, second));
    assertThat(day.get(AppliedPolicy.sts(domain, first)))
        .isEqualTo(
            new PolicyCounts(
                0,
                2,
                Map.of(
                    outsidePatterns("mx2." + RptWorld.RECHECK),
                    1L,
                    new FailureDetail(
                        "certificate-host-mismatch",
                        Optional.of(sendingIp(mx1)),
                        Optional.of("mx1." + RptWorld.RECHECK),
                        Optional.of("mx1." + RptWorld.RECHECK),
                        Optional.of(mx1.address().getAddress().getHostAddress()),
                        Optional.of("CERTIFICATE_HOST_MISMATCH"),
                        Optional.of("https://www.rfc-editor.org/rfc/rfc8460#section-4.3.1")),
                    1L)));
    assertThat(day.get(AppliedPolicy.sts(domain, second)))
        .isEqualTo(new PolicyCounts(1, 1, Map.of(outsidePatterns("mx1." + RptWorld.RECHECK), 1L)));
  }

  /**
   * RFC 8460 §4.3: {@code total-successful-session-count} is "the aggregate count of successfully
   * negotiated TLS-enabled connections". Three messages sent one after another over one pooled
   * connection (one TCP connection, one STARTTLS handshake) are one session, not three; and a
   * session without TLS reused for three messages is one failed session.
   */
  @Test
  void aReusedConnectionIsOneSession() {
    FakeClock clock = new FakeClock(Instant.parse("2025-03-10T12:00:00Z"));
    InMemoryAggregateStore store = new InMemoryAggregateStore();
    TlsRptAggregator aggregator = TlsRptAggregator.builder().store(store).clock(clock).build();
    int goodBefore = world.server("mx.good.rpt.test").sessions().size();
    int plainBefore = world.server("mx.plain.rpt.test").sessions().size();
    try (SecureSmtpTransport t = world.reusingTransport(aggregator)) {
      for (int i = 0; i < 3; i++) {
        assertThat(send(t, "b@good.rpt.test", "b@plain.rpt.test").allDelivered()).isTrue();
      }
    }
    int goodSessions = world.server("mx.good.rpt.test").sessions().size() - goodBefore;
    int plainSessions = world.server("mx.plain.rpt.test").sessions().size() - plainBefore;
    assertThat(goodSessions).as("connections to mx.good").isEqualTo(1);
    assertThat(plainSessions).as("connections to mx.plain").isEqualTo(1);
    Map<AppliedPolicy, PolicyCounts> day = store.read(LocalDate.parse("2025-03-10"));
    assertThat(day.get(noPolicy("good.rpt.test")).successfulSessions()).isEqualTo(goodSessions);
    assertThat(day.get(noPolicy("plain.rpt.test")).failedSessions()).isEqualTo(plainSessions);
  }

  /**
   * A message with {@code TLS-Required: No} (RFC 8689 §4.2.2): the recipient's DANE policy is
   * checked and reported, not enforced. The session was still held under the domain's TLSA records,
   * and its DANE verdict is about them: RFC 8460 §4.4 reports it under {@code policy-type} {@code
   * tlsa} with those records, a DANE success as a success and a DANE mismatch as a failure, never
   * under {@code no-policy-found}, which tells the domain that it publishes no policy at all.
   */
  @Test
  void aDaneVerdictUnderTlsRequiredNoCountsUnderTheTlsaPolicy() {
    FakeClock clock = new FakeClock(Instant.parse("2025-03-11T12:00:00Z"));
    InMemoryAggregateStore store = new InMemoryAggregateStore();
    TlsRptAggregator aggregator = TlsRptAggregator.builder().store(store).clock(clock).build();
    byte[] message =
        ("From: a@sender.test\r\nTo: b@rpt.test\r\nTLS-Required: No\r\n"
                + "Subject: tls-rpt test\r\n\r\nHello.\r\n")
            .getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    DeliveryReport report;
    try (SecureSmtpTransport t = world.transport(aggregator)) {
      report =
          t.send(
              Envelope.of(RptWorld.SENDER, "b@dane.rpt.test", "b@dane-bad.rpt.test"),
              MessageContent.of(message));
    }
    assertThat(report.allDelivered()).as("%s", report).isTrue();
    Map<AppliedPolicy, PolicyCounts> day = store.read(LocalDate.parse("2025-03-11"));
    assertThat(day.keySet())
        .as("%s", day)
        .allSatisfy(p -> assertThat(p.type()).isEqualTo(PolicyType.TLSA));
    PolicyCounts dane =
        day.entrySet().stream()
            .filter(e -> e.getKey().policyDomain().equals(DomainName.of("dane.rpt.test")))
            .map(Map.Entry::getValue)
            .findFirst()
            .orElseThrow();
    assertThat(dane).isEqualTo(PolicyCounts.success());
    AppliedPolicy badPolicy =
        day.keySet().stream()
            .filter(p -> p.policyDomain().equals(DomainName.of("dane-bad.rpt.test")))
            .findFirst()
            .orElseThrow();
    assertThat(badPolicy.policyString()).hasSize(1).allMatch(s -> s.startsWith("3 1 1 "));
    assertThat(badPolicy.mxHosts()).containsExactly("mx.dane-bad.rpt.test");
    assertThat(day.get(badPolicy).failedSessions()).isEqualTo(1);
    assertThat(day.get(badPolicy).successfulSessions()).isZero();
  }

  /**
   * An MX that offers STARTTLS whose handshake fails (TLS 1.0 only), at {@code opportunistic}: the
   * mail goes in plaintext on a new connection (RFC 7435). The MX supports STARTTLS, so RFC 8460
   * §4.3.1's {@code starttls-not-supported} ("the recipient MX did not support STARTTLS") is wrong:
   * the failed negotiation is a {@code validation-failure} (docs/tls-rpt.md maps {@code
   * TLS_HANDSHAKE_FAILED} so).
   */
  @Test
  void aFailedHandshakeBeforeAPlaintextRetryIsNotStarttlsNotSupported() {
    FakeClock clock = new FakeClock(Instant.parse("2025-03-12T12:00:00Z"));
    InMemoryAggregateStore store = new InMemoryAggregateStore();
    TlsRptAggregator aggregator = TlsRptAggregator.builder().store(store).clock(clock).build();
    DeliveryReport report;
    try (SecureSmtpTransport t = world.transport(aggregator)) {
      report = send(t, "b@legacy.rpt.test");
    }
    assertThat(report.allDelivered()).as("%s", report).isTrue();
    assertThat(report.result("b@legacy.rpt.test").attempt().orElseThrow().tls()).isEmpty();
    PolicyCounts counts =
        store.read(LocalDate.parse("2025-03-12")).get(noPolicy("legacy.rpt.test"));
    assertThat(counts.failedSessions()).isEqualTo(1);
    assertThat(counts.failures().keySet())
        .singleElement()
        .satisfies(d -> assertThat(d.resultType()).isEqualTo("validation-failure"));
  }

  /** An MX host left out by an {@code enforce} policy's patterns: a failure without a session. */
  private static FailureDetail outsidePatterns(String host) {
    return new FailureDetail(
        "sts-policy-invalid",
        Optional.empty(),
        Optional.of(host),
        Optional.empty(),
        Optional.empty(),
        Optional.of("STS_POLICY_INVALID"),
        Optional.of("https://www.rfc-editor.org/rfc/rfc8460#section-4.3.2.2"));
  }

  private static String sendingIp(Attempt a) {
    return a.localAddress().orElseThrow().getAddress().getHostAddress();
  }

  @Test
  void aConfiguredSendingAddressIsReportedInsteadOfTheSockets() throws Exception {
    FakeClock clock = new FakeClock(Instant.parse("2025-03-01T12:00:00Z"));
    InMemoryAggregateStore store = new InMemoryAggregateStore();
    TlsRptAggregator aggregator =
        TlsRptAggregator.builder()
            .store(store)
            .clock(clock)
            .sendingMtaIp(java.net.InetAddress.getByName("192.0.2.25"))
            .build();
    try (SecureSmtpTransport t = world.transport(aggregator)) {
      send(t, "b@plain.rpt.test");
    }
    PolicyCounts plain = store.read(LocalDate.parse("2025-03-01")).get(noPolicy("plain.rpt.test"));
    assertThat(plain.failures().keySet())
        .singleElement()
        .satisfies(
            d -> {
              assertThat(d.sendingMtaIp()).contains("192.0.2.25");
              assertThat(d.receivingMxHelo()).contains("mx.plain.rpt.test");
            });
  }

  /** {@code clock}'s instants, in {@code zone} (FakeClock itself is UTC only). */
  private static Clock inZone(FakeClock clock, ZoneId zone) {
    return new Clock() {
      @Override
      public ZoneId getZone() {
        return zone;
      }

      @Override
      public Clock withZone(ZoneId other) {
        return inZone(clock, other);
      }

      @Override
      public Instant instant() {
        return clock.instant();
      }
    };
  }

  @Test
  void windowsAreWholeUtcDaysAcrossMidnight() {
    // 23:59:30 UTC, in a zone where it is already the next afternoon: the UTC day counts.
    FakeClock utc = new FakeClock(Instant.parse("2025-03-01T23:59:30Z"));
    InMemoryAggregateStore store = new InMemoryAggregateStore();
    TlsRptAggregator aggregator =
        TlsRptAggregator.builder()
            .store(store)
            .clock(inZone(utc, ZoneId.of("Pacific/Kiritimati")))
            .build();
    try (SecureSmtpTransport t = world.transport(aggregator)) {
      send(t, "b@good.rpt.test");
      send(t, "b@good.rpt.test");
      utc.advance(Duration.ofSeconds(29)); // 23:59:59
      send(t, "b@good.rpt.test");
      utc.advance(Duration.ofSeconds(1)); // 00:00:00, the next day
      send(t, "b@good.rpt.test");
      send(t, "b@good.rpt.test");
    }
    assertThat(store.read(LocalDate.parse("2025-03-01")))
        .isEqualTo(Map.of(noPolicy("good.rpt.test"), new PolicyCounts(3, 0, Map.of())));
    assertThat(store.read(LocalDate.parse("2025-03-02")))
        .isEqualTo(Map.of(noPolicy("good.rpt.test"), new PolicyCounts(2, 0, Map.of())));
    assertThat(store.days())
        .containsExactly(LocalDate.parse("2025-03-01"), LocalDate.parse("2025-03-02"));
  }

  @Test
  void aStoreThatFailsNeverChangesADelivery() {
    AggregateStore broken =
        new AggregateStore() {
          @Override
          public void merge(LocalDate day, Map<AppliedPolicy, PolicyCounts> counts)
              throws java.io.IOException {
            throw new java.io.IOException("disk full");
          }

          @Override
          public Map<AppliedPolicy, PolicyCounts> read(LocalDate day) {
            return Map.of();
          }

          @Override
          public java.util.SortedSet<LocalDate> days() {
            return new java.util.TreeSet<>();
          }

          @Override
          public void discard(LocalDate day) {}

          @Override
          public void close() {}
        };
    TlsRptAggregator aggregator = TlsRptAggregator.builder().store(broken).build();
    DeliveryReport report;
    try (SecureSmtpTransport t = world.transport(aggregator)) {
      report = send(t, "b@good.rpt.test");
    }
    assertThat(report.allDelivered()).isTrue();
    assertThat(aggregator.failedMerges()).isEqualTo(1);
  }
}
