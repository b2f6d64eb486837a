package io.mailtls.interop;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.Authentication;
import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DnsResolver;
import io.mailtls.core.Envelope;
import io.mailtls.core.FailureType;
import io.mailtls.core.MessageContent;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SenderPolicy;
import io.mailtls.core.TlsLevel;
import io.mailtls.dane.DaneResolver;
import io.mailtls.mtasts.MtaStsResolver;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 15, REQUIRETLS (RFC 8689 §4.2.1) against real Postfix: the listeners run Postfix 3.7, which
 * does not announce REQUIRETLS, so a message asking for it must never be sent, even where DANE or
 * MTA-STS authenticate the server: BOUNCED with 5.7.30, nothing in the maildir, nothing in
 * Postfix's log. The same message without REQUIRETLS is delivered, so the set-up is not what
 * stopped it.
 */
class RequireTlsInteropTest {

  private static final InteropEnv.Undelivered UNDELIVERED = new InteropEnv.Undelivered();

  @BeforeAll
  static void environment() {
    InteropEnv.requireUp();
  }

  @AfterAll
  static void nothingArrivedLater() throws Exception {
    UNDELIVERED.assertNoneArrived();
  }

  private static RecipientResult send(
      boolean requireTls, InteropEnv.TestMessage m, DnsResolver dns) {
    try (MtaStsResolver sts = Library.mtaSts(dns);
        SecureSmtpTransport t =
            SecureSmtpTransport.builder()
                .dns(dns)
                .dane(DaneResolver.builder().dns(dns).build())
                .mtaSts(sts)
                .trustStore(InteropEnv.caTrustStore())
                .senderPolicy(SenderPolicy.uniform(TlsLevel.OPPORTUNISTIC))
                .heloName("client.interop.mailtls.test")
                .port(25)
                .noConnectionReuse()
                .build()) {
      DeliveryReport report =
          t.send(
              Envelope.of(Library.SENDER, m.recipient()).requireTls(requireTls),
              MessageContent.of(m.wire()));
      return report.recipients().get(0);
    }
  }

  private static void assertNotSent(Scenario s, InteropEnv.TestMessage m, RecipientResult r)
      throws Exception {
    assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.BOUNCED);
    assertThat(r.reply().code()).isEqualTo(550);
    assertThat(r.reply().enhancedStatus().map(Object::toString)).contains("5.7.30");
    UNDELIVERED.record(
        s.domain, m.id(), InteropEnv.deliveredNeedle(m.recipient()), "REQUIRETLS to " + s.domain);
  }

  @Test
  void postfixWithoutRequireTlsGetsNoMessageEvenThroughDane() throws Exception {
    DnsResolver dns = InteropEnv.validatingResolver();
    InteropEnv.TestMessage m = InteropEnv.message(Scenario.DANE_EE.domain, "requiretls-dane");
    RecipientResult r = send(true, m, dns);
    assertNotSent(Scenario.DANE_EE, m, r);
    assertThat(r.attempts())
        .as("Postfix was reached over DANE-verified TLS; only REQUIRETLS was missing")
        .isNotEmpty()
        .allSatisfy(
            a -> {
              assertThat(a.failure()).contains(FailureType.REQUIRETLS_UNAVAILABLE);
              assertThat(a.authentication()).contains(Authentication.VERIFIED);
            });

    InteropEnv.TestMessage control = InteropEnv.message(Scenario.DANE_EE.domain, "no-requiretls");
    RecipientResult ok = send(false, control, dns);
    assertThat(ok.status()).as("%s", ok).isEqualTo(DeliveryStatus.DELIVERED);
    assertThat(
            InteropEnv.awaitInMaildir(
                Scenario.DANE_EE.domain, control.id(), Duration.ofSeconds(10)))
        .exists();
  }

  @Test
  void postfixWithoutRequireTlsGetsNoMessageEvenThroughMtaSts() throws Exception {
    DnsResolver dns = InteropEnv.validatingResolver();
    InteropEnv.TestMessage m = InteropEnv.message(Scenario.STS.domain, "requiretls-sts");
    RecipientResult r = send(true, m, dns);
    assertNotSent(Scenario.STS, m, r);
    assertThat(r.attempts())
        .isNotEmpty()
        .allSatisfy(a -> assertThat(a.failure()).contains(FailureType.REQUIRETLS_UNAVAILABLE));
  }

  @Test
  void withoutDaneOrMtaStsPostfixIsNotEvenConnectedTo() throws Exception {
    DnsResolver dns = InteropEnv.validatingResolver();
    InteropEnv.TestMessage m = InteropEnv.message(Scenario.UNSIGNED.domain, "requiretls-none");
    RecipientResult r = send(true, m, dns);
    assertNotSent(Scenario.UNSIGNED, m, r);
    assertThat(r.attempts()).isEmpty();
    assertThat(r.plan().failure().map(f -> f.type())).contains(FailureType.REQUIRETLS_UNAVAILABLE);
  }
}
