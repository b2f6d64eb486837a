package io.mailtls.testkit.internal.smtp;

import io.mailtls.testkit.SmtpReply;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Buffers what the server sends and writes it out on {@link #flush()}: replies to a pipelined
 * batch, or a reply and injected bytes, leave in one write.
 *
 * <p>Not thread-safe: owned by one session thread.
 */
final class ReplyWriter {

  private static final int BUFFER = 16 * 1024;

  private OutputStream out;

  ReplyWriter(OutputStream out) {
    this.out = new BufferedOutputStream(out, BUFFER);
  }

  /** Buffers {@code reply}, with its enhanced code if {@code enhanced}. */
  void reply(SmtpReply reply, boolean enhanced) throws IOException {
    write(reply.format(enhanced));
  }

  /** Buffers {@code text} as UTF-8. */
  void write(String text) throws IOException {
    write(text.getBytes(StandardCharsets.UTF_8));
  }

  /** Buffers {@code bytes}. */
  void write(byte[] bytes) throws IOException {
    out.write(bytes);
  }

  /** Writes out everything buffered. */
  void flush() throws IOException {
    out.flush();
  }

  /** Writes to {@code newOut} from now on (the TLS stream); the buffer must be flushed first. */
  void switchTo(OutputStream newOut) throws IOException {
    out.flush();
    this.out = new BufferedOutputStream(newOut, BUFFER);
  }
}
