package io.mailtls.core;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The SMTP envelope: reverse-path and forward-paths (RFC 5321 §2.3.1). Immutable.
 *
 * @param sender the reverse-path; empty for the null path {@code <>} of bounces (RFC 5321 §4.5.5)
 * @param recipients one or more recipients, without duplicates, in order
 */
public record Envelope(Optional<EmailAddress> sender, List<EmailAddress> recipients) {

  public Envelope {
    Objects.requireNonNull(sender, "sender");
    recipients = List.copyOf(new LinkedHashSet<>(recipients));
    if (recipients.isEmpty()) {
      throw new IllegalArgumentException("an envelope needs at least one recipient");
    }
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
