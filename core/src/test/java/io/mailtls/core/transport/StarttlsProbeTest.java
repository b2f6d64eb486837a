package io.mailtls.core.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailtls.core.Authentication;
import io.mailtls.core.DeliveryPlan;
import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DnsRecord;
import io.mailtls.core.DomainName;
import io.mailtls.core.EventListener;
import io.mailtls.core.FailureType;
import io.mailtls.core.NextHop;
import io.mailtls.core.ProbeResult;
import io.mailtls.core.ProbeVerdict;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.core.StarttlsProbe;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.TlsRequirement;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.SmtpAction;
import io.mailtls.testkit.SmtpSession;
import io.mailtls.testkit.SmtpStep;
import io.mailtls.testkit.TestPki;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link StarttlsProbe} against real mock servers, one misbehaviour at a time: each verdict with
 * what was seen, the session never reaching MAIL, the same events as the transport, no peer that
 * makes it throw, and a verdict that agrees with what delivery to the same server does.
 */
class StarttlsProbeTest {

  private static final String HOST = "mx.probe.test";
  private static final DomainName NAME = DomainName.of(HOST);
  private static final TlsRequirement OPPORTUNISTIC = new TlsRequirement.Opportunistic();
  private static final TlsRequirement ENCRYPTED = new TlsRequirement.Encrypted();
  private static final TlsRequirement PKIX = new TlsRequirement.Pkix(List.of(NAME));

  /** A probe of {@code port} trusting the test PKI's root, every step bounded by 3 s. */
  private static StarttlsProbe probe(int port, EventListener listener) {
    return StarttlsProbe.builder()
        .heloName("client.sender.test")
        .port(port)
        .timeouts(SmtpTimeouts.uniform(Duration.ofSeconds(3)))
        .trustStore(Fixture.PKI.trustStore())
        .eventListener(listener)
        .build();
  }

  /** Probes one server configured by {@code config}; checks that no mail was ever started. */
  private static ProbeResult run(
      UnaryOperator<MockSmtpServer.Builder> config, TlsRequirement requirement)
      throws IOException, InterruptedException {
    try (MockSmtpServer server = config.apply(MockSmtpServer.builder().hostname(HOST)).start();
        StarttlsProbe probe = probe(server.port(), EventListener.NONE)) {
      ProbeResult r = probe.probe(Optional.of(NAME), server.address(), requirement);
      List<SmtpSession> sessions = server.awaitSessions(1, Duration.ofSeconds(5));
      assertThat(sessions).hasSize(1);
      assertThat(sessions.get(0).awaitClosed(Duration.ofSeconds(5))).isTrue();
      assertThat(sessions.get(0).commandLines())
          .as("the probe never starts a transaction")
          .noneMatch(
              l ->
                  l.startsWith("MAIL")
                      || l.startsWith("RCPT")
                      || l.startsWith("DATA")
                      || l.startsWith("BDAT"));
      return r;
    }
  }

  private static MockSmtpServer.Builder good(MockSmtpServer.Builder b) {
    return b.tls(Fixture.certFor(HOST));
  }

  @Test
  void theRightNameAndRootAreVerifiedByPkixThoughOpportunisticDoesNotAsk() throws Exception {
    ProbeResult r = run(StarttlsProbeTest::good, OPPORTUNISTIC);
    assertThat(r.verdict()).isEqualTo(ProbeVerdict.VERIFIED_PKIX);
    assertThat(r.verdict().token()).isEqualTo("verified-pkix");
    assertThat(r.reachable()).isTrue();
    assertThat(r.greeting().orElseThrow().code()).isEqualTo(220);
    assertThat(r.starttlsOffered()).contains(true);
    assertThat(r.starttlsReply().orElseThrow().code()).isEqualTo(220);
    assertThat(r.serverName()).contains(HOST);
    assertThat(r.tls().orElseThrow().protocol()).isIn("TLSv1.3", "TLSv1.2");
    assertThat(r.tls().orElseThrow().peerChain()).isNotEmpty();
    assertThat(r.pkix().orElseThrow().verified()).isTrue();
    assertThat(r.pkix().orElseThrow().detail()).isEqualTo("PKIX verified for " + HOST);
    assertThat(r.dane()).isEmpty();
    // Delivery would not authenticate the peer: the requirement does not ask for it.
    assertThat(r.authentication()).contains(Authentication.ENCRYPTED);
    assertThat(r.failure()).isEmpty();
    assertThat(r.reason()).contains("does not ask for it");
  }

  @Test
  void aPkixRequirementIsMetByTheRightCertificate() throws Exception {
    ProbeResult r = run(StarttlsProbeTest::good, PKIX);
    assertThat(r.verdict()).isEqualTo(ProbeVerdict.VERIFIED_PKIX);
    assertThat(r.authentication()).contains(Authentication.VERIFIED);
  }

  @Test
  void theProbeQuitsAndSendsTheTransportsSni() throws Exception {
    try (MockSmtpServer server = good(MockSmtpServer.builder().hostname(HOST)).start();
        StarttlsProbe probe = probe(server.port(), EventListener.NONE)) {
      probe.probe(Optional.of(NAME), server.address(), OPPORTUNISTIC);
      SmtpSession s = server.awaitSessions(1, Duration.ofSeconds(5)).get(0);
      assertThat(s.awaitClosed(Duration.ofSeconds(5))).isTrue();
      assertThat(s.sniHostName()).contains(HOST);
      assertThat(s.clientHelloVersions()).containsOnly("TLSv1.3", "TLSv1.2");
      assertThat(s.commandLines())
          .containsExactly(
              "EHLO client.sender.test", "STARTTLS", "EHLO client.sender.test", "QUIT");
    }
  }

  /** An EHLO reply of 251 is a protocol error for the transport, so the probe fails. */
  @Test
  void anEhloReplyOtherThan250IsAProtocolErrorNotPlaintext() throws Exception {
    ProbeResult r = run(b -> b.on(SmtpStep.EHLO, SmtpAction.reply(251, "odd")), OPPORTUNISTIC);
    assertThat(r.verdict()).isEqualTo(ProbeVerdict.FAILED);
    assertThat(r.failure()).contains(FailureType.PROTOCOL_ERROR);
    assertThat(r.starttlsOffered()).isEmpty();
    assertThat(r.reason()).contains("protocol error").contains("251");
  }

  @Test
  void aWrongNameIsOnlyEncryptedUnlessPkixIsRequired() throws Exception {
    UnaryOperator<MockSmtpServer.Builder> wrongName = b -> b.tls(Fixture.certFor("other.test"));
    ProbeResult opportunistic = run(wrongName, OPPORTUNISTIC);
    assertThat(opportunistic.verdict()).isEqualTo(ProbeVerdict.ENCRYPTED);
    assertThat(opportunistic.pkix().orElseThrow().failure())
        .contains(FailureType.CERTIFICATE_HOST_MISMATCH);
    assertThat(opportunistic.pkix().orElseThrow().detail()).contains(HOST, "other.test");

    ProbeResult required = run(wrongName, PKIX);
    assertThat(required.verdict()).isEqualTo(ProbeVerdict.FAILED);
    assertThat(required.failure()).contains(FailureType.CERTIFICATE_HOST_MISMATCH);
    assertThat(required.reason()).startsWith("PKIX required: ");
    // The handshake was refused, and still the probe reports what the server presented.
    assertThat(
            required.tls().orElseThrow().peerChain().get(0).getSubjectAlternativeNames().toString())
        .contains("other.test");
    assertThat(required.authentication()).isEmpty();
  }

  /**
   * The name check is the transport's RFC 6125 matcher: a wildcard stands for exactly one whole
   * label, so {@code *.probe.test} covers {@code mx.probe.test} but {@code m*.probe.test} does not
   * (the JDK's HTTPS rules, which the CLI's own probe used, accept both).
   */
  @Test
  void theNameCheckIsTheTransportsWildcardRule() throws Exception {
    ProbeResult whole = run(b -> b.tls(Fixture.certFor("*.probe.test")), PKIX);
    assertThat(whole.verdict()).isEqualTo(ProbeVerdict.VERIFIED_PKIX);
    ProbeResult partial = run(b -> b.tls(Fixture.certFor("m*.probe.test")), PKIX);
    assertThat(partial.verdict()).isEqualTo(ProbeVerdict.FAILED);
    assertThat(partial.failure()).contains(FailureType.CERTIFICATE_HOST_MISMATCH);
  }

  @Test
  void aSelfSignedCertificateIsOnlyEncrypted() throws Exception {
    ProbeResult r = run(b -> b.tls(TestPki.selfSigned(HOST).serverSslContext()), ENCRYPTED);
    assertThat(r.verdict()).isEqualTo(ProbeVerdict.ENCRYPTED);
    assertThat(r.pkix().orElseThrow().failure()).contains(FailureType.CERTIFICATE_NOT_TRUSTED);
    assertThat(r.authentication()).contains(Authentication.ENCRYPTED);
  }

  @Test
  void noStarttlsIsPlaintextOrAFailureWhereTlsIsRequired() throws Exception {
    ProbeResult opportunistic = run(b -> b, OPPORTUNISTIC);
    assertThat(opportunistic.verdict()).isEqualTo(ProbeVerdict.PLAINTEXT);
    assertThat(opportunistic.starttlsOffered()).contains(false);
    assertThat(opportunistic.notes()).containsExactly("server does not offer STARTTLS; plaintext");
    assertThat(opportunistic.reason())
        .isEqualTo(
            "server does not offer STARTTLS; plaintext; the"
                + " opportunistic requirement allows plaintext: the transport would deliver without TLS");
    assertThat(opportunistic.authentication()).contains(Authentication.PLAINTEXT);
    assertThat(opportunistic.pkix()).isEmpty();
    assertThat(opportunistic.tls()).isEmpty();

    ProbeResult required = run(b -> b, ENCRYPTED);
    assertThat(required.verdict()).isEqualTo(ProbeVerdict.FAILED);
    assertThat(required.starttlsOffered()).contains(false);
    assertThat(required.failure()).contains(FailureType.STARTTLS_NOT_SUPPORTED);
    assertThat(required.reason()).contains("TLS required", "does not offer STARTTLS");
  }

  @Test
  void aRefusedStarttlsIsReportedWithTheReply() throws Exception {
    UnaryOperator<MockSmtpServer.Builder> refusing =
        b -> good(b).on(SmtpStep.STARTTLS, SmtpAction.reply(454, "4.7.0", "TLS not available"));
    ProbeResult opportunistic = run(refusing, OPPORTUNISTIC);
    assertThat(opportunistic.verdict()).isEqualTo(ProbeVerdict.PLAINTEXT);
    assertThat(opportunistic.starttlsOffered()).contains(true);
    assertThat(opportunistic.starttlsReply().orElseThrow().code()).isEqualTo(454);
    assertThat(opportunistic.reason()).contains("STARTTLS refused (454 4.7.0 TLS not available)");

    ProbeResult required = run(refusing, ENCRYPTED);
    assertThat(required.verdict()).isEqualTo(ProbeVerdict.FAILED);
    assertThat(required.failure()).contains(FailureType.STARTTLS_NOT_SUPPORTED);
    assertThat(required.starttlsReply().orElseThrow().code()).isEqualTo(454);
  }

  /**
   * Octets after the 220 to STARTTLS and before the handshake are discarded, never read as a reply
   * (RFC 3207 §4.2), and the session goes on as delivery's would: the probe says so and judges the
   * TLS that follows.
   */
  @Test
  void bytesInjectedAfterTheStarttlsReplyAreDiscardedAsDeliveryDiscardsThem() throws Exception {
    ProbeResult r =
        run(
            b ->
                good(b)
                    .on(
                        SmtpStep.STARTTLS,
                        SmtpAction.proceed().followedBy("250-PIPELINING\r\n250 INJECTED\r\n")),
            OPPORTUNISTIC);
    assertThat(r.notes())
        .anySatisfy(
            n ->
                assertThat(n)
                    .contains(
                        "octets of plaintext after the STARTTLS 220 discarded (RFC 3207 §4.2)"));
    assertThat(r.reason()).contains("discarded");
    assertThat(r.verdict()).isEqualTo(ProbeVerdict.VERIFIED_PKIX);
  }

  @Test
  void aLegacyTlsOnlyServerFailsTheHandshakeAndDeliveryWouldFallBackToPlaintext() throws Exception {
    UnaryOperator<MockSmtpServer.Builder> legacy = b -> good(b).tlsProtocols("TLSv1");
    ProbeResult opportunistic = run(legacy, OPPORTUNISTIC);
    assertThat(opportunistic.verdict()).isEqualTo(ProbeVerdict.FAILED);
    assertThat(opportunistic.failure()).contains(FailureType.TLS_HANDSHAKE_FAILED);
    assertThat(opportunistic.reason())
        .contains("TLS handshake failed")
        .endsWith("(opportunistic: the transport would retry in plaintext on a fresh connection)");

    ProbeResult required = run(legacy, ENCRYPTED);
    assertThat(required.verdict()).isEqualTo(ProbeVerdict.FAILED);
    assertThat(required.reason()).doesNotContain("retry in plaintext");
  }

  @Test
  void aRefusingGreetingFails() throws Exception {
    ProbeResult r =
        run(
            b -> good(b).on(SmtpStep.GREETING, SmtpAction.reply(554, "5.3.2", "no service")),
            OPPORTUNISTIC);
    assertThat(r.verdict()).isEqualTo(ProbeVerdict.FAILED);
    assertThat(r.reachable()).isTrue();
    assertThat(r.failure()).contains(FailureType.GREETING_REJECTED);
    assertThat(r.greeting().orElseThrow().code()).isEqualTo(554);
    assertThat(r.starttlsOffered()).isEmpty();
    assertThat(r.reason()).startsWith("greeting was not 220: 554");
  }

  @Test
  void anUnreachableAddressFails() throws IOException {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    try (StarttlsProbe probe = probe(port, EventListener.NONE)) {
      ProbeResult r =
          probe.probe(Optional.of(NAME), InetAddress.getLoopbackAddress(), OPPORTUNISTIC);
      assertThat(r.reachable()).isFalse();
      assertThat(r.verdict()).isEqualTo(ProbeVerdict.FAILED);
      assertThat(r.failure()).contains(FailureType.CONNECTION_FAILED);
      assertThat(r.reason()).startsWith("connection failed");
      assertThat(r.greeting()).isEmpty();
    }
  }

  @Test
  void anAddressLiteralHasNoSniAndNoNameForPkix() throws Exception {
    try (MockSmtpServer server = good(MockSmtpServer.builder().hostname(HOST)).start();
        StarttlsProbe probe = probe(server.port(), EventListener.NONE)) {
      ProbeResult r = probe.probe(Optional.empty(), server.address(), OPPORTUNISTIC);
      assertThat(r.serverName()).isEmpty();
      assertThat(r.verdict()).isEqualTo(ProbeVerdict.ENCRYPTED);
      assertThat(r.pkix().orElseThrow().detail()).startsWith("no host name to match");
      assertThat(server.awaitSessions(1, Duration.ofSeconds(5)).get(0).sniHostName()).isEmpty();
    }
  }

  @Test
  void aDaneRequirementWithoutADaneProviderFailsWithoutConnecting() throws Exception {
    DnsRecord.Tlsa record = new DnsRecord.Tlsa(3, 1, 1, new byte[32]);
    TlsRequirement dane = new TlsRequirement.Dane(List.of(record), NAME, List.of(NAME), true);
    try (MockSmtpServer server = good(MockSmtpServer.builder().hostname(HOST)).start();
        StarttlsProbe probe = probe(server.port(), EventListener.NONE)) {
      ProbeResult r = probe.probe(Optional.of(NAME), server.address(), dane);
      assertThat(r.verdict()).isEqualTo(ProbeVerdict.FAILED);
      assertThat(r.failure()).contains(FailureType.POLICY_UNAVAILABLE);
      assertThat(r.reachable()).isFalse();
      assertThat(r.serverName()).as("the SNI DANE would send").contains(HOST);
      assertThat(server.sessions()).isEmpty();
    }
  }

  @Test
  void theProbeFiresTheTransportsEventsInTheTransportsOrder() throws Exception {
    EventListenerTest.Recorder rec = new EventListenerTest.Recorder();
    try (MockSmtpServer server = good(MockSmtpServer.builder().hostname(HOST)).start();
        StarttlsProbe probe = probe(server.port(), rec)) {
      probe.probe(Optional.of(NAME), server.address(), OPPORTUNISTIC);
    }
    assertThat(rec.events).hasSize(6);
    assertThat(rec.events.subList(0, 5))
        .containsExactly(
            "connectStart " + HOST,
            "connectEnd ok",
            "startTlsStart",
            "startTlsEnd 220",
            "handshakeStart");
    assertThat(rec.events.get(5)).matches("handshakeEnd TLSv1\\.[23]");
  }

  @Test
  void aClosedProbeRefusesToProbe() {
    StarttlsProbe probe = probe(25, EventListener.NONE);
    probe.close();
    assertThatThrownBy(
            () -> probe.probe(Optional.of(NAME), InetAddress.getLoopbackAddress(), OPPORTUNISTIC))
        .isInstanceOf(IllegalStateException.class);
  }

  /** Misbehaviour at every step of the session the probe opens. */
  @SuppressWarnings("ImmutableEnumChecker") // SmtpAction is immutable, but not annotated so
  enum Hostile {
    DISCONNECT(SmtpAction.disconnect()),
    HANG(SmtpAction.hang()),
    GARBAGE(SmtpAction.raw("\u0000\u00ff not a reply\r\n")),
    ENDLESS_REPLY(SmtpAction.endlessReply()),
    UNBOUNDED_LINE(SmtpAction.unboundedLine()),
    ODD_CODE(SmtpAction.reply(354, "go on"));

    final SmtpAction action;

    Hostile(SmtpAction action) {
      this.action = action;
    }
  }

  @ParameterizedTest
  @EnumSource(Hostile.class)
  void noPeerMakesTheProbeThrowOrHang(Hostile hostile) throws Exception {
    for (SmtpStep step :
        List.of(SmtpStep.GREETING, SmtpStep.EHLO, SmtpStep.STARTTLS, SmtpStep.TLS_HANDSHAKE)) {
      if (step == SmtpStep.TLS_HANDSHAKE
          && (hostile == Hostile.ENDLESS_REPLY
              || hostile == Hostile.UNBOUNDED_LINE
              || hostile == Hostile.ODD_CODE)) {
        continue; // the mock allows only transport-level faults in the handshake
      }
      try (MockSmtpServer server =
              good(MockSmtpServer.builder().hostname(HOST)).on(step, hostile.action).start();
          StarttlsProbe probe =
              StarttlsProbe.builder()
                  .heloName("client.sender.test")
                  .port(server.port())
                  .timeouts(SmtpTimeouts.uniform(Duration.ofMillis(500)))
                  .trustStore(Fixture.PKI.trustStore())
                  .build()) {
        long start = System.nanoTime();
        ProbeResult r = probe.probe(Optional.of(NAME), server.address(), ENCRYPTED);
        assertThat(r.verdict())
            .as("%s at %s: %s", hostile, step, r.reason())
            .isEqualTo(ProbeVerdict.FAILED);
        assertThat(r.failure()).as("%s at %s", hostile, step).isPresent();
        assertThat(r.reason()).doesNotContain("unexpected");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
      }
    }
  }

  // ------------------------------------------------------------------ probe versus delivery

  /** Servers whose verdict the probe and delivery must agree on. */
  @SuppressWarnings("ImmutableEnumChecker") // stateless lambdas, not annotated as immutable
  enum Peer {
    GOOD(b -> b.tls(Fixture.certFor(HOST))),
    WRONG_NAME(b -> b.tls(Fixture.certFor("other.test"))),
    SELF_SIGNED(b -> b.tls(TestPki.selfSigned(HOST).serverSslContext())),
    NO_STARTTLS(b -> b),
    STARTTLS_REFUSED(
        b ->
            b.tls(Fixture.certFor(HOST))
                .on(SmtpStep.STARTTLS, SmtpAction.reply(454, "4.7.0", "TLS not available"))),
    LEGACY_TLS(b -> b.tls(Fixture.certFor(HOST)).tlsProtocols("TLSv1")),
    INJECTING(
        b ->
            b.tls(Fixture.certFor(HOST))
                .on(SmtpStep.STARTTLS, SmtpAction.proceed().followedBy("250 INJECTED\r\n"))),
    EHLO_251(b -> b.on(SmtpStep.EHLO, SmtpAction.reply(251, "odd")));

    final UnaryOperator<MockSmtpServer.Builder> config;

    Peer(UnaryOperator<MockSmtpServer.Builder> config) {
      this.config = config;
    }
  }

  /**
   * The probe, given the requirement the delivery plan sets for the host, says what delivery to the
   * same server then does: a verdict other than failed means delivered, authenticated as the probe
   * said; failed means not delivered, for the same reason, except that after a failed opportunistic
   * handshake delivery retries in plaintext, as the probe's reason announces.
   */
  @ParameterizedTest
  @EnumSource(Peer.class)
  void theVerdictIsWhatDeliveryDoes(Peer peer) throws Exception {
    for (TlsLevel level : List.of(TlsLevel.OPPORTUNISTIC, TlsLevel.ENFORCED)) {
      try (Fixture f = new Fixture()) {
        MockSmtpServer mx = f.server("127.0.0.2", b -> peer.config.apply(b.hostname(HOST)));
        f.dns(d -> d.zone("probe.test", z -> z.mailHost("probe.test", 10, HOST, mx)));
        DeliveryPlan plan = f.transport(level).plan(NextHop.parse("probe.test"), level);
        TlsRequirement requirement = plan.hosts().get(0).requirement();
        ProbeResult probed;
        try (StarttlsProbe probe = probe(f.port(), EventListener.NONE)) {
          probed = probe.probe(Optional.of(NAME), mx.address(), requirement);
        }
        DeliveryReport report = f.send(level, "rcpt@probe.test");
        RecipientResult delivered = report.result("rcpt@probe.test");
        String what =
            peer
                + " at "
                + level
                + ": probe "
                + probed.verdict()
                + " ("
                + probed.reason()
                + "), delivery "
                + delivered;
        if (probed.verdict() != ProbeVerdict.FAILED) {
          assertThat(delivered.status()).as(what).isEqualTo(DeliveryStatus.DELIVERED);
          assertThat(delivered.authentication()).as(what).isEqualTo(probed.authentication());
        } else if (probed.reason().endsWith("retry in plaintext on a fresh connection)")) {
          assertThat(delivered.status()).as(what).isEqualTo(DeliveryStatus.DELIVERED);
          assertThat(delivered.authentication()).as(what).contains(Authentication.PLAINTEXT);
        } else {
          assertThat(delivered.status()).as(what).isNotEqualTo(DeliveryStatus.DELIVERED);
          assertThat(delivered.attempts().get(0).failure()).as(what).isEqualTo(probed.failure());
        }
      }
    }
  }
}
