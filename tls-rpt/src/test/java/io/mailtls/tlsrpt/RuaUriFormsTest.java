package io.mailtls.tlsrpt;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import org.junit.jupiter.api.Test;

/**
 * RFC 8460 §3: {@code rua} is a list of URIs ({@code tlsrpt-uri = URI}). A URI that is a valid RFC
 * 6068 {@code mailto:} form is a destination, and one URI the reporter cannot use is ignored on its
 * own: it never makes the whole record (and so every other destination) invalid.
 */
class RuaUriFormsTest {

  /** RFC 6068 §2: {@code mailto:?to=addr} is a valid mailto: URI naming one recipient. */
  @Test
  void aMailtoWithTheAddressInAToHeaderFieldIsADestination() {
    TlsRptRecord.Selection s =
        TlsRptRecord.select(
            java.util.List.of(
                "v=TLSRPTv1; rua=mailto:?to=tlsrpt@example.com,https://r.example.com:8443/x?k=v"));
    assertThat(s).as("%s", s).isInstanceOf(TlsRptRecord.Found.class);
    assertThat(((TlsRptRecord.Found) s).record().rua())
        .contains(URI.create("https://r.example.com:8443/x?k=v"));
  }

  @Test
  void aMailtoWithHeaderFieldsAndPercentEncodingIsADestination() {
    TlsRptRecord r =
        TlsRptRecord.parse(
            "v=TLSRPTv1; rua=mailto:tls%2Drpt@example.com?subject=x%20y,"
                + "https://r.example.com:8443/x?k=v");
    assertThat(r.rua())
        .containsExactly(
            URI.create("mailto:tls%2Drpt@example.com?subject=x%20y"),
            URI.create("https://r.example.com:8443/x?k=v"));
  }
}
