package io.mailtls.testkit.internal.smtp;

import io.mailtls.testkit.SmtpContentFault;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The state of one mail transaction (RFC 5321 §3.3): from an accepted MAIL to the end of the
 * message, RSET, or anything else that resets it.
 *
 * <p>Not thread-safe: owned by one session thread.
 */
final class Transaction {
  final String mailFrom;
  final List<String> mailParameters;
  final List<String> recipients = new ArrayList<>();

  /** BDAT was used (RFC 3030 §2 forbids mixing it with DATA in one transaction). */
  boolean chunked;

  /** A BDAT chunk was refused; the rest of the transaction is refused until RSET. */
  boolean chunkRefused;

  /** Octets of message content received so far, as counted for the drop-mid-message fault. */
  long contentOctets;

  /** The BDAT chunks received so far. */
  @Nullable MessageSink chunks;

  /** Drop the connection once this many content octets have arrived; -1 for never. */
  long dropAfter;

  /** How the content is broken off part way, if it is; cleared once carried out. */
  @Nullable SmtpContentFault contentFault;

  /** The pause after each read of BDAT chunk content (a slow reader). */
  Duration readPause = Duration.ZERO;

  /** The most content octets taken in one read; 0 for no limit. */
  int readSize;

  Transaction(String mailFrom, List<String> mailParameters, long dropAfter) {
    this.mailFrom = mailFrom;
    this.mailParameters = List.copyOf(mailParameters);
    this.dropAfter = dropAfter;
  }
}
