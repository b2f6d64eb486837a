package io.mailtls.core;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The SMTP envelope: reverse-path and forward-paths (RFC 5321 §2.3.1), whether the message asks for
 * REQUIRETLS (RFC 8689), and its request for delivery status notifications (RFC 3461). Immutable.
 *
 * @param sender the reverse-path; empty for the null path {@code <>} of bounces (RFC 5321 §4.5.5)
 * @param recipients one or more recipients, without duplicates, in order
 * @param requireTls whether the message asks for REQUIRETLS (RFC 8689 §4.2.1): every hop the
 *     transport makes is then authenticated (DANE, or PKIX under MTA-STS), reached through a
 *     DNSSEC-secure MX answer or one that an MTA-STS policy lists, and to a server that advertises
 *     REQUIRETLS after STARTTLS; {@code MAIL FROM} carries {@code REQUIRETLS}. When no hop can, the
 *     message is not sent (5.7.30). It wins over a {@code TLS-Required: No} header field (RFC 8689
 *     §4.1). Default false. See docs/design.md, "REQUIRETLS and TLS-Required".
 * @param dsn the message's request for delivery status notifications (RFC 3461), passed on to
 *     servers that advertise DSN; empty for none (the servers' defaults). See {@link DsnRequest}.
 */
public record Envelope(
    Optional<EmailAddress> sender,
    List<EmailAddress> recipients,
    boolean requireTls,
    Optional<DsnRequest> dsn) {

  public Envelope {
    Objects.requireNonNull(sender, "sender");
    Objects.requireNonNull(dsn, "dsn");
    recipients = List.copyOf(new LinkedHashSet<>(recipients));
    if (recipients.isEmpty()) {
      throw new IllegalArgumentException("an envelope needs at least one recipient");
    }
  }

  /** An envelope without a DSN request. */
  public Envelope(
      Optional<EmailAddress> sender, List<EmailAddress> recipients, boolean requireTls) {
    this(sender, recipients, requireTls, Optional.empty());
  }

  /** An envelope without REQUIRETLS or a DSN request. */
  public Envelope(Optional<EmailAddress> sender, List<EmailAddress> recipients) {
    this(sender, recipients, false);
  }

  /**
   * This envelope, asking for REQUIRETLS (RFC 8689) or not: {@code Envelope.of("a@example.org",
   * "b@example.com").requireTls(true)}. The DSN request stays.
   */
  public Envelope requireTls(boolean requireTls) {
    return new Envelope(sender, recipients, requireTls, dsn);
  }

  /**
   * This envelope with a request for delivery status notifications (RFC 3461): {@code
   * Envelope.of("a@example.org", "b@example.com").withDsn(DsnRequest.on(Notify.SUCCESS,
   * Notify.FAILURE).withEnvelopeId("q-4711"))}.
   */
  public Envelope withDsn(DsnRequest dsn) {
    return new Envelope(sender, recipients, requireTls, Optional.of(dsn));
  }

  /** This envelope without a DSN request: the servers' defaults apply (RFC 3461 §4.1). */
  public Envelope withoutDsn() {
    return new Envelope(sender, recipients, requireTls, Optional.empty());
  }

  /**
   * This envelope to {@code recipients} instead, with the same sender, REQUIRETLS and DSN request:
   * what a retry of the deferred recipients sends (RFC 5321 §4.5.4.1). Rebuilding the envelope from
   * its sender and recipients alone would drop the message's REQUIRETLS and DSN request.
   *
   * @throws IllegalArgumentException if {@code recipients} is empty
   */
  public Envelope withRecipients(List<EmailAddress> recipients) {
    return new Envelope(sender, recipients, requireTls, dsn);
  }

  /**
   * An envelope from parsed addresses.
   *
   * @throws IllegalArgumentException naming the first invalid address
   */
  public static Envelope of(String sender, String... recipients) {
    List<EmailAddress> to = new ArrayList<>();
    for (String r : recipients) {
      to.add(EmailAddress.parse(r));
    }
    return new Envelope(Optional.of(EmailAddress.parse(sender)), to);
  }

  /** An envelope with the null reverse-path, as used for bounces and other notifications. */
  public static Envelope ofNullSender(List<EmailAddress> recipients) {
    return new Envelope(Optional.empty(), recipients);
  }

  /** The sender's domain, which selects the sender's TLS level; empty for the null path. */
  public Optional<DomainName> senderDomain() {
    return sender.flatMap(
        s -> s.domain() instanceof NextHop.Domain d ? Optional.of(d.name()) : Optional.empty());
  }
}
