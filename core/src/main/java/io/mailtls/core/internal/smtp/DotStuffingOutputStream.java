package io.mailtls.core.internal.smtp;

import java.io.IOException;
import java.io.OutputStream;

/**
 * Encodes message content for the DATA command (RFC 5321 §4.5.2): every line break as CRLF, a
 * leading {@code '.'} doubled on every line, and {@link #finish()} writing the end of data {@code
 * .CRLF}.
 *
 * <p>Line breaks follow {@link LineBreakEncoder}: CR LF is one line break, and a bare LF or a lone
 * CR each becomes CRLF. {@link #finish()} first ends an unterminated last line with CRLF (the
 * terminator is {@code CRLF.CRLF}, RFC 5321 §4.1.1.4), then writes {@code .CRLF} exactly once;
 * empty content is sent as just {@code .CRLF}. The server's reply to the terminator is the only
 * proof of delivery; a stream closed without {@code finish()} never sends it.
 *
 * <p>Write the content after the server's 354 reply to DATA. By default {@link #close()} leaves the
 * underlying (socket) stream open.
 *
 * <p>Not thread-safe.
 */
public final class DotStuffingOutputStream extends LineBreakEncoder {

  private static final byte[] END_OF_DATA = {'.', '\r', '\n'};

  /** An encoder that leaves {@code out} open on close, with the default buffer. */
  public DotStuffingOutputStream(OutputStream out) {
    this(out, false, DEFAULT_BUFFER_SIZE);
  }

  /**
   * An encoder.
   *
   * @param out where the encoded content goes, usually the socket's stream
   * @param closeUnderlying whether {@link #close()} closes {@code out}
   * @param bufferSize octets buffered before a write to {@code out}, at least 16
   */
  public DotStuffingOutputStream(OutputStream out, boolean closeUnderlying, int bufferSize) {
    super(out, true, closeUnderlying, bufferSize);
  }

  @Override
  void writeTrailer() throws IOException {
    // RFC 5321 §4.1.1.4: the mail data end with CRLF "." CRLF; the last line needs its CRLF.
    if (!atLineStart()) {
      putLineBreak();
    }
    for (byte b : END_OF_DATA) {
      putByte(b);
    }
  }
}
