package io.mailtls.core.internal.smtp;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Splits the RCPT commands of a pipelined transaction into groups, each sent in one flush and
 * answered in full before the next goes out (RFC 2920 §3.1).
 *
 * <p>RFC 2920 §3.1: a client that does not read replies while it writes "MUST also check the TCP
 * window size and make sure that each group of commands fits entirely within the window. The window
 * size is usually, but not always, 4K octets." mailtls writes a whole group before reading, so a
 * group is at most {@value #MAX_OCTETS} octets on the wire, MAIL (first group) and DATA (last
 * group) included, and at most {@value #MAX_RCPTS} RCPT commands, the number of recipients RFC 5321
 * §4.5.3.1.8 requires a server to buffer, which also bounds the replies the server has to hold
 * unread. A group always has at least one RCPT, even one longer than the budget alone.
 *
 * <p>Stateless and thread-safe.
 */
public final class PipelineGroups {

  /** The most RCPT commands in one group. */
  public static final int MAX_RCPTS = 100;

  /** The most octets in one group, CRLFs included. */
  public static final int MAX_OCTETS = 4096;

  private PipelineGroups() {}

  /**
   * The sizes of consecutive groups of {@code rcpts}, in order, summing to {@code rcpts.size()}.
   *
   * @param first the command that opens the first group (MAIL)
   * @param rcpts the RCPT commands, at least one
   * @param last the command that closes the last group (DATA), or null when there is none (BDAT
   *     follows in its own exchange)
   */
  public static List<Integer> sizes(
      SmtpCommand first, List<SmtpCommand> rcpts, @Nullable SmtpCommand last) {
    return sizes(0, first, rcpts, last);
  }

  /**
   * {@link #sizes(SmtpCommand, List, SmtpCommand)} for a first group that carries {@code ahead}
   * octets more before {@code first} (the RSET of a reused session).
   */
  public static List<Integer> sizes(
      int ahead, SmtpCommand first, List<SmtpCommand> rcpts, @Nullable SmtpCommand last) {
    return sizes(ahead, first, rcpts, last, MAX_RCPTS, MAX_OCTETS);
  }

  static List<Integer> sizes(
      SmtpCommand first,
      List<SmtpCommand> rcpts,
      @Nullable SmtpCommand last,
      int maxRcpts,
      int maxOctets) {
    return sizes(0, first, rcpts, last, maxRcpts, maxOctets);
  }

  static List<Integer> sizes(
      int ahead,
      SmtpCommand first,
      List<SmtpCommand> rcpts,
      @Nullable SmtpCommand last,
      int maxRcpts,
      int maxOctets) {
    Objects.requireNonNull(first, "first");
    if (rcpts.isEmpty()) {
      throw new IllegalArgumentException("no RCPT commands");
    }
    // The closing command's octets are kept free in every group: any group may turn out last.
    int budget = maxOctets - (last == null ? 0 : last.toBytes().length);
    List<Integer> sizes = new ArrayList<>();
    int count = 0;
    int octets = ahead + first.toBytes().length;
    for (SmtpCommand rcpt : rcpts) {
      int length = rcpt.toBytes().length;
      if (count > 0 && (count == maxRcpts || octets + length > budget)) {
        sizes.add(count);
        count = 0;
        octets = 0;
      }
      count++;
      octets += length;
    }
    sizes.add(count);
    return sizes;
  }
}
