package io.mailtls.standard;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.Authentication;
import io.mailtls.core.DeliveryPlan;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DestinationPolicyMap;
import io.mailtls.core.DnsResolver;
import io.mailtls.core.DomainName;
import io.mailtls.core.DowngradeMemory;
import io.mailtls.core.DowngradeProtection;
import io.mailtls.core.Envelope;
import io.mailtls.core.MessageContent;
import io.mailtls.core.NextHop;
import io.mailtls.core.PolicyMapException;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SmartHost;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.TransportSecurity;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.MtaStsServer;
import io.mailtls.testkit.TestDnsServer;
import io.mailtls.testkit.TestPki;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xbill.DNS.Type;

/**
 * Planning edge cases against real peers (the testkit's DNSSEC-signed DNS, an HTTPS MTA-STS policy
 * host, mock SMTP servers with STARTTLS): an MX set that names only addresses (RFC 5321 §5.1), a
 * relay whose address answer of one family fails validation, and a policy map reloaded while one
 * message is being decided.
 */
class PlanningEdgeCasesTest {

  private static final TestPki PKI = TestPki.create();
  private static final byte[] MESSAGE =
      "Subject: planning\r\n\r\nHello.\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] TLS_REQUIRED_NO =
      "Subject: not secret\r\nTLS-Required: No\r\n\r\nHello.\r\n"
          .getBytes(StandardCharsets.US_ASCII);

  private static MockSmtpServer brokenMx;
  private static MockSmtpServer relayMx;
  private static MockSmtpServer plainMx;
  private static MtaStsServer sts;
  private static TestDnsServer dns;
  private static DnsResolver resolver;
  private static OkHttpClient http;

  @BeforeAll
  static void start() throws IOException {
    brokenMx = StandardFixtures.smtpHost(PKI, "127.0.0.2", 0, "mx.broken.test").start();
    relayMx =
        StandardFixtures.smtpHost(PKI, "127.0.0.3", brokenMx.port(), "smtp.relay.test").start();
    plainMx = StandardFixtures.smtpHost(PKI, "127.0.0.4", brokenMx.port(), "mx.plain.test").start();
    sts =
        MtaStsServer.builder()
            .pki(PKI)
            // an enforce policy that names a retired MX: mx.broken.test is outside it
            .domain(
                "broken.test", MtaStsServer.policyText("enforce", 86400, "mx.retired.broken.test"))
            .start();
    dns =
        TestDnsServer.builder()
            .zone(
                "broken.test",
                z ->
                    sts.publish(
                        z.mailHost("broken.test", 10, "mx.broken.test", brokenMx),
                        "broken.test",
                        "pe1"))
            // no MTA-STS, no DANE: only the sender's level and the operator's map decide
            .zone("plain.test", z -> z.mailHost("plain.test", 10, "mx.plain.test", plainMx))
            // MX records that name addresses, not hosts (RFC 5321 §5.1, RFC 1035 §3.3.9)
            .zone(
                "ipmx.test",
                z -> z.mx("ipmx.test", 10, "127.0.0.2").mx("ipmx.test", 20, "192.0.2.1"))
            // no MX records: the domain itself is the host (implicit MX, RFC 5321 §5.1)
            .zone("implicit.test", z -> z.a("implicit.test", "127.0.0.9"))
            .zone(
                "relay.test",
                z ->
                    z.a("smtp.relay.test", relayMx.address().getHostAddress())
                        .aaaa("smtp.relay.test", "::1"))
            .start();
    resolver = StandardFixtures.resolver(dns);
    http = StandardFixtures.http(PKI);
  }

  @AfterAll
  static void stop() {
    http.connectionPool().evictAll();
    brokenMx.close();
    relayMx.close();
    plainMx.close();
    sts.close();
    dns.close();
  }

  private static SecureSmtpTransport.Builder builder(Path state) {
    return StandardTransport.setup(state)
        .dns(resolver)
        .policyHttpClient(http)
        .policyPort(sts.port())
        .transportBuilder()
        .heloName("client.sender.test")
        .port(brokenMx.port())
        .trustStore(PKI.trustStore())
        .timeouts(SmtpTimeouts.uniform(Duration.ofSeconds(5)));
  }

  private static RecipientResult send(SecureSmtpTransport t, String rcpt, byte[] message) {
    return t.send(Envelope.of("a@sender.test", rcpt), MessageContent.of(message)).result(rcpt);
  }

  // --------------------------------------------------------------------- MX names an address

  /**
   * RFC 5321 §5.1: "If MX records are present, but none of them are usable ... this situation MUST
   * be reported as an error", and the MX data "MUST contain a domain name". MX records that name
   * only IP addresses are a permanent fault of the domain's DNS, not a failed lookup: the recipient
   * bounces (5.4.4, as Postfix's invalid MX data does), the text says what is wrong, and no address
   * from the records is connected to.
   */
  @Test
  void mxRecordsThatNameOnlyAddressesBounceWithATextThatSaysSo(@TempDir Path state) {
    try (SecureSmtpTransport t = builder(state).build()) {
      RecipientResult r = send(t, "b@ipmx.test", MESSAGE);
      assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.BOUNCED);
      assertThat(r.reply().code()).isEqualTo(550);
      assertThat(r.reply().enhancedStatus().orElseThrow()).hasToString("5.4.4");
      assertThat(r.reply().text())
          .doesNotContain("MX lookup failed")
          .contains("ipmx.test")
          .contains("127.0.0.2")
          .contains("192.0.2.1")
          .contains("IP address")
          .contains("RFC 5321 §5.1");
      // by name: the kind is new with this fix
      assertThat(r.plan().mx().kind().name()).isEqualTo("NO_USABLE_MX");
      assertThat(r.plan().mx().kind().isPermanentFailure()).isTrue();
      assertThat(r.plan().reasons())
          .contains("MX resolution: NO_USABLE_MX")
          .contains("MX target 127.0.0.2 is an IP address, not a host name; ignored");
      assertThat(r.attempts()).isEmpty();
    }
  }

  /**
   * No MX records, and the implicit MX's A answer fails validation (its AAAA is a secure NODATA):
   * deferred, since failed data is never "no address" (RFC 4035 §5.5), with a text that says the
   * address lookup of the implicit MX failed, not the MX lookup, which gave a secure "no MX".
   */
  @Test
  void anImplicitMxWhoseAddressLookupFailsIsDeferredWithoutBlamingTheMxLookup(@TempDir Path state) {
    dns.corruptSignatures("implicit.test", Type.A);
    try (SecureSmtpTransport t = builder(state).build()) {
      RecipientResult r = send(t, "e@implicit.test", MESSAGE);
      assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(r.reply().code()).isEqualTo(451);
      assertThat(r.reply().enhancedStatus().orElseThrow()).hasToString("4.4.3");
      assertThat(r.reply().text())
          .doesNotContain("MX lookup failed")
          .contains("implicit.test has no MX records")
          .contains("address lookup of the implicit MX failed")
          .contains("A implicit.test: FAILURE BOGUS");
      assertThat(r.attempts()).isEmpty();
    } finally {
      dns.clearFaults();
    }
  }

  // ------------------------------------------------------------------------ relay, one family

  /**
   * A transport-wide relay whose AAAA answer fails validation (bogus signatures, RFC 4035 §5.5)
   * while its A answer validates: the relay is reached at the validated addresses only, and the
   * decision record says which family failed and why, as it does for an MX host.
   */
  @Test
  void aRelayWithOneBogusAddressFamilyIsReachedOverTheOtherAndTheRecordSaysSo(@TempDir Path state) {
    dns.corruptSignatures("smtp.relay.test", Type.AAAA);
    try (SecureSmtpTransport t =
        builder(state)
            .relay(SmartHost.builder("smtp.relay.test").port(relayMx.port()).build())
            .build()) {
      RecipientResult r = send(t, "c@far.example", MESSAGE);
      assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(r.authentication()).contains(Authentication.VERIFIED);
      assertThat(r.plan().hosts())
          .singleElement()
          .satisfies(h -> assertThat(h.addresses()).containsExactly(relayMx.address()));
      assertThat(r.plan().reasons())
          .anySatisfy(
              l ->
                  assertThat(l)
                      .startsWith("relay smtp.relay.test: AAAA lookup failed")
                      .contains("BOGUS")
                      .endsWith("only the addresses of the other family are used"));
    } finally {
      dns.clearFaults();
    }
  }

  // ------------------------------------------------------------------ one map for one decision

  /**
   * A map that follows a real file, and replaces the file with {@code next} (by a rename, checked
   * at once) right after its first lookup of {@code domain}: a reload lands between the first read
   * of the map for a message and any later one, deterministically.
   */
  private static final class ReloadAfterFirstLookup implements DestinationPolicyMap {
    private final DestinationPolicyMap.Reloading map;
    private final Path file;
    private final String next;
    private final DomainName domain;
    final AtomicInteger lookups = new AtomicInteger();

    ReloadAfterFirstLookup(Path file, String first, String next, String domain)
        throws IOException, PolicyMapException {
      Files.writeString(file, first);
      // a clock an hour ahead: the file is "settled" at once (ReloadingPolicyMap.SETTLE)
      this.map =
          DestinationPolicyMap.reloading(
              file, Duration.ofDays(1), Clock.offset(Clock.systemUTC(), Duration.ofHours(1)));
      this.file = file;
      this.next = next;
      this.domain = DomainName.of(domain);
    }

    @Override
    public Optional<Entry> lookup(DomainName d) {
      Optional<Entry> found = map.lookup(d);
      if (d.equals(domain) && lookups.incrementAndGet() == 1) {
        try {
          Path tmp = file.resolveSibling(file.getFileName() + ".new");
          Files.writeString(tmp, next);
          Files.move(
              tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
        assertThat(map.checkNow()).as("the new map is loaded").isTrue();
      }
      return found;
    }

    @Override
    public List<Entry> entries() {
      return map.entries();
    }
  }

  /**
   * RFC 8689 §3 (TLS-Required: No) under a policy map that is reloaded while the message is being
   * decided. The old map has {@code broken.test enforced override=sts} (the operator sets aside the
   * domain's enforce policy, which names a retired MX); the new one has no entry for it. Either map
   * alone delivers: the old by its override, the new because the header lets the recipient's policy
   * report rather than block. Reading the old map for "does an operator entry keep the header from
   * applying?" and the new one for the plan mixes them: the header is set aside for an entry the
   * plan does not have, and the enforce policy defers the message. One decision reads one snapshot
   * of the map.
   */
  @Test
  void oneMessageIsDecidedOnOneSnapshotOfAReloadedMap(@TempDir Path dir) throws Exception {
    ReloadAfterFirstLookup map =
        new ReloadAfterFirstLookup(
            dir.resolve("policy-map"),
            "broken.test enforced override=sts\n",
            "other.test enforced\n",
            "broken.test");
    try (SecureSmtpTransport t = builder(dir.resolve("state")).destinationPolicies(map).build()) {
      RecipientResult r = send(t, "d@broken.test", TLS_REQUIRED_NO);
      assertThat(map.lookups.get()).as("the map was reloaded during the decision").isPositive();
      assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DELIVERED);
      // the old map decided all of it: its entry, and the header set aside for it
      assertThat(r.plan().reasons())
          .contains("policy map entry broken.test: enforced override=sts")
          .anySatisfy(
              l ->
                  assertThat(l)
                      .startsWith("TLS-Required: No (RFC 8689 §4.2.2) changes nothing here")
                      .contains("broken.test enforced override=sts"));
      assertThat(r.authentication()).contains(Authentication.ENCRYPTED);
    }
  }

  /**
   * A map that says {@code plain.test enforced override=sts} (the operator lowered the domain's
   * policy: exempt from the downgrade memory) until its first lookup, then {@code plain.test
   * verify}.
   */
  private static ReloadAfterFirstLookup plainTestExemptThenVerify(Path dir) throws IOException {
    return new ReloadAfterFirstLookup(
        dir.resolve("policy-map"),
        "plain.test enforced override=sts\n",
        "plain.test verify\n",
        "plain.test");
  }

  /** A transport under {@code map} whose downgrade memory saw authenticated TLS for plain.test. */
  private static SecureSmtpTransport guardedByMemoryOfAuthenticatedTls(
      Path dir, DestinationPolicyMap map) {
    DowngradeMemory memory = DowngradeMemory.inMemory(10);
    memory.raise(DomainName.of("plain.test"), TransportSecurity.AUTHENTICATED_TLS, Instant.now());
    return builder(dir.resolve("state"))
        .destinationPolicies(map)
        .downgradeProtection(DowngradeProtection.builder(memory).build())
        .build();
  }

  /** The old map decided the plan and the memory's exemption alike. */
  private static void assertExemptByTheOldEntry(List<String> reasons) {
    assertThat(reasons)
        .contains("policy map entry plain.test: enforced override=sts")
        .anySatisfy(l -> assertThat(l).startsWith("downgrade memory: exempt by operator entry"));
  }

  /**
   * Downgrade memory (docs/design.md §1, "Downgrade memory") under a policy map reloaded while one
   * message is being decided. Authenticated TLS was seen for {@code plain.test} (no MTA-STS, no
   * DANE). The old map says {@code plain.test enforced override=sts}: the operator lowered the
   * domain's policy, so the memory exempts it and the message goes encrypted. The new one says
   * {@code plain.test verify}: PKIX on the MX host name authenticates, which meets the memory's
   * floor. Either map alone delivers. Planning under the old entry (enforced, unauthenticated)
   * while the memory's exemption reads the new one (no override, not exempt) skips the only host as
   * a downgrade and defers the message 4.7.4. The exemption follows the plan's one read of the map.
   */
  @Test
  void theDowngradeMemoryIsExemptedByTheMapReadThePlanWasMadeUnder(@TempDir Path dir)
      throws Exception {
    ReloadAfterFirstLookup map = plainTestExemptThenVerify(dir);
    try (SecureSmtpTransport t = guardedByMemoryOfAuthenticatedTls(dir, map)) {
      RecipientResult r = send(t, "f@plain.test", MESSAGE);
      assertThat(map.lookups.get()).as("the map was reloaded during the decision").isPositive();
      assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DELIVERED);
      // the old map decided all of it: the plan's entry, and the memory's exemption for it
      assertExemptByTheOldEntry(r.plan().reasons());
      assertThat(r.authentication()).contains(Authentication.ENCRYPTED);
    }
  }

  /**
   * {@link SecureSmtpTransport#plan(NextHop, TlsLevel)}, the plan {@code send} would follow, reads
   * the map once too: the same reload between its reads gives the plan of the old map, exemption
   * included, not a plan of the old map judged by the new map's exemption.
   */
  @Test
  void thePublicPlanIsJudgedByTheDowngradeMemoryUnderTheSameMapRead(@TempDir Path dir)
      throws Exception {
    ReloadAfterFirstLookup map = plainTestExemptThenVerify(dir);
    try (SecureSmtpTransport t = guardedByMemoryOfAuthenticatedTls(dir, map)) {
      DeliveryPlan plan =
          t.plan(new NextHop.Domain(DomainName.of("plain.test")), TlsLevel.OPPORTUNISTIC);
      assertThat(map.lookups.get()).as("the map was reloaded during the decision").isPositive();
      assertThat(plan.failure()).as("%s", plan.reasons()).isEmpty();
      assertThat(plan.hosts()).hasSize(1);
      assertExemptByTheOldEntry(plan.reasons());
    }
  }
}
