package io.mailtls.core.internal.transport;

import io.mailtls.core.MessageContent;
import io.mailtls.core.internal.smtp.BatchingOutputStream;
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
 * <p>Small writes (a content that writes one octet or one header line at a time) are gathered into
 * batches of {@value #BATCH} octets first, without a lock per write; the transport {@linkplain
 * #drain() drains} the last batch when the content is written. {@link #flush()} does nothing (the
 * transport flushes once, with the end of data) and {@link #close()} does nothing (the transport
 * ends the data, or abandons it).
 *
 * <p>Not thread-safe: one content writes into it, on the sending thread.
 */
final class ContentOutput extends OutputStream {

  /** The size of a batch of small writes. */
  static final int BATCH = 8 * 1024;

  private final OutputStream encoder;
  private final @Nullable ContentScanner checker;
  private final BatchingOutputStream batches;

  /**
   * @param encoder the session's encoder (dot-stuffing or BDAT chunking)
   * @param check whether to measure what passes, to check a declaration
   */
  ContentOutput(OutputStream encoder, boolean check) {
    this.encoder = Objects.requireNonNull(encoder, "encoder");
    this.checker = check ? new ContentScanner() : null;
    this.batches = new BatchingOutputStream(new Passing(), BATCH);
  }

  @Override
  public void write(int b) throws IOException {
    batches.write(b);
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    batches.write(b, off, len);
  }

  /**
   * Passes the last batch on: call it when the content has written itself, before {@link
   * #measured}.
   */
  void drain() throws IOException {
    batches.drain();
  }

  @Override
  public void flush() {
    // The transport flushes with the end of data: one write for the tail and the final dot.
  }

  @Override
  public void close() {
    // The transport ends the data, or abandons it.
  }

  /** What passed, when checked ({@link #drain() drained} first). */
  Optional<ContentScanner.Result> measured() {
    return checker == null ? Optional.empty() : Optional.of(checker.result());
  }

  /** Where batches go: to the checker, if any, and the encoder. */
  private final class Passing extends OutputStream {
    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      if (checker != null) {
        checker.write(b, off, len);
      }
      encoder.write(b, off, len);
    }
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
