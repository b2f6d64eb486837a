package io.mailtls.tlsrpt;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.Attempt;
import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DomainName;
import io.mailtls.core.Envelope;
import io.mailtls.core.EventListener;
import io.mailtls.core.FailureType;
import io.mailtls.core.MessageContent;
import io.mailtls.core.MtaStsPolicy;
import io.mailtls.core.PolicyFailure;
import io.mailtls.core.PolicySource;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SenderPolicy;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.TlsRequirement;
import io.mailtls.dane.DaneResolver;
import io.mailtls.testkit.DnsZoneBuilder;
import io.mailtls.testkit.FakeClock;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.MtaStsServer;
import io.mailtls.testkit.SmtpAction;
import io.mailtls.testkit.SmtpStep;
import io.mailtls.testkit.TestDnsServer;
import io.mailtls.testkit.TestPki;
import io.mailtls.testkit.Tlsa;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A TLS negotiation that began (the server answered 220 to STARTTLS) and never finished, because
 * the server never answers the ClientHello (the handshake times out) or closes the connection in
 * the middle of it, is a failure to negotiate a TLS-enabled connection (RFC 8460 §4.4, {@code
 * total-failure-session-count}): {@code validation-failure} (§4.3.1, the general result type), with
 * what happened ({@code TIMEOUT}, {@code CONNECTION_LOST}) as its reason code, under every policy:
 * as the session that then went on in plaintext at {@code opportunistic} (docs/tls-rpt.md row 4b)
 * or under an MTA-STS {@code testing} policy, so under an MTA-STS {@code enforce} policy and under
 * DANE, where it blocks delivery. A session that never reached STARTTLS (its EHLO not answered)
 * took no TLS negotiation and is not counted (row 6). Real servers, a signed zone and an MTA-STS
 * policy host on loopback.
 *
 * <ul>
 *   <li>{@code hang.<zone>}: no policy; 220 to STARTTLS, then nothing.
 *   <li>{@code hang-sts.<zone>}: MTA-STS {@code enforce} naming its MX; 220, then nothing.
 *   <li>{@code hang-testing.<zone>}: MTA-STS {@code testing} naming its MX; 220, then nothing.
 *   <li>{@code hang-dane.<zone>}: DANE-EE {@code 3 1 1} on the server's key; 220, then nothing.
 *   <li>{@code cut-sts.<zone>}, {@code cut-dane.<zone>}: the same policies; 220, then the server
 *       closes the connection instead of answering the ClientHello.
 *   <li>{@code mute-sts.<zone>}: MTA-STS {@code enforce}; the EHLO is never answered.
 *   <li>{@code drop.<zone>}, {@code drop-dane.<zone>}: no policy, DANE-EE; the server closes the
 *       connection on the STARTTLS command.
 *   <li>{@code lost-sts.<zone>}: MTA-STS {@code enforce}; the handshake completes and the server
 *       closes the connection on the EHLO over TLS.
 * </ul>
 */
class HandshakeCutCountTest {

  private static final String ZONE = "cut.test";

  private static final byte[] MESSAGE =
      "From: a@sender.test\r\nTo: b@cut.test\r\nSubject: hello\r\n\r\nHello.\r\n"
          .getBytes(StandardCharsets.US_ASCII);

  private static final String SECTION_4_3_1 =
      "https://www.rfc-editor.org/rfc/rfc8460#section-4.3.1";

  private static final TestPki PKI = TestPki.create();
  private static final List<MockSmtpServer> SERVERS = new ArrayList<>();
  private static final Map<String, String> STS_DOMAINS = new java.util.LinkedHashMap<>();
  private static TestDnsServer dns;
  private static MtaStsServer sts;
  private static int port;
  private static int nextIp = 1;

  @BeforeAll
  static void start() throws IOException {
    List<Consumer<DnsZoneBuilder>> zone = new ArrayList<>();
    Consumer<MockSmtpServer.Builder> hang = b -> b.on(SmtpStep.TLS_HANDSHAKE, SmtpAction.hang());
    Consumer<MockSmtpServer.Builder> cut =
        b -> b.on(SmtpStep.TLS_HANDSHAKE, SmtpAction.disconnect());
    Consumer<MockSmtpServer.Builder> mute = b -> b.on(SmtpStep.EHLO, SmtpAction.hang());
    Consumer<MockSmtpServer.Builder> drop = b -> b.on(SmtpStep.STARTTLS, SmtpAction.disconnect());
    Consumer<MockSmtpServer.Builder> lostAfterTls =
        b -> b.on(SmtpStep.EHLO, SmtpAction.proceed(), SmtpAction.disconnect());
    mx(zone, "hang." + ZONE, "", false, hang);
    mx(zone, "hang-testing." + ZONE, "testing", false, hang);
    mx(zone, "hang-sts." + ZONE, "enforce", false, hang);
    mx(zone, "hang-dane." + ZONE, "", true, hang);
    mx(zone, "cut-sts." + ZONE, "enforce", false, cut);
    mx(zone, "cut-dane." + ZONE, "", true, cut);
    mx(zone, "mute-sts." + ZONE, "enforce", false, mute);
    mx(zone, "drop." + ZONE, "", false, drop);
    mx(zone, "drop-dane." + ZONE, "", true, drop);
    mx(zone, "lost-sts." + ZONE, "enforce", false, lostAfterTls);
    MtaStsServer.Builder policies = MtaStsServer.builder().pki(PKI);
    STS_DOMAINS.forEach(
        (d, mode) -> policies.domain(d, MtaStsServer.policyText(mode, 86400, "mx." + d)));
    sts = policies.start();
    for (String d : STS_DOMAINS.keySet()) {
      zone.add(z -> sts.publish(z, d, "cut1"));
    }
    dns = TestDnsServer.builder().zone(ZONE, z -> zone.forEach(c -> c.accept(z))).start();
  }

  /**
   * A domain with one MX host, {@code mx.<domain>}: with an MTA-STS policy naming it in {@code
   * mtaSts} mode unless that is empty, with DANE-EE on its key if {@code dane}.
   */
  private static void mx(
      List<Consumer<DnsZoneBuilder>> zone,
      String domain,
      String mtaSts,
      boolean dane,
      Consumer<MockSmtpServer.Builder> more)
      throws IOException {
    String host = "mx." + domain;
    TestPki.Issued leaf = PKI.root().leaf().dnsNames(host).issue();
    MockSmtpServer.Builder b =
        MockSmtpServer.builder()
            .address(InetAddress.getByName("127.0.14." + nextIp++))
            .hostname(host)
            .idleTimeout(Duration.ofSeconds(20))
            .tls(leaf.serverSslContext());
    if (port != 0) {
      b.port(port);
    }
    more.accept(b);
    MockSmtpServer s = b.start();
    port = s.port();
    SERVERS.add(s);
    zone.add(z -> z.mailHost(domain, 10, host, s));
    if (dane) {
      zone.add(z -> z.tlsaFor(Tlsa.smtpOwner(host), 3, 1, 1, leaf));
    }
    if (!mtaSts.isEmpty()) {
      STS_DOMAINS.put(domain, mtaSts);
    }
  }

  @AfterAll
  static void stop() {
    SERVERS.forEach(MockSmtpServer::close);
    if (sts != null) {
      sts.close();
    }
    if (dns != null) {
      dns.close();
    }
  }

  /** The counts of one call, and what else the call's listeners saw. */
  private record Sent(
      Map<AppliedPolicy, PolicyCounts> day,
      List<RecipientResult> results,
      List<PolicyFailure> failures) {

    RecipientResult result(String recipient) {
      return results.stream()
          .filter(r -> r.recipient().toString().equals(recipient))
          .findFirst()
          .orElseThrow();
    }

    PolicyCounts counts(AppliedPolicy policy) {
      return day.get(policy);
    }
  }

  /** Sends one message to each of {@code recipients} at {@code level}, on {@code day}. */
  private static Sent send(String day, TlsLevel level, String... recipients) {
    FakeClock clock = new FakeClock(Instant.parse(day + "T12:00:00Z"));
    InMemoryAggregateStore store = new InMemoryAggregateStore();
    TlsRptAggregator aggregator = TlsRptAggregator.builder().store(store).clock(clock).build();
    List<PolicyFailure> failures = new CopyOnWriteArrayList<>();
    EventListener watcher =
        new EventListener() {
          @Override
          public void policyFailure(PolicyFailure failure) {
            failures.add(failure);
          }
        };
    var resolver = RptFixtures.resolver(dns);
    List<RecipientResult> results = new ArrayList<>();
    try (SecureSmtpTransport t =
        SecureSmtpTransport.builder()
            .dns(resolver)
            .dane(DaneResolver.builder().dns(resolver).build())
            .mtaSts(RptFixtures.mtaSts(resolver, RptFixtures.http(PKI), sts.port()))
            .trustStore(PKI.trustStore())
            .heloName("client.sender.test")
            .port(port)
            .random(new Random(1))
            .senderPolicy(SenderPolicy.uniform(level))
            .timeouts(SmtpTimeouts.uniform(Duration.ofSeconds(2)))
            .noConnectionReuse()
            .eventListenerFactory(call -> EventListener.all(aggregator.create(call), watcher))
            .build()) {
      DeliveryReport report =
          t.send(Envelope.of("a@sender.test", recipients), MessageContent.of(MESSAGE));
      results.addAll(report.recipients());
    }
    return new Sent(store.read(LocalDate.parse(day)), results, List.copyOf(failures));
  }

  private static FailureDetail validationFailure(Attempt a, FailureType reason) {
    return new FailureDetail(
        "validation-failure",
        Optional.of(a.localAddress().orElseThrow().getAddress().getHostAddress()),
        a.host().map(DomainName::toString),
        a.announcedName(),
        Optional.of(a.address().getAddress().getHostAddress()),
        Optional.of(reason.name()),
        Optional.of(SECTION_4_3_1));
  }

  private static AppliedPolicy stsPolicy(Attempt a, String domain) {
    MtaStsPolicy policy = a.mtaStsPolicy().orElseThrow();
    return AppliedPolicy.sts(DomainName.of(domain), policy);
  }

  private static AppliedPolicy tlsaPolicy(Attempt a, String domain) {
    return AppliedPolicy.tlsa(
        DomainName.of(domain), ((TlsRequirement.Dane) a.requirement()).records(), "mx." + domain);
  }

  /** The session that failed of {@code recipient}: its one attempt, which did not deliver. */
  private static Attempt blocked(Sent sent, String recipient) {
    RecipientResult r = sent.result(recipient);
    assertThat(r.status()).as("%s", sent.results()).isEqualTo(DeliveryStatus.DEFERRED);
    assertThat(r.attempts()).as("%s", r).hasSize(1);
    Attempt a = r.attempts().get(0);
    assertThat(a.tls()).isEmpty();
    return a;
  }

  /**
   * The same hang is a failed session, {@code validation-failure}, with no policy (the mail then
   * went in plaintext), under MTA-STS {@code enforce} and under DANE (the mail was not delivered),
   * and the transport reports the policies' failures (the testing one as not enforced).
   */
  @Test
  void aHandshakeThatTimesOutIsAValidationFailureUnderEveryPolicy() {
    String plain = "hang." + ZONE;
    String testing = "hang-testing." + ZONE;
    String mtaSts = "hang-sts." + ZONE;
    String dane = "hang-dane." + ZONE;
    Sent sent =
        send(
            "2025-06-01",
            TlsLevel.OPPORTUNISTIC,
            "b@" + plain,
            "b@" + testing,
            "b@" + mtaSts,
            "b@" + dane);

    RecipientResult delivered = sent.result("b@" + plain);
    assertThat(delivered.status()).as("%s", sent.results()).isEqualTo(DeliveryStatus.DELIVERED);
    Attempt plainSession = delivered.attempt().orElseThrow();
    assertThat(plainSession.plaintextReason()).contains(FailureType.TIMEOUT);
    assertThat(sent.counts(AppliedPolicy.noPolicy(DomainName.of(plain))))
        .as("opportunistic, handshake timed out: %s", sent.day())
        .isEqualTo(PolicyCounts.failure(validationFailure(plainSession, FailureType.TIMEOUT)));

    RecipientResult audited = sent.result("b@" + testing);
    assertThat(audited.status()).as("%s", sent.results()).isEqualTo(DeliveryStatus.DELIVERED);
    Attempt testingSession = audited.attempt().orElseThrow();
    assertThat(testingSession.plaintextReason()).contains(FailureType.TIMEOUT);
    assertThat(sent.counts(stsPolicy(testingSession, testing)))
        .as("MTA-STS testing, handshake timed out: %s", sent.day())
        .isEqualTo(PolicyCounts.failure(validationFailure(testingSession, FailureType.TIMEOUT)));

    Attempt stsSession = blocked(sent, "b@" + mtaSts);
    assertThat(stsSession.failure()).contains(FailureType.TIMEOUT);
    assertThat(sent.counts(stsPolicy(stsSession, mtaSts)))
        .as("MTA-STS enforce, handshake timed out: %s", sent.day())
        .isEqualTo(PolicyCounts.failure(validationFailure(stsSession, FailureType.TIMEOUT)));

    Attempt daneSession = blocked(sent, "b@" + dane);
    assertThat(daneSession.failure()).contains(FailureType.TIMEOUT);
    assertThat(sent.counts(tlsaPolicy(daneSession, dane)))
        .as("DANE, handshake timed out: %s", sent.day())
        .isEqualTo(PolicyCounts.failure(validationFailure(daneSession, FailureType.TIMEOUT)));

    assertThat(sent.failures())
        .as("the failures the transport reported")
        .extracting(PolicyFailure::source, PolicyFailure::type, PolicyFailure::enforced)
        .containsExactlyInAnyOrder(
            org.assertj.core.groups.Tuple.tuple(
                PolicySource.MTA_STS, FailureType.TLS_HANDSHAKE_FAILED, false),
            org.assertj.core.groups.Tuple.tuple(
                PolicySource.MTA_STS, FailureType.TLS_HANDSHAKE_FAILED, true),
            org.assertj.core.groups.Tuple.tuple(
                PolicySource.DANE, FailureType.TLS_HANDSHAKE_FAILED, true));
    assertThat(sent.failures())
        .allSatisfy(f -> assertThat(f.detail()).contains("TLS handshake not complete"));
  }

  /** A server that closes the connection instead of answering the ClientHello: the same. */
  @Test
  void aHandshakeWhoseConnectionIsLostIsAValidationFailureUnderEveryPolicy() {
    String mtaSts = "cut-sts." + ZONE;
    String dane = "cut-dane." + ZONE;
    Sent sent = send("2025-06-02", TlsLevel.OPPORTUNISTIC, "b@" + mtaSts, "b@" + dane);

    Attempt stsSession = blocked(sent, "b@" + mtaSts);
    assertThat(stsSession.failure()).contains(FailureType.TLS_HANDSHAKE_FAILED);
    assertThat(sent.counts(stsPolicy(stsSession, mtaSts)))
        .as("MTA-STS enforce, connection lost in the handshake (%s): %s", stsSession, sent.day())
        .isEqualTo(
            PolicyCounts.failure(validationFailure(stsSession, FailureType.TLS_HANDSHAKE_FAILED)));

    Attempt daneSession = blocked(sent, "b@" + dane);
    assertThat(sent.counts(tlsaPolicy(daneSession, dane)))
        .as("DANE, connection lost in the handshake (%s): %s", daneSession, sent.day())
        .isEqualTo(
            PolicyCounts.failure(validationFailure(daneSession, FailureType.TLS_HANDSHAKE_FAILED)));
  }

  /**
   * A connection lost in the negotiation but outside the handshake proper ({@code
   * CONNECTION_LOST}): on the STARTTLS command, or on the EHLO over TLS right after the handshake
   * (RFC 3207 §4.2). At {@code opportunistic} the mail goes in plaintext and the session counts as
   * a failed negotiation (docs/tls-rpt.md row 4b); under DANE and MTA-STS {@code enforce} the same.
   */
  @Test
  void aConnectionLostInTheNegotiationIsAValidationFailureUnderEveryPolicy() {
    String plain = "drop." + ZONE;
    String dane = "drop-dane." + ZONE;
    String mtaSts = "lost-sts." + ZONE;
    Sent sent =
        send("2025-06-04", TlsLevel.OPPORTUNISTIC, "b@" + plain, "b@" + dane, "b@" + mtaSts);

    RecipientResult delivered = sent.result("b@" + plain);
    assertThat(delivered.status()).as("%s", sent.results()).isEqualTo(DeliveryStatus.DELIVERED);
    Attempt plainSession = delivered.attempt().orElseThrow();
    assertThat(plainSession.plaintextReason()).contains(FailureType.CONNECTION_LOST);
    assertThat(sent.counts(AppliedPolicy.noPolicy(DomainName.of(plain))))
        .as("opportunistic, connection lost on STARTTLS: %s", sent.day())
        .isEqualTo(
            PolicyCounts.failure(validationFailure(plainSession, FailureType.CONNECTION_LOST)));

    Attempt daneSession = blocked(sent, "b@" + dane);
    assertThat(daneSession.failure()).contains(FailureType.CONNECTION_LOST);
    assertThat(sent.counts(tlsaPolicy(daneSession, dane)))
        .as("DANE, connection lost on STARTTLS: %s", sent.day())
        .isEqualTo(
            PolicyCounts.failure(validationFailure(daneSession, FailureType.CONNECTION_LOST)));

    Attempt stsSession = blocked(sent, "b@" + mtaSts);
    assertThat(stsSession.failure()).contains(FailureType.CONNECTION_LOST);
    assertThat(sent.counts(stsPolicy(stsSession, mtaSts)))
        .as("MTA-STS enforce, connection lost on the EHLO over TLS: %s", sent.day())
        .isEqualTo(
            PolicyCounts.failure(validationFailure(stsSession, FailureType.CONNECTION_LOST)));

    assertThat(sent.failures())
        .extracting(PolicyFailure::source, PolicyFailure::type, PolicyFailure::enforced)
        .containsExactlyInAnyOrder(
            org.assertj.core.groups.Tuple.tuple(
                PolicySource.MTA_STS, FailureType.TLS_HANDSHAKE_FAILED, true),
            org.assertj.core.groups.Tuple.tuple(
                PolicySource.DANE, FailureType.TLS_HANDSHAKE_FAILED, true));
  }

  /**
   * Without a recipient policy, at the sender's {@code enforced} level (TLS required, no fallback
   * to plaintext): the same negotiation that times out, or loses its connection on the STARTTLS
   * command, is a failed session under {@code no-policy-found} (docs/tls-rpt.md row 3a), though the
   * transport reports no recipient policy's failure.
   */
  @Test
  void atEnforcedWithoutAPolicyAFailedNegotiationIsAValidationFailure() {
    String hang = "hang." + ZONE;
    String drop = "drop." + ZONE;
    Sent sent = send("2025-06-05", TlsLevel.ENFORCED, "b@" + hang, "b@" + drop);

    Attempt hung = blocked(sent, "b@" + hang);
    assertThat(hung.failure()).contains(FailureType.TIMEOUT);
    assertThat(hung.failedInTlsNegotiation()).isTrue();
    assertThat(sent.counts(AppliedPolicy.noPolicy(DomainName.of(hang))))
        .as("enforced, handshake timed out: %s", sent.day())
        .isEqualTo(PolicyCounts.failure(validationFailure(hung, FailureType.TIMEOUT)));

    Attempt dropped = blocked(sent, "b@" + drop);
    assertThat(dropped.failure()).contains(FailureType.CONNECTION_LOST);
    assertThat(dropped.failedInTlsNegotiation()).isTrue();
    assertThat(sent.counts(AppliedPolicy.noPolicy(DomainName.of(drop))))
        .as("enforced, connection lost on STARTTLS: %s", sent.day())
        .isEqualTo(PolicyCounts.failure(validationFailure(dropped, FailureType.CONNECTION_LOST)));

    assertThat(sent.failures()).as("no recipient policy failed").isEmpty();
  }

  /**
   * An EHLO never answered, under the same MTA-STS policy: no STARTTLS was sent, no TLS negotiation
   * took place (docs/tls-rpt.md row 6), and nothing is counted or reported.
   */
  @Test
  void aSessionThatHangsBeforeStarttlsIsNotCounted() {
    String mtaSts = "mute-sts." + ZONE;
    Sent sent = send("2025-06-03", TlsLevel.OPPORTUNISTIC, "b@" + mtaSts);

    Attempt session = blocked(sent, "b@" + mtaSts);
    assertThat(session.failure()).contains(FailureType.TIMEOUT);
    assertThat(session.failedInTlsNegotiation()).isFalse();
    assertThat(sent.day()).as("nothing counted").isEmpty();
    assertThat(sent.failures()).as("nothing reported").isEmpty();
  }
}
