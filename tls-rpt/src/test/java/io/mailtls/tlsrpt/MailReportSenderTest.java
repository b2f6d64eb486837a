package io.mailtls.tlsrpt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DomainName;
import io.mailtls.core.EmailAddress;
import io.mailtls.core.Envelope;
import io.mailtls.core.MessageContent;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.testkit.FakeClock;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.SmtpMessage;
import jakarta.mail.BodyPart;
import jakarta.mail.Session;
import jakarta.mail.internet.ContentType;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.zip.GZIPInputStream;
import org.apache.james.jdkim.DKIMVerifier;
import org.apache.james.jdkim.api.SignatureRecord;
import org.apache.james.jdkim.exceptions.FailException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The mail channel end to end (RFC 8460 §5.3): a report sent by {@link MailReportSender} through a
 * real {@link SecureSmtpTransport} (signed DNS, MTA-STS over HTTPS, DANE, STARTTLS at mock servers
 * on loopback) arrives as a {@code multipart/report} that Jakarta Mail parses, whose attachment
 * gunzips to the report, and whose DKIM signature Apache jDKIM verifies against the key it looks up
 * in the test DNS. Receivers whose own TLS policy refuses their MX still get their report ({@code
 * TLS-Required: No}), while an ordinary message to them is held back.
 */
class MailReportSenderTest {

  private static final LocalDate DAY = LocalDate.parse("2025-03-01");
  private static final DomainName SUBMITTER = DomainName.of("sender.mail.test");
  private static final EmailAddress FROM = EmailAddress.parse("tlsrpt-noreply@sender.mail.test");
  private static MailWorld world;
  private static SecureSmtpTransport transport;
  private static MailReportSender sender;

  @BeforeAll
  static void start() {
    world = new MailWorld();
    transport = world.transport();
    sender =
        MailReportSender.builder()
            .transport(transport)
            .from(FROM)
            .submitter(SUBMITTER)
            .dkim(
                DkimKey.of(
                    MailWorld.SIGNING_DOMAIN, MailWorld.SELECTOR, world.dkimKeys.getPrivate()))
            .clock(new FakeClock(Instant.parse("2025-03-02T01:00:00Z")))
            .random(new Random(16))
            .build();
  }

  @AfterAll
  static void stop() {
    transport.close();
    world.close();
  }

  private static TlsRptReport report(String domain) {
    DomainName d = DomainName.of(domain);
    return TlsRptReportWriter.builder()
        .organizationName("Sender Inc.")
        .contactInfo("tlsrpt@sender.mail.test")
        .submitter(SUBMITTER)
        .random(new Random(domain.hashCode()))
        .build()
        .write(DAY, d, Map.of(AppliedPolicy.noPolicy(d), new PolicyCounts(12, 0, Map.of())));
  }

  /** Sends {@code report} to {@code mailto:tlsrpt@domain} and returns what the MX received. */
  private static SmtpMessage deliverTo(String domain, String mx, TlsRptReport report)
      throws Exception {
    MockSmtpServer server = world.server(mx);
    int before = server.messages().size();
    ReportOutcome outcome = sender.deliver(URI.create("mailto:tlsrpt@" + domain), report);
    assertThat(outcome).as("%s", outcome).isInstanceOf(ReportOutcome.Delivered.class);
    assertThat(outcome.detail()).contains("tlsrpt@" + domain + ": DELIVERED 250");
    List<SmtpMessage> got = server.awaitMessages(before + 1, Duration.ofSeconds(5));
    SmtpMessage m = got.get(got.size() - 1);
    assertThat(m.accepted()).isTrue();
    assertThat(m.mailFrom()).isEqualTo(FROM.toPath());
    assertThat(m.recipients()).containsExactly("tlsrpt@" + domain);
    return m;
  }

  private static List<SignatureRecord> verify(byte[] message) throws Exception {
    return new DKIMVerifier(world.dkimKeysFromDns()).verify(new ByteArrayInputStream(message));
  }

  /** Everything a receiver checks in a report mail (RFC 8460 §5.3, RFC 6522, RFC 6376). */
  private static void assertValidReportMail(SmtpMessage m, TlsRptReport report) throws Exception {
    byte[] data = m.data();
    assertThat(m.tls()).isTrue();
    MimeMessage mime =
        new MimeMessage(Session.getInstance(new Properties()), new ByteArrayInputStream(data));
    String domain = report.policyDomain().toString();
    assertThat(mime.getSubject())
        .isEqualTo(
            "Report Domain: "
                + domain
                + " Submitter: sender.mail.test Report-ID: <"
                + report.reportId()
                + ">");
    assertThat(mime.getHeader("TLS-Report-Domain")).containsExactly(domain);
    assertThat(mime.getHeader("TLS-Report-Submitter")).containsExactly("sender.mail.test");
    assertThat(mime.getHeader("TLS-Required")).containsExactly("No");
    assertThat(mime.getHeader("From")).containsExactly("tlsrpt-noreply@sender.mail.test");
    assertThat(mime.getHeader("To")).containsExactly("tlsrpt@" + domain);
    assertThat(mime.getSentDate()).isEqualTo(Instant.parse("2025-03-02T01:00:00Z"));
    assertThat(mime.getMessageID()).matches("<[0-9a-f]{32}\\.\\d+@sender\\.mail\\.test>");
    ContentType type = new ContentType(mime.getContentType());
    assertThat(type.getBaseType()).isEqualTo("multipart/report");
    assertThat(type.getParameter("report-type")).isEqualTo("tlsrpt");

    MimeMultipart parts = (MimeMultipart) mime.getContent();
    assertThat(parts.getCount()).isEqualTo(2);
    BodyPart text = parts.getBodyPart(0);
    assertThat(new ContentType(text.getContentType()).getBaseType()).isEqualTo("text/plain");
    assertThat((String) text.getContent()).contains("aggregate TLS report", domain);
    BodyPart attachment = parts.getBodyPart(1);
    assertThat(new ContentType(attachment.getContentType()).getBaseType())
        .isEqualTo("application/tlsrpt+gzip");
    assertThat(attachment.getDisposition()).isEqualTo("attachment");
    assertThat(attachment.getFileName()).isEqualTo(report.fileName(true));
    try (InputStream in = new GZIPInputStream(attachment.getInputStream())) {
      assertThat(in.readAllBytes()).isEqualTo(report.json());
    }

    List<SignatureRecord> signatures = verify(data);
    assertThat(signatures).hasSize(1);
    SignatureRecord sig = signatures.get(0);
    assertThat(sig.getDToken().toString()).isEqualTo("sender.mail.test");
    assertThat(sig.getSelector().toString()).isEqualTo("rpt");
    assertThat(sig.getHeaderCanonicalisationMethod()).isEqualTo("relaxed");
    assertThat(sig.getBodyCanonicalisationMethod()).isEqualTo("relaxed");
    assertThat(
            sig.getHeaders().stream()
                .map(h -> h.toString().toLowerCase(java.util.Locale.ROOT))
                .toList())
        .contains(
            "from",
            "subject",
            "date",
            "message-id",
            "tls-report-domain",
            "tls-report-submitter",
            "content-type",
            "mime-version");
  }

  @Test
  void aReportToAnOrdinaryDomainIsAValidSignedMultipartReport() throws Exception {
    TlsRptReport report = report("ok.mail.test");
    SmtpMessage m = deliverTo("ok.mail.test", "mx.ok.mail.test", report);
    assertValidReportMail(m, report);
  }

  @Test
  void aReceiverWhoseMtaStsPolicyRefusesItsMxStillGetsTheReport() throws Exception {
    // The control: an ordinary message is held back by the receiver's enforce policy.
    DeliveryReport ordinary =
        transport.send(
            Envelope.of(FROM.toString(), "tlsrpt@sts.mail.test"),
            MessageContent.of(
                "From: a@sender.mail.test\r\nSubject: x\r\n\r\nHello.\r\n"
                    .getBytes(StandardCharsets.US_ASCII)));
    assertThat(ordinary.result("tlsrpt@sts.mail.test").status()).isEqualTo(DeliveryStatus.DEFERRED);

    TlsRptReport report = report("sts.mail.test");
    SmtpMessage m = deliverTo("sts.mail.test", "mx.sts.mail.test", report);
    assertValidReportMail(m, report);
  }

  @Test
  void aReceiverWhoseDaneRecordsMatchNothingStillGetsTheReport() throws Exception {
    DeliveryReport ordinary =
        transport.send(
            Envelope.of(FROM.toString(), "tlsrpt@dane.mail.test"),
            MessageContent.of(
                "From: a@sender.mail.test\r\nSubject: x\r\n\r\nHello.\r\n"
                    .getBytes(StandardCharsets.US_ASCII)));
    assertThat(ordinary.result("tlsrpt@dane.mail.test").status())
        .isEqualTo(DeliveryStatus.DEFERRED);

    TlsRptReport report = report("dane.mail.test");
    SmtpMessage m = deliverTo("dane.mail.test", "mx.dane.mail.test", report);
    assertValidReportMail(m, report);
  }

  @Test
  void aChangedBodyOrHeaderNoLongerVerifies() throws Exception {
    TlsRptReport report = report("ok.mail.test");
    byte[] data = deliverTo("ok.mail.test", "mx.ok.mail.test", report).data();
    assertThat(verify(data)).hasSize(1);

    String text = new String(data, StandardCharsets.ISO_8859_1);
    // one letter of the human-readable part
    String body = text.replace("aggregate TLS report", "aggregate TLS rep0rt");
    assertThat(body).isNotEqualTo(text);
    assertThatThrownBy(() -> verify(body.getBytes(StandardCharsets.ISO_8859_1)))
        .isInstanceOf(FailException.class);
    // a signed header field
    String header =
        text.replace("TLS-Report-Domain: ok.mail.test", "TLS-Report-Domain: evil.mail.test");
    assertThat(header).isNotEqualTo(text);
    assertThatThrownBy(() -> verify(header.getBytes(StandardCharsets.ISO_8859_1)))
        .isInstanceOf(FailException.class);
    // a second Subject added above the signed one (From and Subject are signed twice)
    String added = text.replace("\r\nFrom: ", "\r\nSubject: Pay now\r\nFrom: ");
    assertThatThrownBy(() -> verify(added.getBytes(StandardCharsets.ISO_8859_1)))
        .isInstanceOf(FailException.class);
  }

  @Test
  void aBounceIsPermanentAndADeferralIsNot() {
    ReportOutcome bounced =
        sender.deliver(URI.create("mailto:tlsrpt@bounce.mail.test"), report("bounce.mail.test"));
    assertThat(bounced)
        .isInstanceOfSatisfying(
            ReportOutcome.NotDelivered.class,
            n -> {
              assertThat(n.permanent()).isTrue();
              assertThat(n.detail()).contains("BOUNCED 550 5.1.1");
            });
    ReportOutcome deferred =
        sender.deliver(URI.create("mailto:tlsrpt@defer.mail.test"), report("defer.mail.test"));
    assertThat(deferred)
        .isInstanceOfSatisfying(
            ReportOutcome.NotDelivered.class,
            n -> {
              assertThat(n.permanent()).isFalse();
              assertThat(n.detail()).contains("DEFERRED 451 4.3.0");
            });
  }

  @Test
  void severalAddressesGetOneMessageAndAnyDeferralMakesItTransient() throws Exception {
    MockSmtpServer ok = world.server("mx.ok.mail.test");
    int before = ok.messages().size();
    TlsRptReport report = report("ok.mail.test");
    ReportOutcome both =
        sender.deliver(URI.create("mailto:tlsrpt@ok.mail.test,other%2Bx@ok.mail.test"), report);
    assertThat(both).isInstanceOf(ReportOutcome.Delivered.class);
    SmtpMessage m = ok.awaitMessages(before + 1, Duration.ofSeconds(5)).get(before);
    assertThat(m.recipients()).containsExactly("tlsrpt@ok.mail.test", "other+x@ok.mail.test");
    assertThat(verify(m.data())).hasSize(1);

    ReportOutcome mixed =
        sender.deliver(URI.create("mailto:tlsrpt@ok.mail.test,tlsrpt@defer.mail.test"), report);
    assertThat(mixed)
        .isInstanceOfSatisfying(
            ReportOutcome.NotDelivered.class, n -> assertThat(n.permanent()).isFalse());
    ReportOutcome partlyBounced =
        sender.deliver(URI.create("mailto:tlsrpt@ok.mail.test,tlsrpt@bounce.mail.test"), report);
    assertThat(partlyBounced)
        .isInstanceOfSatisfying(
            ReportOutcome.Delivered.class,
            d -> assertThat(d.detail()).contains("tlsrpt@bounce.mail.test: BOUNCED 550"));
  }

  @Test
  void aUtf8AddressGoesWithSmtpUtf8AndStillVerifies() throws Exception {
    MockSmtpServer ok = world.server("mx.ok.mail.test");
    int before = ok.messages().size();
    ReportOutcome o =
        sender.deliver(URI.create("mailto:%C3%A9t%C3%A9@ok.mail.test"), report("ok.mail.test"));
    assertThat(o).as("%s", o).isInstanceOf(ReportOutcome.Delivered.class);
    SmtpMessage m = ok.awaitMessages(before + 1, Duration.ofSeconds(5)).get(before);
    assertThat(m.recipients()).containsExactly("été@ok.mail.test");
    assertThat(m.mailParameters()).contains("SMTPUTF8");
    Properties utf8 = new Properties();
    utf8.setProperty("mail.mime.allowutf8", "true");
    MimeMessage mime =
        new MimeMessage(Session.getInstance(utf8), new ByteArrayInputStream(m.data()));
    assertThat(mime.getHeader("To")).containsExactly("été@ok.mail.test");
    assertThat(verify(m.data())).hasSize(1);
  }

  @Test
  void aMalformedDestinationIsPermanentAndSendsNothing() {
    MockSmtpServer ok = world.server("mx.ok.mail.test");
    int sessions = ok.sessions().size();
    for (String uri :
        List.of(
            "mailto:?subject=no-address",
            "mailto:no-at-sign",
            "mailto:tlsrpt@ok.mail.test,%C3%28@ok.mail.test",
            "https://x.test/")) {
      ReportOutcome o = sender.deliver(URI.create(uri), report("ok.mail.test"));
      assertThat(o)
          .as(uri)
          .isInstanceOfSatisfying(
              ReportOutcome.NotDelivered.class, n -> assertThat(n.permanent()).isTrue());
    }
    assertThat(ok.sessions()).hasSize(sessions);
  }

  @Test
  void supportsMailtoOnly() {
    assertThat(sender.supports(URI.create("mailto:a@b.test"))).isTrue();
    assertThat(sender.supports(URI.create("MAILTO:a@b.test"))).isTrue();
    assertThat(sender.supports(URI.create("https://b.test/r"))).isFalse();
  }

  @Test
  void theBuilderNamesWhatIsMissing() {
    assertThatThrownBy(() -> MailReportSender.builder().transport(transport).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("required: from, submitter, dkim");
  }
}
