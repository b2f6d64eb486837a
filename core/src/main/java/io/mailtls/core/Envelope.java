package io.mailtls.core;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The SMTP envelope: reverse-path and forward-paths (RFC 5321 §2.3.1), and whether the message asks
 * for REQUIRETLS (RFC 8689). Immutable.
 *
 * @param sender the reverse-path; empty for the null path {@code <>} of bounces (RFC 5321 §4.5.5)
 * @param recipients one or more recipients, without duplicates, in order
 * @param requireTls whether the message asks for REQUIRETLS (RFC 8689 §4.2.1): every hop the
 *     transport makes is then authenticated (DANE, or PKIX under MTA-STS), reached through a
 *     DNSSEC-secure MX answer or one that an MTA-STS policy lists, and to a server that advertises
 *     REQUIRETLS after STARTTLS; {@code MAIL FROM} carries {@code REQUIRETLS}. When no hop can, the
 *     message is not sent (5.7.30). It wins over a {@code TLS-Required: No} header field (RFC 8689
 *     §4.1). Default false. See docs/design.md, "REQUIRETLS and TLS-Required".
 */
public record Envelope(
    Optional<EmailAddress> sender, List<EmailAddress> recipients, boolean requireTls) {

  public Envelope {
    Objects.requireNonNull(sender, "sender");
    recipients = List.copyOf(new LinkedHashSet<>(recipients));
    if (recipients.isEmpty()) {
      throw new IllegalArgumentException("an envelope needs at least one recipient");
    }
  }

  /** An envelope without REQUIRETLS. */
  public Envelope(Optional<EmailAddress> sender, List<EmailAddress> recipients) {
    this(sender, recipients, false);
  }

  /**
   * This envelope, asking for REQUIRETLS (RFC 8689) or not: {@code Envelope.of("a@example.org",
   * "b@example.com").requireTls(true)}.
   */
  public Envelope requireTls(boolean requireTls) {
    return new Envelope(sender, recipients, requireTls);
  }

  /**
   * This envelope to {@code recipients} instead, with the same sender and REQUIRETLS: what a retry
   * of the deferred recipients sends (RFC 5321 §4.5.4.1). Rebuilding the envelope from its sender
   * and recipients alone would drop the message's REQUIRETLS.
   *
   * @throws IllegalArgumentException if {@code recipients} is empty
   */
  public Envelope withRecipients(List<EmailAddress> recipients) {
    return new Envelope(sender, recipients, requireTls);
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
