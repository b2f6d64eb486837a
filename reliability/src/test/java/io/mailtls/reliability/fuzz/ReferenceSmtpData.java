package io.mailtls.reliability.fuzz;

import java.io.ByteArrayOutputStream;

/**
 * An independent, deliberately naive model of SMTP message data, to check the product's streaming
 * encoders against: line-break normalisation as {@code LineBreakEncoder} documents it, and a
 * receiver's reading of DATA (RFC 5321 §4.5.2: lines end in CRLF, the line {@code .} ends the data,
 * a leading dot is removed).
 */
public final class ReferenceSmtpData {

  private static final byte CR = '\r';
  private static final byte LF = '\n';

  private ReferenceSmtpData() {}

  /** Every line break as CRLF: CR LF stays, a bare LF and a lone CR each become CRLF. */
  public static byte[] normalize(byte[] content) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(content.length + 16);
    for (int i = 0; i < content.length; i++) {
      byte b = content[i];
      if (b == CR) {
        if (i + 1 < content.length && content[i + 1] == LF) {
          i++;
        }
        out.write(CR);
        out.write(LF);
      } else if (b == LF) {
        out.write(CR);
        out.write(LF);
      } else {
        out.write(b);
      }
    }
    return out.toByteArray();
  }

  /**
   * What a DATA receiver delivers for {@code content}: the normalised content, with a CRLF added to
   * an unterminated last line (the terminator is {@code CRLF.CRLF}, RFC 5321 §4.1.1.4).
   */
  public static byte[] delivered(byte[] content) {
    byte[] normal = normalize(content);
    if (normal.length == 0 || normal[normal.length - 1] == LF) {
      return normal;
    }
    byte[] terminated = new byte[normal.length + 2];
    System.arraycopy(normal, 0, terminated, 0, normal.length);
    terminated[normal.length] = CR;
    terminated[normal.length + 1] = LF;
    return terminated;
  }

  /**
   * Reads the octets sent after the 354 reply as a receiver does (RFC 5321 §4.5.2).
   *
   * @return the delivered message: lines with their CRLF, one leading dot removed from each
   * @throws AssertionError when the octets are not valid DATA: a CR or LF outside a CRLF, no
   *     terminator, or octets after it
   */
  public static byte[] unstuff(byte[] wire) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(wire.length);
    int start = 0;
    while (true) {
      int lf = -1;
      for (int i = start; i < wire.length; i++) {
        if (wire[i] == LF) {
          lf = i;
          break;
        }
        if (wire[i] == CR && (i + 1 >= wire.length || wire[i + 1] != LF)) {
          throw new AssertionError("a lone CR at offset " + i);
        }
      }
      if (lf < 0) {
        throw new AssertionError("no terminator: data ends without the line \".\"");
      }
      if (lf == start || wire[lf - 1] != CR) {
        throw new AssertionError("a bare LF at offset " + lf);
      }
      int contentEnd = lf - 1;
      if (contentEnd - start == 1 && wire[start] == '.') {
        if (lf + 1 != wire.length) {
          throw new AssertionError((wire.length - lf - 1) + " octets after the terminator");
        }
        return out.toByteArray();
      }
      int from = wire[start] == '.' ? start + 1 : start;
      out.write(wire, from, lf + 1 - from);
      start = lf + 1;
    }
  }
}
