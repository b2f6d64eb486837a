package io.mailtls.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DomainName;
import io.mailtls.core.EventListener;
import io.mailtls.core.TlsRequirement;
import io.mailtls.dane.DaneResolver;
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
import javax.net.ssl.X509ExtendedTrustManager;
import org.junit.jupiter.api.Test;

/**
 * The STARTTLS probe against misbehaving servers, case by case: each verdict and its reason, and
 * that the probe never starts a mail transaction.
 */
class StarttlsProbeTest {

  private static final TestPki PKI = TestPki.create();
  private static final DomainName HOST = DomainName.of("mx.probe.test");

  /** A probe of {@code port} trusting the test PKI's root. */
  private static StarttlsProbe probe(int port) {
    return new StarttlsProbe(port, Duration.ofSeconds(3), "client.sender.test",
        (X509ExtendedTrustManager) TrustConfig.trustManager(PKI.trustStore()),
        DaneResolver.builder().dns((n, t) -> {
          throw new IllegalStateException("the probe does no DNS");
        }).build(), EventListener.NONE);
  }

  private static StarttlsProbe.Result run(UnaryOperator<MockSmtpServer.Builder> config,
      TlsRequirement requirement) throws IOException, InterruptedException {
    try (MockSmtpServer server = config.apply(MockSmtpServer.builder().hostname(HOST.toString()))
        .start()) {
      StarttlsProbe.Result r = probe(server.port()).probe(Optional.of(HOST), server.address(),
          requirement);
      List<SmtpSession> sessions = server.awaitSessions(1, Duration.ofSeconds(5));
      assertThat(sessions.get(0).commandLines())
          .noneMatch(l -> l.startsWith("MAIL") || l.startsWith("RCPT") || l.startsWith("DATA"));
      return r;
    }
  }

  private static MockSmtpServer.Builder good(MockSmtpServer.Builder b) {
    return b.tls(PKI.root().leaf().dnsNames(HOST.toString()).issue().serverSslContext());
  }

  @Test
  void verifiedByPkixWithTheRightNameAndRoot() throws Exception {
    StarttlsProbe.Result r = run(StarttlsProbeTest::good, new TlsRequirement.Opportunistic());
    assertThat(r.verdict()).isEqualTo(StarttlsProbe.Verdict.VERIFIED_PKIX);
    assertThat(r.greeting()).startsWith("220 ");
    assertThat(r.serverName()).isEqualTo("mx.probe.test");
    assertThat(r.peerChain()).isNotEmpty();
    assertThat(r.pkixFailure()).isNull();
  }

  /** An EHLO reply of 251 is a protocol error for the transport, so the probe says failed. */
  @Test
  void anEhloReplyOtherThan250IsAFailureNotPlaintext() throws Exception {
    StarttlsProbe.Result r = run(b -> b.on(SmtpStep.EHLO, SmtpAction.reply(251, "odd")),
        new TlsRequirement.Opportunistic());
    assertThat(r.verdict()).isEqualTo(StarttlsProbe.Verdict.FAILED);
    assertThat(r.reason()).contains("251").contains("protocol error");
  }

  @Test
  void aWrongNameIsOnlyEncryptedUnlessMtaStsEnforces() throws Exception {
    UnaryOperator<MockSmtpServer.Builder> wrongName = b -> b.tls(
        PKI.root().leaf().dnsNames("other.test").issue().serverSslContext());
    StarttlsProbe.Result opportunistic = run(wrongName, new TlsRequirement.Opportunistic());
    assertThat(opportunistic.verdict()).isEqualTo(StarttlsProbe.Verdict.ENCRYPTED);
    assertThat(opportunistic.pkixFailure()).contains("mx.probe.test");

    StarttlsProbe.Result enforce = run(wrongName, new TlsRequirement.Pkix(List.of(HOST)));
    assertThat(enforce.verdict()).isEqualTo(StarttlsProbe.Verdict.FAILED);
    assertThat(enforce.reason()).startsWith("MTA-STS enforce requires PKIX");
  }

  @Test
  void aSelfSignedCertificateIsOnlyEncrypted() throws Exception {
    StarttlsProbe.Result r = run(b -> b.tls(TestPki.selfSigned(HOST.toString())
        .serverSslContext()), new TlsRequirement.Encrypted());
    assertThat(r.verdict()).isEqualTo(StarttlsProbe.Verdict.ENCRYPTED);
  }

  @Test
  void noStarttlsIsPlaintextOrAFailureWhereTlsIsRequired() throws Exception {
    assertThat(run(b -> b, new TlsRequirement.Opportunistic()).verdict())
        .isEqualTo(StarttlsProbe.Verdict.PLAINTEXT);
    StarttlsProbe.Result required = run(b -> b, new TlsRequirement.Encrypted());
    assertThat(required.verdict()).isEqualTo(StarttlsProbe.Verdict.FAILED);
    assertThat(required.starttlsOffered()).isFalse();
    assertThat(required.reason()).contains("STARTTLS not offered", "needs TLS");
  }

  @Test
  void aRefusedStarttlsIsReportedWithTheReply() throws Exception {
    StarttlsProbe.Result r = run(b -> good(b).on(SmtpStep.STARTTLS,
        SmtpAction.reply(454, "4.7.0", "TLS not available")), new TlsRequirement.Opportunistic());
    assertThat(r.verdict()).isEqualTo(StarttlsProbe.Verdict.PLAINTEXT);
    assertThat(r.reason()).contains("STARTTLS refused: 454");
  }

  @Test
  void bytesInjectedAfterTheStarttlsReplyFailTheProbe() throws Exception {
    StarttlsProbe.Result r = run(b -> good(b).on(SmtpStep.STARTTLS,
        SmtpAction.proceed().followedBy("250 INJECTED\r\n")), new TlsRequirement.Opportunistic());
    assertThat(r.verdict()).isEqualTo(StarttlsProbe.Verdict.FAILED);
    assertThat(r.reason()).contains("RFC 3207 §4.2");
    assertThat(r.protocol()).isNull();
  }

  @Test
  void aLegacyTlsOnlyServerFailsTheHandshake() throws Exception {
    StarttlsProbe.Result r = run(b -> good(b).tlsProtocols("TLSv1"),
        new TlsRequirement.Opportunistic());
    assertThat(r.verdict()).isEqualTo(StarttlsProbe.Verdict.FAILED);
    assertThat(r.reason()).startsWith("TLS handshake failed").contains("retry in plaintext");
  }

  @Test
  void aRefusingGreetingFails() throws Exception {
    StarttlsProbe.Result r = run(b -> good(b).on(SmtpStep.GREETING,
        SmtpAction.reply(554, "5.3.2", "no service")), new TlsRequirement.Opportunistic());
    assertThat(r.verdict()).isEqualTo(StarttlsProbe.Verdict.FAILED);
    assertThat(r.reason()).startsWith("greeting not 220: 554");
  }

  @Test
  void anUnreachableAddressFails() throws IOException {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    StarttlsProbe.Result r = probe(port).probe(Optional.of(HOST), InetAddress.getLoopbackAddress(),
        new TlsRequirement.Opportunistic());
    assertThat(r.reachable()).isFalse();
    assertThat(r.verdict()).isEqualTo(StarttlsProbe.Verdict.FAILED);
    assertThat(r.reason()).startsWith("connection failed");
  }
}
