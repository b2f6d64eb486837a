package io.mailtls.tlsrpt;

import io.mailtls.core.DeliveryCall;
import io.mailtls.core.DeliveryPlan;
import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DomainName;
import io.mailtls.core.Envelope;
import io.mailtls.core.EventListener;
import io.mailtls.core.NextHop;
import io.mailtls.core.PolicyFailure;
import io.mailtls.tlsrpt.internal.AddressText;
import io.mailtls.tlsrpt.internal.SessionAccounting;
import java.io.IOException;
import java.net.InetAddress;
import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Counts the transport's sessions for TLS-RPT (RFC 8460 §4): give it to {@link
 * io.mailtls.core.SecureSmtpTransport.Builder#eventListenerFactory} (or combine its listeners with
 * others through {@link EventListener#all}). Each call's listener collects the call's {@link
 * PolicyFailure}s and, when the call ends, counts its sessions per applied policy (docs/tls-rpt.md
 * has the rules) and merges them into the {@link AggregateStore} under the UTC day of the clock.
 *
 * <p>Starts no thread; the merge runs on the thread that ends the call. A store that fails is
 * logged and counted ({@link #failedMerges()}), and never changes a delivery. Thread-safe.
 */
public final class TlsRptAggregator implements EventListener.Factory {

  private static final Logger log = LoggerFactory.getLogger(TlsRptAggregator.class);

  private final AggregateStore store;
  private final Clock clock;
  private final Optional<String> sendingMtaIp;
  private final AtomicLong failedMerges = new AtomicLong();

  private TlsRptAggregator(Builder b) {
    this.store = Objects.requireNonNull(b.store, "store");
    this.clock = b.clock;
    this.sendingMtaIp = b.sendingMtaIp;
  }

  /** A builder; {@link Builder#store} is required. */
  public static Builder builder() {
    return new Builder();
  }

  /** A listener for {@code call}: it counts the call's sessions when the call ends. */
  @Override
  public EventListener create(DeliveryCall call) {
    return new CallListener();
  }

  /** The store the counts go to. */
  public AggregateStore store() {
    return store;
  }

  /** How many merges the store refused (each logged). */
  public long failedMerges() {
    return failedMerges.get();
  }

  /** The UTC day of {@code clock}'s now: the window a session is counted in (RFC 8460 §4.1). */
  public LocalDate today() {
    return LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC);
  }

  /**
   * Counts one finished call: what a call's listener does at {@code deliveryEnd}, for a report and
   * failures had otherwise (a call made without this factory). Without the call's plans, a call in
   * which RFC 8461 §5.1's re-check tried every recipient again counts the first round's planning
   * failures under the new policy (docs/tls-rpt.md); the listener counts such a call exactly.
   */
  public void record(DeliveryReport report, List<PolicyFailure> failures) {
    merge(SessionAccounting.count(report, List.copyOf(failures), sendingMtaIp));
  }

  private void merge(Map<AppliedPolicy, PolicyCounts> counts) {
    if (counts.isEmpty()) {
      return;
    }
    LocalDate day = today();
    try {
      store.merge(day, counts);
    } catch (IOException | RuntimeException e) {
      failedMerges.incrementAndGet();
      log.warn(
          "TLS-RPT: the counts of {} policies for {} could not be kept", counts.size(), day, e);
    }
  }

  private final class CallListener implements EventListener {
    private final List<SessionAccounting.Observed> failures = new ArrayList<>();

    /** Each domain's plan that ended last: the one the failures that follow belong to. */
    private final Map<DomainName, DeliveryPlan> plans = new HashMap<>();

    @Override
    public synchronized void planEnd(DeliveryPlan plan) {
      if (plan.nextHop() instanceof NextHop.Domain d) {
        plans.put(d.name(), plan);
      }
    }

    @Override
    public synchronized void policyFailure(PolicyFailure failure) {
      failures.add(
          new SessionAccounting.Observed(
              failure, Optional.ofNullable(plans.get(failure.policyDomain()))));
    }

    @Override
    public void deliveryEnd(Envelope envelope, DeliveryReport report) {
      List<SessionAccounting.Observed> seen;
      synchronized (this) {
        seen = List.copyOf(failures);
        failures.clear();
        plans.clear();
      }
      try {
        merge(SessionAccounting.countObserved(report, seen, sendingMtaIp));
      } catch (RuntimeException e) {
        failedMerges.incrementAndGet();
        log.warn("TLS-RPT: a delivery could not be counted", e);
      }
    }
  }

  /** Builds a {@link TlsRptAggregator}. Each setter may be called once. */
  public static final class Builder {
    private @Nullable AggregateStore store;
    private Clock clock = Clock.systemUTC();
    private boolean clockSet;
    private Optional<String> sendingMtaIp = Optional.empty();

    private Builder() {}

    /** Where the counts go (required). */
    public Builder store(AggregateStore store) {
      if (this.store != null) {
        throw new IllegalStateException("store already set");
      }
      this.store = Objects.requireNonNull(store, "store");
      return this;
    }

    /** The clock whose UTC day a session is counted in (default: the system's). */
    public Builder clock(Clock clock) {
      if (clockSet) {
        throw new IllegalStateException("clock already set");
      }
      this.clock = Objects.requireNonNull(clock, "clock");
      clockSet = true;
      return this;
    }

    /**
     * The sending MTA's public address, reported as {@code sending-mta-ip} (RFC 8460 §4.4), say the
     * address behind a NAT, in RFC 5952 text for IPv6 (§4.4 asks for it); without it a session's
     * failure details give the local address of its socket ({@link
     * io.mailtls.core.Attempt#localAddress()}), and a failure without a session (decided while
     * planning) leaves the field out.
     */
    public Builder sendingMtaIp(InetAddress address) {
      if (sendingMtaIp.isPresent()) {
        throw new IllegalStateException("sendingMtaIp already set");
      }
      sendingMtaIp = Optional.of(AddressText.of(Objects.requireNonNull(address, "address")));
      return this;
    }

    /** The aggregator. */
    public TlsRptAggregator build() {
      if (store == null) {
        throw new IllegalStateException("store is required");
      }
      return new TlsRptAggregator(this);
    }
  }
}
