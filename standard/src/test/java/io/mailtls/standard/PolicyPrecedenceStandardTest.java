package io.mailtls.standard;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.Authentication;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DnsResolver;
import io.mailtls.core.Envelope;
import io.mailtls.core.FailureType;
import io.mailtls.core.MessageContent;
import io.mailtls.core.PolicySource;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SenderPolicy;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.core.TlsLevel;
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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The precedence of docs/design.md §1 with the real MTA-STS and DANE providers, against the
 * testkit's signed (and unsigned, and bogus) DNS, an HTTPS policy host and mock SMTP servers with
 * STARTTLS: how an MX answer that is not DNSSEC-secure, DANE and an MTA-STS {@code enforce} policy
 * meet per MX host, and the rules of the whole domain (bogus MX, null MX, implicit MX, the sender's
 * {@code sts-required} and {@code dane-required}).
 */
class PolicyPrecedenceStandardTest {

  private static final TestPki PKI = TestPki.create();
  private static final byte[] MESSAGE =
      "Subject: precedence\r\n\r\nHello.\r\n".getBytes(StandardCharsets.US_ASCII);

  /** mx.signed.test: a self-signed certificate that only its TLSA record (3 1 1) vouches for. */
  private static MockSmtpServer daneHost;

  /** mx.pkix.test, also the implicit MX of implicit.test: a WebPKI certificate, no TLSA. */
  private static MockSmtpServer pkixHost;

  private static MtaStsServer sts;
  private static TestDnsServer dns;
  private static DnsResolver resolver;
  private static OkHttpClient http;

  @BeforeAll
  static void start() throws IOException {
    TestPki.Issued daneLeaf = TestPki.selfSigned("mx.signed.test");
    daneHost =
        StandardFixtures.smtpHost("127.0.80.2", 0, "mx.signed.test", daneLeaf.serverSslContext())
            .start();
    pkixHost =
        StandardFixtures.smtpHost(
                "127.0.80.3",
                daneHost.port(),
                "mx.pkix.test",
                PKI.root()
                    .leaf()
                    .dnsNames("mx.pkix.test", "implicit.test")
                    .issue()
                    .serverSslContext())
            .start();
    sts =
        MtaStsServer.builder()
            .pki(PKI)
            .domain("unsig.test", MtaStsServer.policyText("enforce", 86400, "mx.other.test"))
            .domain("listed.test", MtaStsServer.policyText("enforce", 86400, "mx.signed.test"))
            .domain("secure.test", MtaStsServer.policyText("enforce", 86400, "mx.other.test"))
            .domain("implicit.test", MtaStsServer.policyText("enforce", 86400, "implicit.test"))
            .domain("nullmx.test", MtaStsServer.policyText("enforce", 86400, "mx.pkix.test"))
            .start();
    dns =
        TestDnsServer.builder()
            .zone(
                "signed.test",
                z ->
                    z.a("mx.signed.test", "127.0.80.2")
                        .tlsaFor(Tlsa.smtpOwner("mx.signed.test"), 3, 1, 1, daneLeaf))
            .zone("pkix.test", z -> z.a("mx.pkix.test", "127.0.80.3"))
            // unsigned: the MX answer may be forged, here to name a signed host with TLSA that the
            // enforce policy does not list
            .zone(
                "unsig.test",
                z ->
                    sts.publish(
                        z.unsigned().mx("unsig.test", 10, "mx.signed.test"), "unsig.test", "u1"))
            // unsigned, and the policy lists the host: DANE authenticates it (TRUSTED)
            .zone(
                "listed.test",
                z ->
                    sts.publish(
                        z.unsigned().mx("listed.test", 10, "mx.signed.test"), "listed.test", "l1"))
            // signed: the domain owner chose the host, and DANE wins over the policy for it
            .zone(
                "secure.test",
                z -> sts.publish(z.mx("secure.test", 10, "mx.signed.test"), "secure.test", "s1"))
            .zone(
                "implicit.test",
                z -> sts.publish(z.a("implicit.test", "127.0.80.3"), "implicit.test", "i1"))
            .zone("nullmx.test", z -> sts.publish(z.nullMx("nullmx.test"), "nullmx.test", "n1"))
            .zone("nopolicy.test", z -> z.mx("nopolicy.test", 10, "mx.pkix.test"))
            .zone("bogus.test", z -> z.mx("bogus.test", 10, "mx.pkix.test").expiredSignatures())
            .start();
    resolver = StandardFixtures.resolver(dns);
    http = StandardFixtures.http(PKI);
  }

  @AfterAll
  static void stop() {
    http.connectionPool().evictAll();
    daneHost.close();
    pkixHost.close();
    sts.close();
    dns.close();
  }

  private static SecureSmtpTransport transport(Path state, TlsLevel level) {
    return StandardTransport.setup(state)
        .dns(resolver)
        .policyHttpClient(http)
        .policyPort(sts.port())
        .transportBuilder()
        .heloName("client.sender.test")
        .port(daneHost.port())
        .trustStore(PKI.trustStore())
        .timeouts(SmtpTimeouts.uniform(Duration.ofSeconds(5)))
        .senderPolicy(SenderPolicy.uniform(level))
        .build();
  }

  private static RecipientResult send(SecureSmtpTransport t, String rcpt) {
    return t.send(Envelope.of("a@sender.test", rcpt), MessageContent.of(MESSAGE)).result(rcpt);
  }

  @Test
  void anInsecureMxAnswerOutsideAnEnforcePolicyIsSkippedEvenWithUsableTlsaAndTheRecordSaysWhy(
      @TempDir Path state) {
    int before = daneHost.sessions().size();
    try (SecureSmtpTransport t = transport(state, TlsLevel.OPPORTUNISTIC)) {
      RecipientResult r = send(t, "b@unsig.test");
      assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(r.plan().failure().orElseThrow().type()).isEqualTo(FailureType.STS_POLICY_INVALID);
      assertThat(r.plan().skipped())
          .singleElement()
          .satisfies(s -> assertThat(s.failure()).isEqualTo(FailureType.STS_POLICY_INVALID));
      // RFC 8461 §2 lets DANE take precedence, so the record says why it did not here
      assertThat(r.plan().reasons())
          .as("%s", r.plan().reasons())
          .anySatisfy(
              l ->
                  assertThat(l)
                      .startsWith("mx.signed.test: usable TLSA records not used")
                      .contains("the MX answer is INSECURE"));
      assertThat(daneHost.sessions()).hasSize(before);
    }
  }

  @Test
  void daneWinsOverAnEnforcePolicyForAListedHostThroughAnInsecureMxAnswer(@TempDir Path state) {
    try (SecureSmtpTransport t = transport(state, TlsLevel.OPPORTUNISTIC)) {
      RecipientResult r = send(t, "b@listed.test");
      assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(r.attempt().orElseThrow().source()).isEqualTo(PolicySource.DANE);
      // RFC 7672 §2.2.1: through an insecure MX answer the peer is TRUSTED, not VERIFIED
      assertThat(r.authentication()).contains(Authentication.TRUSTED);
    }
  }

  @Test
  void daneWinsOverAnEnforcePolicyForAHostTheSignedMxAnswerNames(@TempDir Path state) {
    try (SecureSmtpTransport t = transport(state, TlsLevel.OPPORTUNISTIC)) {
      RecipientResult r = send(t, "b@secure.test");
      assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(r.attempt().orElseThrow().source()).isEqualTo(PolicySource.DANE);
      assertThat(r.authentication()).contains(Authentication.VERIFIED);
    }
  }

  @Test
  void anImplicitMxIsMatchedAgainstTheEnforcePolicyAndVerifiedByPkix(@TempDir Path state) {
    try (SecureSmtpTransport t = transport(state, TlsLevel.OPPORTUNISTIC)) {
      RecipientResult r = send(t, "b@implicit.test");
      assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(r.attempt().orElseThrow().source()).isEqualTo(PolicySource.MTA_STS);
      assertThat(r.authentication()).contains(Authentication.VERIFIED);
    }
  }

  @Test
  void bogusMxDefersAndANullMxBouncesAtEveryLevel(@TempDir Path state) {
    for (TlsLevel level : TlsLevel.values()) {
      try (SecureSmtpTransport t = transport(state.resolve(level.toString()), level)) {
        RecipientResult bogus = send(t, "b@bogus.test");
        assertThat(bogus.status()).as("%s %s", level, bogus).isEqualTo(DeliveryStatus.DEFERRED);
        assertThat(bogus.plan().failure().orElseThrow().type())
            .isEqualTo(FailureType.DNSSEC_INVALID);
        assertThat(bogus.attempts()).isEmpty();
        RecipientResult nullMx = send(t, "b@nullmx.test");
        assertThat(nullMx.status()).as("%s %s", level, nullMx).isEqualTo(DeliveryStatus.BOUNCED);
        assertThat(nullMx.reply().enhancedStatus().orElseThrow()).hasToString("5.1.10");
      }
    }
  }

  @Test
  void theSendersRequiredLevelsFailClosedWithoutTheRecipientsPolicy(@TempDir Path state) {
    try (SecureSmtpTransport t = transport(state.resolve("sts"), TlsLevel.STS_REQUIRED)) {
      RecipientResult r = send(t, "b@nopolicy.test");
      assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.BOUNCED);
      assertThat(r.reply().enhancedStatus().orElseThrow()).hasToString("5.7.10");
      assertThat(r.attempts()).isEmpty();
    }
    try (SecureSmtpTransport t = transport(state.resolve("dane"), TlsLevel.DANE_REQUIRED)) {
      RecipientResult r = send(t, "b@nopolicy.test");
      assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(r.plan().failure().orElseThrow().type()).isEqualTo(FailureType.DANE_REQUIRED);
      assertThat(r.attempts()).isEmpty();
    }
  }
}
