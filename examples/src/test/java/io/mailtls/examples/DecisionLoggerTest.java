package io.mailtls.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DnsResolver;
import io.mailtls.core.Envelope;
import io.mailtls.core.MessageContent;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.dane.DaneResolver;
import io.mailtls.mtasts.MtaStsResolver;
import io.mailtls.mtasts.OkHttpPolicyFetcher;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@link DecisionLogger} on a real transport: every decision of a delivery, in words. */
class DecisionLoggerTest {

  private static TestWorld world;

  @BeforeAll
  static void start() {
    world = new TestWorld();
  }

  @AfterAll
  static void stop() {
    world.close();
  }

  @Test
  void logsPlansPolicyFailuresHandshakesAndOutcomes() {
    List<String> lines = new CopyOnWriteArrayList<>();
    DnsResolver dns = world.resolver();
    OkHttpClient http =
        new OkHttpClient.Builder()
            .sslSocketFactory(
                world.pki().clientSslContext().getSocketFactory(), world.pki().trustManager())
            .build();
    DeliveryReport report;
    try (MtaStsResolver sts =
            MtaStsResolver.builder()
                .dns(dns)
                .fetcher(
                    OkHttpPolicyFetcher.builder()
                        .dns(dns)
                        .client(http)
                        .port(world.mtaStsPort())
                        .build())
                .build();
        SecureSmtpTransport transport =
            SecureSmtpTransport.builder()
                .dns(dns)
                .mtaSts(sts)
                .dane(DaneResolver.builder().dns(dns).build())
                .trustStore(world.pki().trustStore())
                .port(world.smtpPort())
                .heloName("client.sender.test")
                .timeouts(SmtpTimeouts.uniform(Duration.ofSeconds(5)))
                .eventListener(new DecisionLogger(lines::add))
                .build()) {
      report =
          transport.send(
              Envelope.of(
                  "a@sender.test",
                  "y@sts.test",
                  "x@dane-bad.test",
                  "nobody@mixed.test",
                  "t@sts-testing.test"),
              MessageContent.of(TestWorld.MESSAGE));
    } finally {
      http.dispatcher().executorService().shutdown();
    }

    assertThat(report.result("y@sts.test").status()).isEqualTo(DeliveryStatus.DELIVERED);
    assertThat(lines)
        .contains(
            "plan sts.test: sender level opportunistic, MTA-STS enforce (id world1)",
            "  mx.sts.test -> pkix by mta-sts: MTA-STS enforce: TLS 1.2+, WebPKI, name mx.sts.test",
            "plan mixed.test: sender level opportunistic, no MTA-STS policy");
    assertThat(lines)
        .anySatisfy(
            l ->
                assertThat(l)
                    .startsWith(
                        "  mx.dane-bad.test -> dane by dane: DANE: 1 usable TLSA record(s)"));
    assertThat(lines)
        .anySatisfy(
            l ->
                assertThat(l)
                    .startsWith(
                        "TLS mx.dane-bad.test [127.0.4.4] failed, CERTIFICATE_NOT_TRUSTED: "));
    assertThat(lines)
        .anySatisfy(
            l ->
                assertThat(l)
                    .contains(
                        "no usable TLSA record matches the server's certificates | TLSA base domain"));
    assertThat(lines).noneMatch(l -> l.contains("\n"));
    assertThat(lines)
        .contains(
            "plan sts-testing.test: sender level opportunistic,"
                + " MTA-STS testing (id testing1)");
    assertThat(lines)
        .anySatisfy(
            l ->
                assertThat(l)
                    .startsWith(
                        "policy failure MTA_STS"
                            + " STS_POLICY_INVALID (TLS-RPT sts-policy-invalid), reported only at"
                            + " mx.sts-testing.test: "));
    assertThat(report.result("t@sts-testing.test").status()).isEqualTo(DeliveryStatus.DELIVERED);
    assertThat(lines)
        .anySatisfy(l -> assertThat(l).startsWith("TLS mx.sts.test [127.0.4.5] TLSv1."));
    assertThat(lines).contains("attempt mx.sts.test [127.0.4.5] pkix: VERIFIED");
    assertThat(lines)
        .anySatisfy(
            l ->
                assertThat(l)
                    .matches("y@sts\\.test DELIVERED 250 .* via mx\\.sts\\.test VERIFIED"));
    assertThat(lines)
        .anySatisfy(
            l ->
                assertThat(l)
                    .startsWith(
                        "nobody@mixed.test BOUNCED 550 5.1.1 no such user via mx.mixed.test"));
    assertThat(lines).anySatisfy(l -> assertThat(l).startsWith("x@dane-bad.test DEFERRED 4"));
  }

  @Test
  void aSinkThatThrowsNeverStopsADelivery() {
    try (SecureSmtpTransport transport =
        SecureSmtpTransport.builder()
            .withoutMtaSts()
            .withoutDane()
            .dns(world.resolver())
            .heloName("client.sender.test")
            .port(world.smtpPort())
            .eventListener(
                new DecisionLogger(
                    line -> {
                      throw new IllegalStateException("log full");
                    }))
            .build()) {
      DeliveryReport report =
          transport.send(
              Envelope.of("a@sender.test", "b@good.test"), MessageContent.of(TestWorld.MESSAGE));
      assertThat(report.allDelivered()).isTrue();
    }
  }
}
