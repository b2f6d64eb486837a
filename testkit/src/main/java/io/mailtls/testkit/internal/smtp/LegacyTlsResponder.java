package io.mailtls.testkit.internal.smtp;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;

/**
 * Plays the first move of a server that speaks only TLS 1.0 or 1.1, for JVMs where JSSE refuses to
 * (the {@code jdk.tls.disabledAlgorithms} security property lists TLSv1 and TLSv1.1 by default, and
 * neither {@code setEnabledProtocols} nor {@code SSLParameters.setAlgorithmConstraints} can loosen
 * it; only a JVM-global change could, which a test fixture must not make).
 *
 * <p>What it does, exactly: it answers the client's ClientHello with a genuine ServerHello record
 * for the legacy version ({@code server_version} 0x0301 or 0x0302, record version the same, a
 * random, a 32-byte session id, the first TLS 1.0-era cipher suite the client offered, null
 * compression and an empty renegotiation_info extension), as a real TLS 1.0-only server would (RFC
 * 2246 §7.4.1.3: the server picks its highest version not above the client's). It sends no
 * Certificate. A client that does not accept the version aborts right there with a {@code
 * protocol_version} alert (RFC 8446 §4.2.1 / §D.2; the JDK: "The server selected protocol version
 * TLS10 is not accepted by client preferences"), exactly as against a real legacy server. If the
 * client offered no TLS 1.0-era suite, a real server could not answer either: it sends a fatal
 * {@code handshake_failure} alert instead. If the client accepts the version and waits for the rest
 * of the server flight, the emulation cannot continue: after a short wait it sends a fatal {@code
 * handshake_failure} alert. In every case the connection is then closed.
 *
 * <p>Thread-safe: stateless.
 */
public final class LegacyTlsResponder {

  // RFC 4492 / RFC 5246 suites that TLS 1.0 can negotiate, in the order the emulation prefers.
  private static final List<Integer> LEGACY_SUITES =
      List.of(0xC013, 0xC014, 0xC009, 0xC00A, 0x002F, 0x0035, 0x0033, 0x0039);

  private static final int ALERT_HANDSHAKE_FAILURE = 40;
  private static final SecureRandom RANDOM = new SecureRandom();

  private LegacyTlsResponder() {}

  /** The TLS version code of a legacy JSSE protocol name, or -1 if it is not TLS 1.0/1.1. */
  public static int legacyVersion(String protocol) {
    switch (protocol) {
      case "TLSv1":
        return 0x0301;
      case "TLSv1.1":
        return 0x0302;
      default:
        return -1;
    }
  }

  /**
   * Whether JSSE in this JVM can run {@code protocol} with {@code context}: starts a client engine
   * limited to it and sees whether it produces a ClientHello or refuses ("No appropriate
   * protocol").
   */
  public static boolean jdkPermits(SSLContext context, String protocol) {
    try {
      SSLEngine engine = context.createSSLEngine();
      engine.setUseClientMode(true);
      engine.setEnabledProtocols(new String[] {protocol});
      ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
      engine.wrap(ByteBuffer.allocate(0), out);
      return out.position() > 0;
    } catch (SSLException | IllegalArgumentException e) {
      return false;
    }
  }

  /**
   * Answers {@code hello} on {@code socket} as a {@code version}-only server and returns what
   * happened, for the session record.
   */
  public static String respond(Socket socket, ClientHello hello, int version, Duration wait)
      throws IOException {
    String name = ClientHello.versionName(version);
    OutputStream out = socket.getOutputStream();
    Integer suite =
        hello.cipherSuites().stream().filter(LEGACY_SUITES::contains).findFirst().orElse(null);
    if (suite == null) {
      out.write(alert(version, ALERT_HANDSHAKE_FAILURE));
      out.flush();
      return "emulated "
          + name
          + "-only server: the client offered no "
          + name
          + " cipher suite; sent alert handshake_failure(40)";
    }
    out.write(serverHello(version, suite));
    out.flush();
    String sent =
        String.format(
            Locale.ROOT,
            "emulated %s-only server: sent ServerHello(%s, 0x%04x)",
            name,
            name,
            suite);
    InputStream in = socket.getInputStream();
    socket.setSoTimeout((int) Math.max(1, wait.toMillis()));
    try {
      byte[] record = ClientHello.readRecord(in);
      if (record == null) {
        return sent + "; the client closed the connection";
      }
      if ((record[0] & 0xff) == ClientHello.ALERT && record.length >= 7) {
        return sent + "; the client answered with alert " + alertName(record[6] & 0xff);
      }
    } catch (SocketTimeoutException e) {
      // The client accepted the legacy version and waits for the Certificate we cannot send.
    } catch (IOException e) {
      return sent + "; the connection failed: " + e;
    }
    out.write(alert(version, ALERT_HANDSHAKE_FAILURE));
    out.flush();
    return sent + "; the client went on, the emulation sent alert handshake_failure(40)";
  }

  private static byte[] serverHello(int version, int suite) {
    byte[] random = new byte[32];
    byte[] sessionId = new byte[32];
    RANDOM.nextBytes(random);
    RANDOM.nextBytes(sessionId);
    // renegotiation_info (RFC 5746 §3.6), empty on an initial handshake.
    byte[] extensions = {(byte) 0xff, 0x01, 0x00, 0x01, 0x00};
    int bodyLength = 2 + 32 + 1 + 32 + 2 + 1 + 2 + extensions.length;
    ByteBuffer hello = ByteBuffer.allocate(5 + 4 + bodyLength).order(ByteOrder.BIG_ENDIAN);
    hello
        .put((byte) ClientHello.HANDSHAKE)
        .putShort((short) version)
        .putShort((short) (4 + bodyLength));
    hello.put((byte) 2); // HandshakeType server_hello
    hello.put((byte) 0).putShort((short) bodyLength);
    hello.putShort((short) version).put(random);
    hello.put((byte) sessionId.length).put(sessionId);
    hello.putShort((short) suite).put((byte) 0);
    hello.putShort((short) extensions.length).put(extensions);
    return hello.array();
  }

  private static byte[] alert(int version, int description) {
    return new byte[] {
      (byte) ClientHello.ALERT, (byte) (version >> 8), (byte) version, 0, 2, 2, (byte) description
    };
  }

  private static String alertName(int description) {
    switch (description) {
      case 40:
        return "handshake_failure(40)";
      case 47:
        return "illegal_parameter(47)";
      case 70:
        return "protocol_version(70)";
      case 71:
        return "insufficient_security(71)";
      case 80:
        return "internal_error(80)";
      default:
        return "(" + description + ")";
    }
  }
}
