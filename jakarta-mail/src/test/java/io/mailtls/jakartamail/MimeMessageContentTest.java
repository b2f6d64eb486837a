package io.mailtls.jakartamail;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import jakarta.mail.internet.MimeMessage;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The streaming content on its own: what a reader sees, and what the writer thread does. */
class MimeMessageContentTest {

  @AfterEach
  void noWriterThreadOutlivesItsTest() throws InterruptedException {
    assertThat(WriterThreadsProbe.awaitNone(Duration.ofSeconds(10))).isEmpty();
  }

  @Test
  void everyOpenStreamsTheSameOctetsWithoutBcc() throws Exception {
    MimeMessage m = Messages.multipart(Messages.binary(200_000));
    MimeMessageContent content = MimeMessageContent.of(m);
    byte[] first;
    try (InputStream in = content.open()) {
      first = in.readAllBytes();
    }
    byte[] second;
    try (InputStream in = content.open()) {
      second = in.readAllBytes();
    }
    assertThat(first).isEqualTo(second).isEqualTo(Messages.written(m));
    String text = new String(first, java.nio.charset.StandardCharsets.UTF_8);
    assertThat(text)
        .contains("\r\nTo: to@example.test\r\n", "\r\nCc: cc@example.test\r\n")
        .doesNotContain("Bcc:")
        .doesNotContain("hidden@example.test");
  }

  @Test
  void aNeverSavedMessageIsSavedByTheFirstWriteOnly() throws Exception {
    MimeMessage m = Messages.multipart(Messages.binary(10));
    MimeMessageContent content = MimeMessageContent.of(m);
    byte[] first;
    try (InputStream in = content.open()) {
      first = in.readAllBytes();
    }
    assertThat(m.getHeader("Message-ID")).isNotNull();
    try (InputStream in = content.open()) {
      assertThat(in.readAllBytes()).as("same Message-ID, same boundaries").isEqualTo(first);
    }
  }

  @Test
  void theWritersThreadIsNamedAndEndsWithTheStream() throws Exception {
    MimeMessage m = Messages.withSource(new Messages.Generated(4L * 1024 * 1024));
    InputStream in = MimeMessageContent.of(m).open();
    assertThat(in.read()).isNotNegative();
    assertThat(WriterThreadsProbe.live())
        .singleElement()
        .satisfies(t -> assertThat(t.isDaemon()).isTrue());
    in.close();
    // @AfterEach: the writer, blocked on the full pipe, wakes up, fails its write and ends.
  }

  @Test
  void aFailureInWriteToReachesTheReaderAsIoException() throws Exception {
    MimeMessage m = Messages.withSource(new Messages.Failing(300_000, 1));
    try (InputStream in = MimeMessageContent.of(m).open()) {
      assertThatThrownBy(in::readAllBytes)
          .isInstanceOf(IOException.class)
          .hasMessageContaining("could not be written")
          .hasRootCauseMessage("disk on fire");
      assertThatThrownBy(in::read).as("and stays failed").isInstanceOf(IOException.class);
    }
  }

  /**
   * "Streamed, not buffered": with a reader that reads nothing, the writer pulls no more of a 20
   * MiB attachment than fits the 64 KiB pipe, the 8 KiB batch and the encoders' buffers, then
   * waits; closing the stream ends it.
   */
  @Test
  void theWriterRunsAtMostOnePipeAheadOfTheReader() throws Exception {
    Messages.Generated source = new Messages.Generated(20L * 1024 * 1024);
    MimeMessage m = Messages.withSource(source);
    m.saveChanges();
    AtomicReference<Thread> writer = new AtomicReference<>();
    Executor own =
        task -> {
          Thread t = new Thread(task, MimeMessageContent.WRITER_THREAD_PREFIX + "own");
          t.setDaemon(true);
          writer.set(t);
          t.start();
        };
    InputStream in = MimeMessageContent.of(m, own).open();
    awaitParked(writer.get());
    long pulled = source.pulled.get();
    assertThat(pulled).isPositive().isLessThan(256 * 1024);
    // Reading on lets it go on, a pipe at a time.
    byte[] buf = new byte[1024 * 1024];
    int n = in.readNBytes(buf, 0, buf.length);
    assertThat(n).isEqualTo(buf.length);
    awaitParked(writer.get());
    assertThat(source.pulled.get()).isLessThan(pulled + buf.length);
    in.close();
    writer.get().join(Duration.ofSeconds(10).toMillis());
    assertThat(writer.get().isAlive()).isFalse();
  }

  @Test
  void anExecutorThatRunsTheWriterOnTheReadingThreadFailsInsteadOfDeadlocking() throws Exception {
    MimeMessage m = Messages.multipart(Messages.binary(1_000_000));
    try (InputStream in = MimeMessageContent.of(m, Runnable::run).open()) {
      assertThatThrownBy(in::readAllBytes)
          .isInstanceOf(IOException.class)
          .hasMessageContaining("reading thread");
    }
  }

  @Test
  void aRejectedWriterFailsTheOpen() throws Exception {
    MimeMessage m = Messages.multipart(Messages.binary(10));
    Executor full =
        task -> {
          throw new RejectedExecutionException("pool exhausted");
        };
    assertThatThrownBy(() -> MimeMessageContent.of(m, full).open())
        .isInstanceOf(IOException.class)
        .hasMessageContaining("no thread to write the message")
        .hasRootCauseMessage("pool exhausted");
  }

  /** Waits until {@code t} is parked (blocked on the pipe); a bound on waiting, not a timing. */
  private static void awaitParked(Thread t) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (t.getState() != Thread.State.WAITING && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertThat(t.getState()).isEqualTo(Thread.State.WAITING);
  }
}
