package io.mailtls.core;

import io.mailtls.core.internal.transport.BytesContent;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * A message's content (header and body, RFC 5322), which the transport writes out as often as it
 * needs: once to measure it unless it {@linkplain #descriptor() describes itself}, then once per
 * delivery attempt. mailtls holds it in memory only when it is small: a message of known size up to
 * 256 KiB, to a server that offers PIPELINING and CHUNKING, goes with its envelope in one write
 * (RFC 3030 §4.2). Anything larger is streamed.
 *
 * <p>Line ends may be CRLF or bare LF; the transport normalises them to CRLF and dot-stuffs on the
 * fly (RFC 5321 §4.5.2). Implementations must return a fresh stream, from the start, on every call
 * of {@link #open()}, and write the same octets on every call of {@link #writeTo}. Both may be
 * called by several threads at once: the recipient domains of one message are delivered at the same
 * time, each writing its own copy.
 *
 * <p>The transport only ever calls {@link #writeTo} and {@link #descriptor()}: content that can
 * write itself (a MIME message) overrides {@code writeTo} to push its octets straight into the
 * session's encoder, and {@code descriptor()} to spare the measuring pass.
 */
@FunctionalInterface
public interface MessageContent {

  /** Opens the content from its first octet. */
  InputStream open() throws IOException;

  /**
   * Writes the whole content to {@code out}, from its first octet, without closing {@code out}. The
   * transport passes its encoder (dot-stuffing for DATA, chunking for BDAT) or its measuring
   * stream. By default, {@link #open()} and copy.
   *
   * <p>An {@link IOException} that {@code out} throws must propagate (the connection is gone); any
   * other failure is the content's own, and defers the recipients as unreadable content.
   *
   * @throws IOException from the content, or from {@code out}
   */
  default void writeTo(OutputStream out) throws IOException {
    try (InputStream in = open()) {
      in.transferTo(out);
    }
  }

  /**
   * What the content declares about itself ({@link ContentDescriptor}), or empty (the default) to
   * let the transport write it once before sending, to learn whether it needs 8BITMIME, its size
   * and its longest line. Called once per send; must not throw.
   */
  default Optional<ContentDescriptor> descriptor() {
    return Optional.empty();
  }

  /** Content from a byte array (not copied: do not change it while sending). */
  static MessageContent of(byte[] bytes) {
    return new BytesContent(bytes);
  }

  /** Content from a file, read on each attempt. */
  static MessageContent of(Path file) {
    Objects.requireNonNull(file, "file");
    return () -> Files.newInputStream(file);
  }
}
