package io.mailtls.core.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.Envelope;
import io.mailtls.core.FailureType;
import io.mailtls.core.MessageContent;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.core.TlsLevel;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * RFC 5321 §4.5.3.2.5: a server that answers 354 and then stops reading must not block the sender
 * forever. The peer is a real socket that speaks just enough SMTP and then never reads again.
 */
class StalledReaderTest {

  @Test
  @Timeout(30)
  void aPeerThatStopsReadingMidDataTimesOutAndDefers() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    try (ServerSocket server = new ServerSocket();
        Fixture f = new Fixture()) {
      server.bind(new InetSocketAddress(Fixture.inet("127.0.0.2"), 0));
      Thread peer = new Thread(() -> stallAfter354(server, release), "stalling-peer");
      peer.setDaemon(true);
      peer.start();
      f.rawMx(server.getLocalPort());
      f.timeouts =
          new SmtpTimeouts(
              Duration.ofSeconds(5),
              Duration.ofSeconds(5),
              Duration.ofSeconds(5),
              Duration.ofSeconds(5),
              Duration.ofSeconds(5),
              Duration.ofSeconds(1),
              Duration.ofSeconds(5));
      byte[] line =
          "a line of message text that keeps coming\r\n".getBytes(StandardCharsets.US_ASCII);
      // 64 MiB: far more than the loopback socket buffers hold, so writes block.
      MessageContent endless =
          () ->
              new InputStream() {
                long left = 64L << 20;
                int pos;

                @Override
                public int read() {
                  byte[] one = new byte[1];
                  return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
                }

                @Override
                public int read(byte[] b, int off, int len) {
                  if (left <= 0) {
                    return -1;
                  }
                  int n = (int) Math.min(len, left);
                  for (int i = 0; i < n; i++) {
                    b[off + i] = line[pos];
                    pos = (pos + 1) % line.length;
                  }
                  left -= n;
                  return n;
                }
              };
      RecipientResult r =
          f.transport(TlsLevel.OPPORTUNISTIC)
              .send(Envelope.of("a@sender.test", "rcpt@example.test"), endless)
              .result("rcpt@example.test");
      assertThat(r.status()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(r.attempt().orElseThrow().failure()).contains(FailureType.TIMEOUT);
      assertThat(r.attempt().orElseThrow().detail()).contains("stopped reading");
    } finally {
      release.countDown();
    }
  }

  /** Greets, takes EHLO/MAIL/RCPT/DATA one line at a time, answers 354, then never reads. */
  private static void stallAfter354(ServerSocket server, CountDownLatch release) {
    try (Socket s = server.accept()) {
      OutputStream out = s.getOutputStream();
      BufferedReader in =
          new BufferedReader(
              new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII), 1);
      out.write("220 stall.example.test ESMTP\r\n".getBytes(StandardCharsets.US_ASCII));
      while (true) {
        String cmd = in.readLine();
        if (cmd == null) {
          return;
        }
        String verb = cmd.split(" ", 2)[0];
        String reply =
            switch (verb) {
              case "EHLO" -> "250 stall.example.test\r\n";
              case "DATA" -> "354 go ahead\r\n";
              default -> "250 ok\r\n";
            };
        out.write(reply.getBytes(StandardCharsets.US_ASCII));
        out.flush();
        if (verb.equals("DATA")) {
          release.await(60, TimeUnit.SECONDS); // never read again
          return;
        }
      }
    } catch (Exception e) {
      // the client closed the connection: expected
    }
  }
}
