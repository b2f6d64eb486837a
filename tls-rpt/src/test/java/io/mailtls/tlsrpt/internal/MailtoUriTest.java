package io.mailtls.tlsrpt.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailtls.core.EmailAddress;
import java.net.URI;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code mailto:} URIs as RFC 6068 §2 writes them, and what is refused. */
class MailtoUriTest {

  private static List<String> recipients(String uri) {
    return MailtoUri.recipients(URI.create(uri)).stream().map(EmailAddress::toPath).toList();
  }

  @Test
  void oneAddress() {
    assertThat(recipients("mailto:tlsrpt@example.test")).containsExactly("tlsrpt@example.test");
    assertThat(recipients("MAILTO:tlsrpt@example.test")).containsExactly("tlsrpt@example.test");
  }

  @Test
  void percentEncodingIsDecoded() {
    // RFC 6068 §6.1's example of an encoded "+"... and of "%" itself and a UTF-8 local part
    assertThat(recipients("mailto:tls%2Brpt@example.test")).containsExactly("tls+rpt@example.test");
    assertThat(recipients("mailto:%74lsrpt@example.test")).containsExactly("tlsrpt@example.test");
    assertThat(recipients("mailto:%C3%A9t%C3%A9@example.test")).containsExactly("été@example.test");
    assertThat(recipients("mailto:%22not%40me%22@example.test"))
        .containsExactly("\"not@me\"@example.test");
  }

  @Test
  void severalAddressesInOrderWithoutDuplicates() {
    assertThat(recipients("mailto:a@x.test,b@y.test,a@x.test"))
        .containsExactly("a@x.test", "b@y.test");
    // RFC 6068 §2: to= header fields add recipients; others are ignored
    assertThat(recipients("mailto:a@x.test?to=b@y.test,c@z.test&subject=report&body=hi"))
        .containsExactly("a@x.test", "b@y.test", "c@z.test");
    assertThat(recipients("mailto:?to=b@y.test")).containsExactly("b@y.test");
    assertThat(recipients("mailto:?TO=b%40y.test")).containsExactly("b@y.test");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "https://example.test/report",
        "mailto:?subject=nobody",
        "mailto:no-at-sign",
        "mailto:a@x.test,",
        "mailto:,a@x.test",
        "mailto:a@x.test#frag",
        "mailto:a@x.test?subject",
        "mailto:%C3%28@x.test",
        "mailto:a%00b@x.test",
        "mailto:a@-bad-.test",
        "mailto:?to=",
        "mailto:a@x.test?to=b",
      })
  void invalid(String uri) {
    assertThatThrownBy(() -> MailtoUri.recipients(URI.create(uri)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void malformedEscapesAreRefused() {
    assertThatThrownBy(() -> MailtoUri.decode("a%2")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> MailtoUri.decode("a%zz")).isInstanceOf(IllegalArgumentException.class);
    assertThat(MailtoUri.decode("a%2c%2C")).isEqualTo("a,,");
  }
}
