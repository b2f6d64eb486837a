package io.mailtls.core.internal.smtp;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;

/** Input and output streams that script or record what the codec does with them. */
final class TestStreams {

  private TestStreams() {}

  static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  static String string(byte[] bytes) {
    return new String(bytes, StandardCharsets.ISO_8859_1);
  }

  /** Delivers each scripted chunk in one read call (cut at the caller's length), then EOF. */
  static final class Scripted extends InputStream {
    private final Deque<Object> script = new ArrayDeque<>();
    private byte[] current = new byte[0];
    private int position;
    int reads;
    long delivered;

    /** Each step is a String (UTF-8 octets), a byte[] or an IOException to throw. */
    Scripted(Object... steps) {
      for (Object step : steps) {
        script.add(step instanceof String text ? bytes(text) : step);
      }
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      int n = read(one, 0, 1);
      return n < 0 ? -1 : one[0] & 0xFF;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
      reads++;
      while (position == current.length) {
        Object next = script.poll();
        if (next == null) {
          return -1;
        }
        if (next instanceof IOException e) {
          throw e;
        }
        current = (byte[]) next;
        position = 0;
      }
      int n = Math.min(length, current.length - position);
      System.arraycopy(current, position, buffer, offset, n);
      position += n;
      delivered += n;
      return n;
    }
  }

  /** Repeats a pattern forever, counting what it delivered. */
  static final class Endless extends InputStream {
    private final byte[] pattern;
    private int position;
    long delivered;

    Endless(String pattern) {
      this.pattern = bytes(pattern);
    }

    @Override
    public int read() {
      delivered++;
      int b = pattern[position] & 0xFF;
      position = (position + 1) % pattern.length;
      return b;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) {
      for (int i = 0; i < length; i++) {
        buffer[offset + i] = pattern[position];
        position = (position + 1) % pattern.length;
      }
      delivered += length;
      return length;
    }
  }

  /** Collects octets and counts the write calls it receives. */
  static final class Recording extends OutputStream {
    private final java.io.ByteArrayOutputStream data = new java.io.ByteArrayOutputStream();
    int singleByteWrites;
    int arrayWrites;
    int flushes;
    boolean closed;
    long count;
    final boolean keep;

    Recording() {
      this(true);
    }

    Recording(boolean keep) {
      this.keep = keep;
    }

    @Override
    public void write(int b) {
      singleByteWrites++;
      count++;
      if (keep) {
        data.write(b);
      }
    }

    @Override
    public void write(byte[] bytes, int offset, int length) {
      arrayWrites++;
      count += length;
      if (keep) {
        data.write(bytes, offset, length);
      }
    }

    @Override
    public void flush() {
      flushes++;
    }

    @Override
    public void close() {
      closed = true;
    }

    byte[] bytes() {
      return data.toByteArray();
    }

    String text() {
      return string(bytes());
    }
  }
}
