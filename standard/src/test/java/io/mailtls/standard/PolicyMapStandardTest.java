package io.mailtls.standard;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.Authentication;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DestinationPolicyMap;
import io.mailtls.core.DnsResolver;
import io.mailtls.core.Envelope;
import io.mailtls.core.FailureType;
import io.mailtls.core.MessageContent;
import io.mailtls.core.PolicySource;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SmtpTimeouts;
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
 * Issue 15, per-destination policy map, with the real MTA-STS and DANE providers against the
 * testkit's signed DNS, an HTTPS policy host and mock SMTP servers with STARTTLS: {@code
 * authenticated} delivers to a DANE-only and to an MTA-STS-only domain and defers a domain with
 * neither; an {@code override=sts} entry delivers past a receiver's broken {@code enforce} policy
 * and says so in the decision record.
 */
class PolicyMapStandardTest {

  private static final TestPki PKI = TestPki.create();
  private static final byte[] MESSAGE =
      "Subject: policy map\r\n\r\nHello.\r\n".getBytes(StandardCharsets.US_ASCII);

  /** The operator's map: the documented file format. */
  private static final String MAP =
      "# issue 15\n"
          + "sts.test     authenticated\n"
          + "dane.test    authenticated\n"
          + "plain.test   authenticated\n"
          + "broken.test  enforced  override=sts   # its policy names a retired MX\n";

  private static MockSmtpServer stsMx;
  private static MockSmtpServer daneMx;
  private static MockSmtpServer plainMx;
  private static MockSmtpServer brokenMx;
  private static MtaStsServer sts;
  private static TestDnsServer dns;
  private static DnsResolver resolver;
  private static OkHttpClient http;

  private static MockSmtpServer server(String ip, String host, int port, javax.net.ssl.SSLContext c)
      throws IOException {
    return StandardFixtures.smtpHost(ip, port, host, c).start();
  }

  @BeforeAll
  static void start() throws IOException {
    stsMx =
        server(
            "127.0.0.2",
            "mx.sts.test",
            0,
            PKI.root().leaf().dnsNames("mx.sts.test").issue().serverSslContext());
    int port = stsMx.port();
    TestPki.Issued daneLeaf = TestPki.selfSigned("mx.dane.test");
    daneMx = server("127.0.0.3", "mx.dane.test", port, daneLeaf.serverSslContext());
    plainMx =
        server(
            "127.0.0.4",
            "mx.plain.test",
            port,
            PKI.root().leaf().dnsNames("mx.plain.test").issue().serverSslContext());
    brokenMx =
        server(
            "127.0.0.5",
            "mx.broken.test",
            port,
            PKI.root().leaf().dnsNames("mx.broken.test").issue().serverSslContext());
    sts =
        MtaStsServer.builder()
            .pki(PKI)
            .domain("sts.test", MtaStsServer.policyText("enforce", 86400, "mx.sts.test"))
            .domain(
                "broken.test", MtaStsServer.policyText("enforce", 86400, "mx.retired.broken.test"))
            .start();
    dns =
        TestDnsServer.builder()
            .zone(
                "sts.test",
                z ->
                    sts.publish(
                        z.mailHost("sts.test", 10, "mx.sts.test", stsMx), "sts.test", "pm1"))
            .zone(
                "broken.test",
                z ->
                    sts.publish(
                        z.mailHost("broken.test", 10, "mx.broken.test", brokenMx),
                        "broken.test",
                        "pm2"))
            .zone(
                "dane.test",
                z ->
                    z.mailHost("dane.test", 10, "mx.dane.test", daneMx)
                        .tlsaFor(Tlsa.smtpOwner("mx.dane.test"), 3, 1, 1, daneLeaf))
            .zone("plain.test", z -> z.mailHost("plain.test", 10, "mx.plain.test", plainMx))
            .start();
    resolver = StandardFixtures.resolver(dns);
    http = StandardFixtures.http(PKI);
  }

  @AfterAll
  static void stop() {
    http.connectionPool().evictAll();
    for (MockSmtpServer s : new MockSmtpServer[] {stsMx, daneMx, plainMx, brokenMx}) {
      s.close();
    }
    sts.close();
    dns.close();
  }

  private static SecureSmtpTransport transport(Path state, DestinationPolicyMap map) {
    return StandardTransport.setup(state)
        .dns(resolver)
        .policyHttpClient(http)
        .policyPort(sts.port())
        .transportBuilder()
        .heloName("client.sender.test")
        .port(stsMx.port())
        .trustStore(PKI.trustStore())
        .timeouts(SmtpTimeouts.uniform(Duration.ofSeconds(5)))
        .destinationPolicies(map)
        .build();
  }

  private static RecipientResult send(SecureSmtpTransport t, String rcpt) {
    return t.send(Envelope.of("a@sender.test", rcpt), MessageContent.of(MESSAGE)).result(rcpt);
  }

  @Test
  void authenticatedDeliversByDaneOrMtaStsAndDefersADomainWithNeither(@TempDir Path state)
      throws Exception {
    try (SecureSmtpTransport t = transport(state, DestinationPolicyMap.parse(MAP))) {
      RecipientResult viaSts = send(t, "b@sts.test");
      assertThat(viaSts.status()).as("%s", viaSts).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(viaSts.attempt().orElseThrow().source()).isEqualTo(PolicySource.MTA_STS);
      assertThat(viaSts.authentication()).contains(Authentication.VERIFIED);

      RecipientResult viaDane = send(t, "c@dane.test");
      assertThat(viaDane.status()).as("%s", viaDane).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(viaDane.attempt().orElseThrow().source()).isEqualTo(PolicySource.DANE);
      assertThat(viaDane.authentication()).contains(Authentication.VERIFIED);

      RecipientResult neither = send(t, "d@plain.test");
      assertThat(neither.status()).as("%s", neither).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(neither.attempts()).isEmpty();
      assertThat(neither.reply().code()).isEqualTo(451);
      assertThat(neither.reply().enhancedStatus().orElseThrow()).hasToString("4.7.5");
      assertThat(neither.plan().failure().orElseThrow().type())
          .isEqualTo(FailureType.DESTINATION_POLICY);
      assertThat(neither.plan().skipped())
          .singleElement()
          .satisfies(s -> assertThat(s.reason()).contains("authenticated: mx.plain.test has no"));
      assertThat(neither.plan().reasons()).contains("policy map entry plain.test: authenticated");
      assertThat(plainMx.sessions()).isEmpty();
    }
  }

  @Test
  void anOverrideDeliversPastABrokenEnforcePolicyAndTheRecordSaysSo(@TempDir Path state)
      throws Exception {
    try (SecureSmtpTransport t = transport(state, DestinationPolicyMap.empty())) {
      RecipientResult kept = send(t, "e@broken.test");
      assertThat(kept.status()).as("%s", kept).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(kept.plan().failure().orElseThrow().type())
          .isEqualTo(FailureType.STS_POLICY_INVALID);
    }
    try (SecureSmtpTransport t = transport(state, DestinationPolicyMap.parse(MAP))) {
      RecipientResult r = send(t, "e@broken.test");
      assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(r.attempt().orElseThrow().source()).isEqualTo(PolicySource.POLICY_MAP);
      assertThat(r.authentication()).contains(Authentication.ENCRYPTED);
      assertThat(r.plan().mtaSts()).isEmpty();
      assertThat(r.plan().reasons())
          .anySatisfy(
              l ->
                  assertThat(l)
                      .startsWith("policy map override (override=sts, entry broken.test)")
                      .contains("enforce policy id pm2")
                      .endsWith("lowering the recipient's policy"));
      assertThat(brokenMx.messages()).hasSize(1);
    }
  }
}
