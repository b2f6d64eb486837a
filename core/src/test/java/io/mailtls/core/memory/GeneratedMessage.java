package io.mailtls.core.memory;

import io.mailtls.core.MessageContent;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Objects;

/**
 * A large RFC 5322-style message generated on the fly, never held in memory: a few header fields,
 * an empty line, then numbered body lines until at least the requested number of octets has been
 * produced. Every {@link #open()} starts a new, identical stream, as {@link MessageContent}
 * requires.
 *
 * <p>The body exercises what the transport rewrites on the way out (RFC 5321 §4.5.2, §2.3.8): lines
 * starting with {@code "."} and {@code ".."}, lines that are a lone {@code "."} (which would end
 * the DATA transfer if left unstuffed), empty lines, every thirteenth line ending with a bare LF,
 * and some 8-bit UTF-8 text (so {@code BODY=8BITMIME}, RFC 6152). Lines are at most 100 octets,
 * well within RFC 5321 §4.5.3.1.6.
 *
 * <p>{@link #expectedDigest()} streams the same lines in the form the server must record after
 * dot-unstuffing: every line break as CRLF, the original dots, nothing else changed. It is computed
 * here, from the generator, independently of the transport's own encoders.
 *
 * <p>Immutable and thread-safe; each stream is not thread-safe.
 */
final class GeneratedMessage implements MessageContent {

  /** SHA-256 and length of a stream. */
  @SuppressWarnings("ArrayRecordComponent") // its components are compared, never the record
  record Digest(long size, byte[] sha256) {}

  private static final byte[][] HEADER = {
    ascii("From: Sender <a@sender.test>"),
    ascii("To: Recipient <rcpt@example.test>"),
    ascii("Subject: a generated message to prove bounded memory"),
    ascii("Message-ID: <generated.1@sender.test>"),
    ascii("MIME-Version: 1.0"),
    ascii("Content-Type: text/plain; charset=UTF-8"),
    ascii("Content-Transfer-Encoding: 8bit"),
    ascii(""),
  };

  private static final byte[] FILLER =
      ascii("The quick brown fox jumps over the lazy dog; 0123456789 pack my box with five dozen.");

  private static final byte[] EIGHT_BIT = " Grüße, naïve café".getBytes(StandardCharsets.UTF_8);

  private final long minimumOctets;

  /** A message of at least {@code minimumOctets} octets as generated (before normalisation). */
  GeneratedMessage(long minimumOctets) {
    if (minimumOctets < 0) {
      throw new IllegalArgumentException("minimumOctets must not be negative: " + minimumOctets);
    }
    this.minimumOctets = minimumOctets;
  }

  /** The content as the transport reads it: bare LFs included. */
  @Override
  public InputStream open() {
    return new LineStream(minimumOctets, false);
  }

  /** The content as the server must record it: every line break CRLF. */
  InputStream openExpected() {
    return new LineStream(minimumOctets, true);
  }

  /** Streams {@link #openExpected()} through SHA-256, 64 KiB at a time. */
  Digest expectedDigest() throws IOException {
    return digest(openExpected());
  }

  /** SHA-256 and length of {@code in}, read to its end and closed. */
  static Digest digest(InputStream in) throws IOException {
    MessageDigest sha256;
    try {
      sha256 = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JDK", e);
    }
    long size = 0;
    byte[] buffer = new byte[64 * 1024];
    try (in) {
      int n;
      while ((n = in.read(buffer)) >= 0) {
        sha256.update(buffer, 0, n);
        size += n;
      }
    }
    return new Digest(size, sha256.digest());
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  /**
   * The generator: one line at a time into a small buffer. It stops after the line during which the
   * generated form reached the minimum, so both forms have the same lines and end with a line
   * break.
   */
  private static final class LineStream extends InputStream {

    private final long minimumOctets;
    private final boolean normalized;
    private final byte[] line = new byte[256];
    private int linePos;
    private int lineLen;
    private long lineNumber;
    private long generated;
    private boolean ended;

    LineStream(long minimumOctets, boolean normalized) {
      this.minimumOctets = minimumOctets;
      this.normalized = normalized;
    }

    @Override
    public int read() {
      if (linePos == lineLen && !nextLine()) {
        return -1;
      }
      return line[linePos++] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) {
      Objects.checkFromIndexSize(off, len, b.length);
      if (len == 0) {
        return 0;
      }
      int copied = 0;
      while (copied < len) {
        if (linePos == lineLen && !nextLine()) {
          break;
        }
        int n = Math.min(len - copied, lineLen - linePos);
        System.arraycopy(line, linePos, b, off + copied, n);
        linePos += n;
        copied += n;
      }
      return copied == 0 ? -1 : copied;
    }

    private boolean nextLine() {
      if (ended || (generated >= minimumOctets && lineNumber >= HEADER.length)) {
        ended = true;
        return false;
      }
      long n = lineNumber++;
      lineLen = 0;
      linePos = 0;
      boolean bareLf = false;
      if (n < HEADER.length) {
        put(HEADER[(int) n], HEADER[(int) n].length);
      } else if (n % 101 == 0) {
        put((byte) '.'); // a lone dot: ends DATA unless stuffed (RFC 5321 §4.1.1.4)
        bareLf = n % 2 == 0;
      } else if (n % 103 == 0) {
        bareLf = n % 2 == 0; // an empty line
      } else {
        if (n % 16 == 1) {
          put((byte) '.');
          put((byte) '.');
        } else if (n % 16 == 5) {
          put((byte) '.');
        }
        put((byte) 'L');
        putNumber(n);
        put((byte) ' ');
        put(FILLER, (int) ((n * 7) % FILLER.length));
        if (n % 50 == 7) {
          put(EIGHT_BIT, EIGHT_BIT.length);
        }
        bareLf = n % 13 == 0;
      }
      if (bareLf && !normalized) {
        put((byte) '\n');
        generated += lineLen;
      } else {
        put((byte) '\r');
        put((byte) '\n');
        generated += bareLf ? lineLen - 1 : lineLen; // count the generated form in both modes
      }
      return true;
    }

    private void put(byte b) {
      line[lineLen++] = b;
    }

    private void put(byte[] bytes, int length) {
      System.arraycopy(bytes, 0, line, lineLen, length);
      lineLen += length;
    }

    /** Ten decimal digits, zero-padded. */
    private void putNumber(long n) {
      for (int i = 9; i >= 0; i--) {
        line[lineLen + i] = (byte) ('0' + n % 10);
        n /= 10;
      }
      lineLen += 10;
    }
  }
}
