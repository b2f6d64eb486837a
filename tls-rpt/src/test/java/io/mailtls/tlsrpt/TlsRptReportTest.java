package io.mailtls.tlsrpt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.Error;
import io.mailtls.core.DomainName;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;

/**
 * The §4.4 report: exactly the RFC's fields, valid against docs/tlsrpt-report.schema.json (which
 * refuses what the RFC does not allow), unique report ids, §5.1 file names, gzip.
 */
class TlsRptReportTest {

  static final ObjectMapper JSON = new ObjectMapper();
  static final LocalDate DAY = LocalDate.parse("2025-03-01");
  static final DomainName B = DomainName.of("b.test");

  static final AppliedPolicy STS =
      new AppliedPolicy(
          PolicyType.STS,
          B,
          List.of("version: STSv1", "mode: testing", "mx: *.mail.b.test", "max_age: 86400"),
          List.of("*.mail.b.test"));
  static final AppliedPolicy NONE = AppliedPolicy.noPolicy(DomainName.of("a.test"));
  static final FailureDetail EXPIRED =
      new FailureDetail(
          "certificate-expired",
          Optional.of("2001:db8:abcd:12::1"),
          Optional.of("mx1.mail.b.test"),
          Optional.empty(),
          Optional.empty(),
          Optional.empty(),
          Optional.empty());
  static final FailureDetail NO_STARTTLS =
      new FailureDetail(
          "starttls-not-supported",
          Optional.of("2001:db8:abcd:13::1"),
          Optional.of("mx2.mail.b.test"),
          Optional.of("mx2.mail.b.test"),
          Optional.of("203.0.113.56"),
          Optional.of("STARTTLS_NOT_SUPPORTED"),
          Optional.of("https://reports.a.test/report_info?id=1#StarttlsNotSupported"));

  static List<Error> validate(JsonNode report) {
    return ReportSchema.validate(report);
  }

  static TlsRptReportWriter writer(Random random) {
    return TlsRptReportWriter.builder()
        .organizationName("Sender Inc.")
        .contactInfo("tlsrpt@sender.test")
        .submitter(DomainName.of("sender.test"))
        .random(random)
        .build();
  }

  private static Map<AppliedPolicy, PolicyCounts> counts() {
    return Map.of(
        STS,
        new PolicyCounts(5326, 303, Map.of(EXPIRED, 100L, NO_STARTTLS, 203L)),
        NONE,
        new PolicyCounts(7, 0, Map.of()));
  }

  @Test
  void exactlyTheRfcFieldsInTheRfcOrder() throws IOException {
    List<TlsRptReport> reports = writer(new Random(1)).write(DAY, counts());
    assertThat(reports)
        .extracting(TlsRptReport::policyDomain)
        .containsExactly(DomainName.of("a.test"), B);
    TlsRptReport report = reports.get(1);
    JsonNode json = JSON.readTree(report.json());
    List<String> names = new ArrayList<>();
    json.fieldNames().forEachRemaining(names::add);
    assertThat(names)
        .containsExactly(
            "organization-name", "date-range", "contact-info", "report-id", "policies");
    String expected =
        """
        {
          "organization-name": "Sender Inc.",
          "date-range": {
            "start-datetime": "2025-03-01T00:00:00Z",
            "end-datetime": "2025-03-01T23:59:59Z"
          },
          "contact-info": "tlsrpt@sender.test",
          "report-id": "REPORT-ID",
          "policies": [{
            "policy": {
              "policy-type": "sts",
              "policy-string": ["version: STSv1", "mode: testing", "mx: *.mail.b.test",
                                "max_age: 86400"],
              "policy-domain": "b.test",
              "mx-host": ["*.mail.b.test"]
            },
            "summary": {
              "total-successful-session-count": 5326,
              "total-failure-session-count": 303
            },
            "failure-details": [{
              "result-type": "certificate-expired",
              "sending-mta-ip": "2001:db8:abcd:12::1",
              "receiving-mx-hostname": "mx1.mail.b.test",
              "failed-session-count": 100
            }, {
              "result-type": "starttls-not-supported",
              "sending-mta-ip": "2001:db8:abcd:13::1",
              "receiving-mx-hostname": "mx2.mail.b.test",
              "receiving-mx-helo": "mx2.mail.b.test",
              "receiving-ip": "203.0.113.56",
              "failed-session-count": 203,
              "additional-information":
                  "https://reports.a.test/report_info?id=1#StarttlsNotSupported",
              "failure-reason-code": "STARTTLS_NOT_SUPPORTED"
            }]
          }]
        }
        """
            .replace("REPORT-ID", report.reportId());
    assertThat(json).isEqualTo(JSON.readTree(expected));
    assertThat(report.reportId()).startsWith("2025-03-01_b.test_").endsWith("@sender.test");
    assertThat(validate(json)).isEmpty();
  }

  @Test
  void aReportWithOnlySuccessesIsValid() throws IOException {
    TlsRptReport report = writer(new Random(2)).write(DAY, DomainName.of("a.test"), counts());
    JsonNode json = JSON.readTree(report.json());
    assertThat(json.at("/policies/0/policy"))
        .isEqualTo(
            JSON.readTree("{\"policy-type\":\"no-policy-found\",\"policy-domain\":\"a.test\"}"));
    assertThat(json.at("/policies/0/failure-details").isMissingNode()).isTrue();
    assertThat(validate(json)).isEmpty();
  }

  @Test
  void theSchemaRefusesWhatTheRfcDoesNotAllow() throws IOException {
    JsonNode good = JSON.readTree(writer(new Random(3)).write(DAY, B, counts()).json());
    assertThat(validate(good)).isEmpty();
    List<String> broken =
        List.of(
            "/organization-name",
            "/date-range/start-datetime",
            "/report-id",
            "/policies/0/summary",
            "/policies/0/policy/policy-type",
            "/policies/0/failure-details/0/result-type",
            "/policies/0/failure-details/0/failed-session-count");
    for (String pointer : broken) {
      JsonNode copy = good.deepCopy();
      int slash = pointer.lastIndexOf('/');
      ((ObjectNode) copy.at(pointer.substring(0, slash))).remove(pointer.substring(slash + 1));
      assertThat(validate(copy)).as("without %s", pointer).isNotEmpty();
    }
    JsonNode badType = good.deepCopy();
    ((ObjectNode) badType.at("/policies/0/failure-details/0")).put("result-type", "cert-expired");
    assertThat(validate(badType)).isNotEmpty();
    JsonNode badCount = good.deepCopy();
    ((ObjectNode) badCount.at("/policies/0/summary")).put("total-failure-session-count", -1);
    assertThat(validate(badCount)).isNotEmpty();
    JsonNode emptyHelo = good.deepCopy();
    ((ObjectNode) emptyHelo.at("/policies/0/failure-details/1")).put("receiving-mx-helo", "");
    assertThat(validate(emptyHelo)).isNotEmpty();
    JsonNode numericIp = good.deepCopy();
    ((ObjectNode) numericIp.at("/policies/0/failure-details/0")).put("sending-mta-ip", 127);
    assertThat(validate(numericIp)).isNotEmpty();
    JsonNode localTime = good.deepCopy();
    ((ObjectNode) localTime.at("/date-range")).put("start-datetime", "2025-03-01T00:00:00+01:00");
    assertThat(validate(localTime)).isNotEmpty();
  }

  @Test
  void reportIdsAndFileNamesAreUniquePerSubmitter() {
    TlsRptReportWriter writer =
        TlsRptReportWriter.builder()
            .organizationName("Sender Inc.")
            .contactInfo("tlsrpt@sender.test")
            .submitter(DomainName.of("sender.test"))
            .build();
    Set<String> ids = new HashSet<>();
    Set<String> names = new HashSet<>();
    for (int i = 0; i < 10_000; i++) {
      TlsRptReport r = writer.write(DAY, B, counts());
      assertThat(ids.add(r.reportId())).isTrue();
      assertThat(names.add(r.fileName(true))).isTrue();
    }
  }

  @Test
  void fileNamesFollowSection51() {
    TlsRptReport r = writer(new Random(4)).write(DAY, B, counts());
    String name = r.fileName(true);
    // filename = sender "!" policy-domain "!" begin-timestamp "!" end-timestamp
    //            [ "!" unique-id ] "." extension
    assertThat(name)
        .matches("sender\\.test!b\\.test!1740787200!1740873599![A-Za-z0-9]+\\.json\\.gz");
    assertThat(r.fileName(false)).isEqualTo(name.substring(0, name.length() - 3));
    assertThat(name)
        .contains(r.reportId().substring("2025-03-01_b.test_".length(), r.reportId().indexOf('@')));
  }

  @Test
  void gzipHoldsTheJson() throws IOException {
    TlsRptReport r = writer(new Random(5)).write(DAY, B, counts());
    byte[] gz = r.gzip();
    assertThat(gz[0] & 0xff).isEqualTo(0x1f);
    assertThat(gz[1] & 0xff).isEqualTo(0x8b);
    try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(gz))) {
      assertThat(in.readAllBytes()).isEqualTo(r.json());
    }
  }

  @Test
  void aDomainWithoutCountsHasNoReport() {
    assertThatThrownBy(() -> writer(new Random(6)).write(DAY, DomainName.of("c.test"), counts()))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(writer(new Random(7)).write(DAY, Map.of())).isEmpty();
  }

  @Test
  void theFileStoreLogReadsBackWhatTheReportSays() throws IOException {
    // The store's log entries are the report's policy entries: one codec for both.
    JsonNode json = JSON.readTree(writer(new Random(8)).write(DAY, B, counts()).json());
    assertThat(io.mailtls.tlsrpt.internal.CountsCodec.read(json.get("policies")))
        .isEqualTo(Map.of(STS, counts().get(STS)));
  }
}
