package io.mailtls.testkit.internal.smtp;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** RFC 5321 §4.5.2 transparency and §4.1.1.4 end of data, fed in every possible split. */
class DotUnstufferTest {

  static Stream<Arguments> rfc5321_4_5_2() {
    return Stream.of(
        Arguments.of("empty message", ".\r\n", ""),
        Arguments.of("one line", "hello\r\n.\r\n", "hello\r\n"),
        Arguments.of("stuffed dot line", "..\r\n.\r\n", ".\r\n"),
        Arguments.of("stuffed leading dot", "..hidden\r\n.\r\n", ".hidden\r\n"),
        Arguments.of("first line stuffed", "..x\r\ny\r\n.\r\n", ".x\r\ny\r\n"),
        Arguments.of("dot inside a line", "a.b\r\n.\r\n", "a.b\r\n"),
        Arguments.of("dot then bare CR", ".\rx\r\n.\r\n", "\rx\r\n"),
        Arguments.of("dot then CR CR LF", ".\r\r\n.\r\n", "\r\r\n"),
        Arguments.of("bare LF then dot is no line start", "a\n.b\r\n.\r\n", "a\n.b\r\n"),
        Arguments.of("dot then bare LF", ".\nz\r\n.\r\n", "\nz\r\n"),
        Arguments.of("CR CR LF then dot line", "a\r\r\n.\r\n", "a\r\r\n"),
        Arguments.of("empty lines", "\r\n\r\n.\r\n", "\r\n\r\n"),
        Arguments.of("binary octets", "\u00ff\u0000\u0080\r\n.\r\n", "\u00ff\u0000\u0080\r\n"));
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rfc5321_4_5_2")
  void decodesInEverySplit(String name, String wire, String expected) {
    byte[] input = bytes(wire + "NEXT COMMAND");
    for (int split = 0; split <= wire.length(); split++) {
      MessageSink sink = new MessageSink(true);
      DotUnstuffer unstuffer = new DotUnstuffer(sink);
      int used = unstuffer.process(input, 0, split);
      if (!unstuffer.isDone()) {
        used += unstuffer.process(input, used, input.length - used);
      }
      assertThat(unstuffer.isDone()).as("split %d", split).isTrue();
      assertThat(used).as("split %d", split).isEqualTo(wire.length());
      assertThat(sink.bytes()).as("split %d", split).isEqualTo(bytes(expected));
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rfc5321_4_5_2")
  void decodesOctetByOctet(String name, String wire, String expected) {
    byte[] input = bytes(wire);
    MessageSink sink = new MessageSink(true);
    DotUnstuffer unstuffer = new DotUnstuffer(sink);
    for (int i = 0; i < input.length; i++) {
      assertThat(unstuffer.isDone()).isFalse();
      assertThat(unstuffer.process(input, i, 1)).isEqualTo(1);
    }
    assertThat(unstuffer.isDone()).isTrue();
    assertThat(sink.bytes()).isEqualTo(bytes(expected));
    assertThat(sink.size()).isEqualTo(expected.length());
  }
}
