package io.mailtls.reliability.fuzz;

import io.mailtls.core.internal.smtp.ContentScanner;
import io.mailtls.core.internal.smtp.CrlfNormalizingOutputStream;
import io.mailtls.core.internal.smtp.DotStuffingOutputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Arrays;

/**
 * Message content as the transport scans and sends it: {@link ContentScanner} (the sizes and flags
 * declared before sending), {@link DotStuffingOutputStream} (DATA) and {@link
 * CrlfNormalizingOutputStream} (BDAT), fed in pieces whose sizes the first octet picks, checked
 * against {@link ReferenceSmtpData}: a receiver gets back exactly the normalised content, and every
 * count the scanner declares equals what the encoders wrote.
 */
public final class MessageContentTarget extends FuzzTarget {

  @Override
  protected void exercise(byte[] input) throws IOException {
    if (input.length == 0) {
      return;
    }
    int piece = (input[0] & 0x0f) + 1;
    byte[] content = Arrays.copyOfRange(input, 1, input.length);

    ByteArrayOutputStream data = new ByteArrayOutputStream();
    DotStuffingOutputStream stuffing = new DotStuffingOutputStream(data, false, 64);
    write(stuffing, content, piece);
    stuffing.finish();
    ByteArrayOutputStream bdat = new ByteArrayOutputStream();
    CrlfNormalizingOutputStream normalizing = new CrlfNormalizingOutputStream(bdat, false, 64);
    write(normalizing, content, piece + 3);
    normalizing.finish();
    ContentScanner.Result scan = ContentScanner.scan(new ByteArrayInputStream(content));

    byte[] wire = data.toByteArray();
    check(
        Arrays.equals(ReferenceSmtpData.unstuff(wire), ReferenceSmtpData.delivered(content)),
        "DATA does not deliver the normalised content");
    check(
        Arrays.equals(bdat.toByteArray(), ReferenceSmtpData.normalize(content)),
        "BDAT octets differ from the normalised content");
    check(scan.inputOctets() == content.length, "inputOctets " + scan);
    check(scan.size() == bdat.size(), "size " + scan.size() + " but BDAT wrote " + bdat.size());
    check(scan.dataWireLength() == wire.length, "dataWireLength " + scan + " vs " + wire.length);
    check(stuffing.bytesWritten() == wire.length, "bytesWritten " + stuffing.bytesWritten());
    long eightBit = 0;
    for (byte b : content) {
      eightBit += (b & 0x80) != 0 ? 1 : 0;
    }
    check(scan.eightBitOctets() == eightBit, "eightBitOctets " + scan);
    // RFC 5322 §2.1: the header section ends at the first empty line of the normalised content.
    byte[] normalised = ReferenceSmtpData.normalize(content);
    int end = normalised.length;
    int lineStart = 0;
    for (int i = 0; i + 1 < normalised.length; i++) {
      if (normalised[i] == '\r' && normalised[i + 1] == '\n') {
        if (i == lineStart) {
          end = i;
          break;
        }
        lineStart = i + 2;
        i++;
      }
    }
    long headerEightBit = 0;
    for (int i = 0; i < end; i++) {
      headerEightBit += (normalised[i] & 0x80) != 0 ? 1 : 0;
    }
    check(scan.headerEightBitOctets() == headerEightBit, "headerEightBitOctets " + scan);
  }

  private static void write(OutputStream out, byte[] content, int piece) throws IOException {
    for (int i = 0; i < content.length; i += piece) {
      int n = Math.min(piece, content.length - i);
      if (n == 1) {
        out.write(content[i]);
      } else {
        out.write(content, i, n);
      }
    }
  }

  private static void check(boolean condition, String what) {
    if (!condition) {
      throw new AssertionError(what);
    }
  }
}
