package io.mailtls.core;

import io.mailtls.core.internal.smtp.EsmtpParameter;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A request for delivery status notifications (DSNs, RFC 3461): when the servers along the path
 * should notify the envelope's sender, what a notification returns of the message, and the
 * identifiers it carries back. Part of an {@link Envelope} ({@link Envelope#withDsn}). Immutable.
 *
 * <p>The transport passes the request on only to a server whose EHLO reply (over TLS when TLS is
 * used) advertises {@code DSN} (RFC 3461 §3): {@code RET=} and {@code ENVID=} on {@code MAIL FROM},
 * {@code NOTIFY=} and {@code ORCPT=} on each {@code RCPT TO} (§4). A server without the extension
 * still gets the message, without the parameters (§5.2.2: the client cannot pass the request on);
 * each recipient's {@link RecipientResult#dsn()} then says {@link DsnHandling#NOT_PASSED_ON}, which
 * for a delivered recipient is what RFC 3464 §2.3.3 calls {@code relayed}: no success notification
 * will come from further along.
 *
 * <p>Every value is checked here, when the request is built; a send never fails for it.
 *
 * @param notifyOn the conditions of {@code NOTIFY=} (RFC 3461 §4.1): {@link Notify#NEVER} alone, or
 *     any of {@link Notify#SUCCESS}, {@link Notify#FAILURE}, {@link Notify#DELAY}; empty for no
 *     {@code NOTIFY} parameter, which leaves the server's default ({@code FAILURE,DELAY})
 * @param ret {@code RET=FULL} or {@code RET=HDRS} (RFC 3461 §4.3): what a failure notification
 *     returns of the message; empty for the server's choice
 * @param envelopeId {@code ENVID=} (RFC 3461 §4.4), an identifier of the transaction that a
 *     notification carries back: printable US-ASCII, at most 100 characters once xtext-encoded
 * @param originalRecipients whether each {@code RCPT TO} carries {@code ORCPT=} (RFC 3461 §4.2)
 *     naming the recipient as the envelope gives it, as Postfix sends it: {@code rfc822;} and the
 *     xtext-encoded address, or {@code utf-8;} and the address encoded as RFC 6533 §3 {@code
 *     utf-8-addr-xtext} for an address that needs SMTPUTF8. Default true
 */
public record DsnRequest(
    Set<Notify> notifyOn,
    Optional<Ret> ret,
    Optional<String> envelopeId,
    boolean originalRecipients) {

  /** The conditions of {@code NOTIFY=} (RFC 3461 §4.1). */
  public enum Notify {
    /** No notification whatever happens; only alone. */
    NEVER,
    /** Notify on successful delivery. */
    SUCCESS,
    /** Notify on failure. */
    FAILURE,
    /** Notify when delivery is delayed. */
    DELAY
  }

  /** The values of {@code RET=} (RFC 3461 §4.3). */
  public enum Ret {
    /** A failure notification returns the full message. */
    FULL,
    /** A failure notification returns the header section only. */
    HDRS
  }

  /**
   * Checks the request.
   *
   * @throws IllegalArgumentException when {@code NEVER} is combined with another condition, or the
   *     envelope identifier is empty, not printable US-ASCII, or over 100 characters as xtext
   */
  public DsnRequest {
    Objects.requireNonNull(notifyOn, "notifyOn");
    Objects.requireNonNull(ret, "ret");
    Objects.requireNonNull(envelopeId, "envelopeId");
    notifyOn.forEach(n -> Objects.requireNonNull(n, "notify condition"));
    // In RFC 3461 §4.1's order on the wire: SUCCESS, FAILURE, DELAY.
    notifyOn =
        notifyOn.isEmpty() ? Set.of() : Collections.unmodifiableSet(EnumSet.copyOf(notifyOn));
    if (notifyOn.contains(Notify.NEVER) && notifyOn.size() > 1) {
      // RFC 3461 §4.1: notify-esmtp-value = "NEVER" / 1#notify-list-element
      throw new IllegalArgumentException(
          "NOTIFY=NEVER cannot be combined with other conditions (RFC 3461 §4.1): " + notifyOn);
    }
    envelopeId.ifPresent(EsmtpParameter::envid); // RFC 3461 §4.4, throws when unusable
  }

  /**
   * A request to be notified on {@code conditions} (RFC 3461 §4.1), with ORCPT and no RET or ENVID:
   * {@code DsnRequest.on(Notify.SUCCESS, Notify.FAILURE)}.
   *
   * @throws IllegalArgumentException when {@code NEVER} is combined with another condition
   */
  public static DsnRequest on(Notify... conditions) {
    return new DsnRequest(
        Set.copyOf(Arrays.asList(conditions)), Optional.empty(), Optional.empty(), true);
  }

  /** {@code NOTIFY=NEVER}: no notification, not even of a failure (RFC 3461 §4.1). */
  public static DsnRequest never() {
    return on(Notify.NEVER);
  }

  /**
   * A request without {@code NOTIFY}, which leaves the server's default (notify on failure and
   * delay, RFC 3461 §4.1), for a RET or ENVID alone.
   */
  public static DsnRequest serverDefault() {
    return on();
  }

  /** This request with {@code RET=ret} (RFC 3461 §4.3). */
  public DsnRequest withRet(Ret ret) {
    return new DsnRequest(notifyOn, Optional.of(ret), envelopeId, originalRecipients);
  }

  /**
   * This request with {@code ENVID} (RFC 3461 §4.4).
   *
   * @throws IllegalArgumentException when the identifier is empty, not printable US-ASCII, or over
   *     100 characters as xtext
   */
  public DsnRequest withEnvelopeId(String envelopeId) {
    return new DsnRequest(notifyOn, ret, Optional.of(envelopeId), originalRecipients);
  }

  /** This request with or without {@code ORCPT} on each recipient (RFC 3461 §4.2). */
  public DsnRequest withOriginalRecipients(boolean originalRecipients) {
    return new DsnRequest(notifyOn, ret, envelopeId, originalRecipients);
  }
}
