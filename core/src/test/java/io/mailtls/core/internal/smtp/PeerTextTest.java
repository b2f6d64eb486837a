package io.mailtls.core.internal.smtp;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.SmtpReply;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class PeerTextTest {

  @Test
  void quoteEscapesEverythingOutsidePrintableAscii() {
    assertThat(PeerText.quote("a\r\nb\t\u0000\u001b[31m\u007f\u0085é\u202e\"\\"))
        .isEqualTo("\"a\\r\\nb\\t\\x00\\x1B[31m\\x7F\\u0085\\u00E9\\u202E\\\"\\\\\"");
  }

  @Test
  void quoteCutsLongText() {
    String quoted = PeerText.quote("x".repeat(1000));
    assertThat(quoted)
        .hasSize(PeerText.MAX_QUOTED + "\"...(1000 chars)\"".length())
        .endsWith("...(1000 chars)\"");
  }

  @Test
  void quoteOfOctetsShowsNonAsciiAsHex() {
    byte[] bytes = "250 ok\r\n\u00e9".getBytes(StandardCharsets.UTF_8);
    assertThat(PeerText.quote(bytes, 0, bytes.length)).isEqualTo("\"250 ok\\r\\n\\xC3\\xA9\"");
  }

  @Test
  void cleanKeepsLineFeedsTabsAndPrintableTextAndEscapesTheRest() {
    assertThat(PeerText.clean("line one §\nline\ttwo\r\u0000\u202e é"))
        .isEqualTo("line one §\nline\ttwo\\r\\x00\\u202E é");
    assertThat(PeerText.clean("\ud800 lone")).isEqualTo("\\uD800 lone");
    assertThat(PeerText.clean("\ud83d\ude00 pair")).isEqualTo("\ud83d\ude00 pair");
  }

  /** RFC 5321 §2.3.8: what clean returns always makes a valid local reply. */
  @Test
  void cleanTextAlwaysMakesALocalReply() {
    StringBuilder every = new StringBuilder();
    for (char c = 0; c < 0x300; c++) {
      every.append(c);
    }
    SmtpReply reply = SmtpReply.local(451, "4.5.0", PeerText.clean(every));
    assertThat(reply.text()).doesNotContain("\r");
  }
}
