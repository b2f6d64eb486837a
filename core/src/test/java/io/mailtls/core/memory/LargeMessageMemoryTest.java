package io.mailtls.core.memory;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.Authentication;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.TlsLevel;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.SmtpMessage;
import io.mailtls.testkit.TestPki;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A message of more than 256 MiB streams through {@link io.mailtls.core.SecureSmtpTransport} to a
 * mock server in a JVM limited to 64 MiB of heap (docs/design.md §1, {@link
 * io.mailtls.core.MessageContent}: content is never held in memory). Runs only in the {@code
 * bounded-memory} surefire execution of core/pom.xml, and fails if that execution's {@code -Xmx64m}
 * is not in force.
 *
 * <p>The content is generated on the fly ({@link GeneratedMessage}) and the mock server keeps only
 * the SHA-256 and size of what it received after dot-unstuffing ({@code digestOnly()}); both are
 * compared with a digest streamed from the generator, so a byte lost, duplicated, reordered, left
 * unstuffed or not normalised on any of the paths (DATA with dot-stuffing, RFC 5321 §4.5.2; BDAT
 * chunks, RFC 3030 §2; either inside STARTTLS, RFC 3207) fails the test.
 */
// A separate thread, so that a transport blocked in a socket write fails the test, not the build.
@Timeout(value = 2, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class LargeMessageMemoryTest {

  /** At least 256 MiB as generated; four times the heap limit and more. */
  private static final long MESSAGE_OCTETS = 256L << 20;

  /** The server's capabilities without CHUNKING, so the transport must use DATA. */
  private static final String[] WITHOUT_CHUNKING = {
    "PIPELINING", "SIZE 1073741824", "8BITMIME", "ENHANCEDSTATUSCODES"
  };

  private static final GeneratedMessage MESSAGE = new GeneratedMessage(MESSAGE_OCTETS);

  /** The server certificate for the STARTTLS cases (not checked: opportunistic TLS). */
  private static final TestPki.Issued CERT =
      TestPki.create().root().leaf().dnsNames(Peers.HOST).issue();

  private static GeneratedMessage.Digest expected;

  @BeforeAll
  static void heapIsBoundedAndExpectedDigestIsKnown() throws IOException {
    Peers.assertHeapLimitInForce();
    expected = MESSAGE.expectedDigest();
    assertThat(expected.size())
        .isGreaterThan(MESSAGE_OCTETS)
        .isGreaterThan(4 * Runtime.getRuntime().maxMemory());
  }

  @Test
  void generatorExercisesDotStuffingAndLineBreakNormalisation() throws IOException {
    GeneratedMessage small = new GeneratedMessage(256 * 1024);
    byte[] raw = readAll(small.open());
    String text = new String(raw, StandardCharsets.UTF_8);
    // What the transport must rewrite: lone dots, leading dots, bare LFs; and 8-bit octets.
    assertThat(text).contains("\r\n.\r\n", "\r\n.\n", "\r\n..L", "\r\n.L", "\r\n\r\n");
    assertThat(text).containsPattern("[^\r]\n");
    assertThat(text).contains("Grüße");
    // A fresh, identical stream on every open() (the transport reads twice).
    assertThat(readAll(small.open())).isEqualTo(raw);
    // The expected form is exactly the generated one with every bare LF made CRLF.
    byte[] normalised = text.replaceAll("(?<!\r)\n", "\r\n").getBytes(StandardCharsets.UTF_8);
    assertThat(readAll(small.openExpected())).isEqualTo(normalised);
    assertThat(normalised).endsWith('\r', '\n');
    assertThat(small.expectedDigest().sha256())
        .isEqualTo(GeneratedMessage.digest(new ByteArrayInputStream(normalised)).sha256());
  }

  @Test
  void streamsOverDataInPlaintext() {
    SmtpMessage m =
        deliver(
            TlsLevel.OPPORTUNISTIC,
            b -> b.capabilities(WITHOUT_CHUNKING),
            Authentication.PLAINTEXT);
    assertThat(m.chunked()).isFalse();
    assertThat(m.tls()).isFalse();
  }

  @Test
  void streamsOverBdatInPlaintext() {
    SmtpMessage m = deliver(TlsLevel.OPPORTUNISTIC, b -> b, Authentication.PLAINTEXT);
    assertThat(m.chunked()).isTrue();
    assertThat(m.tls()).isFalse();
  }

  @Test
  void streamsOverBdatInsideStarttls() {
    SmtpMessage m =
        deliver(
            TlsLevel.OPPORTUNISTIC, b -> b.tls(CERT.serverSslContext()), Authentication.ENCRYPTED);
    assertThat(m.chunked()).isTrue();
    assertThat(m.tls()).isTrue();
  }

  @Test
  void streamsOverDataInsideStarttls() {
    SmtpMessage m =
        deliver(
            TlsLevel.OPPORTUNISTIC,
            b -> b.tls(CERT.serverSslContext()).capabilities(WITHOUT_CHUNKING),
            Authentication.ENCRYPTED);
    assertThat(m.chunked()).isFalse();
    assertThat(m.tls()).isTrue();
  }

  /**
   * Sends {@link #MESSAGE} to a digest-only server configured by {@code server}; asserts delivery,
   * the peer authentication, and that the server received exactly the expected octets.
   */
  private static SmtpMessage deliver(
      TlsLevel level, UnaryOperator<MockSmtpServer.Builder> server, Authentication authentication) {
    try (Peers peers = new Peers(level, b -> server.apply(b.digestOnly()))) {
      RecipientResult r = peers.send(MESSAGE);
      assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(r.authentication()).contains(authentication);
      List<SmtpMessage> received = awaitOne(peers.server);
      SmtpMessage m = received.get(0);
      assertThat(m.accepted()).isTrue();
      assertThat(m.hasData()).as("digest-only server keeps no octets").isFalse();
      assertThat(m.recipients()).containsExactly(Peers.RECIPIENT);
      // RFC 1870: the declared size is the normalised size; RFC 6152: 8-bit content declared.
      assertThat(m.mailParameters()).contains("SIZE=" + expected.size(), "BODY=8BITMIME");
      assertThat(m.size()).isEqualTo(expected.size());
      assertThat(HexFormat.of().formatHex(m.sha256()))
          .isEqualTo(HexFormat.of().formatHex(expected.sha256()));
      return m;
    }
  }

  private static List<SmtpMessage> awaitOne(MockSmtpServer server) {
    try {
      // The server records the message just after sending its reply: wait for it.
      List<SmtpMessage> received = server.awaitMessages(1, Duration.ofSeconds(10));
      assertThat(received).hasSize(1);
      return received;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  private static byte[] readAll(InputStream in) throws IOException {
    try (in) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      in.transferTo(out);
      return out.toByteArray();
    }
  }
}
