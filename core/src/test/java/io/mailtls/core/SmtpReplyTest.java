package io.mailtls.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SmtpReplyTest {

  @ParameterizedTest(name = "RFC 5321 §4.2.1 {0}")
  @CsvSource({
    "250, true,  false, false, false",
    "221, true,  false, false, false",
    "354, false, true,  false, false",
    "334, false, true,  false, false",
    "421, false, false, true,  false",
    "452, false, false, true,  false",
    "550, false, false, false, true",
    "554, false, false, false, true",
  })
  void classifiesByFirstDigit(
      int code,
      boolean positive,
      boolean intermediate,
      boolean transientFailure,
      boolean permanent) {
    SmtpReply reply = new SmtpReply(code, Optional.empty(), List.of("text"), false);

    assertThat(reply.isPositiveCompletion()).isEqualTo(positive);
    assertThat(reply.isIntermediate()).isEqualTo(intermediate);
    assertThat(reply.isTransientFailure()).isEqualTo(transientFailure);
    assertThat(reply.isPermanentFailure()).isEqualTo(permanent);
  }

  @Test
  void rfc5321Section4_2_1CodeRange() {
    assertThatThrownBy(() -> new SmtpReply(199, Optional.empty(), List.of(""), false))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("199");
    assertThatThrownBy(() -> new SmtpReply(600, Optional.empty(), List.of(""), false))
        .hasMessageContaining("600");
    assertThatThrownBy(() -> new SmtpReply(25, Optional.empty(), List.of(""), false))
        .hasMessageContaining("25");
  }

  @Test
  void rfc2034Section4StatusClassMatchesCode() {
    assertThatThrownBy(
            () ->
                new SmtpReply(250, Optional.of(EnhancedStatus.parse("5.1.1")), List.of(""), false))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("5.1.1")
        .hasMessageContaining("250");
    assertThatThrownBy(() -> SmtpReply.local(354, "2.0.0", "go"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void linesAreValidatedAndCopied() {
    assertThatThrownBy(() -> new SmtpReply(250, Optional.empty(), List.of(), false))
        .hasMessageContaining("at least one line");
    assertThatThrownBy(() -> new SmtpReply(250, Optional.empty(), List.of("a\r\nb"), false))
        .hasMessageContaining("CR or LF");
    java.util.ArrayList<String> lines = new java.util.ArrayList<>(List.of("a"));
    SmtpReply reply = new SmtpReply(250, Optional.empty(), lines, false);
    lines.add("b");
    assertThat(reply.lines()).containsExactly("a");
    assertThatThrownBy(() -> reply.lines().add("c"))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void localRepliesAreMarked() {
    SmtpReply tooBig = SmtpReply.local(554, "5.3.4", "message too big for server");

    assertThat(tooBig.locallyGenerated()).isTrue();
    assertThat(tooBig.code()).isEqualTo(554);
    assertThat(tooBig.enhancedStatus()).contains(EnhancedStatus.MESSAGE_TOO_BIG);
    assertThat(tooBig.text()).isEqualTo("message too big for server");
    assertThat(tooBig).hasToString("554 5.3.4 message too big for server");
    assertThat(tooBig)
        .isNotEqualTo(
            new SmtpReply(
                554,
                Optional.of(EnhancedStatus.MESSAGE_TOO_BIG),
                List.of("message too big for server"),
                false));
    assertThat(SmtpReply.local(451, EnhancedStatus.CRYPTOGRAPHIC_FAILURE, "TLS failed"))
        .hasToString("451 4.7.5 TLS failed");
    assertThat(SmtpReply.local(421, "no status").enhancedStatus()).isEmpty();
    assertThatThrownBy(() -> SmtpReply.local(554, "5.3", "x"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("\"5.3\"");
  }

  @Test
  void localTextSplitsIntoLines() {
    SmtpReply reply = SmtpReply.local(451, "4.4.3", "DNS failed\nfor example.com");

    assertThat(reply.lines()).containsExactly("DNS failed", "for example.com");
    assertThat(reply.text()).isEqualTo("DNS failed\nfor example.com");
    assertThatThrownBy(() -> SmtpReply.local(451, "4.4.3", "a\rb"))
        .hasMessageContaining("CR or LF");
  }

  @Test
  void toStringFormats() {
    assertThat(new SmtpReply(250, Optional.empty(), List.of(""), false)).hasToString("250");
    assertThat(new SmtpReply(250, Optional.empty(), List.of("OK"), false)).hasToString("250 OK");
    assertThat(
            new SmtpReply(
                550, Optional.of(EnhancedStatus.parse("5.1.1")), List.of("a", "b"), false))
        .hasToString("550 5.1.1 a\nb");
  }
}
