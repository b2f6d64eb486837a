package io.mailtls.core.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailtls.core.Authentication;
import io.mailtls.core.DeliveryCall;
import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DomainName;
import io.mailtls.core.EventListener;
import io.mailtls.core.FailureType;
import io.mailtls.core.MtaStsLookup;
import io.mailtls.core.MtaStsPolicySource;
import io.mailtls.core.ProbeResult;
import io.mailtls.core.ProbeVerdict;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.core.StarttlsProbe;
import io.mailtls.core.TlsDetails;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.TlsRequirement;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.SmtpSession;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * {@code newBuilder()} of the transport and the probe: a derived instance overrides what its
 * builder is told and keeps every other setting, the original is unchanged, and what each made for
 * itself (connection pool, timer threads) is its own, so either may be closed first.
 */
class NewBuilderTest {

  private static final String HOST = "mx.example.test";

  private static MockSmtpServer start(Fixture f) {
    MockSmtpServer mx = f.server("127.0.0.2", b -> b.hostname(HOST).tls(Fixture.certFor(HOST)));
    f.dns(d -> d.zone("example.test", z -> z.mailHost("example.test", 10, HOST, mx)));
    return mx;
  }

  /** The EHLO names of the sessions the server saw, in order. */
  private static List<String> ehloNames(MockSmtpServer mx) {
    return mx.sessions().stream().map(s -> s.clientName().orElse("?")).toList();
  }

  @Test
  void aDerivedTransportOverridesOneSettingAndKeepsEveryOther() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = start(f);
      List<DeliveryCall> calls = new CopyOnWriteArrayList<>();
      AtomicInteger handedOverClosed = new AtomicInteger();
      SecureSmtpTransport original =
          f.transport(
              TlsLevel.ENFORCED,
              b ->
                  b.eventListenerFactory(
                          call -> {
                            calls.add(call);
                            return EventListener.NONE;
                          })
                      .alsoClose(handedOverClosed::incrementAndGet));
      SecureSmtpTransport derived = original.newBuilder().heloName("other.sender.test").build();

      // the derived transport: its own EHLO name; the original's DNS, port, sender level
      // (enforced: TLS mandatory) and listener factory
      RecipientResult viaDerived =
          Fixture.send(derived, "rcpt@example.test").result("rcpt@example.test");
      assertThat(viaDerived.status()).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(viaDerived.plan().senderLevel()).contains(TlsLevel.ENFORCED);
      assertThat(viaDerived.tls()).isPresent();
      assertThat(viaDerived.authentication()).contains(Authentication.ENCRYPTED);
      assertThat(ehloNames(mx)).containsExactly("other.sender.test");

      // the original is unchanged
      RecipientResult viaOriginal =
          Fixture.send(original, "rcpt@example.test").result("rcpt@example.test");
      assertThat(viaOriginal.status()).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(ehloNames(mx)).containsExactly("other.sender.test", "client.sender.test");

      // one listener factory, and each transport counts its own calls
      assertThat(calls).extracting(DeliveryCall::id).containsExactly(1L, 1L);

      // the derived transport owns its pool and timers, and none of the handed-over resources
      derived.close();
      assertThat(handedOverClosed).hasValue(0);
      assertThat(Fixture.send(original, "again@example.test").allDelivered()).isTrue();
      assertThat(mx.sessions()).as("the original reused its own pooled session").hasSize(2);
      original.close();
      assertThat(handedOverClosed).hasValue(1);
    }
  }

  @Test
  void closingTheOriginalFirstLeavesTheDerivedTransportWorking() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = start(f);
      SecureSmtpTransport original = f.transport(TlsLevel.OPPORTUNISTIC);
      SecureSmtpTransport derived = original.newBuilder().noConnectionReuse().build();
      try {
        assertThat(Fixture.send(original, "a@example.test").allDelivered()).isTrue();
        original.close();
        DeliveryReport r = Fixture.send(derived, "b@example.test", "c@example.test");
        assertThat(r.allDelivered()).isTrue();
        assertThat(ehloNames(mx)).containsExactly("client.sender.test", "client.sender.test");
        // without connection reuse the derived transport's session ends after its message
        assertThat(mx.sessions().get(1).awaitClosed(Duration.ofSeconds(5))).isTrue();
      } finally {
        derived.close();
      }
    }
  }

  @Test
  void aDerivedBuilderTakesEachSettingOnceAndCanChangeAnOptOut() throws Exception {
    try (Fixture f = new Fixture()) {
      start(f);
      SecureSmtpTransport original = f.transport(TlsLevel.OPPORTUNISTIC);
      assertThatThrownBy(
              () -> original.newBuilder().heloName("a.sender.test").heloName("b.sender.test"))
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("heloName already set");
      // the original opted out of MTA-STS; the derived one may choose, once
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
      SecureSmtpTransport.Builder b = original.newBuilder().mtaSts(none);
      assertThatThrownBy(b::withoutMtaSts).isInstanceOf(IllegalStateException.class);
      try (SecureSmtpTransport derived = b.build()) {
        RecipientResult r = Fixture.send(derived, "rcpt@example.test").result("rcpt@example.test");
        assertThat(r.plan().reasons())
            .noneMatch(s -> s.contains("withoutMtaSts()"))
            .anyMatch(s -> s.contains("withoutDane()"));
        assertThat(
                Fixture.send(original, "rcpt@example.test")
                    .result("rcpt@example.test")
                    .plan()
                    .reasons())
            .anyMatch(s -> s.contains("withoutMtaSts()"));
      }
    }
  }

  @Test
  void aDerivedProbeOverridesOneSettingAndKeepsEveryOther() throws Exception {
    try (MockSmtpServer server =
        MockSmtpServer.builder().hostname(HOST).tls(Fixture.certFor(HOST)).start()) {
      List<String> events = new CopyOnWriteArrayList<>();
      EventListener listener =
          new EventListener() {
            @Override
            public void handshakeEnd(
                Optional<DomainName> host,
                InetSocketAddress address,
                Optional<TlsDetails> tls,
                Optional<FailureType> failure,
                String detail) {
              events.add("handshakeEnd " + tls.isPresent());
            }
          };
      StarttlsProbe original =
          StarttlsProbe.builder()
              .heloName("client.sender.test")
              .port(server.port())
              .timeouts(SmtpTimeouts.uniform(Duration.ofSeconds(3)))
              .trustStore(Fixture.PKI.trustStore())
              .eventListener(listener)
              .build();
      StarttlsProbe derived = original.newBuilder().heloName("other.sender.test").build();
      TlsRequirement pkix = new TlsRequirement.Pkix(List.of(DomainName.of(HOST)));
      InetAddress address = server.address();

      ProbeResult r = derived.probe(Optional.of(DomainName.of(HOST)), address, pkix);
      // the original's port, timeouts, trust store (the test root verifies) and listener
      assertThat(r.verdict()).isEqualTo(ProbeVerdict.VERIFIED_PKIX);
      assertThat(events).containsExactly("handshakeEnd true");
      derived.close();
      assertThatThrownBy(() -> derived.probe(Optional.of(DomainName.of(HOST)), address, pkix))
          .isInstanceOf(IllegalStateException.class);

      // the original is unchanged, and still open: its timer thread is its own
      ProbeResult o = original.probe(Optional.of(DomainName.of(HOST)), address, pkix);
      assertThat(o.verdict()).isEqualTo(ProbeVerdict.VERIFIED_PKIX);
      original.close();
      List<SmtpSession> sessions = server.awaitSessions(2, Duration.ofSeconds(5));
      assertThat(sessions)
          .extracting(s -> s.clientName().orElse("?"))
          .containsExactly("other.sender.test", "client.sender.test");
    }
  }
}
