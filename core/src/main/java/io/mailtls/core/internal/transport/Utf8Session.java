package io.mailtls.core.internal.transport;

import io.mailtls.core.Attempt;
import io.mailtls.core.EmailAddress;
import io.mailtls.core.EnhancedStatus;
import io.mailtls.core.FailureType;
import io.mailtls.core.SmtpReply;
import io.mailtls.core.internal.smtp.EhloCapabilities;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The session's part of RFC 6531 §3.2: a client MUST NOT transmit what needs SMTPUTF8 to a server
 * that does not offer it, be it header fields that carry UTF-8 (RFC 6532) or an envelope address
 * that is not ASCII (§3.3). What such a server cannot take is tried at the next MX host (§3.2
 * allows an alternate MX host, and §3.7.2 notes that MX hosts of one domain may differ); when no
 * host offered SMTPUTF8, it is returned (§3.5: 553 5.6.7 for a recipient's address, 550 5.6.7 for
 * the sender's, 550 5.6.9 for header fields).
 *
 * <p>When nothing of the message can go to the server (UTF-8 header fields, a UTF-8 sender, or only
 * UTF-8 recipients left), the attempt fails before {@code MAIL FROM}, as one to a server without
 * REQUIRETLS does ({@link RequireTlsSession}). When only some recipients need it, the others are
 * delivered there and those are {@linkplain #refused left} for the next host.
 */
final class Utf8Session {

  private Utf8Session() {}

  /** What needs SMTPUTF8, with the reply that refuses it (RFC 6531 §3.5, §4.2). */
  enum Need {
    /** UTF-8 header fields (RFC 6532): every recipient, 550 5.6.9. */
    HEADERS(550, "the message has UTF-8 header fields (RFC 6532)"),
    /** A UTF-8 sender address: every recipient, 550 5.6.7 (the MAIL command's code). */
    SENDER(550, "the sender address is not ASCII (RFC 6531 §3.3)"),
    /** A UTF-8 recipient address: that recipient, 553 5.6.7 (the RCPT command's code). */
    RECIPIENT(553, "the recipient address is not ASCII (RFC 6531 §3.3)");

    private final int code;
    private final String what;

    Need(int code, String what) {
      this.code = code;
      this.what = what;
    }

    /** RFC 6531 §3.5: 5.6.9 for header fields, 5.6.7 for an address. */
    EnhancedStatus status() {
      return this == HEADERS
          ? EnhancedStatus.UTF8_HEADERS_NOT_TRANSFERABLE
          : EnhancedStatus.NON_ASCII_ADDRESS_NOT_PERMITTED;
    }

    /**
     * What makes a recipient that no server could take need SMTPUTF8: the header fields or the
     * sender when they do (they concern every recipient), else its own address.
     */
    static Need of(ContentFacts scan, Optional<EmailAddress> sender) {
      if (scan.utf8Headers()) {
        return HEADERS;
      }
      return sender.map(EmailAddress::needsSmtpUtf8).orElse(false) ? SENDER : RECIPIENT;
    }

    /** The text of what needs SMTPUTF8, for a reply. */
    String what() {
      return what;
    }
  }

  /**
   * Why {@code conn} cannot carry the message for any of {@code pending}, or empty when it offers
   * SMTPUTF8 or can take some of them ({@link #refused} says which it cannot).
   */
  static Optional<SessionFailure> check(
      SmtpConnection conn,
      Optional<EmailAddress> sender,
      List<EmailAddress> pending,
      ContentFacts scan) {
    if (offered(conn)) {
      return Optional.empty();
    }
    Need need = Need.of(scan, sender);
    if (need == Need.RECIPIENT && !pending.stream().allMatch(EmailAddress::needsSmtpUtf8)) {
      return Optional.empty();
    }
    String what = need == Need.RECIPIENT ? "no recipient address left is ASCII" : need.what;
    String text =
        what + " and the server does not offer SMTPUTF8; message not sent (RFC 6531 §3.2)";
    return Optional.of(
        new SessionFailure(
            FailureType.SMTPUTF8_UNAVAILABLE,
            text,
            SmtpReply.local(need.code, need.status(), text),
            null));
  }

  /**
   * The recipients of {@code pending} whose addresses {@code conn} cannot take (not ASCII, and no
   * SMTPUTF8): not sent there, left for the next MX host. Empty when the server offers SMTPUTF8.
   */
  static List<EmailAddress> refused(SmtpConnection conn, List<EmailAddress> pending) {
    List<EmailAddress> refused = new ArrayList<>();
    if (!offered(conn)) {
      for (EmailAddress r : pending) {
        if (r.needsSmtpUtf8()) {
          refused.add(r);
        }
      }
    }
    return refused;
  }

  private static boolean offered(SmtpConnection conn) {
    EhloCapabilities caps = conn.capabilities();
    return caps != null && caps.smtpUtf8();
  }

  /**
   * The transient reply for recipients {@linkplain #refused left} by a server that took others:
   * another host, or a later try, may offer SMTPUTF8.
   */
  static SmtpReply leftForAnotherHost() {
    return SmtpReply.local(
        451,
        Need.RECIPIENT.status().withStatusClass(4),
        Need.RECIPIENT.what
            + " and the last server tried does not offer SMTPUTF8; not sent there (RFC 6531 §3.2)");
  }

  /** The permanent reply when no host offered SMTPUTF8 (RFC 6531 §3.5: 5.6.7 or 5.6.9). */
  static SmtpReply bounce(List<Attempt> attempts, Need need) {
    return SmtpReply.local(
        need.code,
        need.status(),
        need.what
            + ", and none of the "
            + attempts.size()
            + " server(s) tried offered SMTPUTF8; message not sent (RFC 6531 §3.2)");
  }

  /** The transient reply when no tried host offered SMTPUTF8 but others may later. */
  static SmtpReply later(List<Attempt> attempts, Need need, boolean untried) {
    return SmtpReply.local(
        451,
        need.status().withStatusClass(4),
        need.what
            + ", none of the "
            + attempts.size()
            + " server(s) tried offered SMTPUTF8, and "
            + (untried ? "the attempt limit left MX hosts untried" : "other hosts were skipped")
            + "; not sent (RFC 6531 §3.2)");
  }
}
