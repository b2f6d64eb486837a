package io.mailtls.benchmarks;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A message of any size made up on the fly (header fields, then 76-character lines with CRLF),
 * never held in memory: the input of the large-message test. Each {@link #open()} starts again.
 */
public final class GeneratedContent {

  private static final int LINE = 78; // 76 characters and CRLF
  private static final byte[] BLOCK = block();

  private final byte[] header;
  private final long bodyLines;

  /** A message of about {@code size} octets (a whole number of lines). */
  public GeneratedContent(String to, long size) {
    this.header =
        ("From: <"
                + Messages.FROM
                + ">\r\nTo: <"
                + to
                + ">\r\n"
                + "Subject: large message\r\nMIME-Version: 1.0\r\n"
                + "Content-Type: text/plain; charset=us-ascii\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII);
    this.bodyLines = Math.max(0, (size - header.length) / LINE);
  }

  /** The exact size in octets. */
  public long size() {
    return header.length + bodyLines * LINE;
  }

  /** A fresh stream over the whole message. */
  public InputStream open() {
    return new InputStream() {
      private long position;
      private final long total = size();

      @Override
      public int read() {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
      }

      @Override
      public int read(byte[] b, int off, int len) {
        if (position >= total) {
          return -1;
        }
        int n;
        if (position < header.length) {
          n = (int) Math.min(len, header.length - position);
          System.arraycopy(header, (int) position, b, off, n);
        } else {
          long inBody = position - header.length;
          int at = (int) (inBody % BLOCK.length);
          n = (int) Math.min(Math.min(len, BLOCK.length - at), total - position);
          System.arraycopy(BLOCK, at, b, off, n);
        }
        position += n;
        return n;
      }
    };
  }

  private static byte[] block() {
    byte[] line = new byte[LINE];
    Arrays.fill(line, (byte) 'x');
    byte[] text =
        "generated line of the large message, 0123456789 abcdefghijklmnopqrstuvwxyz"
            .getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(text, 0, line, 0, Math.min(text.length, 76));
    line[76] = '\r';
    line[77] = '\n';
    int lines = 64 * 1024 / LINE;
    byte[] block = new byte[lines * LINE];
    for (int i = 0; i < lines; i++) {
      System.arraycopy(line, 0, block, i * LINE, LINE);
    }
    return block;
  }
}
