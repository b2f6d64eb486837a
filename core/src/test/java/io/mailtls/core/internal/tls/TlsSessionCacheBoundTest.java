package io.mailtls.core.internal.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DomainName;
import io.mailtls.core.TlsContextFactory;
import io.mailtls.core.TlsRequirement;
import io.mailtls.testkit.TestPki;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSessionContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client session cache of each resuming context is bounded by what resumption needs, not by
 * what a server sends: a context serves one host and port, and JSSE resumes only the latest session
 * stored for them, yet it stores every TLS 1.3 NewSessionTicket (RFC 8446 §4.6.1), each with the
 * ticket the server chose (up to 65,535 octets), as a session of its own, up to the JDK's default
 * of 20,480 per context.
 */
class TlsSessionCacheBoundTest {

  private static final TestPki PKI = TestPki.create();
  private static final DomainName MX = DomainName.of("mx.example.test");

  private static int cached(SSLSessionContext sessions) {
    return Collections.list(sessions.getIds()).size();
  }

  /** With the cap, repeated connections to one host still resume, and the cache stays small. */
  @Test
  void repeatedConnectionsToOneHostKeepABoundedNumberOfSessions() throws Exception {
    int sessions = 24;
    try (SSLServerSocket server =
        (SSLServerSocket)
            PKI.root()
                .leaf()
                .dnsNames(MX.toString())
                .ec()
                .issue()
                .serverSslContext()
                .getServerSocketFactory()
                .createServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      server.setEnabledProtocols(new String[] {"TLSv1.3"});
      CompletableFuture<Void> peer =
          CompletableFuture.runAsync(
              () -> {
                for (int i = 0; i < sessions; i++) {
                  try (SSLSocket s = (SSLSocket) server.accept()) {
                    s.setSoTimeout(10_000);
                    s.startHandshake();
                    OutputStream out = s.getOutputStream();
                    out.write('x'); // after the NewSessionTicket
                    out.flush();
                    s.getInputStream().read();
                  } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                  }
                }
              });
      TlsSupport tls = new TlsSupport(PKI.trustStore(), TlsContextFactory.JDK, Optional.empty());
      InetSocketAddress address =
          new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort());
      TlsRequirement.Pkix requirement = new TlsRequirement.Pkix(List.of(MX));
      SSLSessionContext context = null;
      int resumed = 0;
      for (int i = 0; i < sessions; i++) {
        Socket plain = new Socket(address.getAddress(), address.getPort());
        TlsSupport.Handshake h = tls.resumable(plain, address, Optional.of(MX), requirement);
        try (SSLSocket s = h.socket()) {
          s.setSoTimeout(10_000);
          s.startHandshake();
          if (h.finish().isEmpty()) {
            resumed++;
          }
          assertThat(s.getInputStream().read()).isEqualTo('x');
          s.getOutputStream().write('y');
          s.getOutputStream().flush();
          context = s.getSession().getSessionContext();
        }
      }
      peer.get(60, TimeUnit.SECONDS);
      assertThat(resumed).as("resumption still works").isEqualTo(sessions - 1);
      assertThat(context).isNotNull();
      assertThat(cached(context))
          .as("sessions one host's resuming context keeps")
          .isLessThanOrEqualTo(TlsSupport.SESSION_CACHE_SIZE);
    }
  }

  /**
   * One server sends thousands of NewSessionTickets after one handshake (RFC 8446 §4.6.1 sets no
   * limit): the context keeps only a bounded number. A real TLS 1.3 peer that does so: {@code
   * openssl s_server -num_tickets}, which must be on the PATH, as for the interop suite.
   */
  @Test
  void aFloodOfSessionTicketsInOneConnectionIsNotKept(@TempDir Path dir) throws Exception {
    assertThat(opensslPresent())
        .as("openssl on the PATH (a JDK 17 TLS server sends one ticket per connection)")
        .isTrue();
    TestPki.Issued cert = PKI.root().leaf().dnsNames(MX.toString()).ec().issue();
    Path certFile = dir.resolve("cert.pem");
    Path keyFile = dir.resolve("key.pem");
    Files.writeString(certFile, cert.chainPem(), StandardCharsets.US_ASCII);
    Files.writeString(keyFile, cert.privateKeyPem(), StandardCharsets.US_ASCII);
    int port;
    try (java.net.ServerSocket free =
        new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = free.getLocalPort();
    }
    Process openssl =
        new ProcessBuilder(
                "openssl",
                "s_server",
                "-accept",
                "127.0.0.1:" + port,
                "-naccept",
                "1",
                "-cert",
                certFile.toString(),
                "-key",
                keyFile.toString(),
                "-tls1_3",
                "-num_tickets",
                "5000",
                "-rev",
                "-quiet")
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("openssl.log").toFile())
            .start();
    try {
      TlsSupport tls = new TlsSupport(PKI.trustStore(), TlsContextFactory.JDK, Optional.empty());
      InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
      Socket plain = connect(address);
      TlsSupport.Handshake h =
          tls.resumable(plain, address, Optional.of(MX), new TlsRequirement.Pkix(List.of(MX)));
      try (SSLSocket s = h.socket()) {
        s.setSoTimeout(5_000);
        s.startHandshake();
        assertThat(h.finish()).isPresent();
        s.getOutputStream().write("hello\n".getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
        InputStream in = s.getInputStream();
        // -rev answers the line reversed, after all the tickets
        StringBuilder line = new StringBuilder();
        try {
          for (int c; (c = in.read()) != -1 && c != '\n'; ) {
            line.append((char) c);
          }
        } catch (SocketTimeoutException e) {
          // enough tickets read
        }
        assertThat(cached(s.getSession().getSessionContext()))
            .as("sessions kept after one connection's ticket flood")
            .isLessThanOrEqualTo(TlsSupport.SESSION_CACHE_SIZE);
      }
    } finally {
      openssl.destroy();
      openssl.waitFor(5, TimeUnit.SECONDS);
    }
  }

  private static Socket connect(InetSocketAddress address) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      try {
        return new Socket(address.getAddress(), address.getPort());
      } catch (IOException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(50);
      }
    }
  }

  private static boolean opensslPresent() {
    try {
      Process p = new ProcessBuilder("openssl", "version").redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }
}
