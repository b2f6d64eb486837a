package io.mailtls.core;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A message's content (header and body, RFC 5322), which the transport reads as a stream, as often
 * as it needs (once to measure it, once per delivery attempt). Never held in memory by mailtls.
 *
 * <p>Line ends may be CRLF or bare LF; the transport normalises them to CRLF and dot-stuffs on the
 * fly (RFC 5321 §4.5.2). Implementations must return a fresh stream, from the start, on every call,
 * and may be opened by several threads at once: the recipient domains of one message are delivered
 * at the same time, each reading its own stream.
 */
@FunctionalInterface
public interface MessageContent {

  /** Opens the content from its first octet. */
  InputStream open() throws IOException;

  /** Content from a byte array (not copied: do not change it while sending). */
  static MessageContent of(byte[] bytes) {
    Objects.requireNonNull(bytes, "bytes");
    return () -> new ByteArrayInputStream(bytes);
  }

  /** Content from a file, read on each attempt. */
  static MessageContent of(Path file) {
    Objects.requireNonNull(file, "file");
    return () -> Files.newInputStream(file);
  }
}
