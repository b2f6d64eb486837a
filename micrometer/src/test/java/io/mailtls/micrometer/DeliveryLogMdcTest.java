package io.mailtls.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DeliveryLog;
import io.mailtls.core.EventListener;
import io.mailtls.core.SecureSmtpTransport;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

/**
 * {@link DeliveryLog} next to the metrics in one listener per call, through SLF4J's JUL binding (a
 * real java.util.logging handler receives the records): one line per recipient, with the call's id
 * in the MDC while each line is logged, and the MDC left as it was.
 */
class DeliveryLogMdcTest {

  /** A logged line, its level, and the MDC's delivery id on the logging thread as it came. */
  private record Logged(Level level, String line, String deliveryId) {}

  @Test
  void eachLineCarriesItsCallsIdInTheMdc() throws Exception {
    List<Logged> logged = new CopyOnWriteArrayList<>();
    Handler handler =
        new Handler() {
          @Override
          public void publish(LogRecord r) {
            logged.add(
                new Logged(r.getLevel(), r.getMessage(), MDC.get(DeliveryLog.MDC_DELIVERY_ID)));
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
    Logger jul = Logger.getLogger(DeliveryLog.LOGGER_NAME);
    jul.addHandler(handler);
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    MailtlsMetrics metrics = MailtlsMetrics.builder(registry).build();
    DeliveryLog log = DeliveryLog.create();
    MDC.put(DeliveryLog.MDC_DELIVERY_ID, "caller's own");
    try (ScriptedDeliveries peers = new ScriptedDeliveries();
        SecureSmtpTransport transport =
            peers.transport(call -> EventListener.all(metrics.create(call), log.create(call)))) {
      ScriptedDeliveries.sendAll(transport);
    } finally {
      jul.removeHandler(handler);
    }
    assertThat(MDC.get(DeliveryLog.MDC_DELIVERY_ID)).isEqualTo("caller's own");
    MDC.remove(DeliveryLog.MDC_DELIVERY_ID);

    // The transport numbers its calls from 1: one message, one call, one line each.
    assertThat(logged).extracting(Logged::deliveryId).containsExactly("1", "2", "3", "4");
    assertThat(logged)
        .extracting(Logged::level)
        .containsExactly(Level.INFO, Level.INFO, Level.WARNING, Level.WARNING);
    assertThat(logged.get(0).line())
        .startsWith("to=<b@dane.example.test>, relay=mx.dane.example.test[127.0.0.2]:")
        .contains(", tls=VERIFIED DANE TLSv1.")
        .contains(", dsn=2.")
        .contains(", status=sent (250 ");
    assertThat(logged.get(1).line()).contains(", tls=ENCRYPTED NONE TLSv1.");
    assertThat(logged.get(2).line())
        .startsWith("to=<b@bounce.example.test>")
        .endsWith(", dsn=5.1.1, status=bounced (550 5.1.1 no such user here)");
    assertThat(logged.get(3).line())
        .startsWith("to=<b@mismatch.example.test>, relay=mx.mismatch.example.test[127.0.0.5]:")
        .contains(", tls=none, dsn=4.")
        .contains(", status=deferred (4");
    // The metrics saw the same four recipients.
    assertThat(
            registry.find(Meters.DELIVERIES).counters().stream().mapToDouble(c -> c.count()).sum())
        .isEqualTo(4.0);
  }
}
