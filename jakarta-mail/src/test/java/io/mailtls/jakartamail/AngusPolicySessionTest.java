package io.mailtls.jakartamail;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailtls.core.DeliveryPlan;
import io.mailtls.core.DomainName;
import io.mailtls.core.NextHop;
import io.mailtls.core.PlannedHost;
import io.mailtls.core.PolicySource;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.TlsRequirement;
import io.mailtls.core.TransportPolicyResolver;
import io.mailtls.core.internal.Values;
import io.mailtls.dane.DaneResolver;
import io.mailtls.testkit.SmtpMessage;
import io.mailtls.testkit.SmtpSession;
import io.mailtls.testkit.TestPki;
import io.mailtls.testkit.Tlsa;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.MimeMessage;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import javax.net.ssl.SSLSocketFactory;
import org.junit.jupiter.api.Test;

/**
 * Angus Mail's own SMTP transport, configured per planned host by {@link AngusPolicySession},
 * against the testkit's servers: mailtls's requirement decides STARTTLS and trust.
 */
class AngusPolicySessionTest {

  private static final DomainName MX = DomainName.of(Loopback.MX);

  private static Properties base() {
    Properties p = new Properties();
    p.setProperty("mail.smtp.localhost", "client.sender.test");
    p.setProperty("mail.smtp.connectiontimeout", "10000");
    p.setProperty("mail.smtp.timeout", "10000");
    return p;
  }

  private static void sendThrough(Session session, MimeMessage m) throws MessagingException {
    try (Transport t = session.getTransport("smtp")) {
      t.connect();
      t.sendMessage(m, m.getAllRecipients());
    }
  }

  /** {@code m} as a message of {@code session}, as {@code Transport.send} takes its session. */
  private static MimeMessage inSession(MimeMessage m, Session session) throws Exception {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    m.writeTo(out);
    return new MimeMessage(session, new java.io.ByteArrayInputStream(out.toByteArray()));
  }

  private static PlannedHost host(Loopback net, TlsRequirement requirement) {
    return Values.plannedHost(
        Optional.of(MX),
        List.of(net.server.address()),
        requirement,
        PolicySource.MTA_STS,
        "test",
        Optional.empty());
  }

  private static AngusPolicySession pkixTrusting(TestPki pki) {
    return AngusPolicySession.builder().trustStore(pki.trustStore()).build();
  }

  private static DeliveryPlan plan(Loopback net, TlsLevel level) {
    return TransportPolicyResolver.builder()
        .withoutMtaSts()
        .withoutDane()
        .dns(net.resolver)
        .build()
        .plan(NextHop.parse("example.test"), level);
  }

  // --- sender levels through the resolver's plan ---------------------------------------------

  @Test
  void enforcedRefusesAServerWithoutStarttlsBeforeMail() throws Exception {
    try (Loopback net = Loopback.start(b -> b)) {
      DeliveryPlan plan = plan(net, TlsLevel.ENFORCED);
      assertThat(plan.hosts())
          .singleElement()
          .satisfies(h -> assertThat(h.requirement()).isInstanceOf(TlsRequirement.Encrypted.class));
      List<Session> sessions =
          AngusPolicySession.builder().build().sessionsFor(plan, net.server.port(), base());
      assertThat(sessions).hasSize(1);

      assertThatThrownBy(() -> sendThrough(sessions.get(0), Messages.multipart(new byte[10])))
          .isInstanceOf(MessagingException.class)
          .hasMessageContaining("STARTTLS");
      assertThat(net.sawMail()).isFalse();
      assertThat(net.server.messages()).isEmpty();
    }
  }

  @Test
  void enforcedDeliversOverTlsToAnyCertificate() throws Exception {
    try (Loopback net =
        Loopback.start(b -> b.tls(TestPki.selfSigned("elsewhere.test").serverSslContext()))) {
      DeliveryPlan plan = plan(net, TlsLevel.ENFORCED);
      MimeMessage m = Messages.multipart(Messages.binary(2000));
      sendThrough(
          AngusPolicySession.builder()
              .build()
              .sessionFor(plan.hosts().get(0), net.server.port(), base()),
          m);

      SmtpMessage got = net.server.awaitMessages(1, Duration.ofSeconds(10)).get(0);
      assertThat(got.tls()).isTrue();
      assertThat(got.dataAsString()).doesNotContain("Bcc:").doesNotContain("hidden@");
      SmtpSession s = net.server.sessions().get(0);
      assertThat(s.tlsProtocol()).hasValueSatisfying(p -> assertThat(p).isIn("TLSv1.3", "TLSv1.2"));
      assertThat(s.clientHelloVersions()).doesNotContain("TLSv1", "TLSv1.1");
      assertThat(s.sniHostName()).contains(Loopback.MX);
    }
  }

  @Test
  void opportunisticStaysInPlaintextWithoutStarttls() throws Exception {
    try (Loopback net = Loopback.start(b -> b)) {
      DeliveryPlan plan = plan(net, TlsLevel.OPPORTUNISTIC);
      sendThrough(
          AngusPolicySession.builder()
              .build()
              .sessionFor(plan.hosts().get(0), net.server.port(), base()),
          Messages.multipart(Messages.binary(10)));
      assertThat(net.server.awaitMessages(1, Duration.ofSeconds(10)).get(0).tls()).isFalse();
    }
  }

  /**
   * Credentials never go over plaintext, as the transport's relays promise: an opportunistic host
   * (STARTTLS when offered, plaintext otherwise, RFC 7435) that offers AUTH but no STARTTLS, as a
   * network attacker who strips STARTTLS makes any host look, does not get them. Angus would send
   * {@code AUTH PLAIN} with the password in base64 in plaintext; with {@code mail.smtp.auth=true}
   * the session requires STARTTLS, so Angus stops before AUTH (and before MAIL).
   */
  @Test
  void credentialsNeverGoOverPlaintextToAnOpportunisticHost() throws Exception {
    try (Loopback net = Loopback.start(b -> b.credentials("user", "s3cret"))) {
      DeliveryPlan plan = plan(net, TlsLevel.OPPORTUNISTIC);
      assertThat(plan.hosts())
          .singleElement()
          .satisfies(
              h -> assertThat(h.requirement()).isInstanceOf(TlsRequirement.Opportunistic.class));
      Properties base = base();
      base.setProperty("mail.smtp.auth", "true");
      Session session =
          AngusPolicySession.builder()
              .build()
              .sessionFor(plan.hosts().get(0), net.server.port(), base);
      MimeMessage m = Messages.multipart(Messages.binary(10));
      try (Transport t = session.getTransport("smtp")) {
        t.connect("user", "s3cret");
        t.sendMessage(m, m.getAllRecipients());
      } catch (MessagingException expected) {
        assertThat(expected).hasMessageContaining("STARTTLS");
      }
      assertThat(net.server.sessions())
          .as("sessions")
          .isNotEmpty()
          .allSatisfy(
              s -> {
                assertThat(s.commandLines())
                    .as("commands in plaintext")
                    .noneMatch(l -> l.regionMatches(true, 0, "AUTH", 0, 4));
                assertThat(s.authenticatedUser()).isEmpty();
              });
      assertThat(net.sawMail()).isFalse();
    }
  }

  /** A way to hand Angus credentials without {@code mail.smtp.auth}. */
  @FunctionalInterface
  private interface CredentialedSend {
    void send(Session session, MimeMessage m, String hostAddress, int port)
        throws MessagingException;
  }

  /**
   * The gap {@code mail.smtp.auth} left: Angus authenticates whenever it is given a user and a
   * password (its {@code protocolConnect}: {@code useAuth || (user != null && password != null)}),
   * so credentials passed only to {@code connect} or {@code Transport.send}, with no {@code
   * mail.smtp.auth} in the properties, reached an opportunistic host without STARTTLS (or one an
   * attacker stripped it from) in plaintext. Each way stops before AUTH and before MAIL, for a
   * session from {@code sessionFor} and for one built from {@code propertiesFor}.
   */
  @Test
  void credentialsGivenOnlyToConnectNeverGoOverPlaintext() throws Exception {
    List<CredentialedSend> ways =
        List.of(
            (s, m, h, p) -> {
              try (Transport t = s.getTransport("smtp")) {
                t.connect("user", "s3cret");
                t.sendMessage(m, m.getAllRecipients());
              }
            },
            (s, m, h, p) -> {
              try (Transport t = s.getTransport()) {
                t.connect(h, p, "user", "s3cret");
                t.sendMessage(m, m.getAllRecipients());
              }
            },
            (s, m, h, p) -> Transport.send(m, "user", "s3cret"));
    for (int way = 0; way < ways.size(); way++) {
      for (boolean ownSession : List.of(false, true)) {
        try (Loopback net = Loopback.start(b -> b.credentials("user", "s3cret"))) {
          DeliveryPlan plan = plan(net, TlsLevel.OPPORTUNISTIC);
          PlannedHost h = plan.hosts().get(0);
          AngusPolicySession policy = AngusPolicySession.builder().build();
          Session session =
              ownSession
                  ? Session.getInstance(
                      policy.propertiesFor(h, h.addresses().get(0), net.server.port(), base()))
                  : policy.sessionFor(h, net.server.port(), base());
          MimeMessage m = inSession(Messages.multipart(Messages.binary(10)), session);
          MessagingException thrown = null;
          try {
            ways.get(way)
                .send(session, m, net.server.address().getHostAddress(), net.server.port());
          } catch (MessagingException e) {
            thrown = e;
          }
          String as = "way " + way + (ownSession ? ", own session" : ", sessionFor");
          assertThat(net.server.sessions())
              .as(as + ": sessions")
              .isNotEmpty()
              .allSatisfy(
                  s -> {
                    assertThat(s.commandLines())
                        .as(as + ": commands in plaintext")
                        .noneMatch(l -> l.regionMatches(true, 0, "AUTH", 0, 4));
                    assertThat(s.authenticatedUser()).as(as).isEmpty();
                  });
          assertThat(net.sawMail()).as(as + ": MAIL").isFalse();
          assertThat(thrown).as(as).isNotNull();
          assertThat(thrown).as(as).hasMessageContaining("STARTTLS");
        }
      }
    }
  }

  /**
   * The guard only adds STARTTLS where credentials are given: credentials given to {@code connect}
   * still authenticate to a host that offers STARTTLS, inside TLS; and without credentials an
   * opportunistic send on a session built from {@code propertiesFor} still goes in plaintext to a
   * host without STARTTLS, also on a transport that authenticated before (RFC 7435).
   */
  @Test
  void credentialsGoOverStarttlsAndPlainOpportunisticSendsStayPlain() throws Exception {
    try (Loopback net =
        Loopback.start(
            b ->
                b.credentials("user", "s3cret")
                    .tls(TestPki.selfSigned("elsewhere.test").serverSslContext()))) {
      PlannedHost h = plan(net, TlsLevel.OPPORTUNISTIC).hosts().get(0);
      Session session =
          AngusPolicySession.builder().build().sessionFor(h, net.server.port(), base());
      MimeMessage m = inSession(Messages.multipart(Messages.binary(10)), session);
      try (Transport t = session.getTransport("smtp")) {
        t.connect("user", "s3cret");
        t.sendMessage(m, m.getAllRecipients());
      }
      SmtpMessage got = net.server.awaitMessages(1, Duration.ofSeconds(10)).get(0);
      assertThat(got.tls()).isTrue();
      assertThat(net.server.sessions().get(0).authenticatedUser()).contains("user");
    }
    try (Loopback net = Loopback.start(b -> b)) {
      PlannedHost h = plan(net, TlsLevel.OPPORTUNISTIC).hosts().get(0);
      Session session =
          Session.getInstance(
              AngusPolicySession.builder()
                  .build()
                  .propertiesFor(h, h.addresses().get(0), net.server.port(), base()));
      try (Transport t = session.getTransport("smtp")) {
        assertThatThrownBy(() -> t.connect("user", "s3cret"))
            .isInstanceOf(MessagingException.class)
            .hasMessageContaining("STARTTLS");
        t.connect();
        MimeMessage m = inSession(Messages.multipart(Messages.binary(10)), session);
        t.sendMessage(m, m.getAllRecipients());
      }
      assertThat(net.server.awaitMessages(1, Duration.ofSeconds(10)).get(0).tls()).isFalse();
    }
  }

  @Test
  void aPlanThatFailedClosedYieldsNoSession() throws Exception {
    try (Loopback net = Loopback.start(b -> b)) {
      DeliveryPlan plan = plan(net, TlsLevel.STS_REQUIRED); // no MTA-STS source: fails closed
      assertThat(plan.failure()).isPresent();
      assertThat(AngusPolicySession.builder().build().sessionsFor(plan, net.server.port(), base()))
          .isEmpty();
    }
  }

  // --- PKIX (as MTA-STS enforce plans it) ------------------------------------------------------

  @Test
  void pkixDeliversWithAVerifiedCertificate() throws Exception {
    try (Loopback net = Loopback.start(b -> b.tls(Loopback.certFor(Loopback.MX)))) {
      PlannedHost h = host(net, new TlsRequirement.Pkix(List.of(MX)));
      sendThrough(
          pkixTrusting(Loopback.PKI).sessionFor(h, net.server.port(), base()),
          Messages.multipart(Messages.binary(10)));
      assertThat(net.server.awaitMessages(1, Duration.ofSeconds(10)).get(0).tls()).isTrue();
      assertThat(net.server.sessions().get(0).sniHostName()).contains(Loopback.MX);
    }
  }

  @Test
  void pkixRefusesAWrongNameCertificate() throws Exception {
    try (Loopback net = Loopback.start(b -> b.tls(Loopback.certFor("other.example.test")))) {
      PlannedHost h = host(net, new TlsRequirement.Pkix(List.of(MX)));
      assertThatThrownBy(
              () ->
                  sendThrough(
                      pkixTrusting(Loopback.PKI).sessionFor(h, net.server.port(), base()),
                      Messages.multipart(Messages.binary(10))))
          .isInstanceOf(MessagingException.class)
          .hasStackTraceContaining("match none of");
      assertThat(net.sawMail()).isFalse();
    }
  }

  @Test
  void pkixRefusesAnUntrustedChain() throws Exception {
    try (Loopback net = Loopback.start(b -> b.tls(Loopback.certFor(Loopback.MX)))) {
      PlannedHost h = host(net, new TlsRequirement.Pkix(List.of(MX)));
      // The JDK's roots do not include the test root.
      assertThatThrownBy(
              () ->
                  sendThrough(
                      AngusPolicySession.builder().build().sessionFor(h, net.server.port(), base()),
                      Messages.multipart(Messages.binary(10))))
          .isInstanceOf(MessagingException.class)
          .hasStackTraceContaining("not trusted");
      assertThat(net.sawMail()).isFalse();
    }
  }

  // --- DANE, through the public DaneProvider SPI -------------------------------------------

  private static final TestPki.Issued DANE_LEAF =
      TestPki.selfSignedLeaf().dnsNames("unrelated.test").issue();

  @Test
  void daneDeliversWhenTheTlsaRecordMatches() throws Exception {
    try (Loopback net =
        Loopback.start(
            b -> b.tls(DANE_LEAF.serverSslContext()),
            z -> z.tlsaFor(Tlsa.smtpOwner(Loopback.MX), 3, 1, 1, DANE_LEAF))) {
      DaneResolver dane = DaneResolver.builder().dns(net.resolver).build();
      DeliveryPlan plan =
          TransportPolicyResolver.builder()
              .withoutMtaSts()
              .dns(net.resolver)
              .dane(dane)
              .build()
              .plan(NextHop.parse("example.test"), TlsLevel.DANE_REQUIRED);
      assertThat(plan.hosts())
          .singleElement()
          .satisfies(h -> assertThat(h.requirement()).isInstanceOf(TlsRequirement.Dane.class));

      sendThrough(
          AngusPolicySession.builder()
              .dane(dane)
              .build()
              .sessionFor(plan.hosts().get(0), net.server.port(), base()),
          Messages.multipart(Messages.binary(10)));
      assertThat(net.server.awaitMessages(1, Duration.ofSeconds(10)).get(0).tls()).isTrue();
      // RFC 7672 §8.1: SNI is the TLSA base domain; DANE-EE ignores the certificate's names.
      assertThat(net.server.sessions().get(0).sniHostName()).contains(Loopback.MX);
    }
  }

  @Test
  void daneRefusesACertificateNoRecordMatches() throws Exception {
    try (Loopback net =
        Loopback.start(
            b -> b.tls(DANE_LEAF.serverSslContext()),
            z -> z.tlsa(Tlsa.smtpOwner(Loopback.MX), 3, 1, 1, Tlsa.wrongData(1)))) {
      DaneResolver dane = DaneResolver.builder().dns(net.resolver).build();
      DeliveryPlan plan =
          TransportPolicyResolver.builder()
              .withoutMtaSts()
              .dns(net.resolver)
              .dane(dane)
              .build()
              .plan(NextHop.parse("example.test"), TlsLevel.OPPORTUNISTIC);
      // RFC 7672 §2.2: a usable record makes DANE mandatory, even under an opportunistic sender.
      assertThat(plan.hosts().get(0).requirement()).isInstanceOf(TlsRequirement.Dane.class);
      assertThatThrownBy(
              () ->
                  sendThrough(
                      AngusPolicySession.builder()
                          .dane(dane)
                          .build()
                          .sessionFor(plan.hosts().get(0), net.server.port(), base()),
                      Messages.multipart(Messages.binary(10))))
          .isInstanceOf(MessagingException.class)
          .hasStackTraceContaining("DANE authentication failed");
      assertThat(net.sawMail()).isFalse();
    }
  }

  /**
   * {@code newBuilder()}: a factory derived from one that trusts the test root and has no DANE
   * provider gets one, and still trusts the test root; the original still refuses DANE hosts.
   */
  @Test
  void aDerivedFactoryGainsADaneProviderAndKeepsTheTrustStore() throws Exception {
    try (Loopback net =
        Loopback.start(
            b -> b.tls(DANE_LEAF.serverSslContext()),
            z -> z.tlsaFor(Tlsa.smtpOwner(Loopback.MX), 3, 1, 1, DANE_LEAF))) {
      DaneResolver dane = DaneResolver.builder().dns(net.resolver).build();
      DeliveryPlan plan =
          TransportPolicyResolver.builder()
              .withoutMtaSts()
              .dns(net.resolver)
              .dane(dane)
              .build()
              .plan(NextHop.parse("example.test"), TlsLevel.OPPORTUNISTIC);
      AngusPolicySession original = pkixTrusting(Loopback.PKI);
      AngusPolicySession derived = original.newBuilder().dane(dane).build();

      sendThrough(
          derived.sessionFor(plan.hosts().get(0), net.server.port(), base()),
          Messages.multipart(Messages.binary(10)));
      assertThat(net.server.awaitMessages(1, Duration.ofSeconds(10)).get(0).tls()).isTrue();
      assertThatThrownBy(() -> original.sessionsFor(plan, net.server.port(), base()))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("requires DANE");
    }
    try (Loopback net = Loopback.start(b -> b.tls(Loopback.certFor(Loopback.MX)))) {
      AngusPolicySession derived =
          pkixTrusting(Loopback.PKI)
              .newBuilder()
              .dane(DaneResolver.builder().dns(net.resolver).build())
              .build();
      PlannedHost h = host(net, new TlsRequirement.Pkix(List.of(MX)));
      sendThrough(
          derived.sessionFor(h, net.server.port(), base()),
          Messages.multipart(Messages.binary(10)));
      assertThat(net.server.awaitMessages(1, Duration.ofSeconds(10)).get(0).tls()).isTrue();
    }
    assertThatThrownBy(
            () ->
                AngusPolicySession.builder()
                    .build()
                    .newBuilder()
                    .trustStore(Loopback.PKI.trustStore())
                    .trustStore(Loopback.PKI.trustStore()))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void aDaneHostWithoutAProviderIsRefused() throws Exception {
    try (Loopback net =
        Loopback.start(
            b -> b.tls(DANE_LEAF.serverSslContext()),
            z -> z.tlsaFor(Tlsa.smtpOwner(Loopback.MX), 3, 1, 1, DANE_LEAF))) {
      DaneResolver dane = DaneResolver.builder().dns(net.resolver).build();
      DeliveryPlan plan =
          TransportPolicyResolver.builder()
              .withoutMtaSts()
              .dns(net.resolver)
              .dane(dane)
              .build()
              .plan(NextHop.parse("example.test"), TlsLevel.OPPORTUNISTIC);
      AngusPolicySession withoutDane = AngusPolicySession.builder().build();
      assertThatThrownBy(() -> withoutDane.sessionsFor(plan, net.server.port(), base()))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("requires DANE");
    }
  }

  // --- the properties themselves -----------------------------------------------------------

  @Test
  void baseSettingsCannotLoosenThePolicy() throws Exception {
    InetAddress a = InetAddress.getByName("127.0.0.2");
    PlannedHost h =
        Values.plannedHost(
            Optional.of(MX),
            List.of(a),
            new TlsRequirement.Encrypted(),
            PolicySource.SENDER,
            "test",
            Optional.empty());
    Properties base = base();
    base.setProperty("mail.smtp.ssl.trust", "*");
    base.setProperty("mail.smtp.starttls.required", "false");
    base.setProperty("mail.smtp.ssl.protocols", "TLSv1");
    base.setProperty("mail.smtp.socketFactory.class", "javax.net.ssl.SSLSocketFactory");
    base.setProperty("mail.smtp.host", "elsewhere.test");
    base.put("mail.smtp.ssl.socketFactory", SSLSocketFactory.getDefault());

    Properties p = AngusPolicySession.builder().build().propertiesFor(h, a, 2525, base);

    assertThat(p.getProperty("mail.smtp.host")).isEqualTo("127.0.0.2");
    assertThat(p.getProperty("mail.smtp.port")).isEqualTo("2525");
    assertThat(p.getProperty("mail.smtp.starttls.enable")).isEqualTo("true");
    assertThat(p.getProperty("mail.smtp.starttls.required")).isEqualTo("true");
    assertThat(p.getProperty("mail.smtp.ssl.protocols")).isEqualTo("TLSv1.3 TLSv1.2");
    assertThat(p.getProperty("mail.smtp.ssl.checkserveridentity")).isEqualTo("false");
    assertThat(p.getProperty("mail.smtp.ssl.trust")).isNull();
    assertThat(p.getProperty("mail.smtp.socketFactory.class")).isNull();
    assertThat(p.get("mail.smtp.ssl.socketFactory"))
        .isInstanceOf(SSLSocketFactory.class)
        .isNotSameAs(SSLSocketFactory.getDefault());
    assertThat(p.getProperty("mail.smtp.localhost")).isEqualTo("client.sender.test");
    assertThat(base.getProperty("mail.smtp.ssl.trust")).as("base unchanged").isEqualTo("*");

    PlannedHost opportunistic =
        Values.plannedHost(
            Optional.of(MX),
            List.of(a),
            new TlsRequirement.Opportunistic(),
            PolicySource.SENDER,
            "test",
            Optional.empty());
    assertThat(
            AngusPolicySession.builder()
                .build()
                .propertiesFor(opportunistic, a, 25, base)
                .getProperty("mail.smtp.starttls.required"))
        .isEqualTo("false");
  }

  /**
   * The session's transport is mailtls's {@link AngusPolicyTransport}, named in {@code
   * mail.smtp.class} and found by Jakarta Mail through the module's provider registration (also on
   * a session built from {@code propertiesFor}); a base naming another smtp class is refused, since
   * that transport would send credentials without TLS.
   */
  @Test
  void theSessionsTransportIsMailtlsAndABaseCannotNameAnother() throws Exception {
    InetAddress a = InetAddress.getByName("127.0.0.2");
    PlannedHost h =
        Values.plannedHost(
            Optional.of(MX),
            List.of(a),
            new TlsRequirement.Opportunistic(),
            PolicySource.SENDER,
            "test",
            Optional.empty());
    AngusPolicySession policy = AngusPolicySession.builder().build();
    Properties p = policy.propertiesFor(h, a, 25, base());
    assertThat(p.getProperty("mail.smtp.class")).isEqualTo(AngusPolicyTransport.class.getName());
    assertThat(Session.getInstance(p).getTransport("smtp"))
        .isInstanceOf(AngusPolicyTransport.class);
    assertThat(Session.getInstance(p).getTransport()).isInstanceOf(AngusPolicyTransport.class);
    assertThat(policy.sessionFor(h, 25, base()).getTransport("smtp"))
        .isInstanceOf(AngusPolicyTransport.class);
    // Asked for by its own protocol, it is still an smtp transport (mail.smtp.* properties).
    assertThat(
            Session.getInstance(p)
                .getTransport(AngusPolicyTransport.PROTOCOL)
                .getURLName()
                .getProtocol())
        .isEqualTo("smtp");
    // Other sessions keep Angus's own transport as their default smtp.
    assertThat(Session.getInstance(new Properties()).getTransport("smtp"))
        .isNotInstanceOf(AngusPolicyTransport.class);

    Properties foreign = base();
    foreign.setProperty("mail.smtp.class", "org.eclipse.angus.mail.smtp.SMTPTransport");
    assertThatThrownBy(() -> policy.propertiesFor(h, a, 25, foreign))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("mail.smtp.class");
    assertThatThrownBy(() -> policy.sessionFor(h, 25, foreign))
        .isInstanceOf(IllegalArgumentException.class);
    // The session's own properties may be given back as a base.
    assertThat(policy.propertiesFor(h, a, 25, p).getProperty("mail.smtp.class"))
        .isEqualTo(AngusPolicyTransport.class.getName());
  }

  @Test
  void onlyThePlannedAddressesAndValidPortsAreAccepted() throws Exception {
    InetAddress a = InetAddress.getByName("127.0.0.2");
    PlannedHost h =
        Values.plannedHost(
            Optional.of(MX),
            List.of(a),
            new TlsRequirement.Encrypted(),
            PolicySource.SENDER,
            "test",
            Optional.empty());
    AngusPolicySession policy = AngusPolicySession.builder().build();
    assertThatThrownBy(
            () -> policy.propertiesFor(h, InetAddress.getByName("127.0.0.3"), 25, new Properties()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("127.0.0.3");
    assertThatThrownBy(() -> policy.propertiesFor(h, a, 0, new Properties()))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(
            () ->
                AngusPolicySession.builder()
                    .trustStore(Loopback.PKI.trustStore())
                    .trustStore(Loopback.PKI.trustStore()))
        .isInstanceOf(IllegalStateException.class);
  }
}
