package io.mailtls.core.internal.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.Authentication;
import io.mailtls.core.DomainName;
import io.mailtls.core.EventListener;
import io.mailtls.core.FailureType;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.core.TlsContextFactory;
import io.mailtls.core.TlsDetails;
import io.mailtls.core.TlsRequirement;
import io.mailtls.core.internal.smtp.SmtpReplyReader;
import io.mailtls.core.internal.tls.TlsSupport;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.TestPki;
import java.net.InetAddress;
import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import javax.net.SocketFactory;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.X509ExtendedKeyManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * TLS session resumption (TlsSupport.resumable) against a real JSSE server: a second session to a
 * host verified under the same requirement resumes (the server signs nothing: no full handshake),
 * reports the authentication of the full handshake and says it was resumed; a different
 * requirement, host name or port never resumes, and a session established without authentication
 * can never stand in for a verified one.
 */
class TlsSessionResumptionTest {

  private static final TestPki PKI = TestPki.create();
  private static final DomainName MX = DomainName.of("mx.example.test");
  private static final DomainName ALT = DomainName.of("alt.example.test");

  private final List<AutoCloseable> toClose = new ArrayList<>();
  private final ScheduledExecutorService watchdog = Executors.newScheduledThreadPool(1);

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable c : toClose) {
      c.close();
    }
    watchdog.shutdownNow();
  }

  /**
   * A key manager that counts full handshakes: the handshakes in which the server chose a
   * certificate to present. A resumed handshake presents none, but a JDK may still ask for the key
   * while it restores a session from a ticket (JDK 25 does, JDK 17 does not); it does so before any
   * handshake session exists, so only choices made within a handshake session are counted, once per
   * session.
   */
  private static final class CountingKeyManager extends X509ExtendedKeyManager {
    private final Set<SSLSession> chosenIn = ConcurrentHashMap.newKeySet();
    private final X509ExtendedKeyManager delegate;

    CountingKeyManager(X509ExtendedKeyManager delegate) {
      this.delegate = delegate;
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
      return delegate.getClientAliases(keyType, issuers);
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
      return delegate.chooseClientAlias(keyType, issuers, socket);
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
      return delegate.getServerAliases(keyType, issuers);
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
      String alias = delegate.chooseServerAlias(keyType, issuers, socket);
      SSLSession session = socket instanceof SSLSocket ssl ? ssl.getHandshakeSession() : null;
      if (alias != null && session != null) {
        chosenIn.add(session);
      }
      return alias;
    }

    int fullHandshakes() {
      return chosenIn.size();
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
      return delegate.chooseEngineServerAlias(keyType, issuers, engine);
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
      return delegate.getCertificateChain(alias);
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
      return delegate.getPrivateKey(alias);
    }
  }

  private record Server(MockSmtpServer smtp, CountingKeyManager keys) {
    int fullHandshakes() {
      return keys.fullHandshakes();
    }
  }

  private Server server(String ip, TestPki.Issued cert) throws Exception {
    CountingKeyManager keys = new CountingKeyManager(cert.keyManager());
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(new KeyManager[] {keys}, null, null);
    MockSmtpServer smtp =
        MockSmtpServer.builder()
            .address(InetAddress.getByName(ip))
            .hostname("mx.example.test")
            .tls(ctx)
            .start();
    toClose.add(smtp);
    return new Server(smtp, keys);
  }

  private SessionOpener opener(TlsSupport tls) {
    return new SessionOpener(
        new SessionOpener.Settings(
            tls,
            SocketFactory.getDefault(),
            SmtpTimeouts.uniform(Duration.ofSeconds(5)),
            "client.sender.test",
            SmtpReplyReader.Limits.DEFAULT,
            Optional.empty(),
            watchdog),
        new SafeListener(EventListener.NONE));
  }

  private static TlsSupport tls() {
    return new TlsSupport(PKI.trustStore(), TlsContextFactory.JDK, Optional.empty());
  }

  /** Opens a session, runs nothing, QUITs; returns the connection (closed) for inspection. */
  private List<String> lastNotes = List.of();

  private SmtpConnection session(
      SessionOpener opener, Server s, DomainName host, TlsRequirement requirement) {
    SessionOpener.Outcome o =
        opener.open(
            new SessionOpener.Target(Optional.of(host), s.smtp().socketAddress(), requirement));
    assertThat(o).as("%s", o).isInstanceOf(SessionOpener.Ready.class);
    SmtpConnection c = ((SessionOpener.Ready) o).connection();
    lastNotes = o.notes();
    c.quit();
    return c;
  }

  private static TlsDetails tlsOf(SmtpConnection c) {
    return c.tls().orElseThrow();
  }

  @Test
  void aSecondSessionUnderTheSameRequirementResumesAndCarriesTheVerification() throws Exception {
    Server s = server("127.0.0.2", PKI.root().leaf().dnsNames("mx.example.test").issue());
    SessionOpener opener = opener(tls());
    TlsRequirement pkix = new TlsRequirement.Pkix(List.of(MX));

    SmtpConnection first = session(opener, s, MX, pkix);
    SmtpConnection second = session(opener, s, MX, pkix);
    List<String> secondNotes = lastNotes;
    SmtpConnection third = session(opener, s, MX, pkix);

    assertThat(tlsOf(first).resumed()).isFalse();
    assertThat(tlsOf(second).resumed()).isTrue();
    assertThat(tlsOf(third).resumed()).isTrue();
    assertThat(s.fullHandshakes()).isEqualTo(1);
    assertThat(tlsOf(second).protocol()).isEqualTo("TLSv1.3");
    // The resumed session reports what the full handshake verified, and the same peer.
    assertThat(second.authentication()).isEqualTo(Authentication.VERIFIED);
    assertThat(tlsOf(second).peerChain()).isEqualTo(tlsOf(first).peerChain()).isNotEmpty();
    assertThat(secondNotes).anyMatch(n -> n.startsWith("TLS session resumed"));
  }

  @Test
  void aDifferentRequirementHostOrPortNeverResumes() throws Exception {
    TestPki.Issued cert = PKI.root().leaf().dnsNames("mx.example.test", "alt.example.test").issue();
    Server s = server("127.0.0.2", cert);
    Server otherPort = server("127.0.0.2", cert);
    SessionOpener opener = opener(tls());

    session(opener, s, MX, new TlsRequirement.Pkix(List.of(MX)));
    assertThat(s.fullHandshakes()).isEqualTo(1);

    // Other reference names: verification differs, even though this certificate passes both.
    SmtpConnection names = session(opener, s, MX, new TlsRequirement.Pkix(List.of(MX, ALT)));
    assertThat(tlsOf(names).resumed()).isFalse();
    // Another host name (SNI and the session cache's peer host).
    SmtpConnection host = session(opener, s, ALT, new TlsRequirement.Pkix(List.of(MX)));
    assertThat(tlsOf(host).resumed()).isFalse();
    // Unauthenticated: a space of its own, never fed by a verified session either.
    SmtpConnection enc = session(opener, s, MX, new TlsRequirement.Encrypted());
    assertThat(tlsOf(enc).resumed()).isFalse();
    assertThat(s.fullHandshakes()).isEqualTo(4);
    // Another port: another server, which never saw the session.
    SmtpConnection port = session(opener, otherPort, MX, new TlsRequirement.Pkix(List.of(MX)));
    assertThat(tlsOf(port).resumed()).isFalse();
    assertThat(otherPort.fullHandshakes()).isEqualTo(1);
  }

  @Test
  void anUnauthenticatedSessionNeverTurnsIntoAVerifiedOne() throws Exception {
    // Self-signed: encryption works, PKIX must fail.
    Server s = server("127.0.0.2", TestPki.selfSigned("mx.example.test"));
    SessionOpener opener = opener(tls());

    SmtpConnection opp = session(opener, s, MX, new TlsRequirement.Opportunistic());
    assertThat(opp.authentication()).isEqualTo(Authentication.ENCRYPTED);
    SmtpConnection again = session(opener, s, MX, new TlsRequirement.Encrypted());
    assertThat(tlsOf(again).resumed())
        .as("unauthenticated sessions resume among themselves")
        .isTrue();
    assertThat(again.authentication()).isEqualTo(Authentication.ENCRYPTED);

    SessionOpener.Outcome pkix =
        opener.open(
            new SessionOpener.Target(
                Optional.of(MX), s.smtp().socketAddress(), new TlsRequirement.Pkix(List.of(MX))));
    assertThat(pkix).isInstanceOf(SessionOpener.Failed.class);
    assertThat(((SessionOpener.Failed) pkix).failure().type())
        .isEqualTo(FailureType.CERTIFICATE_NOT_TRUSTED);
    assertThat(s.fullHandshakes()).isEqualTo(2);
  }

  @Test
  void aSessionThatFailedVerificationIsNeverResumed() throws Exception {
    // The certificate names another host: PKIX for mx.example.test fails every time, and the
    // failed handshake leaves nothing behind for the next one to resume.
    Server s = server("127.0.0.2", PKI.root().leaf().dnsNames("other.example.test").issue());
    SessionOpener opener = opener(tls());
    for (int i = 0; i < 2; i++) {
      SessionOpener.Outcome o =
          opener.open(
              new SessionOpener.Target(
                  Optional.of(MX), s.smtp().socketAddress(), new TlsRequirement.Pkix(List.of(MX))));
      assertThat(o).isInstanceOf(SessionOpener.Failed.class);
      assertThat(((SessionOpener.Failed) o).failure().type())
          .isEqualTo(FailureType.CERTIFICATE_HOST_MISMATCH);
    }
    assertThat(s.fullHandshakes()).isEqualTo(2);
  }

  @Test
  void theProbeObserverAlwaysGetsAFullHandshake() throws Exception {
    Server s = server("127.0.0.2", PKI.root().leaf().dnsNames("mx.example.test").issue());
    SessionOpener opener = opener(tls());
    TlsRequirement pkix = new TlsRequirement.Pkix(List.of(MX));
    session(opener, s, MX, pkix);
    SessionObserver watching = new SessionObserver() {};
    SessionOpener.Outcome o =
        opener.open(
            new SessionOpener.Target(Optional.of(MX), s.smtp().socketAddress(), pkix), watching);
    assertThat(o).isInstanceOf(SessionOpener.Ready.class);
    SmtpConnection c = ((SessionOpener.Ready) o).connection();
    c.quit();
    assertThat(tlsOf(c).resumed()).isFalse();
    assertThat(s.fullHandshakes()).isEqualTo(2);
  }
}
