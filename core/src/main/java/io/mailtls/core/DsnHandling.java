package io.mailtls.core;

/**
 * What became of an envelope's {@link DsnRequest} for one recipient (RFC 3461), in {@link
 * RecipientResult#dsn()}.
 */
public enum DsnHandling {
  /** The envelope asked for no delivery status notification. */
  NOT_REQUESTED,

  /**
   * The request went to the server that decided the recipient: it advertised {@code DSN} (RFC 3461
   * §3) and got the recipient's {@code RCPT TO} with {@code NOTIFY}/{@code ORCPT}, and {@code MAIL
   * FROM} with {@code RET}/{@code ENVID}, and answered that {@code RCPT TO} within the transaction.
   * Notifications, if any, come from that server or beyond.
   */
  PASSED_ON,

  /**
   * The request was not passed on: the server that decided the recipient does not advertise {@code
   * DSN}, so the message went without the parameters (RFC 3461 §5.2.2), or the recipient was
   * decided before any server answered its {@code RCPT TO} (a session lost after the command was
   * written tells nothing of whether the server read it), or by a refused {@code MAIL FROM} (the
   * {@code RCPT TO}s pipelined with it opened no transaction, RFC 5321 §4.1.4). For a delivered
   * recipient this is RFC 3464 §2.3.3's {@code relayed}: no notification will come from further
   * along, not even the success one a {@code NOTIFY=SUCCESS} asked for; the result itself is the
   * last word.
   */
  NOT_PASSED_ON
}
