package io.mailtls.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.Authentication;
import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SenderPolicy;
import io.mailtls.core.TlsLevel;
import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@link JakartaMailExample} against the testkit: real Angus Mail, real TLS, real DNS. */
class JakartaMailExampleTest {

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
  void aMimeMessageIsDeliveredWithAReportAndWithoutItsBccHeader() throws Exception {
    byte[] pdf = "%PDF-1.4 not really a pdf\n".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    MimeMessage message =
        JakartaMailExample.invoice(
            "billing@sender.test", "customer@good.test", "archive@good.test", pdf);
    try (SecureSmtpTransport transport =
        SecureSmtpTransport.builder()
            .withoutMtaSts()
            .withoutDane()
            .dns(world.resolver())
            .port(world.smtpPort())
            .heloName("client.sender.test")
            .senderPolicy(SenderPolicy.uniform(TlsLevel.ENFORCED))
            .build()) {
      DeliveryReport report = JakartaMailExample.send(transport, message);
      assertThat(report.recipients())
          .extracting(r -> r.recipient().toString())
          .containsExactly("customer@good.test", "archive@good.test");
      assertThat(report.recipients())
          .allSatisfy(
              r -> {
                assertThat(r.status()).isEqualTo(DeliveryStatus.DELIVERED);
                assertThat(r.authentication()).contains(Authentication.ENCRYPTED);
              });
    }
    assertThat(world.good().messages())
        .anySatisfy(
            m -> {
              assertThat(m.recipients()).containsExactly("customer@good.test", "archive@good.test");
              assertThat(m.dataAsString())
                  .contains("Subject: Your invoice", "invoice.pdf")
                  .doesNotContain("Bcc:");
            });
  }
}
