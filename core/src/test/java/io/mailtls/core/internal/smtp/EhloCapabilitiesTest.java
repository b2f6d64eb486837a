package io.mailtls.core.internal.smtp;

import static io.mailtls.core.internal.smtp.TestStreams.bytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailtls.core.SmtpReply;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class EhloCapabilitiesTest {

  private static EhloCapabilities parse(String wire) {
    try {
      return EhloCapabilities.parse(
          new SmtpReplyReader(new ByteArrayInputStream(bytes(wire))).read());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Test
  void postfix() {
    EhloCapabilities caps =
        parse(
            "250-mail.example.org\r\n"
                + "250-PIPELINING\r\n"
                + "250-SIZE 10240000\r\n"
                + "250-VRFY\r\n"
                + "250-ETRN\r\n"
                + "250-STARTTLS\r\n"
                + "250-ENHANCEDSTATUSCODES\r\n"
                + "250-8BITMIME\r\n"
                + "250-DSN\r\n"
                + "250-SMTPUTF8\r\n"
                + "250 CHUNKING\r\n");

    assertThat(caps.domain()).isEqualTo("mail.example.org");
    assertThat(caps.greeting()).isEmpty();
    assertThat(caps.pipelining()).isTrue();
    assertThat(caps.starttls()).isTrue();
    assertThat(caps.eightBitMime()).isTrue();
    assertThat(caps.smtpUtf8()).isTrue();
    assertThat(caps.enhancedStatusCodes()).isTrue();
    assertThat(caps.chunking()).isTrue();
    assertThat(caps.dsn()).isTrue();
    assertThat(caps.binaryMime()).isFalse();
    assertThat(caps.requireTls()).isFalse();
    assertThat(caps.size()).isEqualTo(OptionalLong.of(10_240_000));
    assertThat(caps.authMechanisms()).isEmpty();
    assertThat(caps.supports("etrn")).isTrue();
    assertThat(caps.supports("AUTH")).isFalse();
  }

  @Test
  void exchange() {
    EhloCapabilities caps =
        parse(
            "250-EX01.corp.example.com Hello [192.0.2.10]\r\n"
                + "250-SIZE 37748736\r\n"
                + "250-PIPELINING\r\n"
                + "250-DSN\r\n"
                + "250-ENHANCEDSTATUSCODES\r\n"
                + "250-STARTTLS\r\n"
                + "250-AUTH GSSAPI NTLM\r\n"
                + "250-8BITMIME\r\n"
                + "250-BINARYMIME\r\n"
                + "250-CHUNKING\r\n"
                + "250-XEXCH50\r\n"
                + "250-XRDST\r\n"
                + "250 XSHADOWREQUEST\r\n");

    assertThat(caps.domain()).isEqualTo("EX01.corp.example.com");
    assertThat(caps.greeting()).isEqualTo("Hello [192.0.2.10]");
    assertThat(caps.size()).hasValue(37_748_736);
    assertThat(caps.authMechanisms()).containsExactly("GSSAPI", "NTLM");
    assertThat(caps.binaryMime()).isTrue();
    assertThat(caps.chunking()).isTrue();
    assertThat(caps.smtpUtf8()).isFalse();
    assertThat(caps.supports("xexch50")).isTrue();
  }

  @Test
  void rfc2554LegacyAuthEqualsLineIsMerged() {
    EhloCapabilities caps =
        parse(
            "250-smtp.example.net\r\n"
                + "250-AUTH LOGIN PLAIN\r\n"
                + "250-AUTH=LOGIN PLAIN XOAUTH2\r\n"
                + "250 auth cram-md5\r\n");

    assertThat(caps.authMechanisms()).containsExactly("LOGIN", "PLAIN", "XOAUTH2", "CRAM-MD5");
  }

  @Test
  void rfc4422Section3_1NonAsciiMechanismsAreDropped() {
    // Upper-casing "plaın" (dotless i) in any locale would give "PLAIN".
    EhloCapabilities caps = parse("250-x\r\n250 AUTH plaın LOGIN x!y\r\n");

    assertThat(caps.authMechanisms()).containsExactly("LOGIN");
  }

  @ParameterizedTest(name = "RFC 1870 §4 \"{0}\" -> {1}")
  @CsvSource(
      delimiter = '|',
      value = {
        "250-x\\r\\n250 SIZE 52428800|52428800",
        "250-x\\r\\n250 SIZE|none",
        "250-x\\r\\n250 SIZE 0|none",
        "250-x\\r\\n250 SIZE junk|none",
        "250-x\\r\\n250 SIZE -5|none",
        "250-x\\r\\n250 SIZE 99999999999999999999|none",
        "250-x\\r\\n250 SIZE 9223372036854775807|9223372036854775807",
        "250-x\\r\\n250 size 1000|1000",
        "250-x\\r\\n250 PIPELINING|none",
      })
  void rfc1870Section4SizeVariants(String escapedWire, String expected) {
    EhloCapabilities caps = parse(escapedWire.replace("\\r\\n", "\r\n") + "\r\n");

    OptionalLong size = caps.size();
    if (expected.equals("none")) {
      assertThat(size).isEmpty();
    } else {
      assertThat(size).hasValue(Long.parseLong(expected));
    }
  }

  @Test
  void sizeWithoutLimitIsStillSupported() {
    EhloCapabilities caps = parse("250-x\r\n250 SIZE\r\n");

    assertThat(caps.supports("SIZE")).isTrue();
    assertThat(caps.size()).isEmpty();
  }

  @Test
  void keywordsAreCaseInsensitiveInEveryLocale() {
    Locale saved = Locale.getDefault();
    Locale.setDefault(Locale.forLanguageTag("tr-TR"));
    try {
      EhloCapabilities caps =
          parse(
              "250-x\r\n"
                  + "250-pipelining\r\n"
                  + "250-SmtpUtf8\r\n"
                  + "250-starttls\r\n"
                  + "250 auth plain login\r\n");

      assertThat(caps.pipelining()).isTrue();
      assertThat(caps.smtpUtf8()).isTrue();
      assertThat(caps.starttls()).isTrue();
      assertThat(caps.supports("PIPELINING")).isTrue();
      assertThat(caps.supports("Pipelining")).isTrue();
      assertThat(caps.authMechanisms()).containsExactly("PLAIN", "LOGIN");
      assertThat(caps.extensions()).containsKeys("PIPELINING", "SMTPUTF8", "STARTTLS", "AUTH");
    } finally {
      Locale.setDefault(saved);
    }
  }

  @Test
  void junkLinesAreIgnored() {
    EhloCapabilities caps =
        parse(
            "250-mx.example Hi\r\n"
                + "250-\r\n"
                + "250-   \r\n"
                + "250-!!!bogus\r\n"
                + "250--DASH\r\n"
                + "250-X_UNDERSCORE\r\n"
                + "250-8BITMIME\r\n"
                + "250-  PIPELINING  \r\n"
                + "250-SIZE\t1000\r\n"
                + "250 STARTTLS\r\n");

    assertThat(caps.extensions().keySet())
        .containsExactlyInAnyOrder("8BITMIME", "PIPELINING", "SIZE", "STARTTLS");
    assertThat(caps.size()).hasValue(1000);
  }

  @Test
  void firstOccurrenceWins() {
    EhloCapabilities caps = parse("250-x\r\n250-SIZE 1000\r\n250 SIZE 2000\r\n");

    assertThat(caps.size()).hasValue(1000);
  }

  @Test
  void singleLineReplyHasNoExtensions() {
    EhloCapabilities caps = parse("250 mx.example.com\r\n");

    assertThat(caps.domain()).isEqualTo("mx.example.com");
    assertThat(caps.extensions()).isEmpty();
    assertThat(caps.starttls()).isFalse();
  }

  @Test
  void boundedAgainstHugeReplies() {
    StringBuilder wire = new StringBuilder("250-x\r\n");
    for (int i = 0; i < 200; i++) {
      wire.append("250-X").append(i).append(' ').append("p ".repeat(100)).append("\r\n");
    }
    wire.append("250 AUTH ").append("M ".repeat(100)).append("\r\n");

    EhloCapabilities caps = parse(wire.toString());

    assertThat(caps.extensions()).hasSizeLessThanOrEqualTo(EhloCapabilities.MAX_KEYWORDS);
    assertThat(caps.parameters("X0")).hasSizeLessThanOrEqualTo(EhloCapabilities.MAX_PARAMETERS);
  }

  @Test
  void onlyA250IsAnEhloReply() {
    SmtpReply refused = SmtpReply.local(502, "5.5.1", "EHLO not implemented");

    assertThatThrownBy(() -> EhloCapabilities.parse(refused))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("502");
  }

  @Test
  void extensionsAreImmutable() {
    EhloCapabilities caps = new EhloCapabilities("x", "", Map.of("size", List.of("10")));

    assertThat(caps.supports("SIZE")).isTrue();
    assertThatThrownBy(() -> caps.extensions().put("A", List.of()))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> caps.parameters("SIZE").add("1"))
        .isInstanceOf(UnsupportedOperationException.class);
  }
}
