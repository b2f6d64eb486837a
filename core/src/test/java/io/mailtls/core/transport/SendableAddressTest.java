package io.mailtls.core.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.EmailAddress;
import io.mailtls.core.Envelope;
import io.mailtls.core.MessageContent;
import io.mailtls.core.TlsLevel;
import io.mailtls.testkit.MockSmtpServer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * An address that {@link EmailAddress} accepts is one the transport can put on the wire: a local
 * part with a C1 control character (U+0080..U+009F) or an unpaired surrogate cannot go into {@code
 * MAIL FROM} or {@code RCPT TO} even under SMTPUTF8 (RFC 6531 §3.3 extends atext and qtextSMTP with
 * UTF-8 characters, RFC 6532 §3.1; an unpaired surrogate is not UTF-8, and RFC 5198 §2 keeps
 * control characters out of text on the wire), so it is refused when the address is made, not after
 * a connection has been opened, where it made every recipient of the transaction fail.
 */
class SendableAddressTest {

  private static final String GOOD = "good@example.test";

  /**
   * Local parts that cannot be sent: C1 controls and unpaired surrogates, dotted and quoted, and
   * the empty quoted string, which the SMTP path check refuses too.
   */
  private static final List<String> UNSENDABLE =
      List.of(
          "bad\u0085",
          "bad\u009b1m",
          "\"bad\u0080\"",
          "bad\ud800",
          "bad\udc00x",
          "\"bad\udfff\"",
          "\"\"");

  @Test
  void addressesWithC1ControlsOrUnpairedSurrogatesAreRefusedWhenMade() throws Exception {
    for (String local : UNSENDABLE) {
      String address = local + "@example.test";
      try (Fixture f = new Fixture()) {
        MockSmtpServer mx = f.server("127.0.0.2", b -> b.hostname("mx.example.test"));
        f.dns(
            d ->
                d.zone("example.test", z -> z.mailHost("example.test", 10, "mx.example.test", mx)));
        Envelope envelope;
        try {
          envelope = Envelope.of("a@sender.test", GOOD, address);
        } catch (IllegalArgumentException refused) {
          continue; // refused up front, as it should be
        }
        DeliveryReport report =
            f.transport(TlsLevel.OPPORTUNISTIC)
                .send(
                    envelope, MessageContent.of(Fixture.MESSAGE.getBytes(StandardCharsets.UTF_8)));
        // Accepted: then it must at least not cost the good recipient its delivery.
        assertThat(report.result(GOOD).status())
            .as(
                "%s accepted by Envelope.of, then: %s",
                SmtpTextForTest.escape(address), report.result(GOOD))
            .isEqualTo(DeliveryStatus.DELIVERED);
      }
    }
  }

  @Test
  void theRefusalNamesTheCharacter() {
    assertThatThrownBy(() -> EmailAddress.parse("bad\u0085@example.test"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("U+0085");
    assertThatThrownBy(() -> EmailAddress.parse("bad\ud800@example.test"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("U+D800");
    assertThatThrownBy(() -> Envelope.of("bad\u0085@sender.test", GOOD))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> EmailAddress.parse("\"\"@example.test"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("empty quoted local part");
  }

  @Test
  void utf8LocalPartsStillParse() {
    assertThat(EmailAddress.parse("josé@example.test").needsSmtpUtf8()).isTrue();
    assertThat(EmailAddress.parse("\"jo sé\"@example.test").needsSmtpUtf8()).isTrue();
    assertThat(EmailAddress.parse("\ud83d\ude00@example.test").needsSmtpUtf8()).isTrue();
  }

  /** Escapes non-ASCII for an assertion message. */
  private static final class SmtpTextForTest {
    static String escape(String s) {
      StringBuilder out = new StringBuilder();
      for (int i = 0; i < s.length(); i++) {
        char c = s.charAt(i);
        out.append(c < 0x20 || c > 0x7e ? String.format("\\u%04X", (int) c) : String.valueOf(c));
      }
      return out.toString();
    }
  }
}
