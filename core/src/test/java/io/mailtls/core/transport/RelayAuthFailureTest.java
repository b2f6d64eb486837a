package io.mailtls.core.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.EnhancedStatus;
import io.mailtls.core.Envelope;
import io.mailtls.core.FailureType;
import io.mailtls.core.MessageContent;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SmartHost;
import io.mailtls.core.TlsLevel;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.SmtpAction;
import io.mailtls.testkit.SmtpStep;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * A relay that does not take the credentials (RFC 4954): the recipients are deferred with a
 * security status, not "no answer from host" (RFC 3463 §3.5 X.4.1: the relay did answer); an
 * exchange the client abandons is cancelled with {@code *} (RFC 4954 §4), never answered with a
 * command the server would read as the next SASL response; the credentials appear nowhere in the
 * report.
 */
class RelayAuthFailureTest {

  private static final String RELAY = "relay.example.test";
  private static final String RCPT = "x@elsewhere.invalid";
  private static final String PLAIN_B64 =
      Base64.getEncoder().encodeToString("\0user\0s3cret".getBytes(StandardCharsets.US_ASCII));

  private static DeliveryReport viaRelay(Fixture f, UnaryOperator<MockSmtpServer.Builder> server) {
    MockSmtpServer s =
        f.server(
            "127.0.0.2",
            b ->
                server.apply(
                    b.hostname(RELAY).tls(Fixture.certFor(RELAY)).credentials("user", "right")));
    f.dns(d -> d.zone("example.test", z -> z.a(RELAY, "127.0.0.2")));
    SmartHost host = SmartHost.builder(RELAY).port(s.port()).credentials("user", "s3cret").build();
    return f.transport(
            TlsLevel.OPPORTUNISTIC, b -> b.relay(host).trustStore(Fixture.PKI.trustStore()))
        .send(
            Envelope.of("a@sender.test", RCPT),
            MessageContent.of(Fixture.MESSAGE.getBytes(StandardCharsets.UTF_8)));
  }

  private static void noCredentialsInTheReport(DeliveryReport r) {
    assertThat(r.toString()).doesNotContain("s3cret").doesNotContain(PLAIN_B64);
  }

  @Test
  void credentialsRefusedWith535DeferWithTheRelaysSecurityStatusNotNoAnswerFromHost()
      throws Exception {
    try (Fixture f = new Fixture()) {
      DeliveryReport r = viaRelay(f, b -> b);
      RecipientResult x = r.result(RCPT);
      assertThat(x.status()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(x.attempt().orElseThrow().failure()).contains(FailureType.AUTHENTICATION_FAILED);
      assertThat(x.reply().code()).isEqualTo(451);
      // RFC 4954 §6: 535 5.7.8 "Authentication credentials invalid", deferred: 4.7.8.
      assertThat(x.reply().enhancedStatus())
          .as("reply %s", x.reply())
          .contains(new EnhancedStatus(4, 7, 8));
      assertThat(x.reply().text()).contains("535");
      assertThat(f.lastServer().messages()).isEmpty();
      noCredentialsInTheReport(r);
    }
  }

  @Test
  void aRelayOfferingNoMechanismMailtlsKnowsGetsNoCredentialsAndDefersAsASecurityMatter()
      throws Exception {
    try (Fixture f = new Fixture()) {
      DeliveryReport r =
          viaRelay(f, b -> b.capabilities("PIPELINING", "8BITMIME", "AUTH CRAM-MD5 GSSAPI"));
      RecipientResult x = r.result(RCPT);
      assertThat(x.status()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(x.attempt().orElseThrow().failure()).contains(FailureType.AUTHENTICATION_FAILED);
      assertThat(x.attempt().orElseThrow().detail()).contains("CRAM-MD5");
      // RFC 3463 §3.8 X.7.0: other or undefined security status; the relay did answer.
      assertThat(x.reply().enhancedStatus())
          .as("reply %s", x.reply())
          .contains(new EnhancedStatus(4, 7, 0));
      assertThat(f.lastServer().sessions())
          .allSatisfy(s -> assertThat(s.commandLines()).noneMatch(l -> l.startsWith("AUTH")));
      noCredentialsInTheReport(r);
    }
  }

  @Test
  void anUnexpectedChallengeAfterAuthPlainIsCancelledWithAStarNotAnsweredWithQuit()
      throws Exception {
    try (Fixture f = new Fixture()) {
      DeliveryReport r =
          viaRelay(f, b -> b.on(SmtpStep.AUTH, SmtpAction.reply(334, "!!not base64!!")));
      RecipientResult x = r.result(RCPT);
      assertThat(x.status()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(x.attempt().orElseThrow().failure()).contains(FailureType.AUTHENTICATION_FAILED);
      List<String> lines = f.lastServer().sessions().get(0).commandLines();
      int auth =
          lines.indexOf(lines.stream().filter(l -> l.startsWith("AUTH")).findFirst().orElseThrow());
      // RFC 4954 §4: within the exchange every client line is a SASL response; "*" cancels it.
      // "QUIT" here would be decoded as base64 and judged as credentials (a failed login).
      assertThat(lines.subList(auth + 1, lines.size()))
          .as("lines after AUTH: %s", lines.subList(auth + 1, lines.size()))
          .startsWith("*");
      assertThat(f.lastServer().messages()).isEmpty();
      noCredentialsInTheReport(r);
    }
  }

  @Test
  void anUnexpectedThirdChallengeOfAuthLoginIsCancelledWithAStar() throws Exception {
    try (Fixture f = new Fixture()) {
      DeliveryReport r =
          viaRelay(
              f,
              b ->
                  b.capabilities("PIPELINING", "8BITMIME", "AUTH LOGIN")
                      .on(SmtpStep.AUTH, SmtpAction.reply(334, "UGFzc3dvcmQ6")));
      RecipientResult x = r.result(RCPT);
      assertThat(x.status()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(x.attempt().orElseThrow().failure()).contains(FailureType.AUTHENTICATION_FAILED);
      List<String> lines = f.lastServer().sessions().get(0).commandLines();
      int auth = lines.indexOf("AUTH LOGIN");
      // AUTH LOGIN, the user name, the password, then "*" (RFC 4954 §4), never QUIT.
      assertThat(lines.subList(auth + 3, lines.size()))
          .as("lines after the password: %s", lines.subList(auth + 3, lines.size()))
          .startsWith("*");
      noCredentialsInTheReport(r);
    }
  }
}
