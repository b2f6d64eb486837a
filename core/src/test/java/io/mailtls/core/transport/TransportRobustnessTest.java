package io.mailtls.core.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.Authentication;
import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DomainName;
import io.mailtls.core.Envelope;
import io.mailtls.core.FailureType;
import io.mailtls.core.MessageContent;
import io.mailtls.core.MtaStsLookup;
import io.mailtls.core.MtaStsMode;
import io.mailtls.core.MtaStsPolicy;
import io.mailtls.core.MtaStsPolicySource;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SmartHost;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.TlsRequirement;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.SmtpAction;
import io.mailtls.testkit.SmtpStep;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.SocketFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Regression tests from a review of the transport: resources given back on every failure path,
 * whole-reply deadlines, the sender's level honoured through a relay, and no exception where a
 * report is due.
 */
class TransportRobustnessTest {

  private static final MessageContent CONTENT =
      MessageContent.of(Fixture.MESSAGE.getBytes(StandardCharsets.US_ASCII));

  private static void example(Fixture f, MockSmtpServer mx) {
    f.dns(d -> d.zone("example.test", z -> z.mailHost("example.test", 10, "mx.example.test", mx)));
  }

  /**
   * Opportunistic TLS fails, then the plaintext retry fails too: the session slot must come back,
   * or with a cap of one session the next message could never reach this (now healthy) host.
   */
  @Test
  void aFailedPlaintextRetryGivesItsSessionSlotBack() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx =
          f.server(
              "127.0.0.2",
              b ->
                  b.hostname("mx.example.test")
                      .tls(Fixture.certFor("mx.example.test"))
                      .on(
                          SmtpStep.GREETING,
                          SmtpAction.proceed(),
                          SmtpAction.reply(554, "5.3.2", "go away"),
                          SmtpAction.proceed())
                      .on(SmtpStep.TLS_HANDSHAKE, SmtpAction.disconnect(), SmtpAction.proceed()));
      example(f, mx);
      f.timeouts = SmtpTimeouts.uniform(Duration.ofSeconds(2));
      SecureSmtpTransport t =
          f.transport(TlsLevel.OPPORTUNISTIC, b -> b.maxSessionsPerDestination(1));
      assertThat(
              t.send(Envelope.of("a@sender.test", "r@example.test"), CONTENT)
                  .result("r@example.test")
                  .status())
          .isEqualTo(DeliveryStatus.DEFERRED);
      RecipientResult second =
          t.send(Envelope.of("a@sender.test", "r@example.test"), CONTENT).result("r@example.test");
      assertThat(second.status()).as("%s", second).isEqualTo(DeliveryStatus.DELIVERED);
    }
  }

  /** A rejected greeting closes the client's socket at once, not at garbage collection. */
  @Test
  void aRejectedGreetingClosesTheSocket() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx =
          f.server(
              "127.0.0.2",
              b ->
                  b.hostname("mx.example.test")
                      .on(SmtpStep.GREETING, SmtpAction.reply(554, "5.3.2", "go away")));
      example(f, mx);
      List<Socket> made = new CopyOnWriteArrayList<>();
      SocketFactory recording =
          new SocketFactory() {
            @Override
            public Socket createSocket() {
              Socket s = new Socket();
              made.add(s);
              return s;
            }

            @Override
            public Socket createSocket(String host, int port) {
              throw new IllegalStateException("the transport creates unconnected sockets");
            }

            @Override
            public Socket createSocket(String host, int port, InetAddress local, int localPort) {
              throw new IllegalStateException("the transport creates unconnected sockets");
            }

            @Override
            public Socket createSocket(InetAddress host, int port) {
              throw new IllegalStateException("the transport creates unconnected sockets");
            }

            @Override
            public Socket createSocket(
                InetAddress host, int port, InetAddress local, int localPort) {
              throw new IllegalStateException("the transport creates unconnected sockets");
            }
          };
      RecipientResult r =
          f.transport(TlsLevel.OPPORTUNISTIC, b -> b.socketFactory(recording))
              .send(Envelope.of("a@sender.test", "r@example.test"), CONTENT)
              .result("r@example.test");
      assertThat(r.attempt().orElseThrow().failure()).contains(FailureType.GREETING_REJECTED);
      assertThat(made).isNotEmpty().allMatch(Socket::isClosed);
    }
  }

  /**
   * RFC 5321 §4.5.3.2: the greeting timeout bounds the whole greeting, so a server dripping one
   * byte just inside each read's timeout cannot hold the sender.
   */
  @Test
  @Timeout(30)
  void aDrippedGreetingIsBoundedByTheGreetingTimeout() throws Exception {
    try (ServerSocket server = new ServerSocket();
        Fixture f = new Fixture()) {
      server.bind(new InetSocketAddress(Fixture.inet("127.0.0.2"), 0));
      Thread peer =
          new Thread(
              () -> {
                try (Socket s = server.accept()) {
                  OutputStream out = s.getOutputStream();
                  for (byte b :
                      "220 drip.example.test ESMTP\r\n".getBytes(StandardCharsets.US_ASCII)) {
                    out.write(b);
                    out.flush();
                    Thread.sleep(700);
                  }
                } catch (Exception e) {
                  // the client hung up: expected
                }
              },
              "dripping-peer");
      peer.setDaemon(true);
      peer.start();
      f.rawMx(server.getLocalPort());
      f.timeouts = SmtpTimeouts.uniform(Duration.ofSeconds(1));
      RecipientResult r =
          f.transport(TlsLevel.OPPORTUNISTIC)
              .send(Envelope.of("a@sender.test", "rcpt@example.test"), CONTENT)
              .result("rcpt@example.test");
      assertThat(r.status()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(r.attempt().orElseThrow().failure()).contains(FailureType.TIMEOUT);
      // The bound on the whole reply ended it: each octet came within the 1 s read timeout, so
      // without that bound the greeting would have arrived whole, some 20 s later.
      assertThat(r.attempt().orElseThrow().detail())
          .contains("greeting: no complete reply within PT1S");
    }
  }

  /** docs/design.md §1: nothing lowers the sender's level, a relay neither. */
  @Test
  void levelsThatConcernTheRecipientsMxHostsFailClosedThroughARelay() throws Exception {
    for (TlsLevel level : new TlsLevel[] {TlsLevel.DANE_REQUIRED, TlsLevel.STS_REQUIRED}) {
      try (Fixture f = new Fixture()) {
        MockSmtpServer relay = f.server("127.0.0.2", b -> b.hostname("relay.example.test"));
        f.dns(d -> d.zone("example.test", z -> z.a("relay.example.test", "127.0.0.2")));
        SmartHost host =
            SmartHost.builder("relay.example.test")
                .port(relay.port())
                .requirement(new TlsRequirement.Opportunistic())
                .build();
        RecipientResult r =
            f.transport(level, b -> b.relay(host))
                .send(Envelope.of("a@sender.test", "x@elsewhere.invalid"), CONTENT)
                .result("x@elsewhere.invalid");
        assertThat(r.status()).as(level.token()).isEqualTo(DeliveryStatus.DEFERRED);
        assertThat(r.plan().failure().orElseThrow().type())
            .isEqualTo(FailureType.POLICY_UNAVAILABLE);
        assertThat(relay.sessions()).isEmpty();
      }
    }
  }

  @Test
  void theEnforcedLevelMakesTlsMandatoryThroughAnOpportunisticRelay() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer relay = f.server("127.0.0.2", b -> b.hostname("relay.example.test"));
      f.dns(d -> d.zone("example.test", z -> z.a("relay.example.test", "127.0.0.2")));
      SmartHost host =
          SmartHost.builder("relay.example.test")
              .port(relay.port())
              .requirement(new TlsRequirement.Opportunistic())
              .build();
      RecipientResult r =
          f.transport(TlsLevel.ENFORCED, b -> b.relay(host))
              .send(Envelope.of("a@sender.test", "x@elsewhere.invalid"), CONTENT)
              .result("x@elsewhere.invalid");
      assertThat(r.status()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(r.attempt().orElseThrow().failure()).contains(FailureType.STARTTLS_NOT_SUPPORTED);
      assertThat(relay.messages()).isEmpty();
    }
  }

  /** An address literal has no MTA-STS policy: sts-required bounces it, with a report. */
  @Test
  void stsRequiredToAnAddressLiteralBouncesWithAReport() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = f.server("127.0.0.2", b -> b.hostname("mx.example.test"));
      example(f, mx);
      MtaStsPolicySource none =
          new MtaStsPolicySource() {
            @Override
            public CompletableFuture<MtaStsLookup> lookupAsync(DomainName d) {
              return CompletableFuture.completedFuture(new MtaStsLookup.NoPolicy(d, true, "none"));
            }

            @Override
            public CompletableFuture<MtaStsLookup> recheckAsync(DomainName d) {
              return lookupAsync(d);
            }
          };
      f.mtaSts = none;
      DeliveryReport report =
          f.transport(TlsLevel.STS_REQUIRED)
              .send(Envelope.of("a@sender.test", "x@[127.0.0.2]", "y@example.test"), CONTENT);
      assertThat(report.recipients()).hasSize(2);
      assertThat(report.result("x@[127.0.0.2]").status()).isEqualTo(DeliveryStatus.BOUNCED);
      assertThat(report.result("x@[127.0.0.2]").reply().text()).contains("address literal");
      assertThat(report.result("y@example.test").status()).isEqualTo(DeliveryStatus.BOUNCED);
      assertThat(mx.sessions()).isEmpty();
    }
  }

  /** A broken policy provider costs a deferral, never the report. */
  @Test
  void aThrowingPolicyProviderDefersInsteadOfLosingTheReport() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = f.server("127.0.0.2", b -> b.hostname("mx.example.test"));
      example(f, mx);
      MtaStsPolicySource broken =
          new MtaStsPolicySource() {
            @Override
            public CompletableFuture<MtaStsLookup> lookupAsync(DomainName d) {
              throw new IllegalStateException("provider bug");
            }

            @Override
            public CompletableFuture<MtaStsLookup> recheckAsync(DomainName d) {
              throw new IllegalStateException("provider bug");
            }
          };
      f.mtaSts = broken;
      RecipientResult r =
          f.transport(TlsLevel.OPPORTUNISTIC)
              .send(Envelope.of("a@sender.test", "y@example.test"), CONTENT)
              .result("y@example.test");
      assertThat(r.status()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(r.reply().text()).contains("provider bug");
      assertThat(r.authentication()).isEmpty();
      assertThat(Authentication.values()).isNotEmpty();
    }
  }

  /**
   * RFC 8461 §5.1's re-check before giving up on an enforce policy runs a policy source again; if
   * that throws, the results already decided (here another recipient delivered at the same MX, one
   * skipped by the policy) are kept, and send() returns.
   */
  @Test
  void aThrowingPolicyRecheckKeepsEveryResult() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = f.server("127.0.0.2", b -> b.hostname("mx.example.test"));
      f.dns(
          d ->
              d.zone("example.test", z -> z.mailHost("example.test", 10, "mx.example.test", mx))
                  .zone("other.test", z -> z.mx("other.test", 10, "mx.example.test")));
      MtaStsPolicySource recheckFails =
          new MtaStsPolicySource() {
            @Override
            public CompletableFuture<MtaStsLookup> lookupAsync(DomainName d) {
              if (!d.equals(DomainName.of("example.test"))) {
                return CompletableFuture.completedFuture(
                    new MtaStsLookup.NoPolicy(d, true, "none"));
              }
              // enforce, naming a host the MX answer does not lead to: deferred by the policy
              return CompletableFuture.completedFuture(
                  new MtaStsLookup.Found(
                      d,
                      new MtaStsPolicy(
                          "p1",
                          MtaStsMode.ENFORCE,
                          List.of("mx.elsewhere.test"),
                          Duration.ofDays(1)),
                      false,
                      ""));
            }

            @Override
            public CompletableFuture<MtaStsLookup> recheckAsync(DomainName d) {
              throw new IllegalStateException("recheck bug");
            }
          };
      f.mtaSts = recheckFails;
      DeliveryReport report =
          f.transport(TlsLevel.OPPORTUNISTIC)
              .send(Envelope.of("a@sender.test", "y@example.test", "z@other.test"), CONTENT);
      assertThat(report.recipients()).hasSize(2);
      assertThat(report.result("y@example.test").status()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(report.result("z@other.test").status()).isEqualTo(DeliveryStatus.DELIVERED);
    }
  }
}
