package io.mailtls.testkit.internal.smtp;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import org.junit.jupiter.api.Test;

class SmtpInputTest {

  /** Returns one scripted chunk per read() call, as network reads would. */
  private static final class ChunkedStream extends InputStream {
    private final Deque<byte[]> chunks = new ArrayDeque<>();

    ChunkedStream(String... chunks) {
      for (String chunk : chunks) {
        this.chunks.add(chunk.getBytes(StandardCharsets.UTF_8));
      }
    }

    @Override
    public int read() {
      throw new UnsupportedOperationException();
    }

    @Override
    public int read(byte[] b, int off, int len) {
      byte[] chunk = chunks.poll();
      if (chunk == null) {
        return -1;
      }
      int n = Math.min(len, chunk.length);
      System.arraycopy(chunk, 0, b, off, n);
      if (n < chunk.length) {
        chunks.addFirst(java.util.Arrays.copyOfRange(chunk, n, chunk.length));
      }
      return n;
    }
  }

  @Test
  void linesRememberTheReadThatDeliveredTheirFirstByte() throws Exception {
    int[] flushes = {0};
    SmtpInput input =
        new SmtpInput(
            new ChunkedStream(
                "EHLO a\r\n",
                "MAIL FROM:<>\r\nRCPT TO:<b>\r\nRC",
                "PT TO:<c>\r\nDATA\r\n",
                "QUIT\n"),
            64,
            () -> flushes[0]++);

    List<String> lines = new java.util.ArrayList<>();
    List<Integer> reads = new java.util.ArrayList<>();
    String line;
    while ((line = input.readLine(32)) != null) {
      lines.add(line);
      reads.add(input.lastLineReadIndex());
    }

    assertThat(lines)
        .containsExactly("EHLO a", "MAIL FROM:<>", "RCPT TO:<b>", "RCPT TO:<c>", "DATA", "QUIT");
    assertThat(reads).containsExactly(1, 2, 2, 2, 3, 4);
    assertThat(flushes[0])
        .isEqualTo(5); // before every read, the final one at end of stream included
  }

  @Test
  void overlongLinesAreDiscardedWholeAndReadingGoesOn() throws Exception {
    SmtpInput input =
        new SmtpInput(
            new ChunkedStream("x".repeat(40), "y".repeat(40), "z\r\nNOOP\r\n"), 64, () -> {});

    assertThat(input.readLine(32)).isSameAs(SmtpInput.TOO_LONG);
    assertThat(input.readLine(32)).isEqualTo("NOOP");
    assertThat(input.readLine(32)).isNull();
  }

  @Test
  void discardBufferedDropsPipelinedPlaintext() throws Exception {
    SmtpInput input = new SmtpInput(new ChunkedStream("STARTTLS\r\nEHLO evil\r\n"), 64, () -> {});

    assertThat(input.readLine(32)).isEqualTo("STARTTLS");
    assertThat(input.discardBuffered()).isEqualTo("EHLO evil\r\n".length());
    input.switchTo(new ChunkedStream("EHLO good\r\n"));
    assertThat(input.readLine(32)).isEqualTo("EHLO good");
    assertThat(input.lastLineReadIndex()).isEqualTo(2);
  }
}
