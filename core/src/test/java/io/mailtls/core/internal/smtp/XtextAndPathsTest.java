package io.mailtls.core.internal.smtp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class XtextAndPathsTest {

  @ParameterizedTest(name = "RFC 3461 §4 xtext \"{0}\" -> \"{1}\"")
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '\'',
      value = {
        "''|''",
        "abc|abc",
        "a+b|a+2Bb",
        "a=b|a+3Db",
        "a b|a+20b",
        "'!~'|'!~'",
        "user@example.com|user@example.com",
        "ä|+C3+A4",
      })
  void rfc3461Section4Encoding(String text, String xtext) {
    assertThat(Xtext.encode(text)).isEqualTo(xtext);
    assertThat(Xtext.decode(xtext)).isEqualTo(text);
  }

  @Test
  void rfc3461Section4EncodesControlsAndDelete() {
    assertThat(Xtext.encode("\r\n\u0000\u007F")).isEqualTo("+0D+0A+00+7F");
  }

  @ParameterizedTest(name = "RFC 3461 §4 rejects xtext \"{0}\"")
  @ValueSource(strings = {"+", "+2", "+2b", "+G0", "a b", "a=b", "\u00e4", "+2B+"})
  void rfc3461Section4RejectsMalformedXtext(String xtext) {
    assertThatThrownBy(() -> Xtext.decode(xtext)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void xtextRoundTripsRandomText() {
    Random random = new Random(3461);
    for (int i = 0; i < 500; i++) {
      StringBuilder text = new StringBuilder();
      int length = random.nextInt(40);
      for (int j = 0; j < length; j++) {
        text.append(
            (char) (random.nextBoolean() ? random.nextInt(0x80) : 0xA0 + random.nextInt(0x500)));
      }
      String encoded = Xtext.encode(text.toString());
      assertThat(encoded).matches("[!-~]*").doesNotContain("=");
      assertThat(Xtext.decode(encoded)).isEqualTo(text.toString());
    }
  }

  @ParameterizedTest(name = "RFC 6531 §3.3 needsSmtpUtf8({0}) = {1}")
  @CsvSource({
    "user@example.com, false",
    "jörg@example.com, true",
    "user@bücher.example, true",
    "用户@例子.广告, true",
    "user@xn--bcher-kva.example, false",
  })
  void rfc6531Section3_3NeedsSmtpUtf8(String address, boolean needed) {
    assertThat(SmtpPaths.needsSmtpUtf8(address)).isEqualTo(needed);
  }

  @Test
  void rfc5321Section4_1_3AddressLiterals() throws UnknownHostException {
    assertThat(SmtpPaths.addressLiteral(InetAddress.getByName("192.0.2.1")))
        .isEqualTo("[192.0.2.1]");
    String v6 = SmtpPaths.addressLiteral(InetAddress.getByName("2001:db8::1"));
    assertThat(v6).startsWith("[IPv6:2001:db8:").endsWith(":1]");
    assertThat(SmtpCommand.ehlo(v6).toString()).isEqualTo("EHLO " + v6);
  }
}
