package io.mailtls.tlsrpt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailtls.tlsrpt.internal.MailtoUri;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The RFC 8460 §3 grammar of the {@code _smtp._tls} record, and the selection from an RRset. */
class TlsRptRecordTest {

  @Test
  void rfcExamplesParse() {
    // RFC 8460 §3.1's two examples.
    assertThat(TlsRptRecord.parse("v=TLSRPTv1;rua=mailto:reports@example.com").rua())
        .containsExactly(URI.create("mailto:reports@example.com"));
    assertThat(TlsRptRecord.parse("v=TLSRPTv1; rua=https://reporting.example.com/v1/tlsrpt").rua())
        .containsExactly(URI.create("https://reporting.example.com/v1/tlsrpt"));
  }

  @Test
  void severalUrisWithWhiteSpaceAroundCommasAndSemicolons() {
    TlsRptRecord r =
        TlsRptRecord.parse(
            "v=TLSRPTv1 ;\trua=mailto:a@example.com ,\thttps://r.example.com/x?a=b , "
                + "mailto:b@example.com ; ");
    assertThat(r.rua())
        .containsExactly(
            URI.create("mailto:a@example.com"),
            URI.create("https://r.example.com/x?a=b"),
            URI.create("mailto:b@example.com"));
    assertThat(r.ignored()).isEmpty();
  }

  /**
   * The record is the peer's input, and each destination a delivery with its own timeouts: at most
   * five are used, the first given; the rest are ignored, never an unbounded run.
   */
  @Test
  void atMostFiveDestinationsTheFirstGiven() {
    List<String> uris = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      uris.add(i % 2 == 0 ? "https://r" + i + ".example.com/x" : "mailto:r" + i + "@example.com");
    }
    TlsRptRecord r = TlsRptRecord.parse("v=TLSRPTv1; rua=" + String.join(",", uris));
    assertThat(r.rua())
        .hasSize(TlsRptRecord.MAX_DESTINATIONS)
        .containsExactlyElementsOf(uris.subList(0, 5).stream().map(URI::create).toList());
    assertThat(r.ignored())
        .containsExactlyElementsOf(uris.subList(5, 50).stream().map(URI::create).toList());
  }

  /**
   * A {@code mailto:} URI that delivery refuses (here a header field without {@code =}, RFC 6068 §2
   * {@code hfield = hfname "=" hfvalue}) is ignored when the record is parsed (RFC 8460 §3: one
   * unusable URI leaves the others), so it takes none of the {@link TlsRptRecord#MAX_DESTINATIONS}
   * places: the five good URIs after it are all destinations, and each destination is one the mail
   * channel accepts.
   */
  @Test
  void aMailtoThatDeliveryRefusesTakesNoDestinationPlace() {
    List<String> good = new ArrayList<>();
    for (int i = 1; i <= TlsRptRecord.MAX_DESTINATIONS; i++) {
      good.add("mailto:r" + i + "@example.com");
    }
    List<String> bad =
        List.of(
            "mailto:a@example.com?subject",
            "mailto:a@example.com?to",
            "mailto:a@example.com?&subject=x",
            "mailto:not-an-address@@example.com",
            "mailto:a@example.com?to=b@",
            "mailto:a@example.com#frag");
    for (String b : bad) {
      TlsRptRecord r = TlsRptRecord.parse("v=TLSRPTv1; rua=" + b + "," + String.join(",", good));
      assertThat(r.rua())
          .as("rua of a record whose first URI is %s", b)
          .containsExactlyElementsOf(good.stream().map(URI::create).toList());
      assertThat(r.ignored()).as(b).containsExactly(URI.create(b));
      for (URI u : r.rua()) {
        assertThat(MailtoUri.recipients(u)).as("%s", u).isNotEmpty();
      }
    }
  }

  /**
   * {@code ,}, {@code ;} and {@code !} are not atext (RFC 5322 §3.2.3): in an address they stand in
   * a quoted local part, which the URI percent-encodes with its quotes (RFC 6068 §2). An unquoted
   * {@code tls!rpt,;x@example.com} is no address, so the mail channel could not deliver to it; it
   * is ignored (see {@link #aMailtoThatDeliveryRefusesTakesNoDestinationPlace}).
   */
  @Test
  void percentEncodedCommaBangAndSemicolonStayInTheUri() {
    TlsRptRecord r =
        TlsRptRecord.parse("v=TLSRPTv1; rua=mailto:%22tls%21rpt%2C%3Bx%22@example.com");
    assertThat(r.rua()).hasSize(1);
    assertThat(r.rua().get(0).getSchemeSpecificPart()).isEqualTo("\"tls!rpt,;x\"@example.com");
    assertThat(MailtoUri.recipients(r.rua().get(0)))
        .extracting(Object::toString)
        .containsExactly("\"tls!rpt,;x\"@example.com");
  }

  @Test
  void unknownSchemesAreIgnoredButMustBeUris() {
    TlsRptRecord r =
        TlsRptRecord.parse("v=TLSRPTv1; rua=ftp://files.example.com/in,mailto:r@example.com");
    assertThat(r.rua()).containsExactly(URI.create("mailto:r@example.com"));
    assertThat(r.ignored()).containsExactly(URI.create("ftp://files.example.com/in"));
    assertThatThrownBy(() -> TlsRptRecord.parse("v=TLSRPTv1; rua=http://r.example.com/"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no mailto: or https:");
  }

  @Test
  void schemeIsCaseInsensitive() {
    assertThat(TlsRptRecord.parse("v=TLSRPTv1; rua=MAILTO:r@example.com").rua()).hasSize(1);
    assertThat(TlsRptRecord.parse("v=TLSRPTv1; rua=HTTPS://r.example.com/").rua()).hasSize(1);
  }

  @Test
  void extensionsAreKeptAndRepeatedKeysTakeTheFirst() {
    TlsRptRecord r =
        TlsRptRecord.parse(
            "v=TLSRPTv1; x-future=1.0; rua=mailto:first@example.com; rua=mailto:second@example.com;"
                + " x-future=2");
    assertThat(r.rua()).containsExactly(URI.create("mailto:first@example.com"));
    assertThat(r.extensions()).isEqualTo(Map.of("x-future", "1.0"));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "v=TLSRPTv1",
        "v=TLSRPTv1;",
        "v=TLSRPTv1; x=1",
        "v=TLSRPTv1; rua=",
        "v=TLSRPTv1; rua=mailto:a@example.com,",
        "v=TLSRPTv1; rua=,mailto:a@example.com",
        "v=TLSRPTv1; rua=mailto:a@example.com ",
        " v=TLSRPTv1; rua=mailto:a@example.com",
        "v=TLSRPTv2; rua=mailto:a@example.com",
        "V=TLSRPTv1; rua=mailto:a@example.com",
        "v=TLSRPTv1 rua=mailto:a@example.com",
        "v=TLSRPTv1; rua=mailto:a@example.com mailto:b@example.com",
        "v=TLSRPTv1; rua=mailto:tls!rpt@example.com",
        "v=TLSRPTv1; rua=mailto:a%2@example.com",
        "v=TLSRPTv1; rua=mailto:a%zz@example.com",
        "v=TLSRPTv1; rua=mailto:",
        "v=TLSRPTv1; rua=mailto:nobody",
        "v=TLSRPTv1; rua=https:///path",
        "v=TLSRPTv1; rua=reports@example.com",
        "v=TLSRPTv1; rua=mailto:r\u00e9@example.com",
        "v=TLSRPTv1; rua=mailto:a@example.com; bad name=1",
        "v=TLSRPTv1; rua=mailto:a@example.com; x=",
        "v=TLSRPTv1; rua=mailto:a@example.com; x=a=b",
        "v=TLSRPTv1; rua=mailto:a@example.com; _x=1",
        "v=TLSRPTv1; rua=mailto:a@example.com; novalue",
        "v=TLSRPTv1;; rua=mailto:a@example.com",
      })
  void invalidRecordsAreRefused(String text) {
    assertThatThrownBy(() -> TlsRptRecord.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("invalid TLS-RPT record");
    // and a domain publishing only that takes no reports
    assertThat(TlsRptRecord.select(List.of(text))).isInstanceOf(TlsRptRecord.NotFound.class);
  }

  @Test
  void selectionDiscardsOtherRecordsBeforeCounting() {
    TlsRptRecord.Selection s =
        TlsRptRecord.select(
            List.of(
                "v=spf1 -all",
                "v=TLSRPTv1x; rua=mailto:no@example.com",
                "v=TLSRPTv1; rua=mailto:yes@example.com"));
    assertThat(s)
        .isInstanceOfSatisfying(
            TlsRptRecord.Found.class,
            f ->
                assertThat(f.record().rua()).containsExactly(URI.create("mailto:yes@example.com")));
  }

  @Test
  void severalRecordsMeanNoReporting() {
    TlsRptRecord.Selection s =
        TlsRptRecord.select(
            List.of("v=TLSRPTv1; rua=mailto:a@example.com", "v=TLSRPTv1;rua=mailto:b@example.com"));
    assertThat(s)
        .isInstanceOfSatisfying(
            TlsRptRecord.NotFound.class,
            n -> assertThat(n.reason()).contains("2 TXT records begin with v=TLSRPTv1;"));
  }

  @Test
  void noRecordMeansNoReporting() {
    assertThat(TlsRptRecord.select(List.of())).isInstanceOf(TlsRptRecord.NotFound.class);
    assertThat(TlsRptRecord.select(List.of("v=STSv1; id=1")))
        .isInstanceOf(TlsRptRecord.NotFound.class);
  }

  @Test
  void peerTextInMessagesIsEscaped() {
    assertThatThrownBy(() -> TlsRptRecord.parse("v=TLSRPTv1; rua=mailto:\u0007@example.com"))
        .hasMessageContaining("\\x07")
        .hasMessageNotContaining("\u0007");
  }
}
