package io.mailtls.micrometer;

import io.mailtls.core.SecureSmtpTransport;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.WeakHashMap;
import java.util.function.ToIntFunction;

/**
 * Gauges of a transport's connection pool: {@code mailtls.connections.pooled} (idle sessions kept
 * for reuse) and {@code mailtls.connections.busy} (sessions in use, or being opened or closed).
 *
 * <p>The gauges hold the transport weakly, so they never keep a closed transport alive; a closed
 * transport counts 0. Several transports bound to one registry under the same tags share one series
 * of each gauge, which adds them up (a registry keeps one meter per name and tags, and would
 * otherwise go on reading only the first transport bound); give each transport a tag of its own to
 * see them apart.
 */
public final class TransportPoolMetrics implements MeterBinder {

  static final String POOLED = "mailtls.connections.pooled";
  static final String BUSY = "mailtls.connections.busy";

  /**
   * The transports bound to each registry, by tags: what the registry's one gauge per name and tags
   * reads. Weak in the registry (a dropped registry takes its entry along) and, in {@link Pools},
   * in the transports.
   */
  private static final Map<MeterRegistry, Map<Tags, Pools>> BOUND = new WeakHashMap<>();

  private final SecureSmtpTransport transport;
  private final Tags tags;

  /** Gauges for {@code transport}, without tags. */
  public TransportPoolMetrics(SecureSmtpTransport transport) {
    this(transport, List.of());
  }

  /**
   * Gauges for {@code transport} with {@code tags}: to tell several transports apart, give each a
   * tag of a few known values (a name, never an address). Transports bound to one registry under
   * the same tags are added up.
   */
  public TransportPoolMetrics(SecureSmtpTransport transport, Iterable<Tag> tags) {
    this.transport = Objects.requireNonNull(transport, "transport");
    this.tags = Tags.of(Objects.requireNonNull(tags, "tags"));
  }

  @Override
  public void bindTo(MeterRegistry registry) {
    Pools pools;
    synchronized (BOUND) {
      pools =
          BOUND
              .computeIfAbsent(registry, r -> new HashMap<>())
              .computeIfAbsent(tags, t -> new Pools());
    }
    pools.add(transport);
    // Held strongly by the gauges: the transports in it are held weakly.
    Gauge.builder(POOLED, pools, p -> p.sum(SecureSmtpTransport::pooledConnections))
        .description("Idle SMTP sessions kept for reuse")
        .baseUnit("connections")
        .tags(tags)
        .strongReference(true)
        .register(registry);
    Gauge.builder(BUSY, pools, p -> p.sum(SecureSmtpTransport::busyConnections))
        .description("SMTP sessions in use, or being opened or closed")
        .baseUnit("connections")
        .tags(tags)
        .strongReference(true)
        .register(registry);
  }

  /** The transports one series of the gauges adds up, held weakly. Thread-safe. */
  private static final class Pools {
    private final List<WeakReference<SecureSmtpTransport>> transports = new ArrayList<>();

    synchronized void add(SecureSmtpTransport transport) {
      for (WeakReference<SecureSmtpTransport> r : transports) {
        if (r.get() == transport) {
          return; // bound twice: counted once
        }
      }
      transports.add(new WeakReference<>(transport));
    }

    synchronized double sum(ToIntFunction<SecureSmtpTransport> count) {
      transports.removeIf(r -> r.get() == null);
      long sum = 0;
      for (WeakReference<SecureSmtpTransport> r : transports) {
        SecureSmtpTransport t = r.get();
        if (t != null) {
          sum += count.applyAsInt(t);
        }
      }
      return sum;
    }
  }
}
