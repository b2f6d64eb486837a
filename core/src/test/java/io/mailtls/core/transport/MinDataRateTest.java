package io.mailtls.core.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.Envelope;
import io.mailtls.core.FailureType;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.core.TlsLevel;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.SmtpAction;
import io.mailtls.testkit.SmtpFaultContext;
import io.mailtls.testkit.SmtpFaultInjector;
import io.mailtls.testkit.SmtpMessage;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.Optional;
import javax.net.SocketFactory;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The message content as a whole is bounded, not only each write of it (SmtpTimeouts, after
 * Postfix's {@code smtp_min_data_rate}): a server that reads the content at a steady trickle, each
 * write finishing well within the data block timeout (RFC 5321 §4.5.3.2.5), is given up on once the
 * transfer falls behind the minimum rate by more than that timeout, and the recipient is deferred.
 * A server that reads at full speed gets a large message; with the rate off, the slow reader gets
 * it too, each write bounded alone as before. Against a real {@link MockSmtpServer} under STARTTLS,
 * by DATA and by BDAT.
 */
class MinDataRateTest {

  private static final String RCPT = "r@example.test";

  /** Each write's bound, and the most of the transfer's budget. */
  private static final Duration BLOCK = Duration.ofSeconds(2);

  /** A high minimum rate: loopback at full speed is far faster. */
  private static final long RATE = 8L << 20;

  /** The slow reader: this many octets per read, then {@link #PAUSE}: under 800 KiB/s. */
  private static final int READ = 16 * 1024;

  private static final Duration PAUSE = Duration.ofMillis(20);

  /**
   * The server's receive buffer and the client's send buffer: the slow reader's pace reaches the
   * client's writes in small steps, not in bursts of the megabytes that loopback buffers grow to.
   */
  private static final int BUFFER = 256 * 1024;

  /** Client sockets with a {@link #BUFFER} send buffer. */
  private static final SocketFactory SMALL_SEND_BUFFER =
      new SocketFactory() {
        @Override
        public Socket createSocket() throws IOException {
          Socket s = new Socket();
          s.setSendBufferSize(BUFFER);
          return s;
        }

        @Override
        public Socket createSocket(String host, int port) {
          throw new UnsupportedOperationException();
        }

        @Override
        public Socket createSocket(String host, int port, InetAddress local, int localPort) {
          throw new UnsupportedOperationException();
        }

        @Override
        public Socket createSocket(InetAddress host, int port) {
          throw new UnsupportedOperationException();
        }

        @Override
        public Socket createSocket(
            InetAddress address, int port, InetAddress localAddress, int localPort) {
          throw new UnsupportedOperationException();
        }
      };

  /** Reads every message's content {@link #READ} octets at a time, {@link #PAUSE} after each. */
  private static final SmtpFaultInjector SLOW =
      new SmtpFaultInjector() {
        @Override
        public Optional<SmtpAction> at(SmtpFaultContext c) {
          return Optional.empty();
        }

        @Override
        public int contentReadSize(SmtpFaultContext c) {
          return READ;
        }

        @Override
        public Duration contentReadPause(SmtpFaultContext c) {
          return PAUSE;
        }
      };

  private static final SmtpFaultInjector NONE = c -> Optional.empty();

  private static MockSmtpServer mx(
      Fixture f, boolean chunking, SmtpFaultInjector injector, long minDataRate) {
    MockSmtpServer mx =
        f.server(
            "127.0.0.2",
            b -> {
              b.hostname("mx.example.test")
                  .tls(Fixture.certFor("mx.example.test"))
                  .faultInjector(injector)
                  // a window that opens as the reader reads, not in zero-window probes
                  .receiveBufferSize(BUFFER)
                  .digestOnly();
              if (!chunking) {
                b.capabilities("PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES");
              }
              return b;
            });
    f.dns(d -> d.zone("example.test", z -> z.mailHost("example.test", 10, "mx.example.test", mx)));
    Duration step = Duration.ofSeconds(5);
    f.timeouts =
        new SmtpTimeouts(step, step, step, step, step, BLOCK, step).withMinDataRate(minDataRate);
    return mx;
  }

  private static DeliveryReport send(Fixture f, long size) {
    SecureSmtpTransport t =
        f.transport(TlsLevel.OPPORTUNISTIC, b -> b.socketFactory(SMALL_SEND_BUFFER));
    return t.send(Envelope.of("a@sender.test", RCPT), MidStreamFaultTest.large(size));
  }

  /**
   * 16 MiB read at under 800 KiB/s: each 64 KiB write (or 1 MiB BDAT chunk) is done well within
   * {@link #BLOCK}, so per-write bounds alone let the transfer run on for 20 s and more (and a real
   * tarpit, pacing each write just under its bound, for hours); at a minimum of 8 MiB/s the budget
   * of {@link #BLOCK} runs out after a megabyte or two beyond the socket buffers.
   */
  @ParameterizedTest(name = "chunking={0}")
  @CsvSource({"false", "true"})
  @Timeout(90)
  void aSlowReaderIsGivenUpOnOnceTheTransferFallsBehindTheMinimumRate(boolean chunking)
      throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = mx(f, chunking, SLOW, RATE);
      long start = System.nanoTime();
      DeliveryReport report = send(f, 16L << 20);
      Duration took = Duration.ofNanos(System.nanoTime() - start);
      RecipientResult r = report.result(RCPT);
      assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(r.reply().code()).as("%s", r).isBetween(400, 499);
      assertThat(r.attempt().orElseThrow().failure()).as("%s", r).contains(FailureType.TIMEOUT);
      assertThat(r.reply().text()).as("%s", r).contains("octets/s");
      // The server never stops reading: only the transfer's bound can have ended it, and well
      // before the slow reader would have taken the whole message.
      assertThat(took).as("the transfer took %s: %s", took, r).isLessThan(Duration.ofSeconds(15));
      assertThat(mx.messages().stream().filter(SmtpMessage::accepted)).isEmpty();
    }
  }

  /** A server that reads at full speed gets a large message under the same high minimum rate. */
  @ParameterizedTest(name = "chunking={0}")
  @CsvSource({"false", "true"})
  @Timeout(90)
  void aServerAtFullSpeedGetsALargeMessage(boolean chunking) throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = mx(f, chunking, NONE, RATE);
      RecipientResult r = send(f, 16L << 20).result(RCPT);
      assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(mx.messages().stream().filter(SmtpMessage::accepted)).hasSize(1);
    }
  }

  /** With the rate off (0), the slow reader gets the message: each write is bounded alone. */
  @ParameterizedTest(name = "chunking={0}")
  @CsvSource({"false", "true"})
  @Timeout(90)
  void withTheRateOffOnlyEachWriteIsBounded(boolean chunking) throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = mx(f, chunking, SLOW, 0);
      RecipientResult r = send(f, 4L << 20).result(RCPT);
      assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(mx.messages().stream().filter(SmtpMessage::accepted)).hasSize(1);
    }
  }
}
