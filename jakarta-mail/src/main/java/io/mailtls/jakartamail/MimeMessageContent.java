package io.mailtls.jakartamail;

import io.mailtls.core.MessageContent;
import io.mailtls.jakartamail.internal.ContentPipe;
import io.mailtls.jakartamail.internal.MessageWriter;
import io.mailtls.jakartamail.internal.WriterThreads;
import jakarta.mail.internet.MimeMessage;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * A {@link MimeMessage} as {@link MessageContent}: every {@link #open()} streams a fresh {@link
 * MimeMessage#writeTo(java.io.OutputStream, String[]) writeTo} of the message, never buffering it
 * whole, so attachments of any size pass in constant memory.
 *
 * <p>The {@code Bcc} and {@code Content-Length} header fields are left out, as Angus Mail's {@code
 * SMTPTransport} leaves them out: blind recipients stay blind (RFC 5322 §3.6.3). A message that was
 * never saved is saved by its first {@code writeTo} (Jakarta Mail's rule), so every later stream
 * carries the same octets. This class does not call {@link MimeMessage#saveChanges()} otherwise: a
 * message parsed from a file goes out as it stands. ({@link MailtlsJakarta#send} saves first, as
 * {@code Transport.send} does.)
 *
 * <p><b>Threads.</b> {@code writeTo} pushes and the transport pulls, so each open stream has one
 * writer task on another thread, joined to the reader by a 64 KiB pipe:
 *
 * <ul>
 *   <li>By default each {@code open()} starts one daemon thread named {@value
 *       #WRITER_THREAD_PREFIX}{@code n}, which ends with its {@code writeTo}. {@code
 *       SecureSmtpTransport} reads one stream of a message at a time (a scan, then one per
 *       attempt), so a send holds at most one writer thread. Pass an {@link Executor} to {@link
 *       #of(MimeMessage, Executor)} to draw them from a pool of your own instead; it must run each
 *       task promptly on a thread other than the caller's (a task it runs on the reading thread
 *       fails instead of deadlocking; a task it rejects fails the open).
 *   <li>If {@code writeTo} throws, the reader's next read throws an {@link IOException} whose cause
 *       is that exception, so the transport defers the recipients (content unreadable).
 *   <li>If the reader closes the stream early (a connection lost mid-message), the writer's next
 *       write fails and its thread ends: writers never outlive their stream by more than one {@code
 *       write}. A writer blocked outside the pipe (in a slow {@code DataSource}) ends at its next
 *       write.
 * </ul>
 *
 * <p>Thread-safe, but the message is not: do not change it while a send is in progress.
 */
public final class MimeMessageContent implements MessageContent {

  /** The name prefix of the default writer threads. */
  public static final String WRITER_THREAD_PREFIX = "mailtls-jakarta-writer-";

  /** As Angus Mail's SMTPTransport: never transmit Bcc; Content-Length is meaningless on SMTP. */
  private static final List<String> IGNORED_HEADERS = List.of("Bcc", "Content-Length");

  private static final Executor DEFAULT_WRITERS = new WriterThreads(WRITER_THREAD_PREFIX);

  private final MimeMessage message;
  private final Executor writers;

  private MimeMessageContent(MimeMessage message, Executor writers) {
    this.message = message;
    this.writers = writers;
  }

  /** The message's content, written by a new daemon thread per open stream. */
  public static MimeMessageContent of(MimeMessage message) {
    return new MimeMessageContent(Objects.requireNonNull(message, "message"), DEFAULT_WRITERS);
  }

  /** The message's content, written by tasks on {@code writers} (see the class comment). */
  public static MimeMessageContent of(MimeMessage message, Executor writers) {
    return new MimeMessageContent(
        Objects.requireNonNull(message, "message"), Objects.requireNonNull(writers, "writers"));
  }

  /**
   * Starts a writer and returns the reading end of its pipe; close it when done, also early.
   *
   * @throws IOException when the executor rejects the writer task
   */
  @Override
  public InputStream open() throws IOException {
    ContentPipe pipe = new ContentPipe(ContentPipe.DEFAULT_CAPACITY);
    try {
      writers.execute(new MessageWriter(message, IGNORED_HEADERS, pipe, Thread.currentThread()));
    } catch (RejectedExecutionException e) {
      throw new IOException("no thread to write the message: " + writers + " rejected the task", e);
    }
    return pipe.source();
  }

  @Override
  public String toString() {
    return "MimeMessageContent[" + message + " via " + writers + "]";
  }
}
