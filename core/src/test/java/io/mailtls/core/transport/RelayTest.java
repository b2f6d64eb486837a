package io.mailtls.core.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.Authentication;
import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.FailureType;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SmartHost;
import io.mailtls.core.TlsLevel;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.TestDnsServer;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.Type;

/** Delivery through a relay with SMTP AUTH (RFC 4954), over STARTTLS or implicit TLS (RFC 8314). */
class RelayTest {

  private static final String RELAY = "relay.example.test";

  private static DeliveryReport viaRelay(
      Fixture f,
      UnaryOperator<MockSmtpServer.Builder> server,
      UnaryOperator<SmartHost.Builder> relay) {
    MockSmtpServer s = f.server("127.0.0.2", b -> server.apply(b.hostname(RELAY)));
    f.dns(d -> d.zone("example.test", z -> z.a(RELAY, "127.0.0.2")));
    SmartHost host = relay.apply(SmartHost.builder(RELAY).port(s.port())).build();
    return f.transport(
            TlsLevel.OPPORTUNISTIC, b -> b.relay(host).trustStore(Fixture.PKI.trustStore()))
        .send(
            io.mailtls.core.Envelope.of("a@sender.test", "x@elsewhere.invalid", "y@other.invalid"),
            io.mailtls.core.MessageContent.of(Fixture.MESSAGE.getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void authPlainOverStarttlsWithAVerifiedRelay() throws Exception {
    try (Fixture f = new Fixture()) {
      DeliveryReport r =
          viaRelay(
              f,
              b -> b.tls(Fixture.certFor(RELAY)).credentials("user", "s3cret"),
              h -> h.credentials("user", "s3cret"));
      assertThat(r.allDelivered()).isTrue();
      RecipientResult x = r.result("x@elsewhere.invalid");
      assertThat(x.authentication()).contains(Authentication.VERIFIED);
      assertThat(x.mxHost().orElseThrow().toString()).isEqualTo(RELAY);
      assertThat(f.lastServer().sessions().get(0).authenticatedUser()).contains("user");
      assertThat(f.lastServer().sessions().get(0).commands())
          .filteredOn(c -> c.verb().equals("AUTH"))
          .allMatch(c -> c.tls());
      // Credentials never appear in the report, in clear or in base64.
      String plainB64 =
          Base64.getEncoder().encodeToString("\0user\0s3cret".getBytes(StandardCharsets.US_ASCII));
      assertThat(r.toString()).doesNotContain("s3cret").doesNotContain(plainB64);
    }
  }

  @Test
  void theTlsContextFactoryBuildsEveryContextAroundMailtlsTrustManagers() throws Exception {
    java.util.List<String> built = new java.util.concurrent.CopyOnWriteArrayList<>();
    io.mailtls.core.TlsContextFactory counting =
        tm -> {
          built.add(tm.getClass().getSimpleName());
          return io.mailtls.core.TlsContextFactory.JDK.create(tm);
        };
    try (Fixture f = new Fixture()) {
      MockSmtpServer s = f.server("127.0.0.2", b -> b.hostname(RELAY).tls(Fixture.certFor(RELAY)));
      f.dns(d -> d.zone("example.test", z -> z.a(RELAY, "127.0.0.2")));
      DeliveryReport r =
          f.transport(
                  TlsLevel.OPPORTUNISTIC,
                  b ->
                      b.relay(SmartHost.builder(RELAY).port(s.port()).build())
                          .trustStore(Fixture.PKI.trustStore())
                          .tlsContextFactory(counting))
              .send(
                  io.mailtls.core.Envelope.of("a@sender.test", "x@elsewhere.invalid"),
                  io.mailtls.core.MessageContent.of(
                      Fixture.MESSAGE.getBytes(StandardCharsets.UTF_8)));
      assertThat(r.allDelivered()).isTrue();
      assertThat(r.result("x@elsewhere.invalid").authentication())
          .contains(Authentication.VERIFIED);
      // The transport's shared unauthenticated context, then the relay's resuming context, whose
      // trust manager runs a PkixTrustManager for each full handshake (TlsSupport.resumable).
      assertThat(built).containsExactly("UnauthenticatedTrustManager", "RecordingTrustManager");
    }
  }

  /**
   * A factory that builds its context with trust managers of its own (the usual code for adding a
   * client certificate) leaves mailtls's check out of the handshake. Such a handshake must never
   * read as a session resumed after a verified one: the relay here presents a certificate of a
   * trusted root for another name, and gets neither the credentials nor the message.
   */
  @Test
  void aTlsContextFactoryThatSetsMailtlsTrustManagerAsideFailsClosed() throws Exception {
    io.mailtls.core.TlsContextFactory ownTrustManagers =
        tm -> {
          javax.net.ssl.TrustManagerFactory tmf =
              javax.net.ssl.TrustManagerFactory.getInstance(
                  javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
          tmf.init(Fixture.PKI.trustStore());
          javax.net.ssl.SSLContext ctx = javax.net.ssl.SSLContext.getInstance("TLS");
          ctx.init(null, tmf.getTrustManagers(), null);
          return ctx;
        };
    try (Fixture f = new Fixture()) {
      MockSmtpServer s =
          f.server(
              "127.0.0.2",
              b ->
                  b.hostname(RELAY)
                      .tls(Fixture.certFor("attacker.example.net"))
                      .credentials("user", "s3cret"));
      f.dns(d -> d.zone("example.test", z -> z.a(RELAY, "127.0.0.2")));
      SecureSmtpTransport t =
          f.transport(
              TlsLevel.OPPORTUNISTIC,
              b ->
                  b.relay(
                          SmartHost.builder(RELAY)
                              .port(s.port())
                              .credentials("user", "s3cret")
                              .build())
                      .trustStore(Fixture.PKI.trustStore())
                      .tlsContextFactory(ownTrustManagers));
      for (int i = 0; i < 2; i++) {
        RecipientResult x =
            t.send(
                    io.mailtls.core.Envelope.of("a@sender.test", "x@elsewhere.invalid"),
                    io.mailtls.core.MessageContent.of(
                        Fixture.MESSAGE.getBytes(StandardCharsets.UTF_8)))
                .result("x@elsewhere.invalid");
        assertThat(x.status()).as("%s", x).isEqualTo(DeliveryStatus.DEFERRED);
        assertThat(x.authentication()).isNotEqualTo(java.util.Optional.of(Authentication.VERIFIED));
        assertThat(x.attempt().orElseThrow().failure())
            .contains(FailureType.CERTIFICATE_NOT_TRUSTED);
        assertThat(x.reply().text()).contains("TlsContextFactory");
      }
      assertThat(s.sessions()).allSatisfy(ss -> assertThat(ss.authenticatedUser()).isEmpty());
      assertThat(s.messages()).isEmpty();
    }
  }

  @Test
  void authLoginWhenPlainIsNotOffered() throws Exception {
    try (Fixture f = new Fixture()) {
      DeliveryReport r =
          viaRelay(
              f,
              b ->
                  b.tls(Fixture.certFor(RELAY))
                      .capabilities("PIPELINING", "8BITMIME", "AUTH LOGIN")
                      .credentials("user", "s3cret"),
              h -> h.credentials("user", "s3cret"));
      assertThat(r.allDelivered()).isTrue();
      assertThat(f.lastServer().sessions().get(0).commandLines())
          .anyMatch(l -> l.equals("AUTH LOGIN"));
      assertThat(f.lastServer().sessions().get(0).authenticatedUser()).contains("user");
    }
  }

  @Test
  void credentialsAreNeverSentInPlaintext() throws Exception {
    try (Fixture f = new Fixture()) {
      DeliveryReport r =
          viaRelay(
              f,
              b -> b.credentials("user", "s3cret"),
              h ->
                  h.requirement(new io.mailtls.core.TlsRequirement.Opportunistic())
                      .credentials("user", "s3cret"));
      RecipientResult x = r.result("x@elsewhere.invalid");
      assertThat(x.status()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(x.attempt().orElseThrow().detail()).contains("without TLS");
      assertThat(f.lastServer().sessions())
          .allSatisfy(s -> assertThat(s.commandLines()).noneMatch(l -> l.startsWith("AUTH")));
    }
  }

  @Test
  void refusedCredentialsDefer() throws Exception {
    try (Fixture f = new Fixture()) {
      DeliveryReport r =
          viaRelay(
              f,
              b -> b.tls(Fixture.certFor(RELAY)).credentials("user", "right"),
              h -> h.credentials("user", "wrong"));
      RecipientResult x = r.result("x@elsewhere.invalid");
      assertThat(x.status()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(x.attempt().orElseThrow().failure()).contains(FailureType.AUTHENTICATION_FAILED);
      assertThat(f.lastServer().messages()).isEmpty();
    }
  }

  @Test
  void relayCertificateNotNamingTheRelayIsRefused() throws Exception {
    try (Fixture f = new Fixture()) {
      DeliveryReport r =
          viaRelay(f, b -> b.tls(Fixture.certFor("someone-else.example.test")), h -> h);
      RecipientResult x = r.result("x@elsewhere.invalid");
      assertThat(x.status()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(x.attempt().orElseThrow().failure())
          .contains(FailureType.CERTIFICATE_HOST_MISMATCH);
      assertThat(f.lastServer().messages()).isEmpty();
    }
  }

  @Test
  void implicitTlsRelay() throws Exception {
    try (Fixture f = new Fixture()) {
      DeliveryReport r =
          viaRelay(
              f,
              b -> b.tls(Fixture.certFor(RELAY)).implicitTls().credentials("user", "s3cret"),
              h -> h.implicitTls().credentials("user", "s3cret"));
      assertThat(r.allDelivered()).isTrue();
      assertThat(r.result("y@other.invalid").tls().orElseThrow().protocol())
          .isIn("TLSv1.3", "TLSv1.2");
      assertThat(f.lastServer().sessions().get(0).commandLines())
          .noneMatch(l -> l.startsWith("STARTTLS"));
    }
  }

  @Test
  void theRelayPlanIsMadeAgainOnlyWhenTheRelaysAddressAnswersChange() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer first =
          f.server("127.0.0.2", b -> b.hostname(RELAY).tls(Fixture.certFor(RELAY)));
      MockSmtpServer moved =
          f.server("127.0.0.3", b -> b.hostname(RELAY).tls(Fixture.certFor(RELAY)));
      // TTL 0: the resolver keeps no answer, so every message asks the DNS server again.
      TestDnsServer dns =
          f.dns(d -> d.zone("example.test", z -> z.ttl(Duration.ZERO).a(RELAY, "127.0.0.2")));
      SecureSmtpTransport t =
          f.transport(
              TlsLevel.OPPORTUNISTIC,
              b ->
                  b.relay(SmartHost.builder(RELAY).port(f.port()).build())
                      .trustStore(Fixture.PKI.trustStore()));
      RecipientResult one = Fixture.send(t, "x@elsewhere.invalid").result("x@elsewhere.invalid");
      RecipientResult two = Fixture.send(t, "y@other.invalid").result("y@other.invalid");
      assertThat(one.status()).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(two.status()).isEqualTo(DeliveryStatus.DELIVERED);
      // The same answers: the plan made for the first message serves the second.
      assertThat(two.plan()).isSameAs(one.plan());
      assertThat(first.messages()).hasSize(2);

      // The relay's address changes: the next message is planned again and goes there.
      dns.update(
          "example.test", z -> z.remove(RELAY, Type.A).ttl(Duration.ZERO).a(RELAY, "127.0.0.3"));
      RecipientResult three = Fixture.send(t, "x@elsewhere.invalid").result("x@elsewhere.invalid");
      RecipientResult four = Fixture.send(t, "y@other.invalid").result("y@other.invalid");
      assertThat(three.plan()).isNotSameAs(one.plan());
      assertThat(three.plan().hosts().get(0).addresses())
          .containsExactly(InetAddress.getByName("127.0.0.3"));
      assertThat(three.status()).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(four.plan()).isSameAs(three.plan());
      assertThat(moved.messages()).hasSize(2);
      assertThat(first.messages()).hasSize(2);
    }
  }
}
