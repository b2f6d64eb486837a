package io.mailtls.jakartamail.internal;

import io.mailtls.core.internal.smtp.BatchingOutputStream;
import jakarta.mail.internet.MimeMessage;
import java.io.IOException;
import java.io.OutputStream;
import java.util.List;

/**
 * The writer task behind one content stream: runs {@link MimeMessage#writeTo(OutputStream,
 * String[])} into a {@link ContentPipe} and finishes the pipe with the outcome, whatever happens.
 * Runs once, on a thread other than the reader's.
 *
 * <p>Not thread-safe by itself (it runs once); its hand-over to the reader goes through the pipe.
 */
public final class MessageWriter implements Runnable {

  /** Small writes of {@code writeTo} (header lines, encoder output) are batched before the pipe. */
  private static final int BATCH = 8 * 1024;

  private final MimeMessage message;
  private final String[] ignoredHeaders;
  private final ContentPipe pipe;
  private final Thread reader;

  /**
   * @param message the message to write
   * @param ignoredHeaders header names {@code writeTo} leaves out
   * @param pipe where the octets go
   * @param reader the thread that will read the pipe; running on it would deadlock once the pipe
   *     fills, so the task refuses to
   */
  public MessageWriter(
      MimeMessage message, List<String> ignoredHeaders, ContentPipe pipe, Thread reader) {
    this.message = message;
    this.ignoredHeaders = ignoredHeaders.toArray(String[]::new);
    this.pipe = pipe;
    this.reader = reader;
  }

  @Override
  public void run() {
    if (Thread.currentThread() == reader) {
      // A same-thread executor: writing here would block for ever on a full pipe.
      pipe.finish(
          new IOException(
              "the executor ran the message writer on the reading thread; "
                  + "MimeMessageContent needs an executor that runs tasks on other threads"));
      return;
    }
    Throwable failure = null;
    try (OutputStream out = new BatchingOutputStream(pipe.sink(), BATCH)) {
      // Saves a never-saved message first, as MimeMessage.writeTo always does.
      message.writeTo(out, ignoredHeaders);
    } catch (Throwable t) {
      // Every failure must reach the reader, Errors included: otherwise it would wait for ever.
      failure = t;
    } finally {
      pipe.finish(failure);
    }
    if (failure instanceof Error e) {
      throw e; // after the reader was told: let the thread's handler see it too
    }
  }
}
