package io.mailtls.micrometer;

import io.mailtls.core.DeliveryCall;
import io.mailtls.core.DomainName;
import io.mailtls.core.EventListener;
import io.mailtls.core.NextHop;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.observation.ObservationRegistry;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Micrometer metrics and observations for a mailtls transport: an {@link EventListener.Factory}
 * whose listener of each call counts its recipients' outcomes, its connection attempts and the
 * policy failures it met, times planning, connection set-up, TLS and the transaction, and makes one
 * {@link io.micrometer.observation.Observation} per delivery with one child per connection attempt
 * (docs/metrics.md lists every name and tag).
 *
 * <pre>{@code
 * MailtlsMetrics metrics = MailtlsMetrics.builder(meterRegistry)
 *     .observationRegistry(observationRegistry)
 *     .build();
 * SecureSmtpTransport transport = SecureSmtpTransport.builder()
 *     ...
 *     .eventListenerFactory(metrics)
 *     .build();
 * new TransportPoolMetrics(transport).bindTo(meterRegistry);
 * }</pre>
 *
 * <p>Tags are bounded: no recipient address ever becomes a tag value, nor a host name or address
 * (those go only into the observations' high-cardinality values, which tracing uses and metrics do
 * not). A {@code domain} tag exists only when {@link Builder#domainTags} names the domains it may
 * take; every other domain is {@code other}. Thread-safe; immutable but for a flag that says
 * whether the warning below was logged.
 *
 * <p>A handler of the observation registry (or a filter of either registry) that throws costs
 * neither the delivery nor the other observations: the listener catches it, still stops every
 * observation it started, and logs the first such failure at WARN (the exception's class and where
 * it was thrown, never its message, which may quote a server's reply) and later ones at DEBUG.
 */
public final class MailtlsMetrics implements EventListener.Factory {

  /** The value of the {@code domain} tag for a domain not in {@link Builder#domainTags}. */
  public static final String OTHER_DOMAIN = "other";

  private static final Logger log = LoggerFactory.getLogger(MailtlsMetrics.class);

  final MeterRegistry meters;
  final ObservationRegistry observations;
  final boolean domainTagged;
  final Set<DomainName> domains;
  final Meters instruments;
  private final AtomicBoolean warned = new AtomicBoolean();

  private MailtlsMetrics(Builder b) {
    this.meters = b.meters;
    this.observations = b.observations;
    this.domainTagged = b.domains != null;
    this.domains = b.domains == null ? Set.of() : Set.copyOf(b.domains);
    this.instruments = new Meters(meters);
  }

  /** A builder recording into {@code meters}; observations off until given a registry. */
  public static Builder builder(MeterRegistry meters) {
    return new Builder(meters);
  }

  /** The listener of one call; never throws. */
  @Override
  public EventListener create(DeliveryCall call) {
    return new CallListener(this, call);
  }

  /**
   * Reports that application code threw in {@code step} of the observation or meter {@code name}:
   * once at WARN, then at DEBUG, so that a handler that always throws does not log per delivery.
   * Without the exception's message, which may quote a server's reply or an attempt's detail.
   */
  void failed(String name, String step, Throwable e) {
    StackTraceElement[] trace = e.getStackTrace();
    String at = trace.length == 0 ? "unknown" : trace[0].toString();
    if (warned.compareAndSet(false, true)) {
      log.warn(
          "an observation handler or a registry's filter threw {} in the {} of {} (at {});"
              + " ignored: every observation is still stopped and the delivery goes on; later"
              + " failures are logged at DEBUG",
          e.getClass().getName(),
          step,
          name,
          at);
    } else {
      log.debug(
          "an observation handler or a registry's filter threw {} in the {} of {} (at {}); ignored",
          e.getClass().getName(),
          step,
          name,
          at);
    }
  }

  /** The {@code domain} tag's value for {@code domain} (only used when domain tags are on). */
  String domainTag(NextHop domain) {
    return domain instanceof NextHop.Domain d && domains.contains(d.name())
        ? d.name().toString().toLowerCase(Locale.ROOT)
        : OTHER_DOMAIN;
  }

  /** Builds {@link MailtlsMetrics}. */
  public static final class Builder {
    private final MeterRegistry meters;
    private ObservationRegistry observations = ObservationRegistry.NOOP;
    private @Nullable Set<DomainName> domains;

    private Builder(MeterRegistry meters) {
      this.meters = Objects.requireNonNull(meters, "meters");
    }

    /**
     * Makes one observation per delivery ({@code mailtls.delivery}) and one per connection attempt
     * ({@code mailtls.attempt}, its child); default {@link ObservationRegistry#NOOP}, none.
     */
    public Builder observationRegistry(ObservationRegistry observations) {
      this.observations = Objects.requireNonNull(observations, "observations");
      return this;
    }

    /**
     * Adds a {@code domain} tag to {@code mailtls.deliveries}: the recipient's domain when it is
     * one of {@code allowed}, {@code other} for every other domain, so that the tag has at most
     * {@code allowed.size() + 1} values. Off by default (no {@code domain} tag at all).
     */
    public Builder domainTags(Set<DomainName> allowed) {
      this.domains = new LinkedHashSet<>(Objects.requireNonNull(allowed, "allowed"));
      return this;
    }

    public MailtlsMetrics build() {
      return new MailtlsMetrics(this);
    }
  }
}
