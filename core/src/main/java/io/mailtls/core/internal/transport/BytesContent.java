package io.mailtls.core.internal.transport;

import io.mailtls.core.MessageContent;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Objects;

/**
 * {@link MessageContent#of(byte[])}: content held by the caller in one array, which the caller
 * promises not to change while it is being sent. Being the same octets on every write, it lets a
 * one-round-trip transaction send the array itself when measuring showed that BDAT would not change
 * it (every line break already CRLF), instead of normalising a copy of it.
 */
public final class BytesContent implements MessageContent {

  private final byte[] bytes;

  /** Wraps {@code bytes}, not copied. */
  public BytesContent(byte[] bytes) {
    this.bytes = Objects.requireNonNull(bytes, "bytes");
  }

  @Override
  public InputStream open() {
    return new ByteArrayInputStream(bytes);
  }

  /** One write of the whole array. */
  @Override
  public void writeTo(OutputStream out) throws IOException {
    out.write(bytes, 0, bytes.length);
  }

  /** The caller's array itself, never to be written to. */
  byte[] octets() {
    return bytes;
  }
}
