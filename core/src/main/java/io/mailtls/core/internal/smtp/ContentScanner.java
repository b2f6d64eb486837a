package io.mailtls.core.internal.smtp;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * Measures message content in one streaming pass, before sending it: the size after line-break
 * normalisation, which {@code SIZE=} must declare (RFC 1870: octets including CRLF pairs, not
 * counting dot stuffing or the end-of-data dot), whether 8BITMIME is needed (RFC 6152: any octet
 * above 127), and whether the header section has such an octet, which only SMTPUTF8 may carry (RFC
 * 6532 §3, RFC 6531 §3.2).
 *
 * <p>Line breaks are counted exactly as {@link LineBreakEncoder} writes them: CR LF is one line
 * break, and a bare LF or a lone CR each becomes CRLF. So {@link Result#size()} equals what {@link
 * CrlfNormalizingOutputStream} (BDAT) writes, {@link Result#dataSize()} what DATA carries, and
 * {@link Result#dataWireLength()} what {@link DotStuffingOutputStream} writes, terminator included.
 *
 * <p>An {@link OutputStream}, so content that can only be written (a MIME message's {@code
 * writeTo}) can be measured too; {@link #scan(InputStream)} reads a stream to its end. Memory is
 * constant.
 *
 * <p>Not thread-safe.
 */
public final class ContentScanner extends OutputStream {

  /** RFC 5321 §4.5.3.1.6: a text line is at most 1000 octets including CRLF. */
  public static final int MAX_LINE_OCTETS = 998;

  private static final byte CR = '\r';
  private static final byte LF = '\n';

  /** Eight octets of an array as one {@code long}, from any offset. */
  private static final VarHandle LONGS =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

  private static final long HIGH_BITS = 0x8080_8080_8080_8080L;
  private static final long BELOW_14 = 0x0E0E_0E0E_0E0E_0E0EL;

  private final byte[] single = new byte[1];
  private long input;
  private long size;
  private long lineBreaks;
  private long bareCrs;
  private long bareLfs;
  private long nuls;
  private long eightBitOctets;

  /**
   * {@link #eightBitOctets} when the header section ended (RFC 5322 §2.1: at the first empty line),
   * or -1 while it goes on. Taken at the line break that ends it, so the octet loop pays nothing.
   */
  private long headerEightBitOctets = -1;

  private long stuffedDots;
  private long lineLength;
  private long longestLine;
  private boolean atLineStart = true;
  private boolean pendingCr;

  /**
   * What a scan found.
   *
   * @param inputOctets octets read, before normalisation
   * @param size octets after normalisation: every line break as CRLF
   * @param lineBreaks line breaks, each counted as one CRLF in {@code size}
   * @param bareCrs lone CRs that became CRLF
   * @param bareLfs bare LFs that became CRLF
   * @param nulOctets NUL octets, which RFC 5321 §4.5.2 and RFC 6152 do not allow in text
   * @param eightBitOctets octets above 127; any one needs 8BITMIME (RFC 6152)
   * @param headerEightBitOctets those of {@code eightBitOctets} in the header section, up to the
   *     first empty line (RFC 5322 §2.1), or in the whole content when it has no empty line: UTF-8
   *     header fields (RFC 6532 §3), which need SMTPUTF8 (RFC 6531 §3.2, §3.4)
   * @param stuffedDots lines starting with {@code '.'}, each getting one more on DATA (RFC 5321
   *     §4.5.2)
   * @param longestLine octets in the longest line, without its CRLF
   * @param unterminatedLastLine whether the content is not empty and does not end with a line break
   */
  public record Result(
      long inputOctets,
      long size,
      long lineBreaks,
      long bareCrs,
      long bareLfs,
      long nulOctets,
      long eightBitOctets,
      long headerEightBitOctets,
      long stuffedDots,
      long longestLine,
      boolean unterminatedLastLine) {

    /** Whether any octet is above 127, so BODY=8BITMIME is needed (RFC 6152). */
    public boolean needsEightBitMime() {
      return eightBitOctets > 0;
    }

    /**
     * Whether the header section has an octet above 127: UTF-8 header fields (RFC 6532 §3), which
     * go only with SMTPUTF8 (RFC 6531 §3.2, §3.4). 8-bit octets in the body alone need only
     * 8BITMIME.
     */
    public boolean hasUtf8Headers() {
      return headerEightBitOctets > 0;
    }

    /** Whether a line is longer than 998 octets, beyond RFC 5321 §4.5.3.1.6. */
    public boolean hasOverlongLines() {
      return longestLine > MAX_LINE_OCTETS;
    }

    /**
     * The message size sent with DATA, for {@code SIZE=} (RFC 1870): {@link #size()} plus the CRLF
     * that ends an unterminated last line.
     */
    public long dataSize() {
      return size + (unterminatedLastLine ? 2 : 0);
    }

    /** Octets on the wire after DATA: {@link #dataSize()}, the stuffed dots and {@code .CRLF}. */
    public long dataWireLength() {
      return dataSize() + stuffedDots + 3;
    }
  }

  /** An empty scanner. */
  public ContentScanner() {}

  /**
   * Scans a stream to its end (without closing it).
   *
   * @throws IOException from the stream
   */
  public static Result scan(InputStream in) throws IOException {
    Objects.requireNonNull(in, "in");
    ContentScanner scanner = new ContentScanner();
    byte[] buffer = new byte[LineBreakEncoder.DEFAULT_BUFFER_SIZE];
    int n;
    while ((n = in.read(buffer)) >= 0) {
      scanner.write(buffer, 0, n);
    }
    return scanner.result();
  }

  @Override
  public void write(int b) {
    single[0] = (byte) b;
    write(single, 0, 1);
  }

  @Override
  public void write(byte[] bytes, int offset, int length) {
    Objects.checkFromIndexSize(offset, length, bytes.length);
    input += length;
    int end = offset + length;
    int i = offset;
    while (i < end) {
      byte c = bytes[i];
      if (pendingCr) {
        pendingCr = false;
        lineBreak();
        if (c == LF) {
          i++;
          continue;
        }
        bareCrs++;
      }
      if (c == CR) {
        pendingCr = true;
        i++;
        continue;
      }
      if (c == LF) {
        bareLfs++;
        lineBreak();
        i++;
        continue;
      }
      if (atLineStart) {
        atLineStart = false;
        if (c == '.') {
          stuffedDots++;
        }
      }
      // A run of octets up to the next CR or LF, counted in one tight loop: eight at a time up to
      // the first octet below 14 (CR, LF, NUL, a tab) or above 127, which is looked at alone.
      int run = i;
      while (run < end) {
        if (end - run >= Long.BYTES) {
          long special = special((long) LONGS.get(bytes, run));
          if (special == 0) {
            run += Long.BYTES;
            continue;
          }
          // Little-endian: the lowest flagged octet comes first in the array.
          run += Long.numberOfTrailingZeros(special) >>> 3;
        }
        byte d = bytes[run];
        if (d == CR || d == LF) {
          break;
        }
        if (d < 0) {
          eightBitOctets++;
        } else if (d == 0) {
          nuls++;
        }
        run++;
      }
      size += run - i;
      lineLength += run - i;
      i = run;
    }
  }

  /**
   * The high bit of each octet of {@code w} (eight of an array, little-endian) that is below 14 or
   * above 127, and maybe of octets after the first such one; 0 when all eight are 14..127. Exact
   * for the lowest flagged octet: {@code w & 0x80..} flags those above 127; {@code (w - 0x0E..) &
   * ~w & 0x80..} (the "has less" test of bit-twiddling folklore, for limits up to 128) flags one
   * below 14, and beyond it may flag others, since its borrow runs on into higher octets, but never
   * one before it.
   */
  private static long special(long w) {
    return (w | ((w - BELOW_14) & ~w)) & HIGH_BITS;
  }

  private void lineBreak() {
    if (lineLength == 0 && headerEightBitOctets < 0) {
      headerEightBitOctets = eightBitOctets; // RFC 5322 §2.1: the empty line ends the header
    }
    size += 2;
    lineBreaks++;
    longestLine = Math.max(longestLine, lineLength);
    lineLength = 0;
    atLineStart = true;
  }

  /**
   * What the content written so far measures, as if it ended here (a trailing CR counts as a line
   * break). The scanner may be written to further.
   */
  public Result result() {
    long finalSize = size;
    long finalBreaks = lineBreaks;
    long finalBareCrs = bareCrs;
    long finalLongest = Math.max(longestLine, lineLength);
    boolean unterminated = !atLineStart;
    if (pendingCr) {
      finalSize += 2;
      finalBreaks++;
      finalBareCrs++;
      unterminated = false;
    }
    return new Result(
        input,
        finalSize,
        finalBreaks,
        finalBareCrs,
        bareLfs,
        nuls,
        eightBitOctets,
        headerEightBitOctets < 0 ? eightBitOctets : headerEightBitOctets,
        stuffedDots,
        finalLongest,
        unterminated);
  }
}
