package io.mailtls.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** STARTTLS (RFC 3207), implicit TLS (RFC 8314) and every TLS misbehaviour, seen from a client. */
class MockSmtpServerTlsTest {

  private static final Duration WAIT = Duration.ofSeconds(5);
  private static final String MX = "mx1.example.test";
  private static final TestPki PKI = TestPki.create();
  private static final TestPki.Ca INTER = PKI.root().intermediate("mailtls Test Intermediate");
  private static final TestPki.Issued LEAF = INTER.leaf().dnsNames(MX).issue();

  private final List<MockSmtpServer> servers = new ArrayList<>();

  private MockSmtpServer start(MockSmtpServer.Builder builder) throws IOException {
    MockSmtpServer server = builder.start();
    servers.add(server);
    return server;
  }

  private MockSmtpServer startTlsServer() throws IOException {
    return start(MockSmtpServer.builder().hostname(MX).tls(LEAF.serverSslContext()));
  }

  @AfterEach
  void closeServers() {
    servers.forEach(MockSmtpServer::close);
  }

  /** Connects, reads the greeting, says EHLO, sends STARTTLS and returns the 220 reply. */
  private static String toStarttls(MockSmtpServerTestClient client) throws IOException {
    client.reply();
    client.command("EHLO client.example.test");
    return client.command("STARTTLS");
  }

  @Test
  void starttlsUpgradeRecordsSniAndResetsSessionState() throws Exception {
    MockSmtpServer smtp = startTlsServer();

    try (MockSmtpServerTestClient client = MockSmtpServerTestClient.connect(smtp)) {
      client.reply();
      assertThat(client.command("EHLO client.example.test"))
          .containsPattern("(?m)^250[ -]STARTTLS$");
      assertThat(client.command("STARTTLS")).isEqualTo("220 2.0.0 Ready to start TLS");
      SSLSocket ssl = client.startTlsVerifyingName(PKI.clientSslContext(), MX);
      assertThat(ssl.getSession().getProtocol()).isEqualTo("TLSv1.3");
      assertThat(ssl.getSession().getPeerCertificates())
          .containsExactly(LEAF.chain().toArray(new X509Certificate[0]));
      // RFC 3207 §4.2: nothing from before TLS counts; the server expects EHLO again.
      assertThat(client.command("MAIL FROM:<a@example.test>")).startsWith("503 ");
      assertThat(client.command("EHLO client.example.test")).doesNotContain("STARTTLS");
      assertThat(client.command("STARTTLS")).startsWith("503 5.5.1");
      client.command("MAIL FROM:<a@example.test>");
      client.command("RCPT TO:<b@example.test>");
      client.command("DATA");
      client.send("Subject: secret\r\n\r\nover TLS\r\n.\r\n");
      assertThat(client.reply()).startsWith("250 2.0.0");
      client.command("QUIT");
    }

    SmtpSession session = smtp.awaitSessions(1, WAIT).get(0);
    assertThat(session.tlsNegotiated()).isTrue();
    assertThat(session.sniHostName()).hasValue(MX);
    assertThat(session.tlsProtocol()).hasValue("TLSv1.3");
    assertThat(session.tlsCipherSuite())
        .hasValueSatisfying(suite -> assertThat(suite).startsWith("TLS_"));
    assertThat(session.clientHelloVersions()).containsExactly("TLSv1.3", "TLSv1.2");
    assertThat(session.tlsFailure()).isEmpty();
    assertThat(session.commands())
        .extracting(SmtpCommand::verb, SmtpCommand::tls)
        .startsWith(
            org.assertj.core.groups.Tuple.tuple("EHLO", false),
            org.assertj.core.groups.Tuple.tuple("STARTTLS", false),
            org.assertj.core.groups.Tuple.tuple("MAIL", true));
    assertThat(session.bytesDiscardedAtStarttls()).isZero();
    SmtpMessage message = smtp.messages().get(0);
    assertThat(message.tls()).isTrue();
    assertThat(message.dataAsString()).isEqualTo("Subject: secret\r\n\r\nover TLS\r\n");
  }

  @Test
  void tls12WhenEitherSideLimitsItAndNoSniWhenNoneSent() throws Exception {
    MockSmtpServer any = startTlsServer();
    MockSmtpServer only12 =
        start(MockSmtpServer.builder().tls(LEAF.serverSslContext()).tlsProtocols("TLSv1.2"));

    try (MockSmtpServerTestClient client = MockSmtpServerTestClient.connect(any)) {
      toStarttls(client);
      assertThat(
              client.startTls(PKI.clientSslContext(), null, "TLSv1.2").getSession().getProtocol())
          .isEqualTo("TLSv1.2");
    }
    try (MockSmtpServerTestClient client = MockSmtpServerTestClient.connect(only12)) {
      toStarttls(client);
      assertThat(client.startTls(PKI.clientSslContext(), MX).getSession().getProtocol())
          .isEqualTo("TLSv1.2");
    }

    SmtpSession first = any.awaitSessions(1, WAIT).get(0);
    assertThat(first.tlsProtocol()).hasValue("TLSv1.2");
    assertThat(first.sniHostName()).isEmpty();
    assertThat(first.clientHelloVersions()).containsExactly("TLSv1.2");
    assertThat(only12.awaitSessions(1, WAIT).get(0).tlsProtocol()).hasValue("TLSv1.2");
  }

  @Test
  void rsaCertificatesWork() throws Exception {
    TestPki.Issued rsa = INTER.leaf().dnsNames(MX).rsa().issue();
    MockSmtpServer smtp = start(MockSmtpServer.builder().tls(rsa.serverSslContext()));

    try (MockSmtpServerTestClient client = MockSmtpServerTestClient.connect(smtp)) {
      toStarttls(client);
      SSLSocket ssl = client.startTlsVerifyingName(PKI.clientSslContext(), MX);
      assertThat(ssl.getSession().getPeerCertificates()[0].getPublicKey().getAlgorithm())
          .isEqualTo("RSA");
    }
  }

  @Test
  void implicitTlsHandshakesBeforeTheGreeting() throws Exception {
    MockSmtpServer smtp =
        start(MockSmtpServer.builder().hostname(MX).tls(LEAF.serverSslContext()).implicitTls());

    try (MockSmtpServerTestClient client =
        MockSmtpServerTestClient.connectTls(smtp, PKI.clientSslContext(), MX)) {
      assertThat(client.reply()).startsWith("220 " + MX);
      assertThat(client.command("EHLO client.example.test")).doesNotContain("STARTTLS");
      assertThat(client.command("STARTTLS")).startsWith("503 ");
    }

    SmtpSession session = smtp.awaitSessions(1, WAIT).get(0);
    assertThat(session.tlsNegotiated()).isTrue();
    assertThat(session.sniHostName()).hasValue(MX);
    assertThat(session.commands()).allMatch(SmtpCommand::tls);
  }

  @Test
  void strippedStarttlsIsNotAdvertisedButStillWorks() throws Exception {
    MockSmtpServer smtp =
        start(MockSmtpServer.builder().tls(LEAF.serverSslContext()).stripStarttls());

    try (MockSmtpServerTestClient client = MockSmtpServerTestClient.connect(smtp)) {
      client.reply();
      assertThat(client.command("EHLO client.example.test")).doesNotContain("STARTTLS");
      assertThat(client.command("STARTTLS")).startsWith("220 ");
      client.startTls(PKI.clientSslContext(), MX);
      assertThat(client.command("NOOP")).startsWith("250 ");
    }
    assertThat(smtp.awaitSessions(1, WAIT).get(0).tlsNegotiated()).isTrue();
  }

  @Test
  void advertisedStarttlsCanBeRefused() throws Exception {
    MockSmtpServer smtp =
        start(
            MockSmtpServer.builder()
                .tls(LEAF.serverSslContext())
                .on(SmtpStep.STARTTLS, SmtpAction.reply(454, "4.7.0", "TLS not available")));

    try (MockSmtpServerTestClient client = MockSmtpServerTestClient.connect(smtp)) {
      client.reply();
      assertThat(client.command("EHLO client.example.test"))
          .containsPattern("(?m)^250[ -]STARTTLS$");
      assertThat(client.command("STARTTLS")).isEqualTo("454 4.7.0 TLS not available");
      assertThat(client.command("MAIL FROM:<a@example.test>")).startsWith("250 ");
    }
    SmtpSession session = smtp.awaitSessions(1, WAIT).get(0);
    assertThat(session.tlsNegotiated()).isFalse();
    assertThat(session.clientHelloVersions()).isEmpty();
  }

  @Test
  void plaintextInjectedAfterThe220ArrivesInTheSameSegment() throws Exception {
    MockSmtpServer smtp =
        start(
            MockSmtpServer.builder()
                .tls(LEAF.serverSslContext())
                .on(
                    SmtpStep.STARTTLS,
                    SmtpAction.proceed().followedBy("250-INJECTED\r\n250 OK\r\n")));

    try (MockSmtpServerTestClient client = MockSmtpServerTestClient.connect(smtp)) {
      client.reply();
      client.command("EHLO client.example.test");
      client.send("STARTTLS\r\n");
      assertThat(client.readOnce())
          .isEqualTo("220 2.0.0 Ready to start TLS\r\n250-INJECTED\r\n250 OK\r\n");
      // A careful client drops those bytes; the handshake then proceeds normally.
      client.startTls(PKI.clientSslContext(), MX);
      assertThat(client.command("EHLO client.example.test")).startsWith("250-");
    }
    assertThat(smtp.awaitSessions(1, WAIT).get(0).tlsNegotiated()).isTrue();
  }

  @Test
  void plaintextPipelinedAfterStarttlsIsDiscarded() throws Exception {
    MockSmtpServer smtp = startTlsServer();

    try (MockSmtpServerTestClient client = MockSmtpServerTestClient.connect(smtp)) {
      client.reply();
      client.command("EHLO client.example.test");
      client.send("STARTTLS\r\nMAIL FROM:<evil@example.test>\r\n");
      assertThat(client.reply()).startsWith("220 ");
      client.startTls(PKI.clientSslContext(), MX);
      client.command("EHLO client.example.test");
      assertThat(client.command("RCPT TO:<a@example.test>")).startsWith("503 ");
    }
    SmtpSession session = smtp.awaitSessions(1, WAIT).get(0);
    assertThat(session.bytesDiscardedAtStarttls())
        .isEqualTo("MAIL FROM:<evil@example.test>\r\n".length());
    assertThat(session.commandLines()).doesNotContain("MAIL FROM:<evil@example.test>");
  }

  @Test
  void handshakeAbortedAfterClientHello() throws Exception {
    MockSmtpServer smtp =
        start(
            MockSmtpServer.builder()
                .tls(LEAF.serverSslContext())
                .on(SmtpStep.TLS_HANDSHAKE, SmtpAction.disconnect()));

    try (MockSmtpServerTestClient client = MockSmtpServerTestClient.connect(smtp)) {
      toStarttls(client);
      assertThatThrownBy(() -> client.startTls(PKI.clientSslContext(), MX))
          .isInstanceOf(IOException.class);
    }
    SmtpSession session = smtp.awaitSessions(1, WAIT).get(0);
    assertThat(session.sniHostName()).hasValue(MX);
    assertThat(session.tlsNegotiated()).isFalse();
    assertThat(session.tlsFailure()).hasValueSatisfying(f -> assertThat(f).contains("aborted"));
  }

  @Test
  void legacyTls10OnlyServerFailsTheHandshakeOnTheClient() throws Exception {
    MockSmtpServer smtp =
        start(MockSmtpServer.builder().tls(LEAF.serverSslContext()).tlsProtocols("TLSv1"));

    try (MockSmtpServerTestClient client = MockSmtpServerTestClient.connect(smtp)) {
      toStarttls(client);
      assertThatThrownBy(() -> client.startTls(PKI.clientSslContext(), MX))
          .isInstanceOf(SSLHandshakeException.class)
          .hasMessageContaining("TLS10");
    }
    SmtpSession session = smtp.awaitSessions(1, WAIT).get(0);
    assertThat(session.tlsNegotiated()).isFalse();
    assertThat(session.clientHelloVersions()).contains("TLSv1.3", "TLSv1.2");
    // JDK 17 and later refuse TLS 1.0 by default, so the fault is emulated (see
    // LegacyTlsResponder).
    assertThat(smtp.legacyTlsEmulated()).isTrue();
    assertThat(session.tlsFailure())
        .hasValueSatisfying(
            f -> assertThat(f).contains("ServerHello(TLSv1").contains("protocol_version(70)"));
  }

  @Test
  void legacyTls11OnlyServerToo() throws Exception {
    MockSmtpServer smtp =
        start(
            MockSmtpServer.builder().tls(LEAF.serverSslContext()).tlsProtocols("TLSv1.1", "TLSv1"));

    try (MockSmtpServerTestClient client = MockSmtpServerTestClient.connect(smtp)) {
      toStarttls(client);
      assertThatThrownBy(() -> client.startTls(PKI.clientSslContext(), MX))
          .isInstanceOf(SSLHandshakeException.class)
          .hasMessageContaining("TLS11");
    }
  }

  static Stream<Arguments> badCertificates() {
    Supplier<TestPki.Issued> wrongName = () -> INTER.leaf().dnsNames("other.example.test").issue();
    Supplier<TestPki.Issued> expired = () -> INTER.leaf().dnsNames(MX).expired().issue();
    Supplier<TestPki.Issued> selfSigned = () -> TestPki.selfSigned(MX);
    Supplier<TestPki.Issued> untrusted = () -> PKI.otherCa().leaf().dnsNames(MX).issue();
    return Stream.of(
        Arguments.of("wrong name", wrongName, "No subject alternative DNS name"),
        Arguments.of("expired", expired, "validity check failed"),
        Arguments.of("self-signed", selfSigned, "PKIX path"),
        Arguments.of("untrusted chain", untrusted, "PKIX path"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badCertificates")
  void badCertificatesFailAVerifyingClient(
      String name, Supplier<TestPki.Issued> certificate, String clientError) throws Exception {
    MockSmtpServer smtp = start(MockSmtpServer.builder().tls(certificate.get().serverSslContext()));

    try (MockSmtpServerTestClient client = MockSmtpServerTestClient.connect(smtp)) {
      toStarttls(client);
      assertThatThrownBy(() -> client.startTlsVerifyingName(PKI.clientSslContext(), MX))
          .isInstanceOf(SSLHandshakeException.class)
          .hasMessageContaining(clientError);
    }
    SmtpSession session = smtp.awaitSessions(1, WAIT).get(0);
    assertThat(session.sniHostName()).hasValue(MX);
    assertThat(session.tlsNegotiated()).isFalse();
    assertThat(session.tlsFailure()).isPresent();
  }

  @Test
  void presentedChainIsSentExactlyAsGiven() throws Exception {
    List<X509Certificate> omitted = List.of(LEAF.certificate());
    List<X509Certificate> padded =
        List.of(LEAF.certificate(), INTER.certificate(), PKI.otherCa().certificate());

    for (List<X509Certificate> presented : List.of(omitted, padded)) {
      MockSmtpServer smtp = start(MockSmtpServer.builder().tls(LEAF.serverSslContext(presented)));
      AtomicReference<X509Certificate[]> seen = new AtomicReference<>();
      try (MockSmtpServerTestClient client = MockSmtpServerTestClient.connect(smtp)) {
        toStarttls(client);
        client.startTls(recordingContext(seen), MX);
      }
      assertThat(seen.get()).containsExactly(presented.toArray(new X509Certificate[0]));
    }
  }

  /** A client context that accepts any chain and remembers it: test code only. */
  private static SSLContext recordingContext(AtomicReference<X509Certificate[]> seen)
      throws Exception {
    X509ExtendedTrustManager recording =
        new X509ExtendedTrustManager() {
          @Override
          public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {
            seen.set(chain);
          }

          @Override
          public void checkServerTrusted(
              X509Certificate[] chain, String authType, SSLEngine engine) {
            seen.set(chain);
          }

          @Override
          public void checkServerTrusted(X509Certificate[] chain, String authType) {
            seen.set(chain);
          }

          @Override
          public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {
            throw new UnsupportedOperationException();
          }

          @Override
          public void checkClientTrusted(
              X509Certificate[] chain, String authType, SSLEngine engine) {
            throw new UnsupportedOperationException();
          }

          @Override
          public void checkClientTrusted(X509Certificate[] chain, String authType) {
            throw new UnsupportedOperationException();
          }

          @Override
          public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
          }
        };
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, new TrustManager[] {recording}, null);
    return context;
  }

  @Test
  void handshakeCanBeStalledOrLeftHanging() throws Exception {
    MockSmtpServer smtp =
        start(
            MockSmtpServer.builder()
                .tls(LEAF.serverSslContext())
                .on(SmtpStep.TLS_HANDSHAKE, SmtpAction.hang()));

    try (MockSmtpServerTestClient client = MockSmtpServerTestClient.connect(smtp)) {
      toStarttls(client);
      client.readTimeout(Duration.ofMillis(300));
      long started = System.nanoTime();
      assertThatThrownBy(() -> client.startTls(PKI.clientSslContext(), MX))
          .isInstanceOf(SocketTimeoutException.class);
      assertThat(Duration.ofNanos(System.nanoTime() - started))
          .isGreaterThanOrEqualTo(Duration.ofMillis(250));
    }
    // The hanging server notices that the client left.
    SmtpSession session = smtp.awaitSessions(1, WAIT).get(0);
    assertThat(session.tlsFailure()).hasValueSatisfying(f -> assertThat(f).contains("hanging"));
  }
}
