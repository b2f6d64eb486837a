package io.mailtls.core.internal.transport;

import io.mailtls.core.MessageContent;
import io.mailtls.core.internal.smtp.ContentScanner;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The stream a {@link MessageContent} writes itself into during DATA or BDAT: passes every octet to
 * the session's encoder and, for content that declared its facts, also to a {@link ContentScanner},
 * so that the transport can check the declaration before it ends the data.
 *
 * <p>{@link #flush()} does nothing (the transport flushes once, with the end of data) and {@link
 * #close()} does nothing (the transport ends the data, or abandons it).
 *
 * <p>Not thread-safe: one content writes into it, on the sending thread.
 */
final class ContentOutput extends OutputStream {

  private final OutputStream encoder;
  private final @Nullable ContentScanner checker;
  private final byte[] single = new byte[1];

  /**
   * @param encoder the session's encoder (dot-stuffing or BDAT chunking)
   * @param check whether to measure what passes, to check a declaration
   */
  ContentOutput(OutputStream encoder, boolean check) {
    this.encoder = Objects.requireNonNull(encoder, "encoder");
    this.checker = check ? new ContentScanner() : null;
  }

  @Override
  public void write(int b) throws IOException {
    single[0] = (byte) b;
    write(single, 0, 1);
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    Objects.checkFromIndexSize(off, len, b.length);
    if (checker != null) {
      checker.write(b, off, len);
    }
    encoder.write(b, off, len);
  }

  @Override
  public void flush() {
    // The transport flushes with the end of data: one write for the tail and the final dot.
  }

  @Override
  public void close() {
    // The transport ends the data, or abandons it.
  }

  /** What passed, when checked. */
  Optional<ContentScanner.Result> measured() {
    return checker == null ? Optional.empty() : Optional.of(checker.result());
  }

  /**
   * The connection's stream, remembering the first {@link IOException} it threw: the transport
   * tells a lost connection from unreadable content by it, whatever the content made of the
   * exception.
   */
  static final class Wire extends OutputStream {
    private final OutputStream out;
    private @Nullable IOException failure;

    Wire(OutputStream out) {
      this.out = Objects.requireNonNull(out, "out");
    }

    @Override
    public void write(int b) throws IOException {
      try {
        out.write(b);
      } catch (IOException e) {
        throw failed(e);
      }
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      try {
        out.write(b, off, len);
      } catch (IOException e) {
        throw failed(e);
      }
    }

    @Override
    public void flush() throws IOException {
      try {
        out.flush();
      } catch (IOException e) {
        throw failed(e);
      }
    }

    @Override
    public void close() {
      // The connection's stream outlives the message.
    }

    private IOException failed(IOException e) {
      if (failure == null) {
        failure = e;
      }
      return e;
    }

    /** The first failure of the connection's stream, if any. */
    @Nullable IOException failure() {
      return failure;
    }
  }
}
