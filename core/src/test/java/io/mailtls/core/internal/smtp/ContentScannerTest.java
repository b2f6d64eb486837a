package io.mailtls.core.internal.smtp;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.internal.smtp.ContentScanner.Result;
import io.mailtls.core.internal.smtp.TestStreams.Recording;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ContentScannerTest {

  private static byte[] latin1(String text) {
    return text.getBytes(StandardCharsets.ISO_8859_1);
  }

  private static String unescape(String text) {
    return text.replace("\\r", "\r")
        .replace("\\n", "\n")
        .replace("\\0", "\0")
        .replace("\\e", "\u00e9");
  }

  @ParameterizedTest(name = "RFC 1870 size of \"{0}\"")
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '\'',
      value = {
        // content | size | breaks | bareCr | bareLf | dots | unterminated | 8bit | nul | longest
        "''              | 0 | 0 | 0 | 0 | 0 | false | 0 | 0 | 0",
        "a               | 1 | 0 | 0 | 0 | 0 | true  | 0 | 0 | 1",
        "a\\r\\n         | 3 | 1 | 0 | 0 | 0 | false | 0 | 0 | 1",
        "a\\n            | 3 | 1 | 0 | 1 | 0 | false | 0 | 0 | 1",
        "a\\r            | 3 | 1 | 1 | 0 | 0 | false | 0 | 0 | 1",
        "a\\rb           | 4 | 1 | 1 | 0 | 0 | true  | 0 | 0 | 1",
        "a\\r\\r\\nb     | 6 | 2 | 1 | 0 | 0 | true  | 0 | 0 | 1",
        ".\\r\\n.        | 4 | 1 | 0 | 0 | 2 | true  | 0 | 0 | 1",
        "..x\\n.         | 6 | 1 | 0 | 1 | 2 | true  | 0 | 0 | 3",
        "a.b             | 3 | 0 | 0 | 0 | 0 | true  | 0 | 0 | 3",
        "\\e\\0\\r\\n    | 4 | 1 | 0 | 0 | 0 | false | 1 | 1 | 2",
        "abc\\nde\\r\\n  | 9 | 2 | 0 | 1 | 0 | false | 0 | 0 | 3",
      })
  void countsLikeTheEncoders(
      String escaped,
      long size,
      long breaks,
      long bareCrs,
      long bareLfs,
      long dots,
      boolean unterminated,
      long eightBit,
      long nuls,
      long longest) {
    byte[] content = latin1(unescape(escaped.strip()));
    ContentScanner scanner = new ContentScanner();
    scanner.write(content, 0, content.length);
    Result result = scanner.result();

    assertThat(result.inputOctets()).isEqualTo(content.length);
    assertThat(result.size()).isEqualTo(size);
    assertThat(result.lineBreaks()).isEqualTo(breaks);
    assertThat(result.bareCrs()).isEqualTo(bareCrs);
    assertThat(result.bareLfs()).isEqualTo(bareLfs);
    assertThat(result.stuffedDots()).isEqualTo(dots);
    assertThat(result.unterminatedLastLine()).isEqualTo(unterminated);
    assertThat(result.eightBitOctets()).isEqualTo(eightBit);
    assertThat(result.needsEightBitMime()).isEqualTo(eightBit > 0);
    assertThat(result.nulOctets()).isEqualTo(nuls);
    assertThat(result.longestLine()).isEqualTo(longest);
    assertThat(result.dataSize()).isEqualTo(size + (unterminated ? 2 : 0));
  }

  @Test
  void rfc5321Section4_5_3_1_6LineLimit() {
    ContentScanner ok = new ContentScanner();
    ok.write(latin1("x".repeat(998) + "\r\n"), 0, 1000);
    ContentScanner tooLong = new ContentScanner();
    tooLong.write(latin1("x".repeat(999)), 0, 999);

    assertThat(ok.result().hasOverlongLines()).isFalse();
    assertThat(tooLong.result().hasOverlongLines()).isTrue();
  }

  @Test
  void scansAnInputStream() throws IOException {
    byte[] content = latin1("From: a\nSubject: \u00e9\n\n.\n".repeat(5000));

    Result result = ContentScanner.scan(new ByteArrayInputStream(content));

    assertThat(result.inputOctets()).isEqualTo(content.length);
    assertThat(result.lineBreaks()).isEqualTo(20_000);
    assertThat(result.size()).isEqualTo(content.length + 20_000);
    assertThat(result.stuffedDots()).isEqualTo(5000);
    assertThat(result.needsEightBitMime()).isTrue();
  }

  /**
   * RFC 6532 §3, RFC 6531 §3.2: the 8-bit octets of the header section, up to the first empty line
   * (RFC 5322 §2.1) whatever its line breaks; those of the body need only 8BITMIME (RFC 6152).
   */
  @ParameterizedTest(name = "UTF-8 header fields in \"{0}\"")
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '\'',
      value = {
        // content | header 8-bit octets | 8-bit octets
        "''                                   | 0 | 0",
        "S: \\e\\r\\n\\r\\nb\\r\\n  | 1 | 1",
        "S: a\\r\\n\\r\\n\\e\\r\\n  | 0 | 1",
        "S: a\\n\\nS: \\e\\e\\n         | 0 | 2",
        "S: a\\r\\rS: \\e\\r              | 0 | 1",
        "S: a\\r\\n b\\e\\r\\n\\r\\n\\e | 1 | 2",
        "\\r\\nS: \\e\\r\\n             | 0 | 1",
        "S: \\e\\e                           | 2 | 2",
        "S: \\e\\r\\n \\r\\n\\e           | 2 | 2",
      })
  void rfc6532HeaderSectionEndsAtTheFirstEmptyLine(String escaped, long header, long eightBit) {
    byte[] content = latin1(unescape(escaped.strip()));
    ContentScanner bulk = new ContentScanner();
    bulk.write(content, 0, content.length);
    ContentScanner single = new ContentScanner();
    for (byte b : content) {
      single.write(b);
    }

    for (Result result : new Result[] {bulk.result(), single.result()}) {
      assertThat(result.headerEightBitOctets()).isEqualTo(header);
      assertThat(result.hasUtf8Headers()).isEqualTo(header > 0);
      assertThat(result.eightBitOctets()).isEqualTo(eightBit);
    }
  }

  /**
   * Long runs of plain text are counted eight octets at a time: whatever lies among them (a tab, a
   * NUL, an 8-bit octet, a line break, at any offset), the counts equal those of the same content
   * written one octet at a time, and the references counted here.
   */
  @Test
  void propertyLongRunsCountTheSameAsOneOctetAtATime() {
    Random random = new Random(3030);
    byte[] rare = {
      '\r',
      '\n',
      0,
      1,
      2,
      3,
      4,
      5,
      6,
      7,
      8,
      '\t',
      11,
      12,
      14,
      127,
      (byte) 0x80,
      (byte) 0xC3,
      (byte) 0xFF,
      '.'
    };
    for (int round = 0; round < 2000; round++) {
      byte[] content = new byte[random.nextInt(600)];
      int rareOneIn = 2 + random.nextInt(200);
      for (int i = 0; i < content.length; i++) {
        content[i] =
            random.nextInt(rareOneIn) == 0
                ? rare[random.nextInt(rare.length)]
                : (byte) (' ' + random.nextInt(95));
      }
      ContentScanner bulk = new ContentScanner();
      int from = 0;
      while (from < content.length) {
        int length = 1 + random.nextInt(content.length - from);
        bulk.write(content, from, length);
        from += length;
      }
      ContentScanner single = new ContentScanner();
      for (byte b : content) {
        single.write(b);
      }
      String context = "round " + round + ": " + SmtpText.quote(content, 0, content.length);
      assertThat(bulk.result()).as(context).isEqualTo(single.result());

      String text = new String(content, StandardCharsets.ISO_8859_1);
      long longest = 0;
      for (String line : referenceNormalise(text).split("\r\n", -1)) {
        longest = Math.max(longest, line.length());
      }
      assertThat(bulk.result().longestLine()).as(context).isEqualTo(longest);
      assertThat(bulk.result().eightBitOctets())
          .as(context)
          .isEqualTo(text.chars().filter(c -> c >= 0x80).count());
      assertThat(bulk.result().nulOctets())
          .as(context)
          .isEqualTo(text.chars().filter(c -> c == 0).count());
      assertThat(bulk.result().size()).as(context).isEqualTo(referenceNormalise(text).length());
    }
  }

  /** An independent reference: the normalisation and stuffing rules written with strings. */
  private static String referenceNormalise(String latin1) {
    return latin1.replace("\r\n", "\n").replace('\r', '\n').replace("\n", "\r\n");
  }

  private static String referenceData(String latin1) {
    String normalised = referenceNormalise(latin1);
    if (!normalised.isEmpty() && !normalised.endsWith("\r\n")) {
      normalised += "\r\n";
    }
    StringBuilder out = new StringBuilder();
    for (String line : normalised.split("\r\n", -1)) {
      out.append(line.startsWith(".") ? "." : "").append(line).append("\r\n");
    }
    // split leaves one empty piece after the final CRLF (or for empty content); it became the
    // terminator line's leading CRLF above, so drop that CRLF and write ".CRLF".
    out.setLength(out.length() - 2);
    return out.append(".\r\n").toString();
  }

  @Test
  void propertyScannerEncodersAndReferenceAgreeOnRandomContent() throws IOException {
    Random random = new Random(1870);
    byte[] alphabet = {'\r', '\n', '.', 'a', 'b', ' ', 0, (byte) 0x80, (byte) 0xFF};
    for (int round = 0; round < 3000; round++) {
      byte[] content = new byte[random.nextInt(round < 100 ? 8 : 200)];
      for (int i = 0; i < content.length; i++) {
        content[i] = alphabet[random.nextInt(alphabet.length)];
      }
      String text = new String(content, StandardCharsets.ISO_8859_1);

      ContentScanner scanner = new ContentScanner();
      Recording dataWire = new Recording();
      Recording bdatWire = new Recording();
      DotStuffingOutputStream data = new DotStuffingOutputStream(dataWire, false, 16);
      CrlfNormalizingOutputStream bdat = new CrlfNormalizingOutputStream(bdatWire, false, 16);
      BdatOutputStreamTest.Wire chunks = new BdatOutputStreamTest.Wire();
      BdatOutputStream chunked = BdatOutputStream.normalizing(chunks, 1 + random.nextInt(32));
      int from = 0;
      while (from < content.length) {
        int length = 1 + random.nextInt(content.length - from);
        scanner.write(content, from, length);
        data.write(content, from, length);
        bdat.write(content, from, length);
        chunked.write(content, from, length);
        from += length;
      }
      data.finish();
      bdat.finish();
      chunked.finish();
      Result result = scanner.result();
      String context = "round " + round + ": " + SmtpText.quote(content, 0, content.length);

      assertThat(bdatWire.text()).as(context).isEqualTo(referenceNormalise(text));
      assertThat(dataWire.text()).as(context).isEqualTo(referenceData(text));
      assertThat(result.size()).as(context).isEqualTo(bdatWire.count);
      assertThat(result.dataWireLength()).as(context).isEqualTo(dataWire.count);
      assertThat(result.dataSize() + result.stuffedDots() + 3).isEqualTo(dataWire.count);
      assertThat(chunked.bytesWritten()).as(context).isEqualTo(result.size());
      assertThat(chunks.content.toByteArray()).as(context).isEqualTo(bdatWire.bytes());
      assertThat(chunks.commands.get(chunks.commands.size() - 1)).endsWith(" LAST");
      assertThat(result.needsEightBitMime()).isEqualTo(text.chars().anyMatch(c -> c >= 0x80));
      assertThat(result.inputOctets()).isEqualTo(content.length);
    }
  }
}
