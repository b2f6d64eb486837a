package io.mailtls.standard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailtls.core.Authentication;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DnsResolver;
import io.mailtls.core.Envelope;
import io.mailtls.core.MessageContent;
import io.mailtls.core.MtaStsMode;
import io.mailtls.core.MtaStsPolicy;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 11 item 4, recipient policies off by default: the one-call standard set-up, run against
 * real peers (the testkit's signed DNS, an HTTPS policy host, mock SMTP servers with STARTTLS): it
 * honours MTA-STS and DANE, keeps policies in the state directory across restarts, and stops its
 * refresh thread when the transport closes.
 */
class StandardTransportTest {

  private static final TestPki PKI = TestPki.create();
  private static final byte[] MESSAGE =
      "Subject: standard\r\n\r\nHello.\r\n".getBytes(StandardCharsets.US_ASCII);

  private static MockSmtpServer stsMx;
  private static MockSmtpServer daneMx;
  private static MtaStsServer sts;
  private static TestDnsServer dns;
  private static DnsResolver resolver;
  private static OkHttpClient http;

  @BeforeAll
  static void start() throws IOException {
    stsMx = StandardFixtures.smtpHost(PKI, "127.0.0.2", 0, "mx.sts.test").start();
    // A self-signed certificate: only DANE can authenticate it.
    TestPki.Issued daneLeaf = TestPki.selfSigned("mx.dane.test");
    daneMx =
        StandardFixtures.smtpHost(
                "127.0.0.3", stsMx.port(), "mx.dane.test", daneLeaf.serverSslContext())
            .start();
    sts =
        MtaStsServer.builder()
            .pki(PKI)
            .domain("sts.test", MtaStsServer.policyText("enforce", 86400, "mx.sts.test"))
            .start();
    dns =
        TestDnsServer.builder()
            .zone(
                "sts.test",
                z ->
                    sts.publish(
                        z.mailHost("sts.test", 10, "mx.sts.test", stsMx), "sts.test", "standard1"))
            .zone(
                "dane.test",
                z ->
                    z.mailHost("dane.test", 10, "mx.dane.test", daneMx)
                        .tlsaFor(Tlsa.smtpOwner("mx.dane.test"), 3, 1, 1, daneLeaf))
            .start();
    resolver = StandardFixtures.resolver(dns);
    http = StandardFixtures.http(PKI);
  }

  @AfterAll
  static void stop() {
    http.connectionPool().evictAll();
    stsMx.close();
    daneMx.close();
    sts.close();
    dns.close();
  }

  /** The standard set-up pointed at the test network (DNS, policy host trust and port). */
  private static SecureSmtpTransport transport(Path state) {
    return StandardTransport.setup(state)
        .dns(resolver)
        .policyHttpClient(http)
        .policyPort(sts.port())
        .transportBuilder()
        .heloName("client.sender.test")
        .port(stsMx.port())
        .trustStore(PKI.trustStore())
        .timeouts(SmtpTimeouts.uniform(Duration.ofSeconds(5)))
        .build();
  }

  private static RecipientResult send(SecureSmtpTransport t, String rcpt) {
    return t.send(Envelope.of("a@sender.test", rcpt), MessageContent.of(MESSAGE)).result(rcpt);
  }

  @Test
  void honoursMtaStsAndDaneOutOfTheBox(@TempDir Path state) {
    try (SecureSmtpTransport t = transport(state)) {
      RecipientResult viaSts = send(t, "b@sts.test");
      assertThat(viaSts.status()).as("%s", viaSts).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(viaSts.attempt().orElseThrow().source()).isEqualTo(PolicySource.MTA_STS);
      assertThat(viaSts.authentication()).contains(Authentication.VERIFIED);

      RecipientResult viaDane = send(t, "c@dane.test");
      assertThat(viaDane.status()).as("%s", viaDane).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(viaDane.attempt().orElseThrow().source()).isEqualTo(PolicySource.DANE);
      assertThat(viaDane.authentication()).contains(Authentication.VERIFIED);
    }
  }

  @Test
  void policiesSurviveARestartInTheStateDirectory(@TempDir Path state) throws IOException {
    try (SecureSmtpTransport t = transport(state)) {
      assertThat(send(t, "b@sts.test").status()).isEqualTo(DeliveryStatus.DELIVERED);
    }
    Path file = state.resolve(StandardTransport.POLICY_FILE);
    assertThat(file).exists();
    assertThat(Files.readString(file)).contains("sts.test").contains("standard1");
    int fetches = sts.requestCount("sts.test");
    // A new process with the same state directory applies the cached policy without a fetch
    // (RFC 8461 §5.1: same id, no fetch).
    try (SecureSmtpTransport t = transport(state)) {
      RecipientResult r = send(t, "b@sts.test");
      assertThat(r.status()).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(r.plan().mtaSts()).map(MtaStsPolicy::mode).contains(MtaStsMode.ENFORCE);
      assertThat(r.plan().reasons()).anyMatch(s -> s.contains("(cached)"));
    }
    assertThat(sts.requestCount("sts.test")).isEqualTo(fetches);
  }

  @Test
  void closingTheTransportStopsTheRefreshThread(@TempDir Path state) throws Exception {
    SecureSmtpTransport t = transport(state);
    send(t, "b@sts.test"); // a fetched policy schedules its refresh
    assertThat(refreshThreads()).isPositive();
    t.close();
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (refreshThreads() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(refreshThreads()).isZero();
  }

  @Test
  void theEhloNameIsStillRequired(@TempDir Path state) {
    SecureSmtpTransport.Builder b = StandardTransport.setup(state).dns(resolver).transportBuilder();
    assertThatThrownBy(b::build)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("heloName");
  }

  private static long refreshThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(th -> th.getName().equals("mailtls-mta-sts-refresh") && th.isAlive())
        .count();
  }
}
