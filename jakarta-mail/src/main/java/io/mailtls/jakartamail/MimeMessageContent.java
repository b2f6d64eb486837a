package io.mailtls.jakartamail;

import io.mailtls.core.ContentDescriptor;
import io.mailtls.core.MessageContent;
import io.mailtls.core.internal.smtp.BatchingOutputStream;
import io.mailtls.jakartamail.internal.ContentPipe;
import io.mailtls.jakartamail.internal.MessageWriter;
import io.mailtls.jakartamail.internal.MimeFacts;
import io.mailtls.jakartamail.internal.SavedMessageWriter;
import io.mailtls.jakartamail.internal.WriterThreads;
import jakarta.mail.MessagingException;
import jakarta.mail.Part;
import jakarta.mail.internet.MimeMessage;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A {@link MimeMessage} as {@link MessageContent}: the transport has the message {@link
 * MimeMessage#writeTo(java.io.OutputStream, String[]) write itself} straight into the session's
 * encoder ({@link #writeTo}), once per delivery attempt, on the sending thread, never buffering it
 * whole, so attachments of any size pass in constant memory. Its {@link #descriptor()} tells the
 * transport, from the message's structure, whether the message needs 8BITMIME and whether its
 * header fields carry UTF-8, so the transport need not write it an extra time to find out.
 *
 * <p>The {@code Bcc} and {@code Content-Length} header fields are left out, as Angus Mail's {@code
 * SMTPTransport} leaves them out: blind recipients stay blind (RFC 5322 §3.6.3). A message that was
 * never saved is saved by its first {@code writeTo} (Jakarta Mail's rule), so every later write
 * carries the same octets. This class does not call {@link MimeMessage#saveChanges()} otherwise: a
 * message parsed from a file goes out as it stands. ({@link MailtlsJakarta#send} saves first, as
 * {@code Transport.send} does.)
 *
 * <p><b>Descriptor.</b> 8-bit when any header field has a non-ASCII character (as with {@code
 * mail.mime.allowutf8}: then the message also asks for SMTPUTF8, RFC 6531 §3.4, and is never sent
 * to a server that does not offer it, §3.2: the transport tries the next MX host, and returns the
 * message with 5.6.9 when none offers it), or any part with an identity transfer encoding (7bit,
 * 8bit, binary or none) has an octet above 127; parts encoded base64 or quoted-printable are 7-bit.
 * Identity-encoded parts, and content kept as parsed, are measured for this (unless the save {@link
 * MailtlsJakarta#send} made read them to choose their encoding); a message with a line over 998
 * octets, or an encoding the adapter does not know, declares nothing, and the transport measures it
 * (and refuses the long line, RFC 5321 §4.5.3.1.6). The transport checks the declaration while the
 * message goes out.
 *
 * <p><b>Failures.</b> If {@code writeTo} fails (a {@code DataSource} that cannot be read, a {@link
 * MessagingException}), the transport defers the recipients (content unreadable) and never ends the
 * data, so the server keeps nothing. If the connection fails mid-message, {@code writeTo} returns
 * with the connection's exception, and nothing outlives the call.
 *
 * <p><b>{@link #open()}</b> is for readers other than the transport (which never calls it): it
 * starts one daemon writer thread named {@value #WRITER_THREAD_PREFIX}{@code n}, joined to the
 * returned stream by a 64 KiB pipe, or a task on the {@link Executor} given to {@link
 * #of(MimeMessage, Executor)}. If {@code writeTo} throws, the reader's next read throws an {@link
 * IOException} whose cause is that exception; a reader that closes the stream early ends the writer
 * at its next write.
 *
 * <p>Thread-safe, but the message is not: do not change it while a send is in progress. The
 * recipient domains of one send are delivered at the same time, each writing the message: the first
 * write of a message that may be unsaved ({@link #of}) runs alone, since it may save the message;
 * the others wait for it, then write side by side. ({@link MailtlsJakarta#send} saves before
 * sending, so its writes never wait.)
 */
public final class MimeMessageContent implements MessageContent {

  /** The name prefix of the default writer threads of {@link #open()}. */
  public static final String WRITER_THREAD_PREFIX = "mailtls-jakarta-writer-";

  /** As Angus Mail's SMTPTransport: never transmit Bcc; Content-Length is meaningless on SMTP. */
  private static final List<String> IGNORED_HEADERS = List.of("Bcc", "Content-Length");

  private static final String[] IGNORED = IGNORED_HEADERS.toArray(String[]::new);

  /**
   * Small writes of {@code writeTo} (header lines, encoder output, and text content one octet at a
   * time) are batched, without a lock per octet.
   */
  private static final int BATCH = 8 * 1024;

  private static final Executor DEFAULT_WRITERS = new WriterThreads(WRITER_THREAD_PREFIX);

  private final MimeMessage message;
  private final Executor writers;
  private final Set<Part> chosenByJakarta;

  /**
   * Saved by {@link MailtlsJakarta#send} just before: {@link SavedMessageWriter} may write it with
   * its session's stream provider.
   */
  private final boolean justSaved;

  /**
   * Held by the first {@link #writeTo} until it has written the message whole. That write may save
   * a never-saved message (new Message-ID, Date, MIME headers): a second write at the same time
   * (another recipient domain of the same send) would save it again and read header fields while
   * they change. Later writes only read the message and run side by side.
   */
  private final ReentrantLock firstWrite = new ReentrantLock();

  private volatile boolean written;

  private MimeMessageContent(
      MimeMessage message, Executor writers, Set<Part> chosenByJakarta, boolean saved) {
    this.message = message;
    this.writers = writers;
    this.chosenByJakarta = chosenByJakarta;
    this.written = saved;
    this.justSaved = saved;
  }

  /** The message's content; {@link #open()} starts a new daemon thread per open stream. */
  public static MimeMessageContent of(MimeMessage message) {
    return new MimeMessageContent(
        Objects.requireNonNull(message, "message"), DEFAULT_WRITERS, Set.of(), false);
  }

  /** The message's content; {@link #open()} writes by tasks on {@code writers}. */
  public static MimeMessageContent of(MimeMessage message, Executor writers) {
    return new MimeMessageContent(
        Objects.requireNonNull(message, "message"),
        Objects.requireNonNull(writers, "writers"),
        Set.of(),
        false);
  }

  /**
   * For {@link MailtlsJakarta#send}: a message just saved, {@code chosenByJakarta} the leaves whose
   * transfer encoding that save chose ({@link MimeFacts#unencodedLeaves} before it).
   */
  static MimeMessageContent saved(MimeMessage message, Set<Part> chosenByJakarta) {
    return new MimeMessageContent(message, DEFAULT_WRITERS, chosenByJakarta, true);
  }

  /**
   * Writes the message into {@code out} ({@code Bcc} and {@code Content-Length} left out), on the
   * calling thread.
   *
   * @throws IOException from {@code out}, or for a message that cannot be written (its cause)
   */
  @Override
  public void writeTo(OutputStream out) throws IOException {
    if (!written) {
      firstWrite.lock();
      try {
        if (!written) {
          write(out);
          written = true;
          return;
        }
      } finally {
        firstWrite.unlock();
      }
    }
    write(out);
  }

  private void write(OutputStream out) throws IOException {
    BatchingOutputStream batched = new BatchingOutputStream(out, BATCH);
    try {
      // The same octets as writeTo, without a service look-up per part, where that is certain.
      if (!justSaved || !SavedMessageWriter.write(message, batched, IGNORED)) {
        // Saves a never-saved message first, as MimeMessage.writeTo always does.
        message.writeTo(batched, IGNORED);
      }
    } catch (MessagingException | RuntimeException e) {
      throw new IOException("the message could not be written: " + e, e);
    }
    batched.flush();
  }

  /**
   * What the message's structure says of its octets: 8-bit or not, UTF-8 header fields or not;
   * empty when it cannot tell (see the class comment).
   */
  @Override
  public Optional<ContentDescriptor> descriptor() {
    if (!written && maybeNeverSaved()) {
      // Its first write saves it, and that save gives 8-bit text quoted-printable or base64: a
      // description of the content as it stands now would call 7-bit content 8-bit, and a server
      // without 8BITMIME (RFC 6152) would refuse a message it can take. Declaring nothing has the
      // transport measure the message by writing it, which saves it first.
      return Optional.empty();
    }
    return MimeFacts.describe(message, IGNORED, chosenByJakarta);
  }

  /**
   * No MIME-Version yet (every save sets one, {@code MimeMessage.updateHeaders}), or a leaf without
   * a transfer encoding, which every save gives it: an application may set MIME-Version itself
   * before the save, and the save still encodes the text.
   */
  private boolean maybeNeverSaved() {
    try {
      return message.getHeader("MIME-Version") == null
          || !MimeFacts.unencodedLeaves(message).isEmpty();
    } catch (MessagingException | RuntimeException e) {
      return true;
    }
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
    return "MimeMessageContent[" + message + "]";
  }
}
