package io.mailtls.testkit.internal.smtp;

import java.io.ByteArrayOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import org.jspecify.annotations.Nullable;

/**
 * Receives the octets of one message: always counts them and hashes them with SHA-256, and keeps
 * them only when asked to (digest-only mode handles messages of hundreds of MiB).
 *
 * <p>Not thread-safe: owned by one session thread.
 */
public final class MessageSink {

  private final MessageDigest sha256;
  private final @Nullable ByteArrayOutputStream bytes;
  private long size;

  /** A sink that keeps the octets if {@code keepBytes}. */
  public MessageSink(boolean keepBytes) {
    try {
      this.sha256 = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JDK", e);
    }
    this.bytes = keepBytes ? new ByteArrayOutputStream() : null;
  }

  /** Appends {@code length} octets of {@code data} from {@code offset}. */
  public void write(byte[] data, int offset, int length) {
    if (length == 0) {
      return;
    }
    sha256.update(data, offset, length);
    if (bytes != null) {
      bytes.write(data, offset, length);
    }
    size += length;
  }

  /** Appends one octet. */
  public void write(byte b) {
    write(new byte[] {b}, 0, 1);
  }

  /** Octets received so far. */
  public long size() {
    return size;
  }

  /** The octets, or {@code null} in digest-only mode. */
  public byte @Nullable [] bytes() {
    return bytes == null ? null : bytes.toByteArray();
  }

  /** Completes and returns the SHA-256 digest; call once, at the end. */
  public byte[] finishSha256() {
    return sha256.digest();
  }
}
