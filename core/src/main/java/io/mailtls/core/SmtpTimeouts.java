package io.mailtls.core;

import java.time.Duration;
import java.util.Objects;

/**
 * Time bounds for each step of an SMTP session. Immutable. The defaults are RFC 5321 §4.5.3.2's
 * minimums, with connect and STARTTLS as Postfix has them.
 *
 * @param connect TCP connection establishment (Postfix: 30 s)
 * @param greeting the 220 greeting (RFC 5321 §4.5.3.2.1: 5 min)
 * @param command EHLO, MAIL, RCPT, RSET, AUTH replies (§4.5.3.2.2-3: 5 min); not those sent with
 *     the message in one round trip, which wait as long as its final reply
 * @param startTls the STARTTLS reply and handshake (Postfix: 5 min)
 * @param dataInitiation the 354 reply to DATA (§4.5.3.2.4: 2 min)
 * @param dataBlock each write of message content (§4.5.3.2.5: 3 min)
 * @param dataTermination the reply to the final dot or BDAT LAST (§4.5.3.2.6: 10 min), and each
 *     reply before it when the message goes with its envelope in one round trip
 */
public record SmtpTimeouts(
    Duration connect,
    Duration greeting,
    Duration command,
    Duration startTls,
    Duration dataInitiation,
    Duration dataBlock,
    Duration dataTermination) {

  /** The RFC 5321 §4.5.3.2 values. */
  public static final SmtpTimeouts RFC_5321 =
      new SmtpTimeouts(
          Duration.ofSeconds(30),
          Duration.ofMinutes(5),
          Duration.ofMinutes(5),
          Duration.ofMinutes(5),
          Duration.ofMinutes(2),
          Duration.ofMinutes(3),
          Duration.ofMinutes(10));

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
  }

  /** Every step bounded by the same duration: for tests and interactive tools. */
  public static SmtpTimeouts uniform(Duration d) {
    return new SmtpTimeouts(d, d, d, d, d, d, d);
  }
}
