package io.mailtls.core.internal.smtp;

import io.mailtls.core.MessageContent;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Objects;

/**
 * Finds a {@code TLS-Required: No} header field (RFC 8689 §3) in message content as it streams by,
 * without holding the message: it reads the header section only (RFC 5322 §2.2, up to the first
 * empty line), at most {@value #MAX_HEADER_OCTETS} octets of it, and keeps nothing but the field
 * name being read and a few octets of the value. Everything after the header section is ignored.
 *
 * <p>The field's grammar is {@code "TLS-Required:" [FWS] "No" CRLF} (RFC 8689 §3; ABNF strings are
 * case-insensitive, RFC 5234 §2.3): a folded value is unfolded (RFC 5322 §2.2.3) and trimmed, any
 * other value means nothing. Line ends may be CRLF, bare LF or lone CR, as the transport accepts. A
 * field name of more than 32 octets, or a value of more than 32 octets (whitespace included), is
 * not read as {@code TLS-Required: No}: the scanner fails safe, recipient policies then apply. RFC
 * 8689 §3 defines one such field: a header section with more than one {@code TLS-Required} field,
 * whatever they say, means nothing, as the Jakarta Mail adapter reads it too; so does one not read
 * to its end (over the bound), where a second field could follow.
 *
 * <p>An {@link OutputStream}, so content that can only be written is read too; {@link
 * #scan(MessageContent)} stops the content's {@code writeTo} at the end of the header section. Not
 * thread-safe.
 */
public final class TlsRequiredHeader extends OutputStream {

  /** Header octets read at most; a longer header section is read no further. */
  public static final int MAX_HEADER_OCTETS = 256 * 1024;

  /** The longest field name remembered; longer names are not {@code TLS-Required}. */
  private static final int MAX_NAME = 32;

  /** The longest unfolded value remembered; a longer one is not {@code No}. */
  private static final int MAX_VALUE = 32;

  private static final String NAME = "tls-required";

  private final byte[] single = new byte[1];
  private final StringBuilder name = new StringBuilder(MAX_NAME);
  private final StringBuilder value = new StringBuilder(MAX_VALUE);
  private long octets;
  private boolean done;

  /** Whether the bound stopped the reading before the header section ended. */
  private boolean truncated;

  /** The {@code TLS-Required} fields finished so far. */
  private int fields;

  /** Whether the one such field finished so far says {@code No}. */
  private boolean found;

  private boolean atLineStart = true;
  private boolean pendingCr;

  /** Where on a line the scanner is. */
  private enum Part {
    /** In a field name, before its colon. */
    NAME,
    /** In the value of a {@code TLS-Required} field. */
    OUR_VALUE,
    /** In anything else: another field's value, or a line that is not a field. */
    SKIP
  }

  /** A folded line before any field belongs to none: skipped. */
  private Part part = Part.SKIP;

  /** Whether the current field (name and value so far) is a {@code TLS-Required} field. */
  private boolean inOurField;

  private boolean valueOverflow;

  /** An empty scanner. */
  public TlsRequiredHeader() {}

  /**
   * Whether {@code content}'s header section holds {@code TLS-Required: No}: writes the content
   * into a scanner and stops it at the end of the header section. False when the content cannot be
   * read (an I/O error or a failing implementation): recipient policies then keep applying, so an
   * unreadable header never lowers security.
   */
  public static boolean scan(MessageContent content) {
    Objects.requireNonNull(content, "content");
    TlsRequiredHeader scanner = new TlsRequiredHeader();
    try {
      content.writeTo(scanner);
    } catch (HeaderEnd e) {
      // the header section ended; the rest of the content is not read
    } catch (IOException | RuntimeException e) {
      return false;
    }
    return scanner.found();
  }

  /**
   * A stream that writes everything to {@code main} and shows it to this scanner until the header
   * section ends: the header is read in the same pass that measures the content, with no pass of
   * its own. Only {@code main}'s exceptions propagate.
   */
  public OutputStream alongside(OutputStream main) {
    Objects.requireNonNull(main, "main");
    return new OutputStream() {
      @Override
      public void write(int b) throws IOException {
        main.write(b);
        if (!done) {
          try {
            TlsRequiredHeader.this.write(b);
          } catch (HeaderEnd e) {
            // the header section ended; the rest goes to main only
          }
        }
      }

      @Override
      public void write(byte[] bytes, int offset, int length) throws IOException {
        main.write(bytes, offset, length);
        if (!done) {
          try {
            TlsRequiredHeader.this.write(bytes, offset, length);
          } catch (HeaderEnd e) {
            // the header section ended; the rest goes to main only
          }
        }
      }

      @Override
      public void flush() throws IOException {
        main.flush();
      }
    };
  }

  /** Thrown from {@link #write} once the header section has been read, to stop the writer. */
  private static final class HeaderEnd extends IOException {
    private static final long serialVersionUID = 1L;

    HeaderEnd() {
      super("end of the header section", null);
    }

    @Override
    public synchronized Throwable fillInStackTrace() {
      return this; // control flow, not an error
    }
  }

  /**
   * Whether the header section read so far has exactly one {@code TLS-Required} field, and it says
   * {@code No}: false once a second such field is seen, or the bound cut the header section off.
   */
  public boolean found() {
    if (truncated) {
      return false;
    }
    if (!done && inOurField) {
      // the content ended inside the field (no line break after it): judge what was read
      return fields == 0 ? valueSaysNo() : false;
    }
    return fields == 1 && found;
  }

  /** Whether the header section has ended (or its bound was reached): nothing more is read. */
  public boolean done() {
    return done;
  }

  @Override
  public void write(int b) throws IOException {
    single[0] = (byte) b;
    write(single, 0, 1);
  }

  @Override
  public void write(byte[] bytes, int offset, int length) throws IOException {
    Objects.checkFromIndexSize(offset, length, bytes.length);
    int end = offset + length;
    for (int i = offset; i < end && !done; i++) {
      octets++;
      step(bytes[i]);
      if (octets >= MAX_HEADER_OCTETS && !done) {
        finishField();
        done = true;
        truncated = true;
      }
    }
    if (done) {
      throw new HeaderEnd();
    }
  }

  private void step(byte c) {
    if (pendingCr) {
      pendingCr = false;
      lineEnd();
      if (c == '\n') {
        return; // CRLF: one line end
      }
    }
    if (c == '\r') {
      pendingCr = true;
      return;
    }
    if (c == '\n') {
      lineEnd();
      return;
    }
    if (atLineStart) {
      atLineStart = false;
      if (c == ' ' || c == '\t') {
        // RFC 5322 §2.2.3: a folded line continues the field before it
        if (inOurField && part == Part.OUR_VALUE) {
          append(' ');
        }
        return;
      }
      finishField();
      name.setLength(0);
      part = Part.NAME;
    }
    switch (part) {
      case NAME -> {
        if (c == ':') {
          inOurField = name.toString().strip().equalsIgnoreCase(NAME);
          value.setLength(0);
          valueOverflow = false;
          part = inOurField ? Part.OUR_VALUE : Part.SKIP;
        } else if (name.length() < MAX_NAME) {
          name.append((char) (c & 0xff));
        } else {
          part = Part.SKIP; // too long to be TLS-Required
          inOurField = false;
        }
      }
      case OUR_VALUE -> append((char) (c & 0xff));
      case SKIP -> {}
    }
  }

  private void append(char c) {
    if (value.length() < MAX_VALUE) {
      value.append(c);
    } else {
      valueOverflow = true;
    }
  }

  /** A line ended: an empty line ends the header section (RFC 5322 §2.1). */
  private void lineEnd() {
    if (atLineStart) {
      finishField();
      done = true;
      return;
    }
    if (part == Part.NAME) {
      // a line without a colon is no field; it ends whatever came before
      part = Part.SKIP;
      inOurField = false;
    }
    atLineStart = true;
  }

  private void finishField() {
    if (inOurField) {
      fields++;
      found = valueSaysNo();
    }
    inOurField = false;
  }

  private boolean valueSaysNo() {
    return !valueOverflow && value.toString().strip().equalsIgnoreCase("No");
  }
}
