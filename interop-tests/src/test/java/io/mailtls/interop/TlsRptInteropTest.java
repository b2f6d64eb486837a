package io.mailtls.interop;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mailtls.core.Attempt;
import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DnsResolver;
import io.mailtls.core.DomainName;
import io.mailtls.core.EmailAddress;
import io.mailtls.core.Envelope;
import io.mailtls.core.FailureType;
import io.mailtls.core.MessageContent;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SenderPolicy;
import io.mailtls.core.TlsLevel;
import io.mailtls.dane.DaneResolver;
import io.mailtls.mtasts.MtaStsResolver;
import io.mailtls.tlsrpt.DeliveryRun;
import io.mailtls.tlsrpt.DkimKey;
import io.mailtls.tlsrpt.InMemoryAggregateStore;
import io.mailtls.tlsrpt.MailReportSender;
import io.mailtls.tlsrpt.ReportOutcome;
import io.mailtls.tlsrpt.TlsRptAggregator;
import io.mailtls.tlsrpt.TlsRptDiscovery;
import io.mailtls.tlsrpt.TlsRptReport;
import io.mailtls.tlsrpt.TlsRptReportWriter;
import io.mailtls.tlsrpt.TlsRptReporter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * TLS-RPT (RFC 8460) against real software: mail to two domains that publish {@code _smtp._tls}
 * records with a {@code mailto:} address (rpt-dane.test, DANE; rpt-sts.test, an MTA-STS enforce
 * policy whose preferred MX host presents a self-signed certificate) is counted by {@link
 * TlsRptAggregator}; the next day's {@link TlsRptReporter#flush} mails one report per policy domain
 * to rpt-reports.test through Postfix, DKIM-signed for rpt-sender.test. Python's {@code email},
 * {@code json} and dkimpy (interop/tlsrpt-read.py), which share no code with mailtls, read each
 * report back from the maildir, verify its signature against the key in DNS, and must agree with
 * the counts of the deliveries.
 */
class TlsRptInteropTest {

  private static final DomainName DANE = DomainName.of("rpt-dane.test");
  private static final DomainName STS = DomainName.of("rpt-sts.test");
  private static final String REPORTS = "rpt-reports.test";
  private static final DomainName SENDER = DomainName.of("rpt-sender.test");
  private static final int DANE_MESSAGES = 3;
  private static final int STS_MESSAGES = 2;

  @BeforeAll
  static void environment() {
    InteropEnv.requireUp();
  }

  private static SecureSmtpTransport transport(
      DnsResolver dns, MtaStsResolver sts, Optional<TlsRptAggregator> aggregator) {
    SecureSmtpTransport.Builder b =
        SecureSmtpTransport.builder()
            .dns(dns)
            .dane(DaneResolver.builder().dns(dns).build())
            .mtaSts(sts)
            .trustStore(InteropEnv.caTrustStore())
            .senderPolicy(SenderPolicy.uniform(TlsLevel.OPPORTUNISTIC))
            .heloName("client.interop.mailtls.test")
            .port(25)
            .noConnectionReuse();
    aggregator.ifPresent(b::eventListenerFactory);
    return b.build();
  }

  /** Delivered sessions and failed sessions (with their failure) seen in a recipient's attempts. */
  private record Sessions(int successful, List<FailureType> failed, List<String> failedHosts) {}

  private static Sessions sessions(RecipientResult r) {
    int ok = 0;
    List<FailureType> failed = new ArrayList<>();
    List<String> hosts = new ArrayList<>();
    for (Attempt a : r.attempts()) {
      if (a.failure().isPresent()) {
        failed.add(a.failure().get());
        hosts.add(a.host().map(DomainName::toString).orElse("?"));
      } else if (a.authentication().isPresent()) {
        ok++;
      }
    }
    return new Sessions(ok, failed, hosts);
  }

  @Test
  void reportsForADaneAndAnMtaStsDomainArriveByMailSignedAndAgreeWithTheDeliveries()
      throws Exception {
    DnsResolver dns = InteropEnv.validatingResolver();
    InMemoryAggregateStore store = new InMemoryAggregateStore();
    TlsRptAggregator aggregator = TlsRptAggregator.builder().store(store).build();
    LocalDate day = aggregator.today();

    int daneOk = 0;
    int stsOk = 0;
    List<FailureType> stsFailed = new ArrayList<>();
    try (MtaStsResolver sts = Library.mtaSts(dns);
        SecureSmtpTransport t = transport(dns, sts, Optional.of(aggregator))) {
      for (int i = 0; i < DANE_MESSAGES + STS_MESSAGES; i++) {
        String domain = i < DANE_MESSAGES ? DANE.toString() : STS.toString();
        InteropEnv.TestMessage m = InteropEnv.message(domain, "tlsrpt-" + i);
        DeliveryReport report =
            t.send(Envelope.of(Library.SENDER, m.recipient()), MessageContent.of(m.wire()));
        RecipientResult r = report.recipients().get(0);
        assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DELIVERED);
        InteropEnv.awaitInMaildir(domain, m.id(), Duration.ofSeconds(10));
        Sessions s = sessions(r);
        if (i < DANE_MESSAGES) {
          assertThat(s.failed()).as("%s", r).isEmpty();
          daneOk += s.successful();
        } else {
          assertThat(s.failedHosts()).as("%s", r).containsOnly("mx1.rpt-sts.test");
          stsOk += s.successful();
          stsFailed.addAll(s.failed());
        }
      }
    }
    // the shape the zones were built for: every message one session, one more for each
    // message to rpt-sts.test that first met the self-signed preferred MX host
    assertThat(daneOk).isEqualTo(DANE_MESSAGES);
    assertThat(stsOk).isEqualTo(STS_MESSAGES);
    assertThat(stsFailed).hasSize(STS_MESSAGES).containsOnly(FailureType.CERTIFICATE_NOT_TRUSTED);
    assertThat(aggregator.failedMerges()).isZero();

    // the day has ended for the reporter (RFC 8460 §4.1: whole UTC days)
    Clock nextDay = Clock.offset(Clock.systemUTC(), Duration.ofDays(1));
    Map<String, TlsRptReport> delivered = new ConcurrentHashMap<>();
    List<String> notDelivered = new ArrayList<>();
    DkimKey key =
        DkimKey.fromPkcs8(
            SENDER,
            "mailtls",
            Files.readAllBytes(InteropEnv.STATE.resolve("dkim").resolve("rpt-sender.pk8")));
    try (MtaStsResolver sts = Library.mtaSts(dns);
        SecureSmtpTransport reportTransport = transport(dns, sts, Optional.empty());
        TlsRptReporter reporter =
            TlsRptReporter.builder()
                .aggregateStore(store)
                .discovery(TlsRptDiscovery.builder().dns(dns).build())
                .writer(
                    TlsRptReportWriter.builder()
                        .organizationName("mailtls interop")
                        .contactInfo("postmaster@rpt-sender.test")
                        .submitter(SENDER)
                        .build())
                .channels(
                    List.of(
                        MailReportSender.builder()
                            .transport(reportTransport)
                            .from(EmailAddress.parse("tlsrpt-noreply@rpt-sender.test"))
                            .submitter(SENDER)
                            .dkim(key)
                            .build()))
                .clock(nextDay)
                .listener(
                    new TlsRptReporter.Listener() {
                      @Override
                      public void reportDelivered(
                          TlsRptReport report,
                          URI destination,
                          ReportOutcome.Delivered outcome,
                          int attempts) {
                        delivered.put(report.policyDomain().toString(), report);
                      }

                      @Override
                      public void reportAbandoned(
                          TlsRptReport report,
                          URI destination,
                          ReportOutcome.NotDelivered lastOutcome,
                          int attempts) {
                        notDelivered.add(report.policyDomain() + ": " + lastOutcome);
                      }
                    })
                .build()) {
      DeliveryRun run = reporter.flush(day);
      assertThat(run.refused()).isEmpty();
      assertThat(notDelivered).isEmpty();
      assertThat(delivered).containsOnlyKeys(DANE.toString(), STS.toString());
      assertThat(run.settledDays()).containsExactly(day);
    }
    assertThat(store.read(day)).as("the day's counts leave the store once reported").isEmpty();

    JsonNode dane = readBack(delivered.get(DANE.toString()));
    JsonNode sts = readBack(delivered.get(STS.toString()));

    assertThat(policies(dane)).hasSize(1);
    JsonNode danePolicy = policies(dane).get(0);
    assertThat(danePolicy.at("/policy/policy-type").asText()).isEqualTo("tlsa");
    assertThat(danePolicy.at("/policy/policy-domain").asText()).isEqualTo(DANE.toString());
    assertThat(danePolicy.at("/summary/total-successful-session-count").asInt())
        .isEqualTo(DANE_MESSAGES);
    assertThat(danePolicy.at("/summary/total-failure-session-count").asInt()).isZero();

    assertThat(policies(sts)).hasSize(1);
    JsonNode stsPolicy = policies(sts).get(0);
    assertThat(stsPolicy.at("/policy/policy-type").asText()).isEqualTo("sts");
    assertThat(stsPolicy.at("/policy/policy-domain").asText()).isEqualTo(STS.toString());
    List<String> mx = new ArrayList<>();
    stsPolicy.at("/policy/mx-host").forEach(n -> mx.add(n.asText()));
    assertThat(mx).containsExactlyInAnyOrder("mx1.rpt-sts.test", "mx2.rpt-sts.test");
    assertThat(stsPolicy.at("/summary/total-successful-session-count").asInt())
        .isEqualTo(STS_MESSAGES);
    assertThat(stsPolicy.at("/summary/total-failure-session-count").asInt())
        .isEqualTo(STS_MESSAGES);
    JsonNode details = stsPolicy.get("failure-details");
    assertThat(details).hasSize(1);
    JsonNode d = details.get(0);
    assertThat(d.get("result-type").asText()).isEqualTo("certificate-not-trusted");
    assertThat(d.get("receiving-mx-hostname").asText()).isEqualTo("mx1.rpt-sts.test");
    assertThat(d.get("failed-session-count").asInt()).isEqualTo(STS_MESSAGES);
  }

  private static JsonNode policies(JsonNode summary) {
    return summary.at("/report/policies");
  }

  /**
   * Finds the report mail in rpt-reports.test's maildir by its report-id and reads it with
   * interop/tlsrpt-read.py; checks what the reader checks for every report.
   */
  private static JsonNode readBack(TlsRptReport report) throws Exception {
    Path file =
        InteropEnv.awaitInMaildir(
            REPORTS, report.reportId().replaceAll("^<|>$", ""), Duration.ofSeconds(10));
    InteropEnv.ProcessResult r =
        InteropEnv.runBounded(
            new ProcessBuilder(
                "/usr/bin/python3",
                Path.of("..", "interop", "tlsrpt-read.py").toString(),
                file.toString(),
                "--dkim-resolver",
                InteropEnv.UNBOUND),
            Duration.ofSeconds(60),
            "tlsrpt-read.py");
    assertThat(r.exit()).as("tlsrpt-read.py: %s", r.stderr()).isZero();
    JsonNode summary = new ObjectMapper().readTree(r.stdout().getBytes(StandardCharsets.UTF_8));
    assertThat(summary.get("dkim-verified").asBoolean())
        .as("DKIM-Signature verified by dkimpy with the key in DNS")
        .isTrue();
    assertThat(summary.get("report-domain").asText()).isEqualTo(report.policyDomain().toString());
    assertThat(summary.get("submitter").asText()).isEqualTo(SENDER.toString());
    assertThat(summary.get("tls-required").asText()).isEqualTo("No");
    assertThat(summary.get("filename").asText()).isEqualTo(report.fileName(true));
    assertThat(summary.at("/report/report-id").asText()).isEqualTo(report.reportId());
    assertThat(summary.at("/report/date-range/start-datetime").asText())
        .isEqualTo(report.day().atStartOfDay(ZoneOffset.UTC).toInstant().toString());
    return summary;
  }
}
