package io.mailtls.jakartamail;

import io.mailtls.core.DeliveryReport;
import jakarta.mail.Address;
import jakarta.mail.SendFailedException;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The {@link SendFailedException} of {@link MailtlsTransport}: valid-sent are the delivered
 * recipients, valid-unsent the deferred ones (a transient failure: try again later), invalid the
 * bounced ones (a permanent failure) and any address mailtls cannot send to. {@link #report()}
 * holds every recipient's result (status, SMTP reply, attempts, TLS details), when the message
 * reached the transport.
 */
public final class MailtlsSendFailedException extends SendFailedException {

  private static final long serialVersionUID = 1L;

  /** Not serialized: a deserialized exception has no report. */
  private final transient @Nullable DeliveryReport report;

  MailtlsSendFailedException(
      String message,
      Address[] validSent,
      Address[] validUnsent,
      Address[] invalid,
      @Nullable DeliveryReport report) {
    this(message, null, validSent, validUnsent, invalid, report);
  }

  /**
   * With the exception that stopped the message as its cause: {@link
   * jakarta.mail.MessagingException} fixes its cause in the constructor, so it cannot be set
   * afterwards.
   */
  MailtlsSendFailedException(
      String message,
      @Nullable Exception cause,
      Address[] validSent,
      Address[] validUnsent,
      Address[] invalid,
      @Nullable DeliveryReport report) {
    super(message, cause, validSent, validUnsent, invalid);
    this.report = report;
  }

  /**
   * The per-recipient results; empty when the message was stopped before it reached the transport
   * (an unusable address or envelope sender), or after deserialization.
   */
  public Optional<DeliveryReport> report() {
    return Optional.ofNullable(report);
  }
}
