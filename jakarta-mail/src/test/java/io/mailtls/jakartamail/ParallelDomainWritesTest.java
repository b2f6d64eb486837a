package io.mailtls.jakartamail;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DnssecResolver;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SenderPolicy;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.TrustAnchors;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.SmtpAction;
import io.mailtls.testkit.SmtpFaultContext;
import io.mailtls.testkit.SmtpFaultInjector;
import io.mailtls.testkit.SmtpStep;
import io.mailtls.testkit.TestDnsServer;
import jakarta.mail.Message;
import jakarta.mail.internet.MimeMessage;
import java.net.InetAddress;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The recipient domains of one message are written at the same time, each into its own session: one
 * domain's MX that stops reading must not hold up the others' writes.
 */
class ParallelDomainWritesTest {

  /**
   * Two recipient domains of one message are delivered at the same time (the transport's fan-out),
   * each writing the message. Jakarta Mail's {@code MimeMultipart.writeTo} is synchronized, so
   * while the slow domain's MX stops reading, the other domain's session waits for the monitor with
   * its DATA open: its server times out (RFC 5321 §4.5.3.2.5, 3 minutes in real life, 3 s here) and
   * a recipient whose server was healthy is deferred because of another domain's MX.
   */
  @Test
  @Timeout(120)
  void aStalledMxOfOneDomainDoesNotHoldUpTheOtherDomainsOfTheMessage() throws Exception {
    SmtpFaultInjector neverReads =
        new SmtpFaultInjector() {
          @Override
          public Optional<SmtpAction> at(SmtpFaultContext context) {
            return Optional.empty();
          }

          @Override
          public Duration contentReadPause(SmtpFaultContext context) {
            return Duration.ofSeconds(60);
          }
        };
    try (MockSmtpServer slow =
            MockSmtpServer.builder()
                .address(InetAddress.getByName("127.0.0.2"))
                .hostname("mx.slow.test")
                .digestOnly()
                .faultInjector(neverReads)
                .start();
        MockSmtpServer fast =
            MockSmtpServer.builder()
                .address(InetAddress.getByName("127.0.0.3"))
                .port(slow.port())
                .hostname("mx.fast.test")
                .digestOnly()
                .idleTimeout(Duration.ofSeconds(3))
                // greets a little later, so that the stalled domain starts writing first
                .on(SmtpStep.GREETING, SmtpAction.stall(Duration.ofMillis(1500)))
                .start();
        TestDnsServer dns =
            TestDnsServer.builder()
                .zone("slow.test", z -> z.mailHost("slow.test", 10, "mx.slow.test", slow))
                .zone("fast.test", z -> z.mailHost("fast.test", 10, "mx.fast.test", fast))
                .start();
        SecureSmtpTransport transport =
            SecureSmtpTransport.builder()
                .withoutMtaSts()
                .withoutDane()
                .dns(
                    DnssecResolver.builder()
                        .upstream(dns.socketAddress())
                        .trustAnchors(TrustAnchors.parse(dns.trustAnchor()))
                        .queryTimeout(Duration.ofSeconds(2))
                        .lookupTimeout(Duration.ofSeconds(10))
                        .build())
                .heloName("client.sender.test")
                .port(slow.port())
                .senderPolicy(SenderPolicy.uniform(TlsLevel.OPPORTUNISTIC))
                .timeouts(
                    new SmtpTimeouts(
                        Duration.ofSeconds(5),
                        Duration.ofSeconds(5),
                        Duration.ofSeconds(5),
                        Duration.ofSeconds(5),
                        Duration.ofSeconds(5),
                        Duration.ofSeconds(10),
                        Duration.ofSeconds(10)))
                .build()) {
      // 24 MiB, base64: far more than the loopback socket buffers hold, so the stalled writer
      // blocks inside MimeMultipart.writeTo.
      MimeMessage m = Messages.withSource(new Messages.Generated(24L << 20));
      m.setRecipients(Message.RecipientType.TO, "a@slow.test, b@fast.test");

      DeliveryReport report = MailtlsJakarta.send(transport, m);

      assertThat(report.result("a@slow.test").status()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(report.result("b@fast.test").status())
          .as("%s", report.result("b@fast.test"))
          .isEqualTo(DeliveryStatus.DELIVERED);
    }
  }
}
