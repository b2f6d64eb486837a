package io.mailtls.jakartamail.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The bounded pipe between {@code writeTo} and the transport. */
class ContentPipeTest {

  private static final Duration PATIENCE = Duration.ofSeconds(10);

  @Test
  void octetsArriveInOrderThroughASmallRingInOddSizes() throws Exception {
    ContentPipe pipe = new ContentPipe(7);
    byte[] data = new byte[100_003];
    new Random(1).nextBytes(data);
    CompletableFuture<Void> writer =
        CompletableFuture.runAsync(
            () -> {
              try {
                OutputStream out = pipe.sink();
                int pos = 0;
                int step = 1;
                while (pos < data.length) {
                  int n = Math.min(step, data.length - pos);
                  if (n == 1) {
                    out.write(data[pos]);
                  } else {
                    out.write(data, pos, n);
                  }
                  pos += n;
                  step = step % 13 + 1;
                }
                pipe.finish(null);
              } catch (IOException e) {
                pipe.finish(e);
              }
            });
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    try (InputStream in = pipe.source()) {
      byte[] buf = new byte[5];
      int n;
      while ((n = in.read(buf)) >= 0) {
        got.write(buf, 0, n);
      }
      assertThat(in.read()).isEqualTo(-1);
    }
    writer.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
    assertThat(got.toByteArray()).isEqualTo(data);
  }

  @Test
  void aWriterFailureBecomesTheReadersIoExceptionWithTheCause() throws Exception {
    ContentPipe pipe = new ContentPipe(16);
    pipe.sink().write(new byte[] {1, 2, 3});
    IllegalStateException cause = new IllegalStateException("boom");
    pipe.finish(cause);
    assertThatThrownBy(() -> pipe.source().read())
        .isInstanceOf(IOException.class)
        .hasMessageContaining("boom")
        .hasCause(cause);
  }

  @Test
  void onlyTheFirstFinishCounts() throws Exception {
    ContentPipe pipe = new ContentPipe(16);
    pipe.finish(null);
    pipe.finish(new IOException("late"));
    assertThat(pipe.source().read()).isEqualTo(-1);
    assertThatThrownBy(() -> pipe.sink().write(1))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("after");
  }

  @Test
  void closingTheReaderReleasesABlockedWriter() throws Exception {
    ContentPipe pipe = new ContentPipe(4);
    CompletableFuture<Void> writer =
        CompletableFuture.runAsync(
            () -> {
              try {
                pipe.sink().write(new byte[1000]); // blocks after 4 octets
              } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
              }
            });
    InputStream in = pipe.source();
    assertThat(in.read()).isZero();
    in.close();
    assertThatThrownBy(() -> writer.get(PATIENCE.toSeconds(), TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .hasRootCauseInstanceOf(ContentPipe.ReaderClosedException.class);
    assertThat(pipe.readerClosed()).isTrue();
    assertThatThrownBy(in::read).isInstanceOf(IOException.class).hasMessageContaining("closed");
    assertThat(in.available()).isZero();
  }

  @Test
  void anInterruptedReaderGetsInterruptedIoExceptionAndKeepsItsFlag() throws Exception {
    ContentPipe pipe = new ContentPipe(4);
    Thread.currentThread().interrupt();
    try {
      assertThatThrownBy(() -> pipe.source().read()).isInstanceOf(InterruptedIOException.class);
      assertThat(Thread.currentThread().isInterrupted()).isTrue();
    } finally {
      Thread.interrupted();
    }
  }

  @Test
  void zeroLengthReadsAndWritesDoNothing() throws Exception {
    ContentPipe pipe = new ContentPipe(1);
    pipe.sink().write(new byte[0]);
    assertThat(pipe.source().read(new byte[0], 0, 0)).isZero();
    assertThat(pipe.source().available()).isZero();
    assertThatThrownBy(() -> new ContentPipe(0)).isInstanceOf(IllegalArgumentException.class);
  }
}
