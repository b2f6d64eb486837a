package io.mailtls.testkit;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * A deliberately small SMTP client for driving {@link MockSmtpServer} in tests: raw lines out,
 * replies in, STARTTLS by hand. It reads byte by byte so that nothing is buffered across the
 * STARTTLS boundary (every byte after the 220 is visible to the test).
 *
 * <p>Not thread-safe.
 */
final class MockSmtpServerTestClient implements Closeable {

  private Socket socket;
  private InputStream in;
  private OutputStream out;

  private MockSmtpServerTestClient(Socket socket) throws IOException {
    use(socket);
  }

  static MockSmtpServerTestClient connect(MockSmtpServer server) throws IOException {
    return connect(server, Duration.ofSeconds(5));
  }

  static MockSmtpServerTestClient connect(MockSmtpServer server, Duration readTimeout)
      throws IOException {
    Socket socket = new Socket();
    socket.connect(new InetSocketAddress(server.address(), server.port()), 5000);
    socket.setTcpNoDelay(true);
    socket.setSoTimeout((int) readTimeout.toMillis());
    return new MockSmtpServerTestClient(socket);
  }

  /** Connects with implicit TLS (RFC 8314). */
  static MockSmtpServerTestClient connectTls(MockSmtpServer server, SSLContext context, String sni)
      throws IOException {
    MockSmtpServerTestClient client = connect(server);
    client.startTls(context, sni);
    return client;
  }

  private void use(Socket socket) throws IOException {
    this.socket = socket;
    this.in = socket.getInputStream();
    this.out = socket.getOutputStream();
  }

  Socket socket() {
    return socket;
  }

  void readTimeout(Duration timeout) throws IOException {
    socket.setSoTimeout((int) timeout.toMillis());
  }

  /** Sends {@code text} exactly, in one write. */
  void send(String text) throws IOException {
    send(text.getBytes(StandardCharsets.UTF_8));
  }

  void send(byte[] bytes) throws IOException {
    out.write(bytes);
    out.flush();
  }

  /** Sends {@code line} and CRLF, then reads the reply. */
  String command(String line) throws IOException {
    send(line + "\r\n");
    return reply();
  }

  /** Reads one line, CRLF removed; throws at end of stream. */
  String line() throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    while (true) {
      int b = in.read();
      if (b < 0) {
        throw new EOFException("end of stream after '" + line + "'");
      }
      if (b == '\n') {
        byte[] bytes = line.toByteArray();
        int length =
            bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
        return new String(bytes, 0, length, StandardCharsets.UTF_8);
      }
      line.write(b);
    }
  }

  /** Reads a complete (possibly multi-line) reply; lines are joined with '\n'. */
  String reply() throws IOException {
    List<String> lines = new ArrayList<>();
    while (true) {
      String line = line();
      lines.add(line);
      if (line.length() < 4 || line.charAt(3) != '-') {
        return String.join("\n", lines);
      }
    }
  }

  /** One {@code read()} call's worth of bytes (what one segment delivered). */
  String readOnce() throws IOException {
    byte[] buffer = new byte[65536];
    int n = in.read(buffer);
    if (n < 0) {
      throw new EOFException();
    }
    return new String(buffer, 0, n, StandardCharsets.UTF_8);
  }

  /** Reads exactly {@code n} bytes. */
  byte[] readBytes(int n) throws IOException {
    return in.readNBytes(n);
  }

  /** Reads until end of stream; returns what came. */
  String readToEnd() throws IOException {
    return new String(in.readAllBytes(), StandardCharsets.UTF_8);
  }

  /**
   * Upgrades the connection with {@code context}, sending {@code sni} (none if {@code null}),
   * optionally limited to {@code protocols}. Host-name verification is left to the test.
   */
  SSLSocket startTls(SSLContext context, String sni, String... protocols) throws IOException {
    return startTls(context, sni, false, protocols);
  }

  /** As {@link #startTls(SSLContext, String, String...)}, checking the certificate names SNI. */
  SSLSocket startTlsVerifyingName(SSLContext context, String sni) throws IOException {
    return startTls(context, sni, true);
  }

  private SSLSocket startTls(
      SSLContext context, String sni, boolean verifyName, String... protocols) throws IOException {
    SSLSocket ssl =
        (SSLSocket)
            context
                .getSocketFactory()
                .createSocket(socket, sni != null ? sni : "localhost", socket.getPort(), true);
    ssl.setUseClientMode(true);
    SSLParameters params = ssl.getSSLParameters();
    params.setServerNames(sni != null ? List.of(new SNIHostName(sni)) : List.of());
    if (protocols.length > 0) {
      params.setProtocols(protocols);
    }
    if (verifyName) {
      params.setEndpointIdentificationAlgorithm("HTTPS");
    }
    ssl.setSSLParameters(params);
    ssl.startHandshake();
    use(ssl);
    return ssl;
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
