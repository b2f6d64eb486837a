package io.mailtls.tlsrpt;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.FailureType;
import io.mailtls.tlsrpt.internal.SessionAccounting;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The table of docs/tls-rpt.md that maps each {@link FailureType} to its RFC 8460 §4.3 result type
 * and {@code additional-information} URI says what the code does: every type is in it once, with
 * the code's result type and URI.
 */
class TlsRptMappingTableTest {

  private static final String RFC8460 = "https://www.rfc-editor.org/rfc/rfc8460";

  private static final Pattern ROW =
      Pattern.compile(
          "^\\| `([A-Z][A-Z0-9_]*)` \\| (?:`([a-z-]+)`|—) \\| (?:`(#section-[0-9.]+)`|—) \\|$");

  @Test
  void theDocumentedTableIsTheCodes() throws IOException {
    Path doc = Path.of("..", "docs", "tls-rpt.md");
    String text = Files.readString(doc);
    String table =
        text.substring(
            text.indexOf("<!-- mapping:begin -->"), text.indexOf("<!-- mapping:end -->"));
    Map<String, String> documented = new LinkedHashMap<>();
    int rows = 0;
    for (String line : table.lines().toList()) {
      Matcher m = ROW.matcher(line);
      if (m.matches()) {
        rows++;
        String resultType = m.group(2) == null ? "" : m.group(2);
        String info = m.group(3) == null ? "" : RFC8460 + m.group(3);
        assertThat(documented.put(m.group(1), resultType + " " + info))
            .as("%s listed twice", m.group(1))
            .isNull();
      }
    }
    assertThat(rows).isEqualTo(FailureType.values().length);
    Map<String, String> code = new LinkedHashMap<>();
    Arrays.stream(FailureType.values())
        .forEach(
            t ->
                code.put(
                    t.name(),
                    t.tlsRptResultType().orElse("")
                        + " "
                        + t.tlsRptResultType()
                            .flatMap(SessionAccounting::additionalInformation)
                            .orElse("")));
    assertThat(documented).containsExactlyEntriesOf(code);
  }

  @Test
  void everyResultTypeIsOneOfRfc8460s() {
    // RFC 8460 §4.3.1 (negotiation), §4.3.2.1 (DANE) and §4.3.2.2 (MTA-STS).
    var rfc =
        java.util.Set.of(
            "starttls-not-supported",
            "certificate-host-mismatch",
            "certificate-expired",
            "certificate-not-trusted",
            "validation-failure",
            "tlsa-invalid",
            "dnssec-invalid",
            "dane-required",
            "sts-policy-fetch-error",
            "sts-policy-invalid",
            "sts-webpki-invalid");
    Arrays.stream(FailureType.values())
        .flatMap(t -> t.tlsRptResultType().stream())
        .forEach(r -> assertThat(rfc).contains(r));
  }
}
