package io.mailtls.standard;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.Authentication;
import io.mailtls.core.ContentDescriptor;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DestinationPolicyMap;
import io.mailtls.core.DnsResolver;
import io.mailtls.core.Envelope;
import io.mailtls.core.EventListener;
import io.mailtls.core.FailureType;
import io.mailtls.core.MessageContent;
import io.mailtls.core.PolicyFailure;
import io.mailtls.core.PolicySource;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SmartHost;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.core.TlsRequirement;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.MtaStsServer;
import io.mailtls.testkit.SmtpSession;
import io.mailtls.testkit.TestDnsServer;
import io.mailtls.testkit.TestPki;
import io.mailtls.testkit.Tlsa;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15, REQUIRETLS and {@code TLS-Required: No} (RFC 8689) against real peers: the testkit's
 * signed (and one unsigned) DNS zones, DANE TLSA records, an HTTPS MTA-STS policy host, and mock
 * SMTP servers with STARTTLS that do or do not advertise REQUIRETLS. Each server's log shows what
 * reached it: a message that cannot meet REQUIRETLS never gets as far as {@code MAIL FROM}.
 */
class RequireTlsTest {

  private static final TestPki PKI = TestPki.create();
  private static final byte[] MESSAGE =
      "Subject: requiretls\r\n\r\nHello.\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] TLS_OPTIONAL =
      "Subject: not secret\r\nTLS-Required: No\r\n\r\nHello.\r\n"
          .getBytes(StandardCharsets.US_ASCII);

  private static MockSmtpServer dane; // DANE, advertises REQUIRETLS
  private static MockSmtpServer daneWithout; // DANE, no REQUIRETLS
  private static MockSmtpServer sts; // MTA-STS enforce through an unsigned zone, REQUIRETLS
  private static MockSmtpServer stsTesting; // MTA-STS testing, unsigned zone, REQUIRETLS
  private static MockSmtpServer
      stsTestingBad; // MTA-STS testing lists it; certificate for another name
  private static MockSmtpServer plain; // signed MX, valid certificate, no DANE or MTA-STS
  private static MockSmtpServer injected; // DANE; REQUIRETLS only in the plaintext EHLO
  private static MockSmtpServer daneBad; // TLSA matches another key
  private static MockSmtpServer stsBad; // MX not in the enforce policy
  private static MockSmtpServer relay; // relay.test, PKIX certificate, REQUIRETLS
  private static MockSmtpServer relayWithout; // relay2.test, PKIX certificate, no REQUIRETLS
  private static MtaStsServer policies;
  private static TestDnsServer dns;
  private static DnsResolver resolver;
  private static OkHttpClient http;

  private static MockSmtpServer server(
      String ip, String name, TestPki.Issued cert, UnaryOperator<MockSmtpServer.Builder> more)
      throws IOException {
    MockSmtpServer.Builder b =
        StandardFixtures.smtpHost(
            ip, dane == null ? 0 : dane.port(), name, cert.serverSslContext());
    return more.apply(b).start();
  }

  private static TestPki.Issued pkix(String name) {
    return PKI.root().leaf().dnsNames(name).issue();
  }

  @BeforeAll
  static void start() throws IOException {
    TestPki.Issued daneLeaf = TestPki.selfSigned("mx.dane.test");
    TestPki.Issued daneWithoutLeaf = TestPki.selfSigned("mx.danewithout.test");
    TestPki.Issued injectedLeaf = TestPki.selfSigned("mx.injected.test");
    TestPki.Issued daneBadLeaf = TestPki.selfSigned("mx.danebad.test");
    TestPki.Issued otherKey = TestPki.selfSigned("other.danebad.test");
    dane = server("127.0.0.2", "mx.dane.test", daneLeaf, MockSmtpServer.Builder::requireTls);
    daneWithout = server("127.0.0.3", "mx.danewithout.test", daneWithoutLeaf, b -> b);
    sts = server("127.0.0.4", "mx.sts.test", pkix("mx.sts.test"), b -> b.requireTls());
    stsTesting =
        server("127.0.0.5", "mx.ststesting.test", pkix("mx.ststesting.test"), b -> b.requireTls());
    plain = server("127.0.0.6", "mx.plain.test", pkix("mx.plain.test"), b -> b.requireTls());
    injected =
        server(
            "127.0.0.7",
            "mx.injected.test",
            injectedLeaf,
            MockSmtpServer.Builder::injectRequireTlsBeforeStarttls);
    daneBad = server("127.0.0.8", "mx.danebad.test", daneBadLeaf, b -> b.requireTls());
    stsBad = server("127.0.0.9", "mx.stsbad.test", pkix("mx.stsbad.test"), b -> b.requireTls());
    relay = server("127.0.0.10", "relay.test", pkix("relay.test"), b -> b.requireTls());
    relayWithout = server("127.0.0.11", "relay2.test", pkix("relay2.test"), b -> b);
    stsTestingBad =
        server(
            "127.0.0.12",
            "mx.ststestingbad.test",
            pkix("elsewhere.ststestingbad.test"),
            b -> b.requireTls());
    policies =
        MtaStsServer.builder()
            .pki(PKI)
            .domain("sts.test", MtaStsServer.policyText("enforce", 86400, "mx.sts.test"))
            .domain(
                "ststesting.test", MtaStsServer.policyText("testing", 86400, "mx.ststesting.test"))
            .domain(
                "ststestingbad.test",
                MtaStsServer.policyText("testing", 86400, "mx.ststestingbad.test"))
            .domain("stsbad.test", MtaStsServer.policyText("enforce", 86400, "other.stsbad.test"))
            .start();
    dns =
        TestDnsServer.builder()
            .zone(
                "dane.test",
                z ->
                    z.mailHost("dane.test", 10, "mx.dane.test", dane)
                        .tlsaFor(Tlsa.smtpOwner("mx.dane.test"), 3, 1, 1, daneLeaf))
            .zone(
                "danewithout.test",
                z ->
                    z.mailHost("danewithout.test", 10, "mx.danewithout.test", daneWithout)
                        .tlsaFor(Tlsa.smtpOwner("mx.danewithout.test"), 3, 1, 1, daneWithoutLeaf))
            .zone(
                "sts.test",
                z ->
                    policies.publish(
                        z.unsigned().mailHost("sts.test", 10, "mx.sts.test", sts), "sts.test", "1"))
            .zone(
                "ststesting.test",
                z ->
                    policies.publish(
                        z.unsigned()
                            .mailHost("ststesting.test", 10, "mx.ststesting.test", stsTesting),
                        "ststesting.test",
                        "1"))
            .zone(
                "ststestingbad.test",
                z ->
                    policies.publish(
                        z.unsigned()
                            .mailHost(
                                "ststestingbad.test", 10, "mx.ststestingbad.test", stsTestingBad),
                        "ststestingbad.test",
                        "1"))
            .zone("plain.test", z -> z.mailHost("plain.test", 10, "mx.plain.test", plain))
            .zone(
                "injected.test",
                z ->
                    z.mailHost("injected.test", 10, "mx.injected.test", injected)
                        .tlsaFor(Tlsa.smtpOwner("mx.injected.test"), 3, 1, 1, injectedLeaf))
            .zone(
                "danebad.test",
                z ->
                    z.mailHost("danebad.test", 10, "mx.danebad.test", daneBad)
                        .tlsaFor(Tlsa.smtpOwner("mx.danebad.test"), 3, 1, 1, otherKey))
            .zone(
                "stsbad.test",
                z ->
                    policies.publish(
                        z.mailHost("stsbad.test", 10, "mx.stsbad.test", stsBad),
                        "stsbad.test",
                        "1"))
            .zone(
                "twomx.test",
                z ->
                    // mx1: DANE, no REQUIRETLS; mx2: DANE, REQUIRETLS (DANE-EE checks no name)
                    z.mailHost("twomx.test", 10, "mx1.twomx.test", daneWithout)
                        .tlsaFor(Tlsa.smtpOwner("mx1.twomx.test"), 3, 1, 1, daneWithoutLeaf)
                        .mailHost("twomx.test", 20, "mx2.twomx.test", dane)
                        .tlsaFor(Tlsa.smtpOwner("mx2.twomx.test"), 3, 1, 1, daneLeaf))
            .zone("relay.test", z -> z.a("relay.test", "127.0.0.10"))
            .zone("relay2.test", z -> z.a("relay2.test", "127.0.0.11"))
            .start();
    resolver = StandardFixtures.resolver(dns);
    http = StandardFixtures.http(PKI);
  }

  @AfterAll
  static void stop() {
    http.connectionPool().evictAll();
    for (MockSmtpServer s :
        List.of(
            dane,
            daneWithout,
            sts,
            stsTesting,
            plain,
            injected,
            daneBad,
            stsBad,
            relay,
            relayWithout,
            stsTestingBad)) {
      s.close();
    }
    policies.close();
    dns.close();
  }

  private static SecureSmtpTransport transport(
      Path state, Consumer<SecureSmtpTransport.Builder> more) {
    SecureSmtpTransport.Builder b =
        StandardTransport.setup(state)
            .dns(resolver)
            .policyHttpClient(http)
            .policyPort(policies.port())
            .transportBuilder()
            .heloName("client.sender.test")
            .port(dane.port())
            .trustStore(PKI.trustStore())
            .timeouts(SmtpTimeouts.uniform(Duration.ofSeconds(5)));
    more.accept(b);
    return b.build();
  }

  private static RecipientResult send(
      SecureSmtpTransport t, String rcpt, boolean requireTls, byte[] message) {
    return t.send(
            Envelope.of("a@sender.test", rcpt).requireTls(requireTls), MessageContent.of(message))
        .result(rcpt);
  }

  /** Every MAIL FROM a server was sent, over all its sessions. */
  private static List<String> mailCommands(MockSmtpServer s) {
    return s.sessions().stream()
        .flatMap(x -> x.commandLines().stream())
        .filter(l -> l.regionMatches(true, 0, "MAIL FROM", 0, 9))
        .toList();
  }

  private static void assertNotSent(RecipientResult r, MockSmtpServer s, int mailBefore) {
    assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.BOUNCED);
    assertThat(r.reply().enhancedStatus().map(Object::toString)).as("%s", r).contains("5.7.30");
    assertThat(r.reply().code()).isEqualTo(550);
    assertThat(mailCommands(s)).as("MAIL FROM reaching %s", s).hasSize(mailBefore);
  }

  @Test
  void requireTlsThroughDaneToAServerThatAdvertisesItCarriesTheParameter(@TempDir Path state) {
    try (SecureSmtpTransport t = transport(state, b -> {})) {
      RecipientResult r = send(t, "b@dane.test", true, MESSAGE);
      assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(r.authentication()).contains(Authentication.VERIFIED);
      assertThat(r.attempt().orElseThrow().source()).isEqualTo(PolicySource.DANE);
      assertThat(dane.messages().get(dane.messages().size() - 1).mailParameters())
          .contains("REQUIRETLS");
      assertThat(r.plan().reasons())
          .anyMatch(s -> s.startsWith("REQUIRETLS asked for"))
          .anyMatch(s -> s.contains("mx.dane.test kept: DANE authenticates it"));
    }
  }

  @Test
  void requireTlsThroughMtaStsWithAnUnsignedMxAnswer(@TempDir Path state) {
    try (SecureSmtpTransport t = transport(state, b -> {})) {
      RecipientResult r = send(t, "b@sts.test", true, MESSAGE);
      assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(r.attempt().orElseThrow().source()).isEqualTo(PolicySource.MTA_STS);
      assertThat(r.attempt().orElseThrow().requirement()).isInstanceOf(TlsRequirement.Pkix.class);
      assertThat(sts.messages().get(sts.messages().size() - 1).mailParameters())
          .contains("REQUIRETLS");
    }
  }

  @Test
  void anMtaStsTestingPolicyListingTheHostRaisesItToPkixForThisMessageOnly(@TempDir Path state) {
    try (SecureSmtpTransport t = transport(state, b -> {})) {
      RecipientResult r = send(t, "b@ststesting.test", true, MESSAGE);
      assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(r.attempt().orElseThrow().requirement()).isInstanceOf(TlsRequirement.Pkix.class);
      assertThat(r.authentication()).contains(Authentication.VERIFIED);
      RecipientResult without = send(t, "c@ststesting.test", false, MESSAGE);
      assertThat(without.attempt().orElseThrow().requirement())
          .as("without REQUIRETLS, the testing policy only reports")
          .isNotInstanceOf(TlsRequirement.Pkix.class);
      assertThat(stsTesting.messages().get(stsTesting.messages().size() - 1).mailParameters())
          .doesNotContain("REQUIRETLS");
    }
  }

  /**
   * A policy-map {@code fingerprint} entry pins the server's certificate (docs/policy-map.md); an
   * MTA-STS {@code testing} policy only lists the host. Raising the host to PKIX for a REQUIRETLS
   * message must not drop the operator's pin: a certificate the pin refuses for every other message
   * must not carry the one that asked for more protection (RFC 8689 §4.2.1 step 4 needs DANE or
   * PKIX, and the pin, which is neither, is the operator's own requirement). The host is ruled out.
   */
  @Test
  void requireTlsDoesNotDropAPolicyMapPinToRaiseATestingHostToPkix(@TempDir Path state)
      throws Exception {
    String pin =
        HexFormat.of().formatHex(TestPki.selfSigned("pinned.ststesting.test").certificateSha256());
    DestinationPolicyMap map =
        DestinationPolicyMap.parse("ststesting.test  fingerprint  sha256:" + pin + "\n");
    int before = mailCommands(stsTesting).size();
    try (SecureSmtpTransport t = transport(state, b -> b.destinationPolicies(map))) {
      RecipientResult pinned = send(t, "g@ststesting.test", false, MESSAGE);
      assertThat(pinned.status())
          .as("the pin refuses the server's certificate: %s", pinned)
          .isEqualTo(DeliveryStatus.DEFERRED);
      RecipientResult r = send(t, "h@ststesting.test", true, MESSAGE);
      assertThat(mailCommands(stsTesting))
          .as("MAIL FROM past the operator's pin under REQUIRETLS: %s", r)
          .hasSize(before);
      assertNotSent(r, stsTesting, before);
      assertThat(r.plan().reasons())
          .anyMatch(x -> x.contains("mx.ststesting.test ruled out") && x.contains("pin"));
    }
  }

  /**
   * REQUIRETLS raises a host that an MTA-STS {@code testing} policy lists to PKIX on its MX name
   * (RFC 8689 §4.2.1); the server's certificate fails that check. The failure is reported under the
   * MTA-STS policy (RFC 8460 §4.3 counts failures whatever the mode), but not as enforced: the
   * recipient's policy is {@code testing} (RFC 8461 §5), and the message's REQUIRETLS refused the
   * host, not the recipient's policy.
   */
  @Test
  void aTestingHostRaisedByRequireTlsThatFailsPkixIsReportedButNotAsEnforced(@TempDir Path state) {
    List<PolicyFailure> reported = new CopyOnWriteArrayList<>();
    EventListener listener = policyFailuresTo(reported);
    int before = mailCommands(stsTestingBad).size();
    try (SecureSmtpTransport t = transport(state, b -> b.eventListener(listener))) {
      RecipientResult r = send(t, "b@ststestingbad.test", true, MESSAGE);
      assertThat(r.status()).as("%s", r).isNotEqualTo(DeliveryStatus.DELIVERED);
      assertThat(mailCommands(stsTestingBad)).as("MAIL FROM past a PKIX failure").hasSize(before);
      assertThat(r.attempts()).isNotEmpty();
      assertThat(r.attempts().get(0).requirement()).isInstanceOf(TlsRequirement.Pkix.class);
      assertThat(reported)
          .as("policy failures reported: %s", reported)
          .filteredOn(f -> f.address().isPresent())
          .singleElement()
          .satisfies(
              f -> {
                assertThat(f.source()).isEqualTo(PolicySource.MTA_STS);
                assertThat(f.type()).isEqualTo(FailureType.CERTIFICATE_HOST_MISMATCH);
                assertThat(f.enforced())
                    .as("the recipient's testing policy enforced nothing: %s", f)
                    .isFalse();
              });
    }
  }

  @Test
  void aDaneServerThatDoesNotAdvertiseRequireTlsGetsNoMailFromAndTheMessageBounces(
      @TempDir Path state) {
    int before = mailCommands(daneWithout).size();
    int sessions = daneWithout.sessions().size();
    try (SecureSmtpTransport t = transport(state, b -> {})) {
      RecipientResult r = send(t, "b@danewithout.test", true, MESSAGE);
      assertNotSent(r, daneWithout, before);
      assertThat(r.attempt().orElseThrow().failure()).contains(FailureType.REQUIRETLS_UNAVAILABLE);
      assertThat(r.reply().text()).contains("advertised REQUIRETLS after STARTTLS", "not sent");
      // the server was reached, over verified TLS: only REQUIRETLS was missing
      assertThat(daneWithout.sessions().size()).isGreaterThan(sessions);
      assertThat(daneWithout.sessions().get(daneWithout.sessions().size() - 1).tlsNegotiated())
          .isTrue();
      // the same server takes a message without REQUIRETLS
      RecipientResult plainMessage = send(t, "c@danewithout.test", false, MESSAGE);
      assertThat(plainMessage.status()).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(mailCommands(daneWithout)).hasSize(before + 1);
    }
  }

  /**
   * RFC 8689 §4.2.1: a server without REQUIRETLS gets nothing and the next MX host is tried; the
   * message is returned only when no host is left. When the attempt limit stops the walk before mx2
   * (which qualifies and advertises REQUIRETLS) was tried, nothing proved that no host can take the
   * message: deferred (4.7.30), never bounced.
   */
  @Test
  void requireTlsIsNotBouncedWhileAnMxHostWasNeverTried(@TempDir Path state) {
    try (SecureSmtpTransport t = transport(state, b -> b.maxAttemptsPerDomain(1))) {
      RecipientResult r = send(t, "b@twomx.test", true, MESSAGE);
      assertThat(r.attempts()).hasSize(1);
      assertThat(r.attempt().orElseThrow().failure()).contains(FailureType.REQUIRETLS_UNAVAILABLE);
      assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DEFERRED);
    }
  }

  @Test
  void withNeitherDaneNorMtaStsNothingIsSentNotEvenAConnection(@TempDir Path state) {
    int sessions = plain.sessions().size();
    try (SecureSmtpTransport t = transport(state, b -> {})) {
      RecipientResult r = send(t, "b@plain.test", true, MESSAGE);
      assertNotSent(r, plain, 0);
      assertThat(r.attempt()).isEmpty();
      assertThat(r.plan().failure().map(f -> f.type()))
          .contains(FailureType.REQUIRETLS_UNAVAILABLE);
      assertThat(r.plan().skipped())
          .singleElement()
          .satisfies(s -> assertThat(s.failure()).isEqualTo(FailureType.REQUIRETLS_UNAVAILABLE));
      assertThat(r.plan().reasons())
          .anyMatch(s -> s.contains("mx.plain.test ruled out: neither DANE nor MTA-STS"));
      assertThat(plain.sessions()).hasSize(sessions);
      // without REQUIRETLS the same domain takes the message
      assertThat(send(t, "c@plain.test", false, MESSAGE).status())
          .isEqualTo(DeliveryStatus.DELIVERED);
    }
  }

  @Test
  void requireTlsInjectedIntoThePlaintextEhloMeansNothing(@TempDir Path state) {
    try (SecureSmtpTransport t = transport(state, b -> {})) {
      RecipientResult r = send(t, "b@injected.test", true, MESSAGE);
      assertNotSent(r, injected, 0);
      SmtpSession session = injected.sessions().get(injected.sessions().size() - 1);
      assertThat(session.tlsNegotiated()).as("STARTTLS went ahead").isTrue();
      assertThat(session.commandLines()).noneMatch(l -> l.startsWith("MAIL"));
    }
  }

  @Test
  void throughAnAuthenticatedRelayThatAdvertisesRequireTls(@TempDir Path state) {
    SmartHost smartHost = SmartHost.builder("relay.test").port(dane.port()).build();
    try (SecureSmtpTransport t = transport(state, b -> b.relay(smartHost))) {
      RecipientResult r = send(t, "b@anywhere.test", true, MESSAGE);
      assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(relay.messages().get(relay.messages().size() - 1).mailParameters())
          .contains("REQUIRETLS");
      assertThat(r.plan().reasons()).anyMatch(s -> s.contains("the relay is authenticated"));
    }
  }

  @Test
  void throughARelayWithoutRequireTlsOrWithoutVerificationNothingIsSent(@TempDir Path state) {
    SmartHost without = SmartHost.builder("relay2.test").port(dane.port()).build();
    try (SecureSmtpTransport t = transport(state, b -> b.relay(without))) {
      assertNotSent(send(t, "b@anywhere.test", true, MESSAGE), relayWithout, 0);
    }
    int sessions = relay.sessions().size();
    SmartHost unverified =
        SmartHost.builder("relay.test")
            .port(dane.port())
            .requirement(new TlsRequirement.Encrypted())
            .build();
    try (SecureSmtpTransport t = transport(state, b -> b.relay(unverified))) {
      RecipientResult r = send(t, "b@anywhere.test", true, MESSAGE);
      assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.BOUNCED);
      assertThat(r.reply().enhancedStatus().map(Object::toString)).contains("5.7.30");
      assertThat(r.plan().reasons()).anyMatch(s -> s.contains("does not authenticate it"));
      assertThat(relay.sessions()).as("no connection to the relay").hasSize(sessions);
    }
  }

  /** A listener that adds each policy failure it is told of to {@code reported}. */
  private static EventListener policyFailuresTo(List<PolicyFailure> reported) {
    return new EventListener() {
      @Override
      public void policyFailure(PolicyFailure failure) {
        reported.add(failure);
      }
    };
  }

  @Test
  void tlsRequiredNoDeliversPastADaneMismatchAndStillReportsIt(@TempDir Path state) {
    List<PolicyFailure> reported = new CopyOnWriteArrayList<>();
    EventListener listener = policyFailuresTo(reported);
    try (SecureSmtpTransport t = transport(state, b -> b.eventListener(listener))) {
      RecipientResult strict = send(t, "b@danebad.test", false, MESSAGE);
      assertThat(strict.status()).as("%s", strict).isEqualTo(DeliveryStatus.DEFERRED);
      int before = daneBad.messages().size();
      reported.clear();

      RecipientResult r = send(t, "c@danebad.test", false, TLS_OPTIONAL);
      assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(daneBad.messages()).hasSize(before + 1);
      assertThat(daneBad.messages().get(before).tls()).as("TLS still attempted").isTrue();
      assertThat(r.attempt().orElseThrow().requirement())
          .isInstanceOf(TlsRequirement.Opportunistic.class);
      assertThat(r.plan().reasons())
          .anyMatch(s -> s.startsWith("TLS-Required: No (RFC 8689 §4.2.2)"));
      assertThat(reported)
          .anySatisfy(
              f -> {
                assertThat(f.source()).isEqualTo(PolicySource.DANE);
                assertThat(f.enforced()).isFalse();
                assertThat(f.type()).isEqualTo(FailureType.CERTIFICATE_NOT_TRUSTED);
                assertThat(f.detail()).contains("TLS-Required: No");
              });
    }
  }

  @Test
  void contentThatDescribesItselfDeclaresTlsRequiredNoAndIsHonoured(@TempDir Path state) {
    // Described content is not read before sending (the Jakarta Mail adapter's messages): the
    // descriptor says TLS-Required: No, and the transport honours it as it honours the header.
    MessageContent described =
        new MessageContent() {
          @Override
          public InputStream open() {
            return new ByteArrayInputStream(TLS_OPTIONAL);
          }

          @Override
          public Optional<ContentDescriptor> descriptor() {
            return Optional.of(ContentDescriptor.of(false, false).withTlsRequiredNo(true));
          }
        };
    try (SecureSmtpTransport t = transport(state, b -> {})) {
      int before = daneBad.messages().size();
      RecipientResult r =
          t.send(Envelope.of("a@sender.test", "d@danebad.test"), described)
              .result("d@danebad.test");
      assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(daneBad.messages()).hasSize(before + 1);
      assertThat(r.plan().reasons())
          .anyMatch(s -> s.startsWith("TLS-Required: No (RFC 8689 §4.2.2)"));
      // and REQUIRETLS still wins over it
      RecipientResult strict =
          t.send(Envelope.of("a@sender.test", "e@danebad.test").requireTls(true), described)
              .result("e@danebad.test");
      assertThat(strict.status()).as("%s", strict).isNotEqualTo(DeliveryStatus.DELIVERED);
    }
  }

  /**
   * A header section with more than one {@code TLS-Required} field does not say {@code
   * TLS-Required: No} (RFC 8689 §3 defines one field, whose only value is {@code No}): the
   * recipient's DANE policy stays enforced, as the Jakarta Mail adapter already reads such a header
   * ({@code MimeFacts}). Content the transport reads itself must not be read more loosely.
   */
  @Test
  void aSecondTlsRequiredFieldMakesTheHeaderMeanNothing(@TempDir Path state) {
    byte[] conflicting =
        "Subject: two\r\nTLS-Required: No\r\nTLS-Required: Yes\r\n\r\nHello.\r\n"
            .getBytes(StandardCharsets.US_ASCII);
    byte[] twice =
        "Subject: two\r\nTLS-Required: No\r\nTLS-Required: No\r\n\r\nHello.\r\n"
            .getBytes(StandardCharsets.US_ASCII);
    try (SecureSmtpTransport t = transport(state, b -> {})) {
      int before = daneBad.messages().size();
      for (byte[] message : List.of(conflicting, twice)) {
        RecipientResult r = send(t, "i@danebad.test", false, message);
        assertThat(r.status())
            .as("past a DANE mismatch with two TLS-Required fields: %s", r)
            .isEqualTo(DeliveryStatus.DEFERRED);
        assertThat(r.plan().reasons()).noneMatch(x -> x.startsWith("TLS-Required: No"));
      }
      assertThat(daneBad.messages()).hasSize(before);
    }
  }

  @Test
  void tlsRequiredNoDoesNotLowerADestinationThatThePolicyMapNames(@TempDir Path state)
      throws Exception {
    // The operator's entry is the sender's own policy for that destination: an author's header
    // field does not lower it, nor the recipient policies it leaves in force.
    DestinationPolicyMap map = DestinationPolicyMap.parse("danebad.test  enforced\n");
    try (SecureSmtpTransport t = transport(state, b -> b.destinationPolicies(map))) {
      int before = daneBad.messages().size();
      RecipientResult r = send(t, "f@danebad.test", false, TLS_OPTIONAL);
      assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(r.attempt().orElseThrow().requirement()).isInstanceOf(TlsRequirement.Dane.class);
      assertThat(r.plan().reasons())
          .anyMatch(x -> x.contains("the operator's policy map entry danebad.test"));
      assertThat(daneBad.messages()).hasSize(before);
    }
  }

  @Test
  void tlsRequiredNoDeliversPastAnMtaStsMismatchAndStillReportsIt(@TempDir Path state) {
    List<PolicyFailure> reported = new CopyOnWriteArrayList<>();
    EventListener listener = policyFailuresTo(reported);
    try (SecureSmtpTransport t = transport(state, b -> b.eventListener(listener))) {
      RecipientResult strict = send(t, "b@stsbad.test", false, MESSAGE);
      assertThat(strict.status()).as("%s", strict).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(strict.plan().failure().map(f -> f.type()))
          .contains(FailureType.STS_POLICY_INVALID);
      assertThat(reported)
          .filteredOn(f -> f.type() == FailureType.STS_POLICY_INVALID)
          .isNotEmpty()
          .allMatch(PolicyFailure::enforced);
      reported.clear();

      RecipientResult r = send(t, "c@stsbad.test", false, TLS_OPTIONAL);
      assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(stsBad.messages().get(stsBad.messages().size() - 1).tls()).isTrue();
      assertThat(r.plan().policyFailures())
          .anySatisfy(
              f -> {
                assertThat(f.source()).isEqualTo(PolicySource.MTA_STS);
                assertThat(f.type()).isEqualTo(FailureType.STS_POLICY_INVALID);
                assertThat(f.enforced()).isFalse();
              });
      assertThat(r.plan().reasons()).anyMatch(s -> s.contains("mx.stsbad.test tried although"));
      // The events say what the plan says: reported, not enforced.
      assertThat(reported)
          .filteredOn(f -> f.type() == FailureType.STS_POLICY_INVALID)
          .isNotEmpty()
          .noneMatch(PolicyFailure::enforced)
          .allSatisfy(f -> assertThat(r.plan().policyFailures()).contains(f));
    }
  }

  @Test
  void requireTlsWinsOverTheHeader(@TempDir Path state) {
    try (SecureSmtpTransport t = transport(state, b -> {})) {
      int before = mailCommands(daneBad).size();
      RecipientResult r = send(t, "b@danebad.test", true, TLS_OPTIONAL);
      assertThat(r.status()).as("%s", r).isNotEqualTo(DeliveryStatus.DELIVERED);
      assertThat(mailCommands(daneBad)).hasSize(before);
      assertThat(r.plan().reasons()).noneMatch(s -> s.startsWith("TLS-Required: No"));

      RecipientResult plainDomain = send(t, "c@plain.test", true, TLS_OPTIONAL);
      assertNotSent(plainDomain, plain, mailCommands(plain).size());
    }
  }
}
