package io.mailtls.core.internal.transport;

/**
 * The steps of a client SMTP session, as failures, notes and reports name them. {@link #toString()}
 * is the text those messages print ({@code "MAIL"}, {@code "end of DATA"}), so that a step is never
 * passed around as a bare string. Immutable.
 */
enum SmtpStep {
  /** The TCP connection (and, for implicit TLS, the handshake before the greeting). */
  CONNECT("connect"),
  /** The server's 220 greeting (RFC 5321 §3.1). */
  GREETING("greeting"),
  /** EHLO (RFC 5321 §4.1.1.1), before TLS and again after it (RFC 3207 §4.2). */
  EHLO("EHLO"),
  /** HELO, after EHLO got a 5xx (RFC 5321 §4.1.4). */
  HELO("HELO"),
  /** The STARTTLS command and its reply (RFC 3207 §4). */
  STARTTLS("STARTTLS"),
  /** The TLS handshake and the verification of the server's certificate. */
  TLS_HANDSHAKE("TLS handshake"),
  /** SMTP AUTH with a relay (RFC 4954). */
  AUTH("AUTH"),
  /** RSET (RFC 5321 §4.1.1.5). */
  RSET("RSET"),
  /** MAIL FROM (RFC 5321 §4.1.1.2). */
  MAIL("MAIL"),
  /** RCPT TO (RFC 5321 §4.1.1.3). */
  RCPT("RCPT"),
  /** DATA and its 354 (RFC 5321 §4.1.1.4), and the content that follows it. */
  DATA("DATA"),
  /** The reply to the final dot of DATA (RFC 5321 §4.1.1.4). */
  END_OF_DATA("end of DATA"),
  /** A BDAT chunk that is not the last (RFC 3030 §2). */
  BDAT("BDAT"),
  /** The reply to BDAT ... LAST (RFC 3030 §2). */
  BDAT_LAST("BDAT LAST"),
  /** QUIT (RFC 5321 §4.1.1.10). */
  QUIT("QUIT");

  private final String text;

  SmtpStep(String text) {
    this.text = text;
  }

  /** The step as messages print it, e.g. {@code "RCPT"} or {@code "end of DATA"}. */
  @Override
  public String toString() {
    return text;
  }
}
