package io.mailtls.core;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The outcome for one recipient.
 *
 * <p>Immutable. mailtls builds it and callers read it: its constructor is not public, so that it
 * may gain components without breaking callers (docs/design.md §5).
 */
public final class RecipientResult {

  private final EmailAddress recipient;
  private final DeliveryStatus status;
  private final SmtpReply reply;
  private final Optional<Attempt> attempt;
  private final DeliveryPlan plan;
  private final List<Attempt> attempts;
  private final Timings timings;
  private final DsnHandling dsn;

  /** Not public: built by the transport; without timings ({@link Timings#NONE}). */
  RecipientResult(
      EmailAddress recipient,
      DeliveryStatus status,
      SmtpReply reply,
      Optional<Attempt> attempt,
      DeliveryPlan plan,
      List<Attempt> attempts) {
    this(recipient, status, reply, attempt, plan, attempts, Timings.NONE);
  }

  /** Not public: built by the transport. */
  RecipientResult(
      EmailAddress recipient,
      DeliveryStatus status,
      SmtpReply reply,
      Optional<Attempt> attempt,
      DeliveryPlan plan,
      List<Attempt> attempts,
      Timings timings) {
    this(recipient, status, reply, attempt, plan, attempts, timings, DsnHandling.NOT_REQUESTED);
  }

  /** Not public: built by the transport. */
  RecipientResult(
      EmailAddress recipient,
      DeliveryStatus status,
      SmtpReply reply,
      Optional<Attempt> attempt,
      DeliveryPlan plan,
      List<Attempt> attempts,
      Timings timings,
      DsnHandling dsn) {
    Objects.requireNonNull(recipient, "recipient");
    Objects.requireNonNull(dsn, "dsn");
    Objects.requireNonNull(status, "status");
    Objects.requireNonNull(reply, "reply");
    Objects.requireNonNull(attempt, "attempt");
    Objects.requireNonNull(plan, "plan");
    Objects.requireNonNull(timings, "timings");
    attempts = List.copyOf(attempts);
    this.recipient = recipient;
    this.status = status;
    this.reply = reply;
    this.attempt = attempt;
    this.plan = plan;
    this.attempts = attempts;
    this.timings = timings;
    this.dsn = dsn;
  }

  /** This result with {@code timings} (the transport adds the plan and the total). */
  RecipientResult withTimings(Timings timings) {
    return new RecipientResult(recipient, status, reply, attempt, plan, attempts, timings, dsn);
  }

  /** This result with {@code dsn}. */
  RecipientResult withDsn(DsnHandling dsn) {
    return new RecipientResult(recipient, status, reply, attempt, plan, attempts, timings, dsn);
  }

  /** This result with {@code attempts} instead (a second round's added to the first's). */
  RecipientResult withAttempts(List<Attempt> attempts) {
    return new RecipientResult(recipient, status, reply, attempt, plan, attempts, timings, dsn);
  }

  /** The recipient. */
  public EmailAddress recipient() {
    return recipient;
  }

  /** Delivered, deferred or bounced. */
  public DeliveryStatus status() {
    return status;
  }

  /**
   * The SMTP reply that decided (locally generated when no server said anything: see {@link
   * SmtpReply}).
   */
  public SmtpReply reply() {
    return reply;
  }

  /**
   * The connection attempt that decided, if one did (MX host, address, TLS details,
   * authentication).
   */
  public Optional<Attempt> attempt() {
    return attempt;
  }

  /** The delivery plan for the recipient's domain: the decision record. */
  public DeliveryPlan plan() {
    return plan;
  }

  /** Every connection attempt made for the recipient's domain, in order. */
  public List<Attempt> attempts() {
    return attempts;
  }

  /**
   * Where the recipient's time went: planning its domain, and the connection set-up, TLS and
   * transactions of the attempts up to the deciding one; the total runs from the start of the call.
   */
  public Timings timings() {
    return timings;
  }

  /**
   * What became of the envelope's request for delivery status notifications (RFC 3461) for this
   * recipient: {@link DsnHandling#NOT_REQUESTED} when the envelope made none; {@link
   * DsnHandling#PASSED_ON} when the server that decided got it; else {@link
   * DsnHandling#NOT_PASSED_ON} (the server does not offer DSN, RFC 3461 §5.2.2: for a delivered
   * recipient no notification, not even NOTIFY=SUCCESS's, will come from beyond it).
   */
  public DsnHandling dsn() {
    return dsn;
  }

  /** Equal when every component is. */
  @Override
  public boolean equals(Object o) {
    return o instanceof RecipientResult other
        && recipient.equals(other.recipient)
        && status.equals(other.status)
        && reply.equals(other.reply)
        && attempt.equals(other.attempt)
        && plan.equals(other.plan)
        && attempts.equals(other.attempts)
        && timings.equals(other.timings)
        && dsn == other.dsn;
  }

  @Override
  public int hashCode() {
    return Objects.hash(recipient, status, reply, attempt, plan, attempts, timings, dsn);
  }

  /** The TLS session of the deciding attempt, if it used TLS. */
  public Optional<TlsDetails> tls() {
    return attempt.flatMap(Attempt::tls);
  }

  /** How the peer of the deciding attempt was authenticated. */
  public Optional<Authentication> authentication() {
    return attempt.flatMap(Attempt::authentication);
  }

  /** The MX host of the deciding attempt. */
  public Optional<DomainName> mxHost() {
    return attempt.flatMap(Attempt::host);
  }

  @Override
  public String toString() {
    return recipient + ": " + status + " " + reply + attempt.map(a -> " via " + a).orElse("");
  }
}
