package io.mailtls.core.internal.smtp;

import java.io.IOException;
import java.io.OutputStream;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Cuts message content into BDAT chunks (RFC 3030 §2) and hands each, with its {@code BDAT n} or
 * {@code BDAT n LAST} command, to a {@link ChunkSink}.
 *
 * <p>Content written here has its line breaks normalised to CRLF ({@link
 * CrlfNormalizingOutputStream}) unless the stream was made with {@link #binary}, for BINARYMIME
 * content that must travel octet for octet (RFC 3030 §3). Chunks are {@code chunkSize} octets,
 * except the last: a full chunk is held back until more content arrives, so {@link #finish()} sends
 * the remainder as {@code BDAT n LAST}, or {@code BDAT 0 LAST} when nothing remains (RFC 3030 §2
 * allows a zero-length last chunk). Memory is one chunk buffer plus the normaliser's buffer.
 *
 * <p>The sink decides how the commands, the octets and the replies meet the connection: under
 * PIPELINING it may send chunk after chunk and collect the 250 replies later (RFC 3030 §4.2), but
 * it must read every reply, and only the reply to {@code BDAT LAST} means delivery.
 *
 * <p>{@link #close()} without {@link #finish()} sends nothing more: the transaction is abandoned
 * and needs RSET (RFC 3030 §2).
 *
 * <p>Not thread-safe.
 */
public final class BdatOutputStream extends OutputStream {

  /** Receives each chunk. */
  @FunctionalInterface
  public interface ChunkSink {
    /**
     * Sends one chunk: the command line, then exactly {@code length} octets of {@code data}
     * starting at {@code offset}. The array is reused after the call returns.
     *
     * @throws IOException from the connection
     */
    void chunk(SmtpCommand bdat, byte[] data, int offset, int length) throws IOException;
  }

  /** 1 MiB chunks. */
  public static final int DEFAULT_CHUNK_SIZE = 1 << 20;

  /** The largest chunk buffer this stream allocates. */
  public static final int MAX_CHUNK_SIZE = 64 << 20;

  private final Chunker chunker;
  private final OutputStream content;
  private final @Nullable CrlfNormalizingOutputStream normalizer;
  private boolean finished;
  private boolean closed;

  private BdatOutputStream(ChunkSink sink, int chunkSize, boolean normalize) {
    Objects.requireNonNull(sink, "sink");
    if (chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE) {
      throw new IllegalArgumentException(
          "chunk size must be 1.." + MAX_CHUNK_SIZE + ": " + chunkSize);
    }
    this.chunker = new Chunker(sink, chunkSize);
    this.normalizer =
        normalize
            ? new CrlfNormalizingOutputStream(chunker, false, LineBreakEncoder.DEFAULT_BUFFER_SIZE)
            : null;
    this.content = normalizer != null ? normalizer : chunker;
  }

  /** Normalising line breaks, with {@link #DEFAULT_CHUNK_SIZE} chunks. */
  public static BdatOutputStream normalizing(ChunkSink sink) {
    return new BdatOutputStream(sink, DEFAULT_CHUNK_SIZE, true);
  }

  /**
   * Normalising line breaks, for 7BIT and 8BITMIME content.
   *
   * @throws IllegalArgumentException when the chunk size is outside 1..{@link #MAX_CHUNK_SIZE}
   */
  public static BdatOutputStream normalizing(ChunkSink sink, int chunkSize) {
    return new BdatOutputStream(sink, chunkSize, true);
  }

  /**
   * Sending the octets unchanged, for BINARYMIME content (RFC 3030 §3).
   *
   * @throws IllegalArgumentException when the chunk size is outside 1..{@link #MAX_CHUNK_SIZE}
   */
  public static BdatOutputStream binary(ChunkSink sink, int chunkSize) {
    return new BdatOutputStream(sink, chunkSize, false);
  }

  @Override
  public void write(int b) throws IOException {
    checkWritable();
    content.write(b);
  }

  @Override
  public void write(byte[] bytes, int offset, int length) throws IOException {
    Objects.checkFromIndexSize(offset, length, bytes.length);
    checkWritable();
    content.write(bytes, offset, length);
  }

  /**
   * Moves normalised content into the chunk buffer, sending the chunks that are full and have
   * content after them; never sends a partial chunk (chunks are cut by size alone, and the sink
   * flushes the connection itself).
   */
  @Override
  public void flush() throws IOException {
    checkOpen();
    if (normalizer != null && !finished) {
      normalizer.flush();
    }
  }

  /**
   * Sends the remaining content as the last chunk, {@code BDAT n LAST}. Further calls do nothing.
   *
   * @throws IOException from the sink
   */
  public void finish() throws IOException {
    checkOpen();
    if (finished) {
      return;
    }
    finished = true;
    if (normalizer != null) {
      normalizer.finish();
    }
    chunker.finishLast();
  }

  /** Whether {@link #finish()} has been called. */
  public boolean isFinished() {
    return finished;
  }

  /** Content octets sent or buffered so far, after normalisation; the sum of all chunk sizes. */
  public long bytesWritten() {
    return chunker.total;
  }

  /** Chunks handed to the sink so far. */
  public int chunks() {
    return chunker.chunks;
  }

  /** Releases the stream; sends nothing more unless {@link #finish()} was called before. */
  @Override
  public void close() {
    closed = true;
  }

  private void checkOpen() throws IOException {
    if (closed) {
      throw new IOException("stream closed");
    }
  }

  private void checkWritable() throws IOException {
    checkOpen();
    if (finished) {
      throw new IllegalStateException("content already finished");
    }
  }

  /** Collects octets into one chunk buffer and hands full chunks to the sink. */
  private static final class Chunker extends OutputStream {
    private final ChunkSink sink;
    private final byte[] chunk;
    private int count;
    private long total;
    private int chunks;

    Chunker(ChunkSink sink, int chunkSize) {
      this.sink = sink;
      this.chunk = new byte[chunkSize];
    }

    @Override
    public void write(int b) throws IOException {
      if (count == chunk.length) {
        emit(false);
      }
      chunk[count++] = (byte) b;
      total++;
    }

    @Override
    public void write(byte[] bytes, int offset, int length) throws IOException {
      while (length > 0) {
        // A full chunk goes out only once more content exists, so the last is always LAST.
        if (count == chunk.length) {
          emit(false);
        }
        int n = Math.min(length, chunk.length - count);
        System.arraycopy(bytes, offset, chunk, count, n);
        count += n;
        total += n;
        offset += n;
        length -= n;
      }
    }

    void finishLast() throws IOException {
      emit(true);
    }

    private void emit(boolean last) throws IOException {
      // RFC 3030 §2: bdat-cmd = "BDAT" SP chunk-size [SP end-marker] CRLF, then the octets.
      sink.chunk(SmtpCommand.bdat(count, last), chunk, 0, count);
      chunks++;
      count = 0;
    }
  }
}
