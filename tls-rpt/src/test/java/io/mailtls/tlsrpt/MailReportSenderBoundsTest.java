package io.mailtls.tlsrpt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailtls.core.DomainName;
import io.mailtls.core.EmailAddress;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.testkit.FakeClock;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.SmtpMessage;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The mail channel with peer-chosen destinations: a {@code rua} URI is the recipient domain's
 * input, and {@link TlsRptRecord#MAX_DESTINATIONS} exists so that a run stays bounded however many
 * destinations a record names. One {@code mailto:} URI with many {@code to=} header fields (RFC
 * 6068 §2) must not undo that bound. And RFC 8460 §3: "Reports submitted via SMTP MUST contain a
 * valid DKIM signature by the reporting domain": a signing domain unrelated to the submitter makes
 * every report one the receiver must ignore.
 */
class MailReportSenderBoundsTest {

  private static final DomainName SUBMITTER = DomainName.of("sender.mail.test");
  private static final EmailAddress FROM = EmailAddress.parse("tlsrpt-noreply@sender.mail.test");
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

  private static MailReportSender sender(DkimKey key) {
    return MailReportSender.builder()
        .transport(transport)
        .from(FROM)
        .submitter(SUBMITTER)
        .dkim(key)
        .clock(new FakeClock(Instant.parse("2025-03-02T01:00:00Z")))
        .random(new Random(16))
        .build();
  }

  @Test
  void oneMailtoUriDoesNotFanOutPastTheDestinationBound() throws Exception {
    StringBuilder uri = new StringBuilder("mailto:r0@ok.mail.test?");
    for (int i = 1; i < 40; i++) {
      uri.append(i > 1 ? "&" : "").append("to=r").append(i).append("@ok.mail.test");
    }
    // The record takes it as one destination.
    TlsRptRecord record = TlsRptRecord.parse("v=TLSRPTv1; rua=" + uri);
    assertThat(record.rua()).hasSize(1);

    DomainName d = DomainName.of("ok.mail.test");
    TlsRptReport report =
        TlsRptReportWriter.builder()
            .organizationName("Sender Inc.")
            .contactInfo("tlsrpt@sender.mail.test")
            .submitter(SUBMITTER)
            .random(new Random(3))
            .build()
            .write(
                LocalDate.parse("2025-03-01"),
                d,
                Map.of(AppliedPolicy.noPolicy(d), new PolicyCounts(1, 0, Map.of())));
    MockSmtpServer server = world.server("mx.ok.mail.test");
    int before = server.messages().size();
    sender(DkimKey.of(MailWorld.SIGNING_DOMAIN, MailWorld.SELECTOR, world.dkimKeys.getPrivate()))
        .deliver(record.rua().get(0), report);
    List<SmtpMessage> got = server.awaitMessages(before + 1, Duration.ofSeconds(5));
    int recipients =
        got.subList(before, got.size()).stream().mapToInt(m -> m.recipients().size()).sum();
    assertThat(recipients).isLessThanOrEqualTo(TlsRptRecord.MAX_DESTINATIONS);
  }

  @Test
  void aSigningDomainUnrelatedToTheSubmitterIsRefused() {
    DkimKey unrelated =
        DkimKey.of(DomainName.of("unrelated.test"), "rpt", world.dkimKeys.getPrivate());
    assertThatThrownBy(() -> sender(unrelated))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("unrelated.test");
  }
}
