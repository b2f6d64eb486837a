package io.mailtls.core.internal.smtp;

import java.io.OutputStream;

/**
 * Writes message content with every line break as CRLF and nothing else changed: no dot stuffing
 * and no end marker, as BDAT needs (RFC 3030 §2: the chunk is sent as is, its length given in
 * advance).
 *
 * <p>Line breaks follow {@link LineBreakEncoder}: CR LF is one line break, and a bare LF or a lone
 * CR each becomes CRLF. {@link #finish()} writes the CRLF for a trailing lone CR and flushes; it
 * does not add a line break to an unterminated last line, since BDAT transfers exactly the octets
 * given. See {@link BdatOutputStream} for the chunk framing.
 *
 * <p>Not thread-safe.
 */
public final class CrlfNormalizingOutputStream extends LineBreakEncoder {

  /** A normaliser that leaves {@code out} open on close, with the default buffer. */
  public CrlfNormalizingOutputStream(OutputStream out) {
    this(out, false, DEFAULT_BUFFER_SIZE);
  }

  /**
   * A normaliser.
   *
   * @param out where the normalised content goes
   * @param closeUnderlying whether {@link #close()} closes {@code out}
   * @param bufferSize octets buffered before a write to {@code out}, at least 16
   */
  public CrlfNormalizingOutputStream(OutputStream out, boolean closeUnderlying, int bufferSize) {
    super(out, false, closeUnderlying, bufferSize);
  }

  @Override
  void writeTrailer() {
    // Nothing: the octets are the content (RFC 3030 §2).
  }
}
