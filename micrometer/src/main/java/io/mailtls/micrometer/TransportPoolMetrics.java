package io.mailtls.micrometer;

import io.mailtls.core.SecureSmtpTransport;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.List;
import java.util.Objects;

/**
 * Gauges of a transport's connection pool: {@code mailtls.connections.pooled} (idle sessions kept
 * for reuse) and {@code mailtls.connections.busy} (sessions in use, or being opened or closed). The
 * gauges hold the transport weakly, as Micrometer's gauges do, so they never keep a closed
 * transport alive.
 */
public final class TransportPoolMetrics implements MeterBinder {

  static final String POOLED = "mailtls.connections.pooled";
  static final String BUSY = "mailtls.connections.busy";

  private final SecureSmtpTransport transport;
  private final List<Tag> tags;

  /** Gauges for {@code transport}, without tags. */
  public TransportPoolMetrics(SecureSmtpTransport transport) {
    this(transport, List.of());
  }

  /**
   * Gauges for {@code transport} with {@code tags}: to tell several transports apart, give each a
   * tag of a few known values (a name, never an address).
   */
  public TransportPoolMetrics(SecureSmtpTransport transport, Iterable<Tag> tags) {
    this.transport = Objects.requireNonNull(transport, "transport");
    java.util.ArrayList<Tag> copy = new java.util.ArrayList<>();
    tags.forEach(copy::add);
    this.tags = List.copyOf(copy);
  }

  @Override
  public void bindTo(MeterRegistry registry) {
    Gauge.builder(POOLED, transport, SecureSmtpTransport::pooledConnections)
        .description("Idle SMTP sessions kept for reuse")
        .baseUnit("connections")
        .tags(tags)
        .register(registry);
    Gauge.builder(BUSY, transport, SecureSmtpTransport::busyConnections)
        .description("SMTP sessions in use, or being opened or closed")
        .baseUnit("connections")
        .tags(tags)
        .register(registry);
  }
}
