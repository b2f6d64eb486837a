package io.mailtls.tlsrpt;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DomainName;
import io.mailtls.core.EmailAddress;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.testkit.FakeClock;
import io.mailtls.testkit.MockSmtpServer;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * RFC 8460 §5.3: "The 'TLS-Report-Submitter' value MUST match the value found in the filename and
 * the [DKIM] domain." The file name's sender is the submitter the report was written with ({@link
 * TlsRptReportWriter}); the mail channel has a submitter of its own, for its header fields, Subject
 * and signing domain. When the two differ, the mail would name one submitter in its header and
 * another in its attachment: a receiver that checks them ignores the report. Real MX on loopback,
 * signed DNS.
 */
class MailReportSubmitterTest {

  private static final DomainName SUBMITTER = MailWorld.SIGNING_DOMAIN;
  private static MailWorld world;
  private static SecureSmtpTransport transport;

  @BeforeAll
  static void start() {
    world = new MailWorld();
    transport = world.transport();
  }

  @AfterAll
  static void stop() {
    transport.close();
    world.close();
  }

  private static TlsRptReport report(DomainName writtenBy) {
    DomainName d = DomainName.of("ok.mail.test");
    return TlsRptReportWriter.builder()
        .organizationName("Sender Inc.")
        .contactInfo("tlsrpt@" + writtenBy)
        .submitter(writtenBy)
        .random(new Random(3))
        .build()
        .write(
            LocalDate.parse("2025-03-01"),
            d,
            Map.of(AppliedPolicy.noPolicy(d), new PolicyCounts(1, 0, Map.of())));
  }

  private static MailReportSender sender() {
    return MailReportSender.builder()
        .transport(transport)
        .from(EmailAddress.parse("tlsrpt-noreply@" + SUBMITTER))
        .submitter(SUBMITTER)
        .dkim(DkimKey.of(MailWorld.SIGNING_DOMAIN, MailWorld.SELECTOR, world.dkimKeys.getPrivate()))
        .clock(new FakeClock(Instant.parse("2025-03-02T01:00:00Z")))
        .random(new Random(16))
        .build();
  }

  @Test
  void aReportWrittenForAnotherSubmitterIsNotMailedUnderThisOne() {
    TlsRptReport foreign = report(DomainName.of("other-submitter.test"));
    MockSmtpServer server = world.server("mx.ok.mail.test");
    int before = server.messages().size();

    ReportOutcome outcome = sender().deliver(URI.create("mailto:tlsrpt@ok.mail.test"), foreign);

    assertThat(outcome)
        .as(
            "a mail whose TLS-Report-Submitter (%s) is not the file name's sender (%s)",
            SUBMITTER, foreign.fileName(true))
        .isInstanceOf(ReportOutcome.NotDelivered.class);
    assertThat(server.messages().size() - before).as("mails sent").isZero();
    assertThat(outcome.detail()).contains("other-submitter.test").contains(SUBMITTER.toString());
    assertThat(((ReportOutcome.NotDelivered) outcome).permanent())
        .as("the operator's configuration, not the destination: kept and tried again")
        .isFalse();
  }

  @Test
  void aReportOfThisSubmitterGoesOut() throws Exception {
    TlsRptReport own = report(SUBMITTER);
    MockSmtpServer server = world.server("mx.ok.mail.test");
    int before = server.messages().size();

    ReportOutcome outcome = sender().deliver(URI.create("mailto:tlsrpt@ok.mail.test"), own);

    assertThat(outcome).as("%s", outcome).isInstanceOf(ReportOutcome.Delivered.class);
    assertThat(server.awaitMessages(before + 1, Duration.ofSeconds(5))).hasSize(before + 1);
  }
}
