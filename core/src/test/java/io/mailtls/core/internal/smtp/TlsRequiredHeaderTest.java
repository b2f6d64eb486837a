package io.mailtls.core.internal.smtp;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.MessageContent;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** RFC 8689 §4.2.2 header detection on streamed content. */
class TlsRequiredHeaderTest {

  private static boolean scan(String message) {
    return TlsRequiredHeader.scan(MessageContent.of(message.getBytes(StandardCharsets.ISO_8859_1)));
  }

  @Test
  void findsTheFieldInTheHeaderSectionOnly() {
    assertThat(scan("From: a@b.test\r\nTLS-Required: No\r\nSubject: s\r\n\r\nbody\r\n")).isTrue();
    assertThat(scan("From: a@b.test\ntls-required:   nO  \n\nbody\n")).isTrue();
    assertThat(scan("Subject: s\r\nTLS-Required:\r\n No\r\n\r\n")).as("folded").isTrue();
    assertThat(scan("Subject: s\r\n\r\nTLS-Required: No\r\n")).as("in the body").isFalse();
    assertThat(scan("TLS-Required: Yes\r\n\r\n")).isFalse();
    assertThat(scan("TLS-Required: No thanks\r\n\r\n")).isFalse();
    assertThat(scan("X-TLS-Required: No\r\n\r\n")).isFalse();
    assertThat(scan("Subject: TLS-Required: No\r\n\r\n")).isFalse();
    assertThat(scan(" TLS-Required: No\r\n\r\n")).as("a fold before any field").isFalse();
    assertThat(scan("TLS-Required: No")).as("content that ends in the field").isTrue();
  }

  /** RFC 8689 §3 defines one field: two mean nothing, whatever they say (as MimeFacts reads). */
  @Test
  void moreThanOneFieldMeansNothing() {
    assertThat(scan("TLS-Required: No\r\nTLS-Required: Yes\r\n\r\n")).isFalse();
    assertThat(scan("TLS-Required: Yes\r\nTLS-Required: No\r\n\r\n")).isFalse();
    assertThat(scan("TLS-Required: No\r\nSubject: s\r\ntls-required: no\r\n\r\n")).isFalse();
    assertThat(scan("TLS-Required: No\r\nTLS-Required: No")).as("the second at the end").isFalse();
    assertThat(scan("TLS-Required: No\r\n\r\nTLS-Required: Yes\r\n"))
        .as("a second in the body is no field")
        .isTrue();
  }

  @Test
  void aHeaderSectionCutOffByTheBoundMeansNothing() {
    // a second field could follow where the scanner stopped reading
    StringBuilder m = new StringBuilder("TLS-Required: No\r\n");
    while (m.length() < TlsRequiredHeader.MAX_HEADER_OCTETS) {
      m.append("X-Filler: ").append("x".repeat(60)).append("\r\n");
    }
    m.append("TLS-Required: Yes\r\n\r\n");
    assertThat(scan(m.toString())).isFalse();
  }

  @Test
  void stopsTheWriterAtTheEndOfTheHeaderSection() {
    AtomicLong written = new AtomicLong();
    MessageContent endless =
        new MessageContent() {
          @Override
          public InputStream open() {
            throw new UnsupportedOperationException("written only");
          }

          @Override
          public void writeTo(OutputStream out) throws IOException {
            byte[] header = "TLS-Required: No\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
            out.write(header);
            written.addAndGet(header.length);
            byte[] body = new byte[8192];
            for (int i = 0; i < 1_000_000; i++) { // 8 GB if the scanner kept reading
              out.write(body);
              written.addAndGet(body.length);
            }
          }
        };
    assertThat(TlsRequiredHeader.scan(endless)).isTrue();
    assertThat(written.get()).isLessThan(100);
  }

  @Test
  void aHeaderSectionBeyondTheBoundIsReadNoFurther() {
    StringBuilder m = new StringBuilder();
    while (m.length() < TlsRequiredHeader.MAX_HEADER_OCTETS) {
      m.append("X-Filler: ").append("x".repeat(60)).append("\r\n");
    }
    m.append("TLS-Required: No\r\n\r\n");
    assertThat(scan(m.toString())).isFalse();
  }

  @Test
  void unreadableContentNeverLowersAnything() {
    MessageContent broken =
        () -> {
          throw new IOException("gone");
        };
    assertThat(TlsRequiredHeader.scan(broken)).isFalse();
  }
}
