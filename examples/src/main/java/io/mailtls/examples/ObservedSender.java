package io.mailtls.examples;

import io.mailtls.core.DeliveryLog;
import io.mailtls.core.DeliveryReport;
import io.mailtls.core.Envelope;
import io.mailtls.core.EventListener;
import io.mailtls.core.MessageContent;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SenderPolicy;
import io.mailtls.core.TlsLevel;
import io.mailtls.micrometer.MailtlsMetrics;
import io.mailtls.micrometer.TransportPoolMetrics;
import io.mailtls.standard.StandardTransport;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.observation.ObservationRegistry;

/**
 * A sender its operators can watch: Micrometer meters and observations for every delivery (through
 * {@link MailtlsMetrics}), pool gauges ({@link TransportPoolMetrics}) and one Postfix-style log
 * line per recipient ({@link DeliveryLog}), all from the transport's event listener factory.
 */
public final class ObservedSender {

  private ObservedSender() {}

  /**
   * Sends {@code message} at the opportunistic level with the standard set-up, recording into
   * {@code meterRegistry} and {@code observationRegistry}.
   */
  public static DeliveryReport send(
      SendOneMessage.Settings settings,
      MeterRegistry meterRegistry,
      ObservationRegistry observationRegistry,
      Envelope envelope,
      MessageContent message) {
    MailtlsMetrics metrics =
        MailtlsMetrics.builder(meterRegistry).observationRegistry(observationRegistry).build();
    DeliveryLog log = DeliveryLog.create();
    try (SecureSmtpTransport transport =
        StandardTransport.setup(settings.stateDirectory())
            .dns(settings.dns())
            .transportBuilder()
            .senderPolicy(SenderPolicy.uniform(TlsLevel.OPPORTUNISTIC))
            .heloName(settings.heloName())
            .port(settings.smtpPort())
            .eventListenerFactory(call -> EventListener.all(metrics.create(call), log.create(call)))
            .build()) {
      new TransportPoolMetrics(transport).bindTo(meterRegistry);
      return transport.send(envelope, message);
    }
  }
}
