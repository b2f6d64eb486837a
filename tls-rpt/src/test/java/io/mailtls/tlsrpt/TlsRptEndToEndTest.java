package io.mailtls.tlsrpt;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.EmailAddress;
import io.mailtls.core.Envelope;
import io.mailtls.core.EventListener;
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
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;
import mockwebserver3.MockResponse;
import mockwebserver3.RecordedRequest;
import org.apache.james.jdkim.DKIMVerifier;
import org.apache.james.jdkim.api.SignatureRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 16 end to end, with real components only: deliveries through a {@link SecureSmtpTransport}
 * (real MTA-STS over HTTPS, real DANE, signed DNS, STARTTLS at mock servers on loopback) counted by
 * a {@link TlsRptAggregator} into a {@link FileAggregateStore}; the store reopened as after a
 * restart; then, the fake clock past midnight UTC, one {@link TlsRptReporter#flush} discovers each
 * domain's {@code _smtp._tls} record, writes one report per policy domain, whose counts are the
 * sessions the servers saw, and delivers each to both of its {@code rua} destinations:
 *
 * <ul>
 *   <li>a POST of {@code application/tlsrpt+gzip} to an HTTPS endpoint (MockWebServer with a
 *       certificate from the test PKI, its name in the signed test DNS) that gunzips to exactly the
 *       report;
 *   <li>a mail to {@code tlsrpt@<domain>} at the domain's own mock MX, sent by {@link
 *       MailReportSender} through a second transport (without the aggregator), that Jakarta Mail
 *       parses as a {@code multipart/report; report-type="tlsrpt"} whose attachment gunzips to the
 *       report and whose DKIM signature Apache jDKIM verifies against the key in the test DNS. The
 *       domains whose own policy refuses their MX ({@code sts.rpt.test}'s preferred MX, {@code
 *       dane-bad.rpt.test}) get theirs too: the report is {@code TLS-Required: No}.
 * </ul>
 *
 * Every report ends {@code DELIVERED} and the day's counts are discarded.
 */
class TlsRptEndToEndTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static RptWorld world;

  @BeforeAll
  static void start() {
    world = new RptWorld();
  }

  @AfterAll
  static void stop() {
    world.close();
  }

  private static int sessions(String host) {
    return world.server(host).sessions().size();
  }

  @Test
  void oneReportPerPolicyDomainWithTheDeliveriesCounts(@TempDir Path dir) throws Exception {
    FakeClock clock = new FakeClock(Instant.parse("2025-03-01T10:00:00Z"));
    LocalDate day = LocalDate.parse("2025-03-01");
    Path log = dir.resolve("tlsrpt.log");
    List<String> hosts =
        List.of(
            "mx.good.rpt.test",
            "mx.plain.rpt.test",
            "mx1.sts.rpt.test",
            "mx2.sts.rpt.test",
            "mx.dane.rpt.test",
            "mx.dane-bad.rpt.test");
    Map<String, Integer> before = new HashMap<>();
    hosts.forEach(h -> before.put(h, sessions(h)));

    try (FileAggregateStore store = FileAggregateStore.open(log)) {
      TlsRptAggregator aggregator = TlsRptAggregator.builder().store(store).clock(clock).build();
      try (SecureSmtpTransport t = world.transport(aggregator)) {
        MessageContent content = MessageContent.of(RptWorld.MESSAGE);
        for (int i = 0; i < 3; i++) {
          // two recipients of one domain share the domain's sessions
          DeliveryReport r =
              t.send(Envelope.of(RptWorld.SENDER, "b@sts.rpt.test", "c@sts.rpt.test"), content);
          assertThat(r.allDelivered()).as("%s", r).isTrue();
          clock.advance(Duration.ofMinutes(7));
        }
        for (int i = 0; i < 2; i++) {
          assertThat(
                  t.send(Envelope.of(RptWorld.SENDER, "b@dane.rpt.test"), content).allDelivered())
              .isTrue();
          DeliveryReport both =
              t.send(Envelope.of(RptWorld.SENDER, "b@good.rpt.test", "b@plain.rpt.test"), content);
          assertThat(both.allDelivered()).isTrue();
        }
        DeliveryReport bad = t.send(Envelope.of(RptWorld.SENDER, "b@dane-bad.rpt.test"), content);
        assertThat(bad.result("b@dane-bad.rpt.test").status()).isEqualTo(DeliveryStatus.DEFERRED);
      }
      assertThat(aggregator.failedMerges()).isZero();
    }
    Map<String, Integer> seen = new HashMap<>();
    for (String h : hosts) {
      // every session the transport opened has been accepted by now; wait for the count
      MockSmtpServer s = world.server(h);
      int expected = before.get(h) + expectedSessions(h);
      s.awaitSessions(expected, Duration.ofSeconds(5));
      seen.put(h, s.sessions().size() - before.get(h));
    }
    assertThat(seen)
        .containsEntry("mx1.sts.rpt.test", 3)
        .containsEntry("mx2.sts.rpt.test", 3)
        .containsEntry("mx.dane.rpt.test", 2)
        .containsEntry("mx.good.rpt.test", 2)
        .containsEntry("mx.plain.rpt.test", 2)
        .containsEntry("mx.dane-bad.rpt.test", 1);

    // The day is over: a restart, the counts come back from the log, and the reporter delivers.
    clock.set(Instant.parse("2025-03-02T00:30:00Z"));
    List<String> domains =
        List.of(
            "dane-bad.rpt.test",
            "dane.rpt.test",
            "good.rpt.test",
            "plain.rpt.test",
            "sts.rpt.test");
    for (int i = 0; i < domains.size(); i++) {
      world.reports.enqueue(new MockResponse.Builder().code(200).build());
    }
    int posted = world.reports.getRequestCount();
    Map<String, Integer> mailsBefore = new HashMap<>();
    hosts.forEach(h -> mailsBefore.put(h, world.server(h).messages().size()));
    DeliveryRun run;
    try (FileAggregateStore store = FileAggregateStore.open(log);
        SecureSmtpTransport mail = world.transport(call -> EventListener.NONE)) {
      assertThat(store.recovery()).isEmpty();
      TlsRptReporter reporter =
          TlsRptReporter.builder()
              .aggregateStore(store)
              .discovery(TlsRptDiscovery.builder().dns(world.resolver).clock(clock).build())
              .writer(
                  TlsRptReportWriter.builder()
                      .organizationName("Sender Inc.")
                      .contactInfo("tlsrpt@sender.rpt.test")
                      .submitter(RptWorld.SUBMITTER)
                      .random(new Random(16))
                      .build())
              .channels(
                  List.of(
                      world.httpsChannel(),
                      MailReportSender.builder()
                          .transport(mail)
                          .from(EmailAddress.parse("tlsrpt-noreply@sender.rpt.test"))
                          .submitter(RptWorld.SUBMITTER)
                          .dkim(world.dkim.signingKey())
                          .clock(clock)
                          .random(new Random(17))
                          .build()))
              .clock(clock)
              .build();
      run = reporter.flush(day);
      assertThat(run.refused()).isEmpty();
      assertThat(run.settledDays()).containsExactly(day);
      assertThat(store.read(day)).as("the day's counts, discarded once delivered").isEmpty();
      assertThat(reporter.pending()).isEmpty();
    }
    assertThat(run.reports())
        .extracting(r -> r.policyDomain().toString())
        .containsExactlyInAnyOrderElementsOf(domains);
    Map<String, TlsRptReport> byDomain = new TreeMap<>();
    for (PendingReport p : run.reports()) {
      String d = p.policyDomain().toString();
      URI https =
          URI.create(
              "https://" + RptWorld.REPORTS_HOST + ":" + world.reports.getPort() + "/tlsrpt");
      assertThat(p.stage()).as("%s", p).isEqualTo(PendingReport.Stage.DELIVERED);
      assertThat(p.destinations())
          .as("%s", p)
          .extracting(PendingReport.Destination::uri)
          .containsExactly(URI.create("mailto:tlsrpt@" + d), https);
      assertThat(p.destinations())
          .as("%s", p)
          .allSatisfy(
              dest -> {
                assertThat(dest.state()).isEqualTo(PendingReport.DestinationState.DELIVERED);
                assertThat(dest.attempts()).isEqualTo(1);
              });
      byDomain.put(d, p.report().orElseThrow());
    }
    List<TlsRptReport> reports = List.copyOf(byDomain.values());

    for (TlsRptReport r : reports) {
      // Read back as a receiver would: gunzip, parse, validate.
      JsonNode json;
      try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(r.gzip()))) {
        json = JSON.readTree(in);
      }
      assertThat(ReportSchema.validate(json)).as("%s", r).isEmpty();
      assertThat(json.at("/date-range/start-datetime").asText()).isEqualTo("2025-03-01T00:00:00Z");
      assertThat(json.get("policies")).hasSize(1);
    }

    // At the HTTPS endpoint: one POST per policy domain, each exactly that domain's report.
    Map<String, byte[]> postedJson = new TreeMap<>();
    for (int i = 0; i < domains.size(); i++) {
      RecordedRequest req = world.reports.takeRequest(5, TimeUnit.SECONDS);
      assertThat(req).isNotNull();
      assertThat(req.getMethod()).isEqualTo("POST");
      assertThat(req.getTarget()).isEqualTo("/tlsrpt");
      assertThat(req.getHeaders().get("Content-Type")).isEqualTo("application/tlsrpt+gzip");
      byte[] body;
      try (GZIPInputStream in =
          new GZIPInputStream(new ByteArrayInputStream(req.getBody().toByteArray()))) {
        body = in.readAllBytes();
      }
      String d = JSON.readTree(body).at("/policies/0/policy/policy-domain").asText();
      assertThat(postedJson.put(d, body)).as("a second POST for %s", d).isNull();
    }
    assertThat(world.reports.getRequestCount() - posted).isEqualTo(domains.size());
    assertThat(postedJson.keySet()).containsExactlyElementsOf(domains);
    for (TlsRptReport r : reports) {
      assertThat(postedJson.get(r.policyDomain().toString())).isEqualTo(r.json());
    }

    // In each domain's mailbox, at its own MX: sts.rpt.test's at its preferred mx1, which its
    // enforce policy refuses, and dane-bad.rpt.test's though its TLSA records match nothing.
    Map<String, String> mailbox =
        Map.of(
            "dane-bad.rpt.test", "mx.dane-bad.rpt.test",
            "dane.rpt.test", "mx.dane.rpt.test",
            "good.rpt.test", "mx.good.rpt.test",
            "plain.rpt.test", "mx.plain.rpt.test",
            "sts.rpt.test", "mx1.sts.rpt.test");
    for (TlsRptReport r : reports) {
      String d = r.policyDomain().toString();
      MockSmtpServer mx = world.server(mailbox.get(d));
      List<SmtpMessage> got =
          mx.awaitMessages(mailsBefore.get(mx.hostname()) + 1, Duration.ofSeconds(5));
      assertThat(got).hasSize(mailsBefore.get(mx.hostname()) + 1);
      SmtpMessage m = got.get(got.size() - 1);
      assertThat(m.accepted()).isTrue();
      assertThat(m.recipients()).containsExactly("tlsrpt@" + d);
      // Over TLS wherever the MX offers STARTTLS, though not to the policy's requirements.
      assertThat(m.tls()).isEqualTo(!d.equals("plain.rpt.test"));
      assertValidReportMail(m.data(), r);
    }
    for (String h : hosts) {
      if (!mailbox.containsValue(h)) {
        assertThat(world.server(h).messages()).as(h).hasSize(mailsBefore.get(h));
      }
    }

    TlsRptDiscovery discovery = TlsRptDiscovery.builder().dns(world.resolver).build();
    for (TlsRptReport r : reports) {
      TlsRptLookup found = discovery.lookup(r.policyDomain());
      assertThat(found)
          .isInstanceOfSatisfying(
              TlsRptLookup.Found.class,
              f ->
                  assertThat(f.record().rua())
                      .hasSize(2)
                      .contains(URI.create("mailto:tlsrpt@" + r.policyDomain())));
    }
    JsonNode sts = policy(reports, "sts.rpt.test");
    assertThat(sts.at("/policy/policy-type").asText()).isEqualTo("sts");
    assertThat(sts.at("/policy/mx-host").toString())
        .isEqualTo("[\"mx1.sts.rpt.test\",\"mx2.sts.rpt.test\"]");
    assertSummary(sts, seen.get("mx2.sts.rpt.test"), seen.get("mx1.sts.rpt.test"));
    assertThat(sts.get("failure-details")).hasSize(1);
    JsonNode mismatch = sts.get("failure-details").get(0);
    assertThat(mismatch.get("result-type").asText()).isEqualTo("certificate-host-mismatch");
    assertThat(mismatch.get("receiving-mx-hostname").asText()).isEqualTo("mx1.sts.rpt.test");
    assertThat(mismatch.get("receiving-ip").asText())
        .isEqualTo(world.server("mx1.sts.rpt.test").address().getHostAddress());
    assertThat(mismatch.get("failed-session-count").asInt())
        .isEqualTo(seen.get("mx1.sts.rpt.test"));
    // What the session knew of both ends, though the handshake failed and it was closed.
    assertThat(mismatch.get("receiving-mx-helo").asText()).isEqualTo("mx1.sts.rpt.test");
    assertThat(java.net.InetAddress.getByName(mismatch.get("sending-mta-ip").asText()))
        .matches(java.net.InetAddress::isLoopbackAddress);
    assertThat(mismatch.get("additional-information").asText())
        .isEqualTo("https://www.rfc-editor.org/rfc/rfc8460#section-4.3.1");

    JsonNode dane = policy(reports, "dane.rpt.test");
    assertThat(dane.at("/policy/policy-type").asText()).isEqualTo("tlsa");
    assertThat(dane.at("/policy/policy-string/0").asText()).startsWith("3 1 1 ");
    assertSummary(dane, seen.get("mx.dane.rpt.test"), 0);

    JsonNode daneBad = policy(reports, "dane-bad.rpt.test");
    assertSummary(daneBad, 0, seen.get("mx.dane-bad.rpt.test"));

    assertSummary(policy(reports, "good.rpt.test"), seen.get("mx.good.rpt.test"), 0);
    JsonNode plain = policy(reports, "plain.rpt.test");
    assertThat(plain.at("/policy/policy-type").asText()).isEqualTo("no-policy-found");
    assertSummary(plain, 0, seen.get("mx.plain.rpt.test"));
    assertThat(plain.at("/failure-details/0/result-type").asText())
        .isEqualTo("starttls-not-supported");
  }

  /** What a receiver checks in a report mail (RFC 8460 §5.3, RFC 6522, RFC 6376). */
  private static void assertValidReportMail(byte[] data, TlsRptReport report) throws Exception {
    MimeMessage mime =
        new MimeMessage(Session.getInstance(new Properties()), new ByteArrayInputStream(data));
    String domain = report.policyDomain().toString();
    assertThat(mime.getSubject())
        .isEqualTo(
            "Report Domain: "
                + domain
                + " Submitter: sender.rpt.test Report-ID: <"
                + report.reportId()
                + ">");
    assertThat(mime.getHeader("TLS-Report-Domain")).containsExactly(domain);
    assertThat(mime.getHeader("TLS-Report-Submitter")).containsExactly("sender.rpt.test");
    assertThat(mime.getHeader("TLS-Required")).containsExactly("No");
    assertThat(mime.getHeader("To")).containsExactly("tlsrpt@" + domain);
    ContentType type = new ContentType(mime.getContentType());
    assertThat(type.getBaseType()).isEqualTo("multipart/report");
    assertThat(type.getParameter("report-type")).isEqualTo("tlsrpt");
    MimeMultipart parts = (MimeMultipart) mime.getContent();
    assertThat(parts.getCount()).isEqualTo(2);
    assertThat(new ContentType(parts.getBodyPart(0).getContentType()).getBaseType())
        .isEqualTo("text/plain");
    BodyPart attachment = parts.getBodyPart(1);
    assertThat(new ContentType(attachment.getContentType()).getBaseType())
        .isEqualTo("application/tlsrpt+gzip");
    assertThat(attachment.getFileName()).isEqualTo(report.fileName(true));
    try (InputStream in = new GZIPInputStream(attachment.getInputStream())) {
      assertThat(in.readAllBytes()).isEqualTo(report.json());
    }
    List<SignatureRecord> signatures =
        new DKIMVerifier(TestDkimKey.fromDns(world.resolver))
            .verify(new ByteArrayInputStream(data));
    assertThat(signatures).hasSize(1);
    assertThat(signatures.get(0).getDToken().toString()).isEqualTo("sender.rpt.test");
    assertThat(signatures.get(0).getSelector().toString()).isEqualTo("rpt");
  }

  private static int expectedSessions(String host) {
    return switch (host) {
      case "mx1.sts.rpt.test", "mx2.sts.rpt.test" -> 3;
      case "mx.dane-bad.rpt.test" -> 1;
      default -> 2;
    };
  }

  private static JsonNode policy(List<TlsRptReport> reports, String domain) throws IOException {
    TlsRptReport r =
        reports.stream()
            .filter(x -> x.policyDomain().toString().equals(domain))
            .findFirst()
            .orElseThrow();
    return JSON.readTree(r.json()).get("policies").get(0);
  }

  private static void assertSummary(JsonNode policy, long successes, long failures) {
    assertThat(policy.at("/summary/total-successful-session-count").asLong())
        .as("successes of %s", policy.at("/policy/policy-domain"))
        .isEqualTo(successes);
    assertThat(policy.at("/summary/total-failure-session-count").asLong())
        .as("failures of %s", policy.at("/policy/policy-domain"))
        .isEqualTo(failures);
    long details = 0;
    for (JsonNode d : policy.path("failure-details")) {
      details += d.get("failed-session-count").asLong();
    }
    assertThat(details).isEqualTo(failures);
  }
}
