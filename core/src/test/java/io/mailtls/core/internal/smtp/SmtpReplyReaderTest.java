package io.mailtls.core.internal.smtp;

import static io.mailtls.core.internal.smtp.TestStreams.bytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import io.mailtls.core.EnhancedStatus;
import io.mailtls.core.SmtpReply;
import io.mailtls.core.internal.smtp.SmtpProtocolException.Kind;
import io.mailtls.core.internal.smtp.SmtpReplyReader.Limits;
import io.mailtls.core.internal.smtp.TestStreams.Endless;
import io.mailtls.core.internal.smtp.TestStreams.Scripted;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class SmtpReplyReaderTest {

  private static SmtpReply readOne(String wire) throws IOException {
    SmtpReplyReader reader = new SmtpReplyReader(new ByteArrayInputStream(bytes(wire)));
    SmtpReply reply = reader.read();
    assertThat(reader.buffered()).as("octets left after the reply").isZero();
    return reply;
  }

  private static Optional<EnhancedStatus> status(String text) {
    return Optional.of(EnhancedStatus.parse(text));
  }

  static Stream<Arguments> wellFormed() {
    return Stream.of(
        arguments("RFC 5321 §4.2 single line", "250 OK\r\n", 250, Optional.empty(), List.of("OK")),
        arguments("RFC 5321 §4.2 code only", "250\r\n", 250, Optional.empty(), List.of("")),
        arguments("RFC 5321 §4.2 code and space", "250 \r\n", 250, Optional.empty(), List.of("")),
        arguments(
            "RFC 5321 §4.2.1 multiline",
            "250-first\r\n250-second\r\n250 last\r\n",
            250,
            Optional.empty(),
            List.of("first", "second", "last")),
        arguments(
            "RFC 5321 §4.2.1 multiline, empty continuation and code-only last line",
            "220-\r\n220\r\n",
            220,
            Optional.empty(),
            List.of("", "")),
        arguments(
            "text keeps inner and trailing spaces",
            "250  two  spaces \r\n",
            250,
            Optional.empty(),
            List.of(" two  spaces ")),
        arguments(
            "RFC 2034 §4 enhanced status parsed and stripped",
            "550 5.1.1 User unknown\r\n",
            550,
            status("5.1.1"),
            List.of("User unknown")),
        arguments(
            "RFC 2034 §4 status on every line of a multiline reply",
            "550-5.1.1 The email account does not exist.\r\n"
                + "550-5.1.1 Please double-check the recipient.\r\n"
                + "550 5.1.1 https://support.example/answer - gsmtp\r\n",
            550,
            status("5.1.1"),
            List.of(
                "The email account does not exist.",
                "Please double-check the recipient.",
                "https://support.example/answer - gsmtp")),
        arguments(
            "RFC 2034 §4 status only on the first line",
            "451-4.7.1 Greylisted\r\n451 try again later\r\n",
            451,
            status("4.7.1"),
            List.of("Greylisted", "try again later")),
        arguments(
            "RFC 2034 §4 a different status on a later line stays in the text",
            "550-5.7.1 Rejected\r\n550 5.7.26 DMARC\r\n",
            550,
            status("5.7.1"),
            List.of("Rejected", "5.7.26 DMARC")),
        arguments(
            "RFC 2034 §4 class must match the reply code",
            "250 5.1.1 odd but text\r\n",
            250,
            Optional.empty(),
            List.of("5.1.1 odd but text")),
        arguments(
            "RFC 2034 §4 status alone on the line",
            "550 5.1.1\r\n",
            550,
            status("5.1.1"),
            List.of("")),
        arguments(
            "RFC 2034 §4 status needs a following space",
            "550 5.1.1User\r\n",
            550,
            Optional.empty(),
            List.of("5.1.1User")),
        arguments(
            "RFC 3463 §2 leading zeros parse to the same code",
            "550 5.01.001 x\r\n",
            550,
            status("5.1.1"),
            List.of("x")),
        arguments(
            "RFC 4954 §4 a 334 challenge is never read as a status",
            "334 VXNlcm5hbWU6\r\n",
            334,
            Optional.empty(),
            List.of("VXNlcm5hbWU6")),
        arguments(
            "RFC 4954 §4 empty challenge is \"334 \"",
            "334 \r\n",
            334,
            Optional.empty(),
            List.of("")),
        arguments(
            "bare LF line ends are tolerated",
            "250-a\n250-b\r\n250 c\n",
            250,
            Optional.empty(),
            List.of("a", "b", "c")),
        arguments(
            "UTF-8 text is decoded",
            "550 5.1.1 Empfänger unbekannt\r\n",
            550,
            status("5.1.1"),
            List.of("Empfänger unbekannt")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("wellFormed")
  void parsesWellFormedReplies(
      String name, String wire, int code, Optional<EnhancedStatus> status, List<String> lines)
      throws IOException {
    SmtpReply reply = readOne(wire);

    assertThat(reply.code()).isEqualTo(code);
    assertThat(reply.enhancedStatus()).isEqualTo(status);
    assertThat(reply.lines()).containsExactlyElementsOf(lines);
    assertThat(reply.locallyGenerated()).isFalse();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("wellFormed")
  void sameReplyWhateverTheReadBoundaries(
      String name, String wire, int code, Optional<EnhancedStatus> status, List<String> lines)
      throws IOException {
    SmtpReply expected = readOne(wire);
    byte[] octets = bytes(wire);
    for (int cut = 0; cut <= octets.length; cut++) {
      byte[] head = java.util.Arrays.copyOfRange(octets, 0, cut);
      byte[] tail = java.util.Arrays.copyOfRange(octets, cut, octets.length);
      assertThat(new SmtpReplyReader(new Scripted(head, tail)).read())
          .as("split at %d", cut)
          .isEqualTo(expected);
    }
    Object[] oneByOne = new Object[octets.length];
    for (int i = 0; i < octets.length; i++) {
      oneByOne[i] = new byte[] {octets[i]};
    }
    assertThat(new SmtpReplyReader(new Scripted(oneByOne)).read()).isEqualTo(expected);
  }

  /**
   * RFC 2034 §4 puts the code first in the text: a code whose class contradicts the reply code is
   * no status of the reply (RFC 3463 §2), but it is the code the server wrote there.
   */
  @Test
  void writtenStatusIsTheCodeAtTheStartOfTheTextWhateverItsClass() throws IOException {
    assertThat(SmtpReplyReader.writtenStatus(readOne("250 2.0.0 queued\r\n")))
        .isEqualTo(status("2.0.0"));
    SmtpReply contradicting = readOne("250 5.1.5 queued\r\n");
    assertThat(contradicting.enhancedStatus()).isEmpty();
    assertThat(SmtpReplyReader.writtenStatus(contradicting)).isEqualTo(status("5.1.5"));
    assertThat(SmtpReplyReader.writtenStatus(readOne("250 queued 2.0.0\r\n"))).isEmpty();
    assertThat(SmtpReplyReader.writtenStatus(readOne("250 5.0.0queued\r\n"))).isEmpty();
    assertThat(SmtpReplyReader.writtenStatus(readOne("250\r\n"))).isEmpty();
    assertThat(SmtpReplyReader.writtenStatus(SmtpReply.local(451, "5.0.0 not a status")))
        .as("a local reply's text is never read for a code")
        .isEmpty();
  }

  /**
   * RFC 5321 §4.2: reply text is HTAB and printable characters. Other control characters (an escape
   * sequence for a terminal, a NUL) are peer input shown escaped, never passed on as they are;
   * UTF-8 text stays.
   */
  @Test
  void controlCharactersInReplyTextAreShownEscaped() throws IOException {
    byte[] wire =
        "550 5.1.1 no\u0000such\u001b[31m user\tGr\u00fc\u00dfe\r\n"
            .getBytes(StandardCharsets.UTF_8);
    SmtpReply reply = new SmtpReplyReader(new ByteArrayInputStream(wire)).read();

    assertThat(reply.text()).isEqualTo("no\\x00such\\x1B[31m user\tGr\u00fc\u00dfe");
    assertThat(reply.enhancedStatus()).contains(EnhancedStatus.parse("5.1.1"));
  }

  @Test
  void malformedUtf8BecomesReplacementCharacter() throws IOException {
    byte[] wire = {'5', '5', '0', ' ', 'a', (byte) 0xFF, 'b', '\r', '\n'};
    SmtpReply reply = new SmtpReplyReader(new ByteArrayInputStream(wire)).read();

    assertThat(reply.text()).isEqualTo("a\uFFFDb");
  }

  static Stream<Arguments> violations() {
    return Stream.of(
        arguments("RFC 5321 §4.2 two digits", "25\r\n", Kind.MALFORMED_REPLY),
        arguments("RFC 5321 §4.2 four digits", "2500\r\n", Kind.MALFORMED_REPLY),
        arguments("RFC 5321 §4.2 four digits and text", "2500 OK\r\n", Kind.MALFORMED_REPLY),
        arguments("RFC 5321 §4.2 letters", "abc OK\r\n", Kind.MALFORMED_REPLY),
        arguments("RFC 5321 §4.2 letter in the code", "25a OK\r\n", Kind.MALFORMED_REPLY),
        arguments("RFC 5321 §4.2 missing separator", "250OK\r\n", Kind.MALFORMED_REPLY),
        arguments("RFC 5321 §4.2 tab as separator", "250\tOK\r\n", Kind.MALFORMED_REPLY),
        arguments("RFC 5321 §4.2 empty line", "\r\n", Kind.MALFORMED_REPLY),
        arguments("RFC 5321 §4.2 leading space", " 250 OK\r\n", Kind.MALFORMED_REPLY),
        arguments("RFC 5321 §4.2 non-ASCII digits", "２５０ OK\r\n", Kind.MALFORMED_REPLY),
        arguments("RFC 5321 §4.2.1 code 1yz", "150 OK\r\n", Kind.MALFORMED_REPLY),
        arguments("RFC 5321 §4.2.1 code 6yz", "650 OK\r\n", Kind.MALFORMED_REPLY),
        arguments("RFC 5321 §4.2.1 code 0yz", "050 OK\r\n", Kind.MALFORMED_REPLY),
        arguments("RFC 5321 §2.3.8 bare CR in text", "250 a\rb\r\n", Kind.MALFORMED_REPLY),
        arguments("RFC 5321 §4.2.1 codes differ", "250-a\r\n251 b\r\n", Kind.CODE_MISMATCH),
        arguments("RFC 5321 §4.2.1 class differs", "250-a\r\n550 b\r\n", Kind.CODE_MISMATCH),
        arguments(
            "RFC 5321 §4.2.1 malformed continuation", "250-a\r\n25 b\r\n", Kind.MALFORMED_REPLY),
        arguments("EOF before a reply", "", Kind.CONNECTION_CLOSED),
        arguments("EOF mid-line", "250 partial", Kind.CONNECTION_CLOSED),
        arguments("EOF after CR", "250 partial\r", Kind.CONNECTION_CLOSED),
        arguments("EOF mid-reply", "250-first\r\n250-second\r\n", Kind.CONNECTION_CLOSED),
        arguments(
            "RFC 5321 §4.5.3.1.5 line too long (lenient bound 4096)",
            "250 " + "x".repeat(4093) + "\r\n",
            Kind.LINE_TOO_LONG),
        arguments(
            "line too long with bare LF", "250 " + "x".repeat(4093) + "\n", Kind.LINE_TOO_LONG),
        arguments(
            "line too long without any line end", "250 " + "x".repeat(10_000), Kind.LINE_TOO_LONG));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("violations")
  void rejectsViolations(String name, String wire, Kind kind) {
    SmtpReplyReader reader = new SmtpReplyReader(new ByteArrayInputStream(bytes(wire)));

    assertThatThrownBy(reader::read)
        .isInstanceOfSatisfying(
            SmtpProtocolException.class, e -> assertThat(e.kind()).isEqualTo(kind));
    assertThatThrownBy(reader::read)
        .as("a failed reader stays failed")
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void errorMessagesQuoteTheOffendingLineSafely() {
    SmtpReplyReader reader = new SmtpReplyReader(new ByteArrayInputStream(bytes("25x\u0001\r\n")));

    assertThatThrownBy(reader::read)
        .hasMessageContaining("\"25x\\x01\"")
        .hasMessageNotContaining("\u0001");
  }

  @Test
  void lineOfExactlyTheBoundIsAccepted() throws IOException {
    String text = "x".repeat(4096 - 4);

    assertThat(readOne("250 " + text + "\r\n").text()).isEqualTo(text);
    assertThat(readOne("250 " + text + "\n").text()).isEqualTo(text);
  }

  @Test
  void lineBoundIsConfigurable() {
    Limits strict = new Limits(512, 10, 4096);
    String line = "250 " + "x".repeat(509) + "\r\n";

    assertThatThrownBy(
            () -> new SmtpReplyReader(new ByteArrayInputStream(bytes(line)), strict).read())
        .isInstanceOfSatisfying(
            SmtpProtocolException.class, e -> assertThat(e.kind()).isEqualTo(Kind.LINE_TOO_LONG));
  }

  @Nested
  class EndlessReplies {

    @Test
    void endlessContinuationStopsAtTheLineBound() {
      Endless server = new Endless("250-still going\r\n");
      SmtpReplyReader reader = new SmtpReplyReader(server);

      assertThatThrownBy(reader::read)
          .isInstanceOfSatisfying(
              SmtpProtocolException.class,
              e -> assertThat(e.kind()).isEqualTo(Kind.TOO_MANY_LINES));
      assertThat(server.delivered)
          .as("read at most the bound plus one buffer")
          .isLessThanOrEqualTo(512L * 17 + 4098);
    }

    @Test
    void endlessLongLinesStopAtTheByteBound() {
      Endless server = new Endless("250-" + "y".repeat(4000) + "\r\n");
      SmtpReplyReader reader = new SmtpReplyReader(server);

      assertThatThrownBy(reader::read)
          .isInstanceOfSatisfying(
              SmtpProtocolException.class,
              e -> assertThat(e.kind()).isEqualTo(Kind.REPLY_TOO_LONG));
      assertThat(server.delivered).isLessThanOrEqualTo(64 * 1024 + 4098);
    }

    @Test
    void endlessLineStopsAtTheLineBound() {
      Endless server = new Endless("z");
      SmtpReplyReader reader = new SmtpReplyReader(server);

      assertThatThrownBy(reader::read)
          .isInstanceOfSatisfying(
              SmtpProtocolException.class, e -> assertThat(e.kind()).isEqualTo(Kind.LINE_TOO_LONG));
      assertThat(server.delivered).isLessThanOrEqualTo(4098);
    }

    @Test
    void smallerBoundsStopSooner() {
      Endless server = new Endless("250-" + "y".repeat(500) + "\r\n");
      SmtpReplyReader reader = new SmtpReplyReader(server, new Limits(512, 1000, 2048));

      assertThatThrownBy(reader::read)
          .isInstanceOfSatisfying(
              SmtpProtocolException.class,
              e -> assertThat(e.kind()).isEqualTo(Kind.REPLY_TOO_LONG));
      assertThat(server.delivered).isLessThanOrEqualTo(2048 + 514);
    }
  }

  @Nested
  class Io {

    @Test
    void socketTimeoutBecomesTimeoutWithCause() {
      SocketTimeoutException timeout = new SocketTimeoutException("Read timed out");
      SmtpReplyReader reader = new SmtpReplyReader(new Scripted("250-a\r\n", timeout));

      assertThatThrownBy(reader::read)
          .isInstanceOfSatisfying(
              SmtpProtocolException.class, e -> assertThat(e.kind()).isEqualTo(Kind.TIMEOUT))
          .hasCause(timeout);
      assertThatThrownBy(reader::read).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void otherIoExceptionsPassThroughUnwrapped() {
      IOException reset = new IOException("Connection reset");
      SmtpReplyReader reader = new SmtpReplyReader(new Scripted(reset));

      assertThatThrownBy(reader::read).isSameAs(reset);
    }

    @Test
    void rfc2920PipelinedRepliesAreReadInOrder() throws IOException {
      Scripted server =
          new Scripted("250 2.1.0 Sender OK\r\n250 2.1.5 Recipient OK\r\n354 Go ahead\r\n");
      SmtpReplyReader reader = new SmtpReplyReader(server);

      assertThat(reader.read().toString()).isEqualTo("250 2.1.0 Sender OK");
      assertThat(reader.buffered()).isPositive();
      assertThat(reader.read().toString()).isEqualTo("250 2.1.5 Recipient OK");
      assertThat(reader.read().toString()).isEqualTo("354 Go ahead");
      assertThat(reader.hasBufferedInput()).isFalse();
      assertThat(server.reads).isEqualTo(1);
    }

    @Test
    void neverReadsPastACompleteReply() throws IOException {
      Scripted server = new Scripted("220 rea", "dy\r\n", "NEXT\r\n");
      SmtpReplyReader reader = new SmtpReplyReader(server);

      reader.read();

      assertThat(server.reads).isEqualTo(2);
      assertThat(reader.buffered()).isZero();
    }
  }

  @Nested
  class Rfc3207StartTlsInjection {

    @Test
    void injectedBytesInTheSameReadAreReported() throws IOException {
      // The attacker appends a reply to the 220, hoping it is read after the TLS handshake.
      String injected = "250-injected.example\r\n250 AUTH PLAIN\r\n";
      SmtpReplyReader reader = new SmtpReplyReader(new Scripted("220 2.0.0 Ready\r\n" + injected));

      SmtpReply reply = reader.read();

      assertThat(reply.code()).isEqualTo(220);
      assertThat(reader.hasBufferedInput()).isTrue();
      assertThat(reader.buffered()).isEqualTo(bytes(injected).length);
      assertThatThrownBy(() -> reader.requireNoBufferedInput("after 220 to STARTTLS"))
          .isInstanceOfSatisfying(
              SmtpProtocolException.class,
              e -> assertThat(e.kind()).isEqualTo(Kind.UNSOLICITED_INPUT))
          .hasMessageContaining("after 220 to STARTTLS")
          .hasMessageContaining("250-injected.example\\r\\n");
      assertThat(reader.buffered()).isZero();
      assertThatThrownBy(reader::read).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void cleanReplyLeavesNothingBuffered() throws IOException {
      Scripted server = new Scripted("220 Ready to start TLS\r\n", "\u0016\u0003\u0001");
      SmtpReplyReader reader = new SmtpReplyReader(server);

      reader.read();
      reader.requireNoBufferedInput("after 220 to STARTTLS");

      assertThat(reader.hasBufferedInput()).isFalse();
      assertThat(server.reads).as("the TLS bytes stay in the socket").isEqualTo(1);
    }

    @Test
    void inputBehindAReplyThatFilledTheBufferIsStillSeen() throws IOException {
      // The reply ends at the last octet of the reader's buffer (4,098 octets by default); what
      // arrived behind it is still in the stream, and must be taken and seen all the same.
      String reply = "250-" + "a".repeat(2000) + "\r\n250 " + "b".repeat(2086) + "\r\n";
      assertThat(bytes(reply)).hasSize(Limits.DEFAULT.maxLineLength() + 2);
      SmtpReplyReader reader =
          new SmtpReplyReader(new ByteArrayInputStream(bytes(reply + "250 stray\r\n")));

      assertThat(reader.read().code()).isEqualTo(250);
      assertThat(reader.hasBufferedInput()).isFalse();
      assertThatThrownBy(() -> reader.requireNoBufferedInput("after the last reply of a group"))
          .isInstanceOfSatisfying(
              SmtpProtocolException.class,
              e -> assertThat(e.kind()).isEqualTo(Kind.UNSOLICITED_INPUT))
          .hasMessageContaining("250 stray");
    }

    @Test
    void discardDropsTheBufferedOctets() throws IOException {
      SmtpReplyReader reader = new SmtpReplyReader(new Scripted("250 a\r\njunk", "250 b\r\n"));

      reader.read();

      assertThat(reader.discardBuffered()).isEqualTo(4);
      assertThat(reader.buffered()).isZero();
      assertThat(reader.read().text()).isEqualTo("b");
    }
  }

  @Test
  void limitsAreValidated() {
    assertThat(Limits.DEFAULT).isEqualTo(new Limits(4096, 512, 65536));
    assertThatThrownBy(() -> new Limits(511, 10, 4096)).hasMessageContaining("511");
    assertThatThrownBy(() -> new Limits(512, 0, 4096)).hasMessageContaining("maxLines");
    assertThatThrownBy(() -> new Limits(4096, 10, 4097)).hasMessageContaining("4097");
  }
}
