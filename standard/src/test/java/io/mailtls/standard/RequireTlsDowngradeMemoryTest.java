package io.mailtls.standard;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.Authentication;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DomainName;
import io.mailtls.core.DowngradeMemory;
import io.mailtls.core.DowngradeProtection;
import io.mailtls.core.EnhancedStatus;
import io.mailtls.core.Envelope;
import io.mailtls.core.FailureType;
import io.mailtls.core.MessageContent;
import io.mailtls.core.PolicySource;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.core.TlsRequirement;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.MtaStsServer;
import io.mailtls.testkit.TestDnsServer;
import io.mailtls.testkit.TestPki;
import io.mailtls.testkit.Tlsa;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xbill.DNS.Type;

/**
 * Downgrade memory (docs/design.md §1) and REQUIRETLS (RFC 8689) together, against real peers: a
 * signed zone served by the testkit's DNS server, an HTTPS MTA-STS policy host, and mock SMTP
 * servers with STARTTLS that advertise REQUIRETLS. The memory keeps what the recipient's own
 * policies gave its deliveries: a REQUIRETLS message that raised a host listed by an MTA-STS {@code
 * testing} policy to PKIX teaches it nothing stronger than TLS, so ordinary mail still goes; when a
 * DANE or MTA-STS {@code enforce} protection the domain did publish disappears, ordinary mail is
 * still deferred, and a REQUIRETLS message whose raised host meets the floor is delivered.
 */
class RequireTlsDowngradeMemoryTest {

  private static final TestPki PKI = TestPki.create();
  private static final byte[] MESSAGE =
      "Subject: downgrade memory\r\n\r\nHello.\r\n".getBytes(StandardCharsets.US_ASCII);

  /** A server with STARTTLS (a certificate for {@code name}) that advertises REQUIRETLS. */
  private static MockSmtpServer server(String ip, String name, TestPki.Issued cert, int port)
      throws IOException {
    return StandardFixtures.smtpHost(ip, port, name, cert.serverSslContext()).requireTls().start();
  }

  private static TestPki.Issued pkix(String name) {
    return PKI.root().leaf().dnsNames(name).issue();
  }

  /**
   * A transport of the standard set-up on its own state directory and resolver (no MTA-STS policy
   * and no DNS answer cached: a process that starts afresh), sharing {@code memory}.
   */
  private static SecureSmtpTransport transport(
      Path state,
      TestDnsServer dns,
      MtaStsServer policies,
      OkHttpClient http,
      int smtpPort,
      DowngradeMemory memory) {
    return StandardTransport.setup(state)
        .dns(StandardFixtures.resolver(dns))
        .policyHttpClient(http)
        .policyPort(policies.port())
        .transportBuilder()
        .heloName("client.sender.test")
        .port(smtpPort)
        .trustStore(PKI.trustStore())
        .timeouts(SmtpTimeouts.uniform(Duration.ofSeconds(5)))
        .noConnectionReuse()
        .downgradeProtection(DowngradeProtection.builder(memory).build())
        .build();
  }

  private static RecipientResult send(SecureSmtpTransport t, String rcpt, boolean requireTls) {
    return t.send(
            Envelope.of("a@sender.test", rcpt).requireTls(requireTls), MessageContent.of(MESSAGE))
        .result(rcpt);
  }

  private static void assertDowngradeRefused(RecipientResult r, String seen) {
    assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DEFERRED);
    assertThat(r.reply().code()).isEqualTo(451);
    assertThat(r.reply().enhancedStatus()).contains(EnhancedStatus.SECURITY_FEATURES_NOT_SUPPORTED);
    assertThat(r.reply().text()).contains("downgrade refused").contains(seen);
    assertThat(r.plan().failure().orElseThrow().type()).isEqualTo(FailureType.DOWNGRADE_DETECTED);
    assertThat(r.attempts()).as("skipped before any connection").isEmpty();
  }

  /**
   * The reviewer's scenario: an MTA-STS {@code testing} policy, no DANE, protection on. One
   * REQUIRETLS message goes to the listed MX, raised to PKIX for that message and verified; the
   * next ordinary message finds the domain as it was and is delivered, not deferred 4.7.4.
   */
  @Test
  void oneRequireTlsMessageDoesNotMakeTheMemoryDeferOrdinaryMail(@TempDir Path state)
      throws Exception {
    String domain = "testing.test";
    String mx = "mx." + domain;
    DowngradeMemory memory = DowngradeMemory.inMemory(100);
    try (MockSmtpServer smtp = server("127.0.0.2", mx, pkix(mx), 0);
        MtaStsServer policies =
            MtaStsServer.builder()
                .pki(PKI)
                .domain(domain, MtaStsServer.policyText("testing", 86400, mx))
                .start();
        TestDnsServer dns =
            TestDnsServer.builder()
                .zone(domain, z -> policies.publish(z.mailHost(domain, 10, mx, smtp), domain, "1"))
                .start()) {
      OkHttpClient http = StandardFixtures.http(PKI);
      try (SecureSmtpTransport t = transport(state, dns, policies, http, smtp.port(), memory)) {
        RecipientResult strict = send(t, "b@" + domain, true);
        assertThat(strict.status()).as("%s", strict).isEqualTo(DeliveryStatus.DELIVERED);
        assertThat(strict.authentication()).contains(Authentication.VERIFIED);
        assertThat(strict.attempt().orElseThrow().requirement())
            .isInstanceOf(TlsRequirement.Pkix.class);
        assertThat(strict.plan().reasons()).anyMatch(s -> s.contains(mx + " raised"));
        RecipientResult ordinary = send(t, "c@" + domain, false);
        assertThat(ordinary.status()).as("%s", ordinary).isEqualTo(DeliveryStatus.DELIVERED);
        assertThat(ordinary.authentication()).contains(Authentication.ENCRYPTED);
        assertThat(ordinary.plan().reasons())
            .anyMatch(s -> s.startsWith("downgrade memory: TLS seen"));
        assertThat(smtp.messages()).hasSize(2);
        assertThat(smtp.messages().get(1).mailParameters()).doesNotContain("REQUIRETLS");
        // The memory learned what the domain's own policy gives: TLS, not authenticated TLS.
        DowngradeMemory.Seen seen = memory.seen(DomainName.of(domain));
        assertThat(seen.tls()).isPresent();
        assertThat(seen.authenticatedTls()).isEmpty();

        // And another REQUIRETLS message still goes, raised as the first one was.
        RecipientResult again = send(t, "d@" + domain, true);
        assertThat(again.status()).as("%s", again).isEqualTo(DeliveryStatus.DELIVERED);
        assertThat(smtp.messages()).hasSize(3);
      } finally {
        http.connectionPool().evictAll();
      }
    }
  }

  /**
   * Real protection stays: a DANE delivery is remembered; the TLSA records then vanish (the zone
   * still signed, their absence proven), and a sender that starts afresh defers ordinary mail 451
   * 4.7.4 without connecting.
   */
  @Test
  void afterDaneVanishesOrdinaryMailIsStillDeferred(@TempDir Path state) throws Exception {
    String domain = "dane.test";
    String mx = "mx." + domain;
    TestPki.Issued leaf = TestPki.selfSigned(mx);
    DowngradeMemory memory = DowngradeMemory.inMemory(100);
    try (MockSmtpServer smtp = server("127.0.0.3", mx, leaf, 0);
        MtaStsServer policies = MtaStsServer.builder().pki(PKI).start();
        TestDnsServer dns =
            TestDnsServer.builder()
                .zone(
                    domain,
                    z ->
                        z.mailHost(domain, 10, mx, smtp).tlsaFor(Tlsa.smtpOwner(mx), 3, 1, 1, leaf))
                .start()) {
      OkHttpClient http = StandardFixtures.http(PKI);
      try {
        try (SecureSmtpTransport t =
            transport(state.resolve("1"), dns, policies, http, smtp.port(), memory)) {
          RecipientResult first = send(t, "b@" + domain, false);
          assertThat(first.status()).as("%s", first).isEqualTo(DeliveryStatus.DELIVERED);
          assertThat(first.authentication()).contains(Authentication.VERIFIED);
          assertThat(first.attempt().orElseThrow().source()).isEqualTo(PolicySource.DANE);
        }
        assertThat(memory.seen(DomainName.of(domain)).authenticatedTls()).isPresent();

        dns.removeRecords(Tlsa.smtpOwner(mx), Type.TLSA);
        int sessions = smtp.sessions().size();
        try (SecureSmtpTransport t =
            transport(state.resolve("2"), dns, policies, http, smtp.port(), memory)) {
          RecipientResult r = send(t, "c@" + domain, false);
          assertDowngradeRefused(r, "authenticated TLS seen");
          assertThat(r.plan().skipped())
              .singleElement()
              .satisfies(s -> assertThat(s.failure()).isEqualTo(FailureType.DOWNGRADE_DETECTED));
        }
        assertThat(smtp.sessions()).hasSize(sessions);
        assertThat(smtp.messages()).hasSize(1);
      } finally {
        http.connectionPool().evictAll();
      }
    }
  }

  /**
   * Real protection stays, and REQUIRETLS is judged against it as it will be sent: the domain's
   * MTA-STS policy goes from {@code enforce} to {@code testing}. A sender that remembers the
   * enforced, verified delivery defers ordinary mail 451 4.7.4; a REQUIRETLS message, whose host
   * the {@code testing} policy lists and REQUIRETLS raises to PKIX, meets the floor and is
   * delivered, verified.
   */
  @Test
  void afterEnforceBecomesTestingOrdinaryMailIsDeferredAndRequireTlsIsDelivered(@TempDir Path state)
      throws Exception {
    String domain = "wasenforce.test";
    String mx = "mx." + domain;
    String txt = "_mta-sts." + domain;
    DowngradeMemory memory = DowngradeMemory.inMemory(100);
    try (MockSmtpServer smtp = server("127.0.0.4", mx, pkix(mx), 0);
        MtaStsServer policies =
            MtaStsServer.builder()
                .pki(PKI)
                .domain(domain, MtaStsServer.policyText("enforce", 86400, mx))
                .start();
        TestDnsServer dns =
            TestDnsServer.builder()
                .zone(domain, z -> policies.publish(z.mailHost(domain, 10, mx, smtp), domain, "1"))
                .start()) {
      OkHttpClient http = StandardFixtures.http(PKI);
      try {
        try (SecureSmtpTransport t =
            transport(state.resolve("1"), dns, policies, http, smtp.port(), memory)) {
          RecipientResult first = send(t, "b@" + domain, false);
          assertThat(first.status()).as("%s", first).isEqualTo(DeliveryStatus.DELIVERED);
          assertThat(first.authentication()).contains(Authentication.VERIFIED);
          assertThat(first.attempt().orElseThrow().source()).isEqualTo(PolicySource.MTA_STS);
        }
        assertThat(memory.seen(DomainName.of(domain)).authenticatedTls()).isPresent();

        policies.policy(domain, MtaStsServer.policyText("testing", 86400, mx));
        dns.update(domain, z -> z.remove(txt, Type.TXT).txt(txt, MtaStsServer.stsRecord("2")));
        int sessions = smtp.sessions().size();
        try (SecureSmtpTransport t =
            transport(state.resolve("2"), dns, policies, http, smtp.port(), memory)) {
          RecipientResult ordinary = send(t, "c@" + domain, false);
          assertDowngradeRefused(ordinary, "authenticated TLS seen");
          assertThat(smtp.sessions()).hasSize(sessions);

          RecipientResult strict = send(t, "d@" + domain, true);
          assertThat(strict.status()).as("%s", strict).isEqualTo(DeliveryStatus.DELIVERED);
          assertThat(strict.authentication()).contains(Authentication.VERIFIED);
          assertThat(strict.attempt().orElseThrow().requirement())
              .isInstanceOf(TlsRequirement.Pkix.class);
          assertThat(strict.plan().reasons())
              .anyMatch(s -> s.contains("authenticated TLS seen"))
              .anyMatch(s -> s.contains(mx + " raised"));
          assertThat(smtp.messages()).hasSize(2);
          assertThat(smtp.messages().get(1).mailParameters()).contains("REQUIRETLS");

          // The REQUIRETLS delivery does not vouch for ordinary mail: still deferred.
          assertDowngradeRefused(send(t, "e@" + domain, false), "authenticated TLS seen");
          assertThat(smtp.messages()).hasSize(2);
        }
      } finally {
        http.connectionPool().evictAll();
      }
    }
  }
}
