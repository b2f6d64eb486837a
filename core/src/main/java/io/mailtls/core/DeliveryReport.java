package io.mailtls.core;

import java.util.List;
import java.util.NoSuchElementException;

/**
 * The outcome of one {@code send}: one result per recipient, in envelope order. Nothing is lost
 * silently: every recipient of the envelope has exactly one result. Immutable.
 */
public record DeliveryReport(List<RecipientResult> recipients) {

  public DeliveryReport {
    recipients = List.copyOf(recipients);
  }

  /** The result for one recipient. */
  public RecipientResult result(EmailAddress recipient) {
    return recipients.stream().filter(r -> r.recipient().equals(recipient)).findFirst()
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
}
