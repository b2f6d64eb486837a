package io.mailtls.testkit.internal.smtp;

/**
 * Decodes DATA content as it streams in: removes the leading dot that the client added to lines
 * starting with a dot (RFC 5321 §4.5.2) and stops at the end-of-data line {@code CRLF.CRLF} (RFC
 * 5321 §4.1.1.4), keeping every other octet, bare CR and bare LF included, exactly.
 *
 * <p>A state machine over octets, so lines of any length and messages of any size pass through
 * without being buffered whole. The CRLF before the terminating dot belongs to the message.
 *
 * <p>Not thread-safe: owned by one session thread.
 */
public final class DotUnstuffer {

  private enum State {
    /** At the start of a line (also at the very start of the data). */
    LINE_START,
    /** Inside a line, last octet not CR. */
    MIDDLE,
    /** Last octet was a CR (kept in the output). */
    CR,
    /** A dot at the start of a line, held back. */
    DOT,
    /** A dot at the start of a line, then CR, both held back. */
    DOT_CR
  }

  private final MessageSink sink;
  private State state = State.LINE_START;
  private boolean done;

  /** Writes the decoded octets to {@code sink}. */
  public DotUnstuffer(MessageSink sink) {
    this.sink = sink;
  }

  /**
   * Decodes up to {@code length} octets of {@code data} from {@code offset}. Returns how many it
   * consumed: all of them, or fewer when the end-of-data line ends inside the range, in which case
   * {@link #isDone()} turns true and the rest belongs to the next command.
   */
  public int process(byte[] data, int offset, int length) {
    int end = offset + length;
    int run = offset; // start of octets to copy through unchanged
    int i = offset;
    while (i < end && !done) {
      byte b = data[i];
      switch (state) {
        case LINE_START:
          if (b == '.') {
            sink.write(data, run, i - run);
            run = i + 1; // hold the dot back until we know what follows
            state = State.DOT;
          } else {
            state = b == '\r' ? State.CR : State.MIDDLE;
          }
          break;
        case MIDDLE:
          if (b == '\r') {
            state = State.CR;
          }
          break;
        case CR:
          state = b == '\n' ? State.LINE_START : b == '\r' ? State.CR : State.MIDDLE;
          break;
        case DOT:
          if (b == '\r') {
            run = i + 1; // hold the CR back too: this may be the end-of-data line
            state = State.DOT_CR;
          } else {
            // RFC 5321 §4.5.2: the leading dot was stuffing; drop it, keep this octet.
            run = i;
            state = State.MIDDLE; // a bare LF does not end a line (RFC 5321 §2.3.8)
          }
          break;
        case DOT_CR:
          if (b == '\n') {
            run = i + 1;
            done = true;
          } else {
            // ".\r" then something else: the dot was stuffing, the CR is data.
            sink.write((byte) '\r');
            run = i;
            state = State.CR;
            continue; // reconsider this octet after the CR
          }
          break;
        default:
          throw new IllegalStateException("unknown state " + state);
      }
      i++;
    }
    if (!done && state != State.DOT && state != State.DOT_CR) {
      sink.write(data, run, i - run);
    }
    return i - offset;
  }

  /** Whether the end-of-data line has been read. */
  public boolean isDone() {
    return done;
  }
}
