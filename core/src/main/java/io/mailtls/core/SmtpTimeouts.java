package io.mailtls.core;

import java.time.Duration;
import java.util.Objects;

/**
 * Time bounds for each step of an SMTP session. Immutable. The defaults are RFC 5321 §4.5.3.2's
 * minimums, with connect and STARTTLS as Postfix has them, and a minimum data rate for the message
 * content as Postfix's {@code smtp_min_data_rate} (3.7 and later), set higher.
 *
 * <p>The message content as a whole is bounded too, not only each write of it: a server that takes
 * it in a few octets per {@link #dataBlock} (a tarpit, a broken middlebox) would otherwise hold the
 * session, its pool slot and a delivery thread for hours on a large message. From the first octet
 * of content (DATA's, or BDAT's chunks and their replies) to the last, the transfer has a time
 * budget: it starts at {@link #dataBlock}; each write, and each reply to a BDAT chunk, spends the
 * time it took, and each write then earns {@code octets / minDataRate} seconds, the budget never
 * growing beyond {@link #dataBlock}. A write or a reply that outlasts the budget left fails the
 * transfer as a timeout (the recipients are deferred, never bounced). So a transfer of {@code n}
 * octets never takes longer than {@code dataBlock + n / minDataRate}, and a stall after a fast
 * start still gets no more than {@link #dataBlock}. The wait for the reply to the end of data is
 * not part of it ({@link #dataTermination}).
 *
 * @param connect TCP connection establishment (Postfix: 30 s)
 * @param greeting the 220 greeting (RFC 5321 §4.5.3.2.1: 5 min)
 * @param command EHLO, MAIL, RCPT, RSET, AUTH replies (§4.5.3.2.2-3: 5 min); not those sent with
 *     the message in one round trip, which wait as long as its final reply
 * @param startTls the STARTTLS reply and handshake (Postfix: 5 min)
 * @param dataInitiation the 354 reply to DATA (§4.5.3.2.4: 2 min)
 * @param dataBlock each write of message content (§4.5.3.2.5: 3 min), each reply to a BDAT chunk
 *     that is not the last, and the most of the content transfer's budget
 * @param dataTermination the reply to the final dot or BDAT LAST (§4.5.3.2.6: 10 min), and each
 *     reply before it when the message goes with its envelope in one round trip
 * @param minDataRate the slowest pace, in octets per second, at which the message content may go
 *     out once its {@link #dataBlock} of slack is spent ({@value #DEFAULT_MIN_DATA_RATE} by
 *     default); 0 turns the bound off, leaving each write bounded by {@link #dataBlock} alone
 */
public record SmtpTimeouts(
    Duration connect,
    Duration greeting,
    Duration command,
    Duration startTls,
    Duration dataInitiation,
    Duration dataBlock,
    Duration dataTermination,
    long minDataRate) {

  /**
   * The default {@link #minDataRate}: 10 KiB/s (about 80 kbit/s), twenty times Postfix's 500
   * octets/s. Any server that is not deliberately slow takes mail faster, over any link of the last
   * twenty years, while a tarpit holds a 10 MiB message for about 20 minutes at most instead of
   * hours (with Postfix's rate, almost 6 hours). A sender on a slower link, or with many large
   * messages sharing a narrow uplink, lowers it or turns it off ({@link #withMinDataRate}).
   */
  public static final long DEFAULT_MIN_DATA_RATE = 10 * 1024;

  /**
   * The RFC 5321 §4.5.3.2 values, with the {@linkplain #DEFAULT_MIN_DATA_RATE default minimum data
   * rate}.
   */
  public static final SmtpTimeouts RFC_5321 =
      new SmtpTimeouts(
          Duration.ofSeconds(30),
          Duration.ofMinutes(5),
          Duration.ofMinutes(5),
          Duration.ofMinutes(5),
          Duration.ofMinutes(2),
          Duration.ofMinutes(3),
          Duration.ofMinutes(10),
          DEFAULT_MIN_DATA_RATE);

  public SmtpTimeouts {
    for (Duration d :
        new Duration[] {
          connect, greeting, command, startTls, dataInitiation, dataBlock, dataTermination
        }) {
      Objects.requireNonNull(d, "timeout");
      if (d.isNegative() || d.isZero() || d.toMillis() > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("timeout out of range: " + d);
      }
    }
    if (minDataRate < 0) {
      throw new IllegalArgumentException(
          "minDataRate must be >= 0 octets per second (0: off): " + minDataRate);
    }
  }

  /**
   * The step bounds given, with the {@linkplain #DEFAULT_MIN_DATA_RATE default minimum data rate}
   * ({@link #withMinDataRate} sets another).
   */
  public SmtpTimeouts(
      Duration connect,
      Duration greeting,
      Duration command,
      Duration startTls,
      Duration dataInitiation,
      Duration dataBlock,
      Duration dataTermination) {
    this(
        connect,
        greeting,
        command,
        startTls,
        dataInitiation,
        dataBlock,
        dataTermination,
        DEFAULT_MIN_DATA_RATE);
  }

  /**
   * Every step bounded by the same duration, with the {@linkplain #DEFAULT_MIN_DATA_RATE default
   * minimum data rate}: for tests and interactive tools.
   */
  public static SmtpTimeouts uniform(Duration d) {
    return new SmtpTimeouts(d, d, d, d, d, d, d);
  }

  /**
   * These bounds with {@code octetsPerSecond} as the {@link #minDataRate}; 0 turns that bound off.
   *
   * @throws IllegalArgumentException if {@code octetsPerSecond} is negative
   */
  public SmtpTimeouts withMinDataRate(long octetsPerSecond) {
    return new SmtpTimeouts(
        connect,
        greeting,
        command,
        startTls,
        dataInitiation,
        dataBlock,
        dataTermination,
        octetsPerSecond);
  }
}
