package io.mailtls.testkit;

/**
 * The points of an SMTP session at which {@link MockSmtpServer} can be told to act differently,
 * each named after what the server is about to answer.
 *
 * <p>Immutable and thread-safe.
 */
public enum SmtpStep {
  /** The opening 220 (RFC 5321 §4.3.1: 220, or 554/421 to refuse). */
  GREETING,
  /** The reply to EHLO, with the capability lines (RFC 5321 §4.1.1.1). */
  EHLO,
  /** The reply to HELO. */
  HELO,
  /** The reply to STARTTLS; 220 starts the handshake, anything else refuses (RFC 3207 §4). */
  STARTTLS,
  /**
   * The TLS handshake itself, after the server has read the ClientHello (on STARTTLS, or at connect
   * in implicit-TLS mode, RFC 8314 §3.3). Allowed actions: {@link SmtpAction#proceed()}, {@link
   * SmtpAction#stall(java.time.Duration)}, {@link SmtpAction#hang()}, {@link
   * SmtpAction#disconnect()} (a handshake abort) and {@link SmtpAction#raw(byte[])} (bytes instead
   * of a ServerHello, then close).
   */
  TLS_HANDSHAKE,
  /** The final reply to AUTH (RFC 4954 §4: 235 on success). */
  AUTH,
  /** The reply to MAIL FROM (RFC 5321 §4.1.1.2). */
  MAIL,
  /** The reply to each RCPT TO (RFC 5321 §4.1.1.3); see also per-recipient scripting. */
  RCPT,
  /** The reply to DATA; 354 lets the client send the message (RFC 5321 §4.1.1.4). */
  DATA,
  /** The reply to the end of the message: the final dot, or BDAT ... LAST (RFC 3030 §2). */
  DATA_END,
  /** The reply to each BDAT chunk that is not the last (RFC 3030 §2). */
  BDAT,
  /** The reply to RSET. */
  RSET,
  /** The reply to NOOP. */
  NOOP,
  /** The reply to QUIT; the server closes afterwards whatever it said. */
  QUIT
}
