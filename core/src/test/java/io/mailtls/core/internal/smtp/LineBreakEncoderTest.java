package io.mailtls.core.internal.smtp;

import static io.mailtls.core.internal.smtp.TestStreams.string;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import io.mailtls.core.internal.smtp.TestStreams.Recording;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** {@link DotStuffingOutputStream} (DATA) and {@link CrlfNormalizingOutputStream} (BDAT). */
class LineBreakEncoderTest {

  /** Content, what DATA sends (stuffed, terminated), what BDAT sends (normalised only). */
  static Stream<Arguments> table() {
    return Stream.of(
        arguments("empty content", "", ".\r\n", ""),
        arguments("one line without line break", "a", "a\r\n.\r\n", "a"),
        arguments("one line with CRLF", "a\r\n", "a\r\n.\r\n", "a\r\n"),
        arguments("RFC 5321 §4.5.2 lone dot", ".", "..\r\n.\r\n", "."),
        arguments("RFC 5321 §4.5.2 two dots", "..", "...\r\n.\r\n", ".."),
        arguments("RFC 5321 §4.5.2 dot line at start", ".\r\n", "..\r\n.\r\n", ".\r\n"),
        arguments(
            "RFC 5321 §4.5.2 dot line in the middle",
            "a\r\n.\r\nb\r\n",
            "a\r\n..\r\nb\r\n.\r\n",
            "a\r\n.\r\nb\r\n"),
        arguments("RFC 5321 §4.5.2 dot line at the end", "a\r\n.", "a\r\n..\r\n.\r\n", "a\r\n."),
        arguments(
            "RFC 5321 §4.5.2 end-of-data inside content",
            "a\r\n.\r\n",
            "a\r\n..\r\n.\r\n",
            "a\r\n.\r\n"),
        arguments(
            "RFC 5321 §4.5.2 consecutive dot lines",
            ".\r\n.\r\n",
            "..\r\n..\r\n.\r\n",
            ".\r\n.\r\n"),
        arguments(
            "RFC 5321 §4.5.2 dot text line", ".hidden\r\n", "..hidden\r\n.\r\n", ".hidden\r\n"),
        arguments("dot in mid-line is not stuffed", "a.b\r\n", "a.b\r\n.\r\n", "a.b\r\n"),
        arguments("RFC 5321 §2.3.8 bare LF", "a\nb\n", "a\r\nb\r\n.\r\n", "a\r\nb\r\n"),
        arguments("RFC 5321 §2.3.8 bare LF then dot", "a\n.b", "a\r\n..b\r\n.\r\n", "a\r\n.b"),
        arguments("RFC 5321 §2.3.8 lone CR", "a\rb", "a\r\nb\r\n.\r\n", "a\r\nb"),
        arguments("RFC 5321 §2.3.8 lone CR then dot", "a\r.b", "a\r\n..b\r\n.\r\n", "a\r\n.b"),
        arguments("RFC 5321 §2.3.8 CR CR LF", "a\r\r\nb", "a\r\n\r\nb\r\n.\r\n", "a\r\n\r\nb"),
        arguments("RFC 5321 §2.3.8 LF CR", "a\n\rb", "a\r\n\r\nb\r\n.\r\n", "a\r\n\r\nb"),
        arguments("only CR", "\r", "\r\n.\r\n", "\r\n"),
        arguments("only LF", "\n", "\r\n.\r\n", "\r\n"),
        arguments("two CRs", "\r\r", "\r\n\r\n.\r\n", "\r\n\r\n"),
        arguments("two LFs", "\n\n", "\r\n\r\n.\r\n", "\r\n\r\n"),
        arguments("trailing lone CR", "a\r", "a\r\n.\r\n", "a\r\n"),
        arguments("empty lines", "a\r\n\r\n", "a\r\n\r\n.\r\n", "a\r\n\r\n"),
        arguments(
            "8-bit and NUL octets pass through",
            "\u00e9\u0000\u00ff\r\n",
            "\u00e9\u0000\u00ff\r\n.\r\n",
            "\u00e9\u0000\u00ff\r\n"));
  }

  private static byte[] latin1(String text) {
    return text.getBytes(StandardCharsets.ISO_8859_1);
  }

  private static String dataEncode(byte[] content, int... cuts) throws IOException {
    Recording out = new Recording();
    try (DotStuffingOutputStream data = new DotStuffingOutputStream(out, false, 16)) {
      writeInPieces(data, content, cuts);
      data.finish();
      assertThat(data.bytesWritten()).isEqualTo(out.count);
    }
    return out.text();
  }

  private static String bdatEncode(byte[] content, int... cuts) throws IOException {
    Recording out = new Recording();
    try (CrlfNormalizingOutputStream bdat = new CrlfNormalizingOutputStream(out, false, 16)) {
      writeInPieces(bdat, content, cuts);
      bdat.finish();
      assertThat(bdat.bytesWritten()).isEqualTo(out.count);
    }
    return out.text();
  }

  private static void writeInPieces(LineBreakEncoder out, byte[] content, int... cuts)
      throws IOException {
    int from = 0;
    for (int cut : cuts) {
      out.write(content, from, cut - from);
      from = cut;
    }
    out.write(content, from, content.length - from);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("table")
  void dataStuffsDotsAndTerminates(String name, String content, String data, String bdat)
      throws IOException {
    assertThat(dataEncode(latin1(content))).isEqualTo(data);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("table")
  void bdatNormalisesOnly(String name, String content, String data, String bdat)
      throws IOException {
    assertThat(bdatEncode(latin1(content))).isEqualTo(bdat);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("table")
  void sameOutputWhateverTheWriteBoundaries(String name, String content, String data, String bdat)
      throws IOException {
    byte[] octets = latin1(content);
    for (int cut = 0; cut <= octets.length; cut++) {
      assertThat(dataEncode(octets, cut)).as("DATA split at %d", cut).isEqualTo(data);
      assertThat(bdatEncode(octets, cut)).as("BDAT split at %d", cut).isEqualTo(bdat);
    }
    int[] everyOctet = new int[octets.length];
    Arrays.setAll(everyOctet, i -> i);
    assertThat(dataEncode(octets, everyOctet)).isEqualTo(data);
    assertThat(bdatEncode(octets, everyOctet)).isEqualTo(bdat);

    Recording out = new Recording();
    DotStuffingOutputStream single = new DotStuffingOutputStream(out);
    for (byte b : octets) {
      single.write(b);
    }
    single.finish();
    assertThat(out.text()).isEqualTo(data);
  }

  @Test
  void crlfSplitAcrossWritesAtEveryBoundaryOfALongerText() throws IOException {
    String content = "Subject: x\r\n\r\n.line\r\n..\r\nend.\r\n.";
    String expected = "Subject: x\r\n\r\n..line\r\n...\r\nend.\r\n..\r\n.\r\n";
    byte[] octets = latin1(content);
    for (int a = 0; a <= octets.length; a++) {
      for (int b = a; b <= octets.length; b++) {
        assertThat(dataEncode(octets, a, b)).as("cuts %d,%d", a, b).isEqualTo(expected);
      }
    }
  }

  @Test
  void finishWritesTheTerminatorOnce() throws IOException {
    Recording out = new Recording();
    DotStuffingOutputStream data = new DotStuffingOutputStream(out);
    data.write(latin1("hello"));

    data.finish();
    data.finish();

    assertThat(out.text()).isEqualTo("hello\r\n.\r\n");
    assertThat(data.isFinished()).isTrue();
    assertThat(out.flushes).isEqualTo(1);
    assertThatThrownBy(() -> data.write('x')).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void closeWithoutFinishNeverTerminates() throws IOException {
    Recording out = new Recording();
    DotStuffingOutputStream data = new DotStuffingOutputStream(out);
    data.write(latin1("partial message\r\n"));

    data.close();
    data.close();

    assertThat(out.text()).doesNotContain(".\r\n");
    assertThat(out.closed).as("socket stream left open").isFalse();
    assertThatThrownBy(() -> data.write('x')).isInstanceOf(IOException.class);
    assertThatThrownBy(data::finish).isInstanceOf(IOException.class);
  }

  @Test
  void closeClosesTheUnderlyingStreamOnlyWhenAsked() throws IOException {
    Recording out = new Recording();
    DotStuffingOutputStream data = new DotStuffingOutputStream(out, true, 64);
    data.finish();
    data.close();

    assertThat(out.closed).isTrue();
    assertThat(out.text()).isEqualTo(".\r\n");
  }

  @Test
  void flushHoldsATrailingCrUntilItsLfArrives() throws IOException {
    Recording out = new Recording();
    DotStuffingOutputStream data = new DotStuffingOutputStream(out);

    data.write(latin1("a\r"));
    data.flush();
    assertThat(out.text()).isEqualTo("a");

    data.write(latin1("\n.b"));
    data.finish();
    assertThat(out.text()).isEqualTo("a\r\n..b\r\n.\r\n");
  }

  @Test
  void bufferSizeIsValidated() {
    assertThatThrownBy(() -> new DotStuffingOutputStream(new Recording(), false, 8))
        .hasMessageContaining("8");
  }

  /**
   * Correctness on a large input; its speed is a benchmark's business, the timeout bounds a hang.
   */
  @Test
  @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void largeContentStreamsInWholeBuffers() throws IOException {
    byte[] line = latin1("The quick brown fox jumps over the lazy dog. .......\n.start\r\n");
    byte[] block = new byte[64 * 1024];
    for (int i = 0; i < block.length; i++) {
      block[i] = line[i % line.length];
    }
    Recording out = new Recording(false);
    DotStuffingOutputStream data = new DotStuffingOutputStream(out);
    ContentScanner scanner = new ContentScanner();
    int blocks = 512; // 32 MiB
    for (int i = 0; i < blocks; i++) {
      data.write(block);
      scanner.write(block);
    }
    data.finish();

    assertThat(out.singleByteWrites).as("no per-octet calls on the socket stream").isZero();
    // Buffers go out (nearly) full: at most one write per half buffer.
    assertThat((long) out.arrayWrites)
        .isLessThanOrEqualTo(out.count / (LineBreakEncoder.DEFAULT_BUFFER_SIZE / 2) + 2);
    assertThat(out.count).isEqualTo(scanner.result().dataWireLength());
  }

  @Test
  void utf8ContentIsUntouched() throws IOException {
    byte[] content = "Grüße, 世界\n".getBytes(StandardCharsets.UTF_8);
    byte[] expected = "Grüße, 世界\r\n".getBytes(StandardCharsets.UTF_8);
    Recording out = new Recording();
    CrlfNormalizingOutputStream bdat = new CrlfNormalizingOutputStream(out);

    bdat.write(content);
    bdat.finish();

    assertThat(out.bytes()).isEqualTo(expected);
    assertThat(string(out.bytes())).hasSize(expected.length);
  }
}
