package io.mailtls.tlsrpt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mailtls.core.DomainName;
import java.time.LocalDate;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * RFC 8460 §4.4: {@code contact-info} is an {@code addr-spec} (RFC 5322 §3.4.1); §5.1: the file
 * name's {@code sender} is the domain of that address; §5.3: {@code TLS-Report-Submitter} MUST
 * match it. A writer whose contact is not such an address, or is one in another domain than the
 * submitter, would write reports that disagree with their own file name and mail header.
 */
class ContactInfoTest {

  private static final DomainName SUBMITTER = DomainName.of("sender.test");

  private static TlsRptReportWriter.Builder writer(String contact) {
    return TlsRptReportWriter.builder()
        .organizationName("Sender Inc.")
        .contactInfo(contact)
        .submitter(SUBMITTER);
  }

  @Test
  void aUriIsNotAnAddrSpec() {
    assertThatThrownBy(() -> writer("mailto:postmaster@sender.test").build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("contactInfo");
    assertThatThrownBy(() -> writer("https://sender.test/tlsrpt").build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("contactInfo");
  }

  @Test
  void theContactDomainIsTheSubmitter() {
    assertThatThrownBy(() -> writer("tlsrpt@other.test").build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("sender.test");
    assertThatThrownBy(() -> writer("tlsrpt@mail.sender.test").build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("sender.test");
  }

  @Test
  void anAddressInTheSubmittersDomainIsWrittenAsTheFileNamesSender() throws Exception {
    TlsRptReport report =
        writer("TLS-Reports@Sender.Test")
            .build()
            .write(
                LocalDate.parse("2025-03-01"),
                Map.of(
                    AppliedPolicy.noPolicy(DomainName.of("b.test")),
                    new PolicyCounts(1, 0, Map.of())))
            .get(0);
    JsonNode json = new ObjectMapper().readTree(report.json());
    String contact = json.get("contact-info").asText();
    assertThat(contact).isEqualTo("TLS-Reports@sender.test");
    String fileName = report.fileName(true);
    String sender = fileName.substring(0, fileName.indexOf('!'));
    assertThat(contact.substring(contact.lastIndexOf('@') + 1)).isEqualTo(sender);
    assertThat(TlsRptReportTest.validate(json)).isEmpty();
    assertThat(json.get("report-id").asText()).endsWith("@" + sender);
  }
}
