package io.mailtls.core.internal.smtp;

import static io.mailtls.core.internal.smtp.TestStreams.string;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class BdatOutputStreamTest {

  /** Records the wire form of each chunk: the command line, then the octets. */
  static final class Wire implements BdatOutputStream.ChunkSink {
    final List<String> commands = new ArrayList<>();
    final List<String> chunks = new ArrayList<>();
    final ByteArrayOutputStream wire = new ByteArrayOutputStream();
    final ByteArrayOutputStream content = new ByteArrayOutputStream();

    @Override
    public void chunk(SmtpCommand bdat, byte[] data, int offset, int length) throws IOException {
      commands.add(bdat.toString());
      chunks.add(new String(data, offset, length, StandardCharsets.ISO_8859_1));
      bdat.writeTo(wire);
      wire.write(data, offset, length);
      content.write(data, offset, length);
    }

    String wire() {
      return string(wire.toByteArray());
    }
  }

  private static byte[] latin1(String text) {
    return text.getBytes(StandardCharsets.ISO_8859_1);
  }

  static Stream<Arguments> framing() {
    return Stream.of(
        arguments("RFC 3030 §2 empty message is BDAT 0 LAST", "", 4, List.of("BDAT 0 LAST")),
        arguments("RFC 3030 §2 one short chunk", "abc", 4, List.of("BDAT 3 LAST")),
        arguments("RFC 3030 §2 exactly one chunk", "abcd", 4, List.of("BDAT 4 LAST")),
        arguments(
            "RFC 3030 §2 full chunks then a short last one",
            "abcdefghij",
            4,
            List.of("BDAT 4", "BDAT 4", "BDAT 2 LAST")),
        arguments(
            "RFC 3030 §2 exact multiple ends without BDAT 0 LAST",
            "abcdefgh",
            4,
            List.of("BDAT 4", "BDAT 4 LAST")),
        arguments(
            "normalised length is what is framed", "a\nb\nc", 4, List.of("BDAT 4", "BDAT 3 LAST")),
        arguments("chunk size 1", "ab", 1, List.of("BDAT 1", "BDAT 1 LAST")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("framing")
  void framesChunks(String name, String content, int chunkSize, List<String> commands)
      throws IOException {
    Wire sink = new Wire();
    BdatOutputStream out = BdatOutputStream.normalizing(sink, chunkSize);

    out.write(latin1(content));
    out.finish();

    assertThat(sink.commands).containsExactlyElementsOf(commands);
    assertThat(out.chunks()).isEqualTo(commands.size());
  }

  @Test
  void wireFormIsCommandThenOctets() throws IOException {
    Wire sink = new Wire();
    BdatOutputStream out = BdatOutputStream.normalizing(sink, 8);

    out.write(latin1("To: a\nSubject: b\n\nbody\n.\n"));
    out.finish();

    assertThat(sink.wire())
        .isEqualTo(
            "BDAT 8\r\nTo: a\r\nS"
                + "BDAT 8\r\nubject: "
                + "BDAT 8\r\nb\r\n\r\nbod"
                + "BDAT 6 LAST\r\ny\r\n.\r\n");
    assertThat(out.bytesWritten()).isEqualTo(30);
  }

  @Test
  void crlfSplitAcrossAChunkBoundaryIsOneLineBreak() throws IOException {
    Wire sink = new Wire();
    BdatOutputStream out = BdatOutputStream.normalizing(sink, 2);

    out.write(latin1("a\r"));
    out.write(latin1("\nb"));
    out.finish();

    assertThat(sink.chunks).containsExactly("a\r", "\nb");
    assertThat(sink.commands).containsExactly("BDAT 2", "BDAT 2 LAST");
  }

  @Test
  void rfc3030Section3BinaryMimeIsSentAsIs() throws IOException {
    Wire sink = new Wire();
    BdatOutputStream out = BdatOutputStream.binary(sink, 4);
    byte[] binary = {'\n', '\r', 0, (byte) 0xFF, '.', '\r'};

    out.write(binary);
    out.finish();

    assertThat(sink.content.toByteArray()).isEqualTo(binary);
    assertThat(sink.commands).containsExactly("BDAT 4", "BDAT 2 LAST");
  }

  @Test
  void finishIsIdempotentAndEndsWriting() throws IOException {
    Wire sink = new Wire();
    BdatOutputStream out = BdatOutputStream.normalizing(sink);

    out.write('x');
    out.finish();
    out.finish();

    assertThat(sink.commands).containsExactly("BDAT 1 LAST");
    assertThat(out.isFinished()).isTrue();
    assertThatThrownBy(() -> out.write('y')).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void closeWithoutFinishSendsNoLastChunk() throws IOException {
    Wire sink = new Wire();
    BdatOutputStream out = BdatOutputStream.normalizing(sink, 4);

    out.write(latin1("abcdef"));
    out.flush();
    out.close();

    assertThat(sink.commands).containsExactly("BDAT 4");
    assertThatThrownBy(out::finish).isInstanceOf(IOException.class);
    assertThatThrownBy(() -> out.write('x')).isInstanceOf(IOException.class);
  }

  @Test
  void chunkSizeIsValidated() {
    Wire sink = new Wire();
    assertThatThrownBy(() -> BdatOutputStream.normalizing(sink, 0)).hasMessageContaining("0");
    assertThatThrownBy(() -> BdatOutputStream.binary(sink, BdatOutputStream.MAX_CHUNK_SIZE + 1))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void sinkFailuresPropagate() throws IOException {
    IOException broken = new IOException("Broken pipe");
    BdatOutputStream out =
        BdatOutputStream.normalizing(
            (bdat, data, offset, length) -> {
              throw broken;
            },
            2);
    out.write(latin1("abcd"));

    assertThatThrownBy(out::finish).isSameAs(broken);
  }
}
