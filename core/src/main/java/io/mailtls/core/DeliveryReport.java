package io.mailtls.core;

import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;

/**
 * The outcome of one {@code send}: one result per recipient, in envelope order. Nothing is lost
 * silently: every recipient of the envelope has exactly one result.
 *
 * <p>Immutable. mailtls builds it and callers read it: its constructor is not public, so that it
 * may gain components without breaking callers (docs/design.md §5).
 */
public final class DeliveryReport {

  private final List<RecipientResult> recipients;

  /** Not public: built by the transport. */
  DeliveryReport(List<RecipientResult> recipients) {
    recipients = List.copyOf(recipients);
    this.recipients = recipients;
  }

  /** One result per recipient, in envelope order. */
  public List<RecipientResult> recipients() {
    return recipients;
  }

  /** Equal when every component is. */
  @Override
  public boolean equals(Object o) {
    return o instanceof DeliveryReport other && recipients.equals(other.recipients);
  }

  @Override
  public int hashCode() {
    return Objects.hash(recipients);
  }

  /** The result for one recipient. */
  public RecipientResult result(EmailAddress recipient) {
    return recipients.stream()
        .filter(r -> r.recipient().equals(recipient))
        .findFirst()
        .orElseThrow(() -> new NoSuchElementException("no result for " + recipient));
  }

  /** The result for one recipient, parsed. */
  public RecipientResult result(String recipient) {
    return result(EmailAddress.parse(recipient));
  }

  /** Whether every recipient was delivered. */
  public boolean allDelivered() {
    return recipients.stream().allMatch(r -> r.status() == DeliveryStatus.DELIVERED);
  }

  /** The results with a given status. */
  public List<RecipientResult> withStatus(DeliveryStatus status) {
    return recipients.stream().filter(r -> r.status() == status).toList();
  }

  /** In the form a record has: {@code DeliveryReport[recipients=…, …]}. */
  @Override
  public String toString() {
    return "DeliveryReport[recipients=" + recipients + "]";
  }
}
