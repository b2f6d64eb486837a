package io.mailtls.core.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.Authentication;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DestinationPolicyMap;
import io.mailtls.core.DomainName;
import io.mailtls.core.DowngradeMemory;
import io.mailtls.core.DowngradeProtection;
import io.mailtls.core.EnhancedStatus;
import io.mailtls.core.FailureType;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SmartHost;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.TlsRequirement;
import io.mailtls.core.TransportSecurity;
import io.mailtls.testkit.FakeClock;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.SmtpAction;
import io.mailtls.testkit.SmtpSession;
import io.mailtls.testkit.SmtpStep;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Downgrade memory (docs/design.md §1, issue 15) against real servers: one MX address and port,
 * first served by a server that offers STARTTLS, then by one that does not (or that refuses it, or
 * fails the handshake). With the memory on, the second delivery is deferred 451 4.7.4 with {@link
 * FailureType#DOWNGRADE_DETECTED} and the second server never sees MAIL; off, expired or exempt, it
 * is delivered as the sender's level says.
 */
class DowngradeMemoryTest {

  private static final String HOST = "mx.example.test";
  private static final String RCPT = "rcpt@example.test";
  private static final DomainName DOMAIN = DomainName.of("example.test");

  private final FakeClock clock = new FakeClock();

  /** The first server (STARTTLS with a certificate for HOST) and the DNS that names it MX. */
  private static void firstServer(Fixture f) {
    MockSmtpServer mx = f.server("127.0.0.2", b -> b.hostname(HOST).tls(Fixture.certFor(HOST)));
    f.dns(d -> d.zone("example.test", z -> z.mailHost("example.test", 10, HOST, mx)));
  }

  /** Replaces the first server by {@code second} on the same address and port. */
  private static MockSmtpServer secondServer(Fixture f, UnaryOperator<MockSmtpServer.Builder> b) {
    f.lastServer().close();
    return f.server("127.0.0.2", s -> b.apply(s.hostname(HOST)));
  }

  private SecureSmtpTransport transport(Fixture f, DowngradeProtection.Builder protection) {
    return f.transport(
        TlsLevel.OPPORTUNISTIC,
        b -> b.noConnectionReuse().downgradeProtection(protection.clock(clock).build()));
  }

  /** Delivers once over TLS, then once more to {@code second} a day later; the second result. */
  private RecipientResult twoDeliveries(
      Fixture f,
      Function<Fixture, SecureSmtpTransport> transport,
      Duration between,
      UnaryOperator<MockSmtpServer.Builder> second) {
    firstServer(f);
    SecureSmtpTransport t = transport.apply(f);
    RecipientResult first = Fixture.send(t, RCPT).result(RCPT);
    assertThat(first.status()).isEqualTo(DeliveryStatus.DELIVERED);
    assertThat(first.authentication()).contains(Authentication.ENCRYPTED);
    secondServer(f, second);
    clock.advance(between);
    return Fixture.send(t, RCPT).result(RCPT);
  }

  private static void assertRefused(RecipientResult r, Fixture f) {
    assertThat(r.status()).isEqualTo(DeliveryStatus.DEFERRED);
    assertThat(r.attempt().orElseThrow().failure()).contains(FailureType.DOWNGRADE_DETECTED);
    assertThat(r.reply().code()).isEqualTo(451);
    assertThat(r.reply().enhancedStatus()).contains(EnhancedStatus.SECURITY_FEATURES_NOT_SUPPORTED);
    assertThat(r.reply().text()).contains("downgrade refused").contains("TLS seen");
    assertThat(r.plan().reasons()).anyMatch(l -> l.contains("plaintext refused"));
    // Nothing of the message went out in plaintext: no MAIL, no message, on any session.
    assertThat(f.lastServer().messages()).isEmpty();
    assertThat(f.lastServer().sessions())
        .isNotEmpty()
        .allSatisfy(s -> assertThat(s.commandLines()).noneMatch(l -> l.startsWith("MAIL")));
  }

  @Test
  void starttlsGoneWithMemoryOnDefers() throws Exception {
    try (Fixture f = new Fixture()) {
      RecipientResult r =
          twoDeliveries(
              f,
              x -> transport(x, DowngradeProtection.builder(DowngradeMemory.inMemory(100))),
              Duration.ofDays(1),
              b -> b);
      assertRefused(r, f);
      assertThat(r.attempt().orElseThrow().detail()).contains("does not offer STARTTLS");
      // One session, closed with QUIT right after EHLO.
      assertThat(f.lastServer().sessions()).hasSize(1);
      assertThat(f.lastServer().sessions().get(0).commandLines())
          .extracting(l -> l.contains(" ") ? l.substring(0, l.indexOf(' ')) : l)
          .containsExactly("EHLO", "QUIT");
    }
  }

  @Test
  void starttlsGoneWithMemoryOffDeliversInPlaintext() throws Exception {
    try (Fixture f = new Fixture()) {
      RecipientResult r =
          twoDeliveries(
              f,
              x -> x.transport(TlsLevel.OPPORTUNISTIC, b -> b.noConnectionReuse()),
              Duration.ofDays(1),
              b -> b);
      assertThat(r.status()).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(r.authentication()).contains(Authentication.PLAINTEXT);
      assertThat(r.plan().reasons()).noneMatch(l -> l.contains("downgrade memory"));
      assertThat(f.lastServer().messages()).hasSize(1);
    }
  }

  @Test
  void starttlsStrippedWithMemoryOnDefers() throws Exception {
    try (Fixture f = new Fixture()) {
      RecipientResult r =
          twoDeliveries(
              f,
              x -> transport(x, DowngradeProtection.builder(DowngradeMemory.inMemory(100))),
              Duration.ofDays(1),
              b -> b.tls(Fixture.certFor(HOST)).stripStarttls());
      assertRefused(r, f);
    }
  }

  @Test
  void starttlsRefusedWithMemoryOnDefers() throws Exception {
    try (Fixture f = new Fixture()) {
      RecipientResult r =
          twoDeliveries(
              f,
              x -> transport(x, DowngradeProtection.builder(DowngradeMemory.inMemory(100))),
              Duration.ofDays(1),
              b ->
                  b.tls(Fixture.certFor(HOST))
                      .on(SmtpStep.STARTTLS, SmtpAction.reply(454, "4.7.0", "TLS not available")));
      assertRefused(r, f);
      assertThat(r.attempt().orElseThrow().detail()).contains("STARTTLS refused");
    }
  }

  @Test
  void failedHandshakeIsNotRetriedInPlaintextWithMemoryOn() throws Exception {
    try (Fixture f = new Fixture()) {
      RecipientResult r =
          twoDeliveries(
              f,
              x -> transport(x, DowngradeProtection.builder(DowngradeMemory.inMemory(100))),
              Duration.ofDays(1),
              b -> b.tls(Fixture.certFor(HOST)).tlsProtocols("TLSv1"));
      assertRefused(r, f);
      assertThat(r.attempt().orElseThrow().detail()).contains("no plaintext retry");
      // The opportunistic fallback would have opened a second, plaintext session: none.
      assertThat(f.lastServer().sessions()).hasSize(1);
      SmtpSession only = f.lastServer().sessions().get(0);
      assertThat(only.tlsNegotiated()).isFalse();
    }
  }

  @Test
  void afterThePeriodThePlaintextDeliveryGoesAsTheLevelSays() throws Exception {
    try (Fixture f = new Fixture()) {
      RecipientResult r =
          twoDeliveries(
              f,
              x ->
                  transport(
                      x,
                      DowngradeProtection.builder(DowngradeMemory.inMemory(100))
                          .period(Duration.ofDays(30))),
              Duration.ofDays(30).plusSeconds(1),
              b -> b);
      assertThat(r.status()).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(r.authentication()).contains(Authentication.PLAINTEXT);
      assertThat(r.plan().reasons()).contains("downgrade memory: no TLS delivery within 30 days");
      assertThat(f.lastServer().messages()).hasSize(1);
    }
  }

  /**
   * A time far ahead of the clock (a fleet member whose clock ran a year ahead, a damaged store)
   * never falls out of the period: kept as a floor, it would defer a domain that lost STARTTLS for
   * ever. More than an hour ahead it is ignored, and the record says so; within the hour it counts.
   */
  @Test
  void aTimeFarAheadOfTheClockIsNotAFloor() throws Exception {
    try (Fixture f = new Fixture()) {
      DowngradeMemory memory = DowngradeMemory.inMemory(100);
      memory.raise(DOMAIN, TransportSecurity.TLS, clock.instant().plus(Duration.ofDays(365)));
      MockSmtpServer mx = f.server("127.0.0.2", b -> b.hostname(HOST));
      f.dns(d -> d.zone("example.test", z -> z.mailHost("example.test", 10, HOST, mx)));
      SecureSmtpTransport t = transport(f, DowngradeProtection.builder(memory));
      RecipientResult r = Fixture.send(t, RCPT).result(RCPT);
      assertThat(r.status()).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(r.authentication()).contains(Authentication.PLAINTEXT);
      assertThat(r.plan().reasons())
          .anyMatch(
              l ->
                  l.startsWith("downgrade memory: no TLS delivery within 30 days")
                      && l.contains("ignored a time more than 1 hour ahead of the clock"));

      secondServer(f, b -> b);
      DowngradeMemory near = DowngradeMemory.inMemory(100);
      near.raise(DOMAIN, TransportSecurity.TLS, clock.instant().plus(Duration.ofMinutes(59)));
      assertRefused(
          Fixture.send(transport(f, DowngradeProtection.builder(near)), RCPT).result(RCPT), f);
    }
  }

  @Test
  void anExemptDomainIsDeliveredAndTheRecordSaysWhy() throws Exception {
    try (Fixture f = new Fixture()) {
      RecipientResult r =
          twoDeliveries(
              f,
              x ->
                  transport(
                      x,
                      DowngradeProtection.builder(DowngradeMemory.inMemory(100))
                          .exempt(Set.of(DOMAIN)::contains)),
              Duration.ofDays(1),
              b -> b);
      assertThat(r.status()).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(r.authentication()).contains(Authentication.PLAINTEXT);
      assertThat(r.plan().reasons())
          .anyMatch(l -> l.startsWith("downgrade memory: exempt by operator entry, not applied"));
      assertThat(f.lastServer().messages()).hasSize(1);
    }
  }

  @Test
  void aPolicyMapEntryThatLowersRecipientPoliciesExemptsTheDomain() throws Exception {
    // "unless an operator entry says otherwise": allow-downgrade in the destination policy map
    DestinationPolicyMap map =
        DestinationPolicyMap.parse(DOMAIN + " opportunistic allow-downgrade");
    try (Fixture f = new Fixture()) {
      RecipientResult r =
          twoDeliveries(
              f,
              x ->
                  x.transport(
                      TlsLevel.OPPORTUNISTIC,
                      b ->
                          b.noConnectionReuse()
                              .destinationPolicies(map)
                              .downgradeProtection(
                                  DowngradeProtection.builder(DowngradeMemory.inMemory(100))
                                      .clock(clock)
                                      .build())),
              Duration.ofDays(1),
              b -> b);
      assertThat(r.status()).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(r.authentication()).contains(Authentication.PLAINTEXT);
      assertThat(r.plan().reasons())
          .anyMatch(l -> l.startsWith("downgrade memory: exempt by operator entry, not applied"));
    }
  }

  @Test
  void onlyDeliveriesAreRecordedWithTheSecurityAchieved() throws Exception {
    DowngradeMemory memory = DowngradeMemory.inMemory(100);
    try (Fixture f = new Fixture()) {
      // A server that takes the TLS session but refuses the message: nothing is recorded.
      MockSmtpServer mx =
          f.server(
              "127.0.0.2",
              b ->
                  b.hostname(HOST)
                      .tls(Fixture.certFor(HOST))
                      .on(SmtpStep.DATA_END, SmtpAction.reply(451, "4.3.0", "try later")));
      f.dns(d -> d.zone("example.test", z -> z.mailHost("example.test", 10, HOST, mx)));
      SecureSmtpTransport t = transport(f, DowngradeProtection.builder(memory));
      RecipientResult refused = Fixture.send(t, RCPT).result(RCPT);
      assertThat(refused.status()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(refused.tls()).isPresent();
      assertThat(memory.seen(DOMAIN)).isEqualTo(DowngradeMemory.Seen.NOTHING);
      // Then one that takes it: TLS, at the clock's time, not authenticated.
      secondServer(f, b -> b.tls(Fixture.certFor(HOST)));
      RecipientResult delivered = Fixture.send(t, RCPT).result(RCPT);
      assertThat(delivered.status()).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(delivered.plan().reasons())
          .contains("downgrade memory: no TLS delivery within 30 days");
      assertThat(memory.seen(DOMAIN).tls()).contains(clock.instant());
      assertThat(memory.seen(DOMAIN).authenticatedTls()).isEmpty();
    }
  }

  @Test
  void authenticatedTlsSeenSkipsAnUnauthenticatedRelayWithoutConnecting() throws Exception {
    String relay = "relay.example.test";
    DowngradeMemory memory = DowngradeMemory.inMemory(100);
    try (Fixture f = new Fixture()) {
      MockSmtpServer s = f.server("127.0.0.2", b -> b.hostname(relay).tls(Fixture.certFor(relay)));
      f.dns(d -> d.zone("example.test", z -> z.a(relay, "127.0.0.2")));
      // The relay verified by PKIX (its default requirement): authenticated TLS recorded.
      SecureSmtpTransport verified =
          f.transport(
              TlsLevel.OPPORTUNISTIC,
              b ->
                  b.relay(SmartHost.builder(relay).port(s.port()).build())
                      .trustStore(Fixture.PKI.trustStore())
                      .downgradeProtection(
                          DowngradeProtection.builder(memory).clock(clock).build()));
      RecipientResult first =
          Fixture.send(verified, "x@elsewhere.invalid").result("x@elsewhere.invalid");
      assertThat(first.authentication()).contains(Authentication.VERIFIED);
      assertThat(memory.seen(DomainName.of(relay)).authenticatedTls()).contains(clock.instant());
      // A transport that would reach the same relay without authentication, sharing the memory.
      clock.advance(Duration.ofHours(1));
      SecureSmtpTransport unverified =
          f.transport(
              TlsLevel.OPPORTUNISTIC,
              b ->
                  b.relay(
                          SmartHost.builder(relay)
                              .port(s.port())
                              .requirement(new TlsRequirement.Encrypted())
                              .build())
                      .downgradeProtection(
                          DowngradeProtection.builder(memory).clock(clock).build()));
      int sessionsBefore = s.sessions().size();
      RecipientResult r =
          Fixture.send(unverified, "x@elsewhere.invalid").result("x@elsewhere.invalid");
      assertThat(r.status()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(r.plan().failure().orElseThrow().type()).isEqualTo(FailureType.DOWNGRADE_DETECTED);
      assertThat(r.reply().enhancedStatus())
          .contains(EnhancedStatus.SECURITY_FEATURES_NOT_SUPPORTED);
      assertThat(r.plan().skipped())
          .singleElement()
          .satisfies(h -> assertThat(h.failure()).isEqualTo(FailureType.DOWNGRADE_DETECTED));
      assertThat(r.plan().reasons()).anyMatch(l -> l.contains("authenticated TLS seen"));
      assertThat(r.attempts()).isEmpty();
      assertThat(s.sessions()).hasSize(sessionsBefore);
      assertThat(
              memory.seen(DomainName.of(relay)).strongestSince(clock.instant().minusSeconds(7200)))
          .isEqualTo(TransportSecurity.AUTHENTICATED_TLS);
    }
  }

  @Test
  void theFileStoreCarriesTheMemoryAcrossARestart(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("downgrade-memory");
    try (Fixture f = new Fixture()) {
      firstServer(f);
      try (DowngradeMemory memory = DowngradeMemory.file(file)) {
        SecureSmtpTransport t = transport(f, DowngradeProtection.builder(memory));
        assertThat(Fixture.send(t, RCPT).result(RCPT).status()).isEqualTo(DeliveryStatus.DELIVERED);
      }
      secondServer(f, b -> b);
      clock.advance(Duration.ofDays(2));
      // A new store reading the file, as after a restart.
      try (DowngradeMemory memory = DowngradeMemory.file(file)) {
        SecureSmtpTransport t = transport(f, DowngradeProtection.builder(memory));
        assertRefused(Fixture.send(t, RCPT).result(RCPT), f);
      }
    }
  }

  @Test
  void aDerivedTransportKeepsTheProtection() throws Exception {
    try (Fixture f = new Fixture()) {
      RecipientResult r =
          twoDeliveries(
              f,
              x -> {
                SecureSmtpTransport original =
                    transport(x, DowngradeProtection.builder(DowngradeMemory.inMemory(100)));
                SecureSmtpTransport derived =
                    original.newBuilder().heloName("other.sender.test").build();
                x.closeLater(derived);
                return derived;
              },
              Duration.ofDays(1),
              b -> b);
      assertRefused(r, f);
    }
  }

  /** A store that cannot be read (a shared store that is down, say): the domain is deferred. */
  @Test
  void aStoreThatCannotBeReadDefersRatherThanDeliverUnchecked() throws Exception {
    DowngradeMemory down =
        new DowngradeMemory() {
          @Override
          public DowngradeMemory.Seen seen(DomainName domain) {
            throw new IllegalStateException("store unreachable");
          }

          @Override
          public void raise(DomainName domain, TransportSecurity achieved, java.time.Instant at) {
            throw new IllegalStateException("store unreachable");
          }
        };
    try (Fixture f = new Fixture()) {
      firstServer(f);
      SecureSmtpTransport t = transport(f, DowngradeProtection.builder(down));
      RecipientResult r = Fixture.send(t, RCPT).result(RCPT);
      assertThat(r.status()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(r.plan().failure().orElseThrow().type()).isEqualTo(FailureType.POLICY_UNAVAILABLE);
      assertThat(r.reply().text()).contains("downgrade memory unavailable");
      assertThat(f.lastServer().sessions()).isEmpty();
    }
  }

  /** A store whose writes fail loses the record, never the delivery or the report. */
  @Test
  void aStoreThatCannotBeWrittenLeavesTheDeliveryAlone() throws Exception {
    DowngradeMemory readOnly =
        new DowngradeMemory() {
          @Override
          public DowngradeMemory.Seen seen(DomainName domain) {
            return DowngradeMemory.Seen.NOTHING;
          }

          @Override
          public void raise(DomainName domain, TransportSecurity achieved, java.time.Instant at) {
            throw new java.io.UncheckedIOException(new java.io.IOException("disk full"));
          }
        };
    try (Fixture f = new Fixture()) {
      firstServer(f);
      SecureSmtpTransport t = transport(f, DowngradeProtection.builder(readOnly));
      RecipientResult r = Fixture.send(t, RCPT).result(RCPT);
      assertThat(r.status()).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(f.lastServer().messages()).hasSize(1);
    }
  }

  /** A relay that allows AUTH in plaintext: with TLS remembered, no credentials go out either. */
  @Test
  void noCredentialsGoToARelayThatStoppedOfferingTls() throws Exception {
    String relay = "relay.example.test";
    try (Fixture f = new Fixture()) {
      MockSmtpServer s =
          f.server(
              "127.0.0.2",
              b -> b.hostname(relay).tls(Fixture.certFor(relay)).credentials("user", "s3cret"));
      f.dns(d -> d.zone("example.test", z -> z.a(relay, "127.0.0.2")));
      SmartHost host =
          SmartHost.builder(relay)
              .port(s.port())
              .requirement(new TlsRequirement.Opportunistic())
              .credentials("user", "s3cret")
              .allowPlaintextAuth()
              .build();
      SecureSmtpTransport t =
          f.transport(
              TlsLevel.OPPORTUNISTIC,
              b ->
                  b.relay(host)
                      .noConnectionReuse()
                      .downgradeProtection(
                          DowngradeProtection.builder(DowngradeMemory.inMemory(10))
                              .clock(clock)
                              .build()));
      RecipientResult first = Fixture.send(t, "x@elsewhere.invalid").result("x@elsewhere.invalid");
      assertThat(first.status()).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(first.authentication()).contains(Authentication.ENCRYPTED);
      MockSmtpServer plain = secondServer(f, b -> b.credentials("user", "s3cret"));
      RecipientResult r = Fixture.send(t, "x@elsewhere.invalid").result("x@elsewhere.invalid");
      assertThat(r.status()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(r.attempt().orElseThrow().failure()).contains(FailureType.DOWNGRADE_DETECTED);
      assertThat(plain.sessions())
          .singleElement()
          .satisfies(
              session -> {
                assertThat(session.authenticatedUser()).isEmpty();
                assertThat(session.commandLines())
                    .noneMatch(l -> l.startsWith("AUTH") || l.startsWith("MAIL"));
              });
    }
  }
}
