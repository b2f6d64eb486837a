package io.mailtls.mtasts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import okio.Buffer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The body rules of RFC 8461 §3.2 and §3.3 that the fixture cannot express on the wire. */
class PolicyResponsesTest {

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(
      delimiter = '|',
      value = {
        "text/plain|true",
        "TEXT/Plain|true",
        "text/plain;charset=utf-8|true",
        "  text/plain  ; a=b|true",
        "text/html|false",
        "text/plainx|false",
        "text/plain-x; charset=utf-8|false",
        "application/octet-stream|false",
        "text|false",
      })
  void section3_2MediaType(String contentType, boolean textPlain) {
    assertThat(PolicyResponses.isTextPlain(contentType)).isEqualTo(textPlain);
  }

  @ParameterizedTest(name = "{0} bytes")
  @ValueSource(ints = {0, 1, 100, 65535, 65536, 65537, 200_000})
  void section3_3ReadsAtMostTheLimitPlusOne(int size) throws Exception {
    Buffer source = new Buffer().write(new byte[size]);
    byte[] read = PolicyResponses.readAtMost(source, 65536);
    if (size <= 65536) {
      assertThat(read).hasSize(size);
      assertThat(source.size()).isZero();
    } else {
      assertThat(read).isNull();
      // Nothing past limit + 1 was consumed.
      assertThat(source.size()).isEqualTo(size - 65537L);
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(
      strings = {
        "c3 28", // invalid continuation
        "e2 82", // truncated sequence
        "c0 af", // overlong "/"
        "ed a0 80", // UTF-16 surrogate
        "f8 88 80 80 80", // five-byte form
        "ff",
      })
  void section3_2InvalidUtf8IsRefused(String hex) {
    byte[] bad = hexBytes(hex);
    byte[] body = new byte[4 + bad.length];
    System.arraycopy("ab: ".getBytes(StandardCharsets.US_ASCII), 0, body, 0, 4);
    System.arraycopy(bad, 0, body, 4, bad.length);
    assertThatThrownBy(() -> PolicyResponses.decodeUtf8(body))
        .isInstanceOfSatisfying(
            PolicyResponses.MalformedUtf8.class, e -> assertThat(e.offset).isEqualTo(4));
  }

  @ParameterizedTest(name = "[{index}] \"{0}\"")
  @ValueSource(strings = {"", "version: STSv1", "caf\u00e9 \u2615 \ud83d\udce7"})
  void section3_2ValidUtf8Decodes(String text) throws Exception {
    assertThat(PolicyResponses.decodeUtf8(text.getBytes(StandardCharsets.UTF_8))).isEqualTo(text);
  }

  private static byte[] hexBytes(String hex) {
    String[] parts = hex.trim().split("\\s+", -1);
    byte[] out = new byte[parts.length];
    for (int i = 0; i < parts.length; i++) {
      out[i] = (byte) Integer.parseInt(parts[i], 16);
    }
    return out;
  }
}
