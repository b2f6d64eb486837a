package io.mailtls.spring;

import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.RecipientResult;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * A message that mailtls did not deliver to every recipient: the value of its entry in {@link
 * org.springframework.mail.MailSendException#getFailedMessages()}. {@link #report()} holds every
 * recipient's result (status, SMTP reply, the TLS authentication of the attempt), the delivered
 * ones included: a message partly delivered must not be sent again to those.
 */
public final class MailtlsDeliveryException extends Exception {

  private static final long serialVersionUID = 1L;

  private final transient DeliveryReport report;

  /** The failure for {@code report}, which has at least one recipient not delivered. */
  public MailtlsDeliveryException(DeliveryReport report) {
    super(describe(Objects.requireNonNull(report, "report")));
    this.report = report;
  }

  private static String describe(DeliveryReport report) {
    return "not delivered to every recipient: "
        + report.recipients().stream()
            .filter(r -> r.status() != DeliveryStatus.DELIVERED)
            .map(r -> r.recipient() + " " + r.status() + " (" + r.reply() + ")")
            .collect(Collectors.joining("; "));
  }

  /** Every recipient's result. */
  public DeliveryReport report() {
    return report;
  }

  /** The results of the recipients that were not delivered (deferred or failed). */
  public List<RecipientResult> undelivered() {
    return report.recipients().stream()
        .filter(r -> r.status() != DeliveryStatus.DELIVERED)
        .collect(Collectors.toUnmodifiableList());
  }
}
