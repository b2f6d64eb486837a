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

  /** The most octets of a header section kept in digest-only mode. */
  public static final int MAX_HEADER_SECTION = 64 * 1024;

  private final @Nullable ByteArrayOutputStream bytes;
  private final @Nullable ByteArrayOutputStream head;
  private boolean headDone;
  private byte prev;
  private byte prev2;
  private long size;

  /** A sink that keeps the octets if {@code keepBytes}. */
  public MessageSink(boolean keepBytes) {
    this(keepBytes, false);
  }

  /**
   * A sink that keeps the octets if {@code keepBytes}, and else the header section (up to the first
   * empty line, at most {@link #MAX_HEADER_SECTION} octets) if {@code keepHeaders}.
   */
  public MessageSink(boolean keepBytes, boolean keepHeaders) {
    try {
      this.sha256 = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JDK", e);
    }
    this.bytes = keepBytes ? new ByteArrayOutputStream() : null;
    this.head = !keepBytes && keepHeaders ? new ByteArrayOutputStream() : null;
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
    if (head != null && !headDone) {
      keepHead(data, offset, length);
    }
    size += length;
  }

  private void keepHead(byte[] data, int offset, int length) {
    ByteArrayOutputStream h = head;
    if (h == null) {
      return;
    }
    for (int i = offset; i < offset + length && !headDone; i++) {
      byte b = data[i];
      h.write(b);
      // An empty line ends the header section (RFC 5322 §2.1): LF LF, or LF CR LF.
      if (b == '\n' && (prev == '\n' || (prev == '\r' && prev2 == '\n'))) {
        headDone = true;
      }
      prev2 = prev;
      prev = b;
      if (h.size() >= MAX_HEADER_SECTION) {
        headDone = true;
      }
    }
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

  /**
   * The header section kept in digest-only mode with headers, or {@code null}. With the octets
   * kept, read the header section from them.
   */
  public byte @Nullable [] headerSection() {
    return head == null ? null : head.toByteArray();
  }

  /** Completes and returns the SHA-256 digest; call once, at the end. */
  public byte[] finishSha256() {
    return sha256.digest();
  }
}
