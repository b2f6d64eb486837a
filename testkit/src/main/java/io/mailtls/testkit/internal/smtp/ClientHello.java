package io.mailtls.testkit.internal.smtp;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * The parts of a TLS ClientHello the mock server records or answers from: the offered versions,
 * cipher suites and SNI host name (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2, RFC 6066 §3).
 *
 * <p>Only the first record is parsed; a ClientHello that continues into a second record yields what
 * the first one holds. Immutable and thread-safe.
 *
 * @param legacyVersion the ClientHello's {@code legacy_version} (0x0303 for TLS 1.2 and 1.3)
 * @param supportedVersions the supported_versions extension (RFC 8446 §4.2.1), GREASE removed;
 *     empty if absent
 * @param cipherSuites the offered cipher suite codes, in the client's order
 * @param serverName the SNI host_name, or {@code null}
 */
public record ClientHello(
    int legacyVersion,
    List<Integer> supportedVersions,
    List<Integer> cipherSuites,
    @Nullable String serverName) {

  /** TLS record content type of handshake messages (RFC 8446 §5.1). */
  static final int HANDSHAKE = 22;

  /** TLS record content type of alerts. */
  static final int ALERT = 21;

  private static final int MAX_RECORD = (1 << 14) + 2048;

  /** Copies the lists. */
  public ClientHello {
    supportedVersions = List.copyOf(supportedVersions);
    cipherSuites = List.copyOf(cipherSuites);
  }

  /**
   * Reads one TLS record (5-byte header and body) from {@code in}. Returns {@code null} if the
   * stream ends before the first byte.
   *
   * @throws IOException if the stream ends inside the record or the header is not TLS
   */
  public static byte @Nullable [] readRecord(InputStream in) throws IOException {
    byte[] header = new byte[5];
    int first = in.read();
    if (first < 0) {
      return null;
    }
    header[0] = (byte) first;
    readFully(in, header, 1, 4);
    int length = ((header[3] & 0xff) << 8) | (header[4] & 0xff);
    if (header[1] != 3 || length > MAX_RECORD) {
      throw new IOException(
          String.format(
              Locale.ROOT, "not a TLS record: %02x %02x %02x", header[0], header[1], header[2]));
    }
    byte[] record = new byte[5 + length];
    System.arraycopy(header, 0, record, 0, 5);
    readFully(in, record, 5, length);
    return record;
  }

  private static void readFully(InputStream in, byte[] b, int offset, int length)
      throws IOException {
    int done = 0;
    while (done < length) {
      int n = in.read(b, offset + done, length - done);
      if (n < 0) {
        throw new EOFException("connection closed inside a TLS record");
      }
      done += n;
    }
  }

  /** Parses the ClientHello in {@code record}, or returns {@code null} if it holds none. */
  public static @Nullable ClientHello parse(byte[] record) {
    if (record.length < 9 || (record[0] & 0xff) != HANDSHAKE || record[5] != 1) {
      return null;
    }
    ByteBuffer in = ByteBuffer.wrap(record, 9, record.length - 9);
    int legacyVersion = 0;
    List<Integer> versions = new ArrayList<>();
    List<Integer> suites = new ArrayList<>();
    String serverName = null;
    try {
      legacyVersion = u16(in);
      skip(in, 32); // random
      skip(in, u8(in)); // legacy_session_id
      int suitesEnd = u16(in) + in.position();
      while (in.position() < suitesEnd) {
        suites.add(u16(in));
      }
      skip(in, u8(in)); // legacy_compression_methods
      int extensionsEnd = u16(in) + in.position();
      while (in.position() + 4 <= extensionsEnd) {
        int type = u16(in);
        int length = u16(in);
        int next = in.position() + length;
        if (type == 0) {
          serverName = parseServerName(in);
        } else if (type == 43) {
          int end = u8(in) + in.position();
          while (in.position() < end) {
            int version = u16(in);
            if (!isGrease(version)) {
              versions.add(version);
            }
          }
        }
        in.position(next);
      }
    } catch (BufferUnderflowException | IllegalArgumentException e) {
      // Truncated (continues in the next record) or malformed: keep what was read.
    }
    suites.removeIf(ClientHello::isGrease);
    return new ClientHello(legacyVersion, versions, suites, serverName);
  }

  private static @Nullable String parseServerName(ByteBuffer in) {
    // RFC 6066 §3: ServerNameList of {name_type, opaque HostName<1..2^16-1>}; type 0 = host_name.
    int end = u16(in) + in.position();
    while (in.position() < end) {
      int type = u8(in);
      byte[] name = new byte[u16(in)];
      in.get(name);
      if (type == 0) {
        return new String(name, StandardCharsets.US_ASCII);
      }
    }
    return null;
  }

  private static int u8(ByteBuffer in) {
    return in.get() & 0xff;
  }

  private static int u16(ByteBuffer in) {
    return in.getShort() & 0xffff;
  }

  private static void skip(ByteBuffer in, int n) {
    in.position(in.position() + n);
  }

  // RFC 8701: GREASE values are 0x?A?A with both bytes equal.
  private static boolean isGrease(int value) {
    return (value & 0x0f0f) == 0x0a0a && (value >> 8) == (value & 0xff);
  }

  /** The versions the client offered, highest preference first, as JSSE names. */
  public List<String> offeredVersionNames() {
    List<Integer> offered =
        supportedVersions.isEmpty() ? List.of(legacyVersion) : supportedVersions;
    List<String> names = new ArrayList<>();
    for (int version : offered) {
      names.add(versionName(version));
    }
    return names;
  }

  /** The JSSE name of a TLS protocol version code. */
  public static String versionName(int version) {
    switch (version) {
      case 0x0300:
        return "SSLv3";
      case 0x0301:
        return "TLSv1";
      case 0x0302:
        return "TLSv1.1";
      case 0x0303:
        return "TLSv1.2";
      case 0x0304:
        return "TLSv1.3";
      default:
        return String.format(Locale.ROOT, "0x%04x", version);
    }
  }
}
