package io.mailtls.micrometer;

import io.mailtls.core.Attempt;
import io.mailtls.core.DeliveryCall;
import io.mailtls.core.DeliveryPlan;
import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DomainName;
import io.mailtls.core.Envelope;
import io.mailtls.core.EventListener;
import io.mailtls.core.FailureType;
import io.mailtls.core.NextHop;
import io.mailtls.core.PlannedHost;
import io.mailtls.core.PolicyFailure;
import io.mailtls.core.PolicySource;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SmtpReply;
import io.mailtls.core.TlsLevel;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.observation.Observation;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The listener of one call: its meters and its observations. The transport serializes a call's
 * events (except the lookup events, which this listener ignores), so each is handled on its own;
 * the methods are synchronized all the same, as a listener shared by calls would need.
 *
 * <p>Never throws, and never leaves an observation open: the registry's handlers are application
 * code, and one that throws in {@code onStart}, {@code onError} or {@code onStop} costs only its
 * own work. Each observation is kept before it starts and its error and stop run each on its own,
 * so every started observation is stopped once, and the others of the call with it (otherwise the
 * long-task timers of Micrometer's meter handler, one per open observation, would run forever).
 * Micrometer itself calls the handlers of one observation in turn without isolating them: a handler
 * that throws still keeps the handlers Micrometer would call after it from that observation's
 * event.
 */
final class CallListener implements EventListener {

  private final MailtlsMetrics metrics;
  private final DeliveryCall call;
  private final Map<NextHop, Deque<Timer.Sample>> plans = new HashMap<>();
  private final Map<AttemptKey, Deque<Observation>> attempts = new HashMap<>();
  private @Nullable Observation delivery;

  /** A connection attempt's identity while it runs: concurrent domains may share an MX host. */
  private record AttemptKey(Optional<DomainName> host, InetSocketAddress address) {}

  CallListener(MailtlsMetrics metrics, DeliveryCall call) {
    this.metrics = metrics;
    this.call = call;
  }

  @Override
  public synchronized void deliveryStart(Envelope envelope) {
    guarded(
        Meters.DELIVERY_OBSERVATION,
        "start",
        () -> {
          Observation o =
              Observation.createNotStarted(Meters.DELIVERY_OBSERVATION, metrics.observations)
                  .contextualName("mailtls delivery")
                  .highCardinalityKeyValue("mailtls.call.id", Long.toString(call.id()))
                  .highCardinalityKeyValue(
                      "mailtls.recipients", Integer.toString(envelope.recipients().size()));
          // Kept before it starts: a handler that throws in onStart may come after one that
          // started a long-task timer, which only this observation's stop ends.
          delivery = o;
          o.start();
        });
  }

  @Override
  public synchronized void deliveryEnd(Envelope envelope, DeliveryReport report) {
    Observation o = delivery;
    delivery = null;
    // Attempts still open (none, when the transport kept its pairing promise) end before their
    // parent, each on its own: a handler that throws stopping one costs no other its stop.
    List<Observation> open = new ArrayList<>();
    attempts.values().forEach(open::addAll);
    attempts.clear();
    for (Observation a : open) {
      // Its end never reached this listener (a listener composed before it threw at attemptEnd):
      // how it went is unknown, but it was made, so mailtls.attempts counts it (with unknown tags),
      // and its keys are those of every attempt, as a metrics backend that makes a timer of each
      // observation needs (Prometheus wants one label set per name).
      guarded(Meters.ATTEMPTS, "record", metrics.instruments::unknownAttempt);
      a.lowCardinalityKeyValue(Meters.OUTCOME, Meters.UNKNOWN)
          .lowCardinalityKeyValue(Meters.FAILURE_TYPE, Meters.UNKNOWN)
          .lowCardinalityKeyValue(Meters.AUTHENTICATION, Meters.UNKNOWN)
          .lowCardinalityKeyValue(Meters.POLICY_SOURCE, Meters.UNKNOWN);
      guarded(Meters.ATTEMPT_OBSERVATION, "stop", a::stop);
    }
    if (o != null) {
      o.lowCardinalityKeyValue(Meters.STATUS, overall(report));
      guarded(Meters.DELIVERY_OBSERVATION, "stop", o::stop);
    }
  }

  /** delivered when every recipient was; else bounced when any was, else deferred. */
  private static String overall(DeliveryReport report) {
    if (report.allDelivered()) {
      return status(DeliveryStatus.DELIVERED);
    }
    return report.withStatus(DeliveryStatus.BOUNCED).isEmpty()
        ? status(DeliveryStatus.DEFERRED)
        : status(DeliveryStatus.BOUNCED);
  }

  @Override
  public synchronized void planStart(NextHop nextHop, TlsLevel level) {
    plans.computeIfAbsent(nextHop, h -> new ArrayDeque<>()).addLast(Timer.start(metrics.meters));
  }

  @Override
  public synchronized void planEnd(DeliveryPlan plan) {
    Deque<Timer.Sample> q = plans.get(plan.nextHop());
    if (q == null || q.isEmpty()) {
      return; // a re-check's plan (RFC 8461 §5.1) has no planStart: nothing was timed
    }
    Timer.Sample sample = q.pollFirst();
    if (q.isEmpty()) {
      plans.remove(plan.nextHop());
    }
    guarded(
        Meters.PLAN,
        "record",
        () -> sample.stop(metrics.instruments.plan(plan.failure().isPresent())));
  }

  @Override
  public synchronized void attemptStart(Optional<DomainName> host, InetSocketAddress address) {
    guarded(
        Meters.ATTEMPT_OBSERVATION,
        "start",
        () -> {
          Observation o =
              Observation.createNotStarted(Meters.ATTEMPT_OBSERVATION, metrics.observations)
                  .contextualName("mailtls attempt")
                  .highCardinalityKeyValue(
                      "server.address",
                      host.map(DomainName::toString).orElse(address.getAddress().getHostAddress()))
                  .highCardinalityKeyValue(
                      "network.peer.address", address.getAddress().getHostAddress())
                  .highCardinalityKeyValue("server.port", Integer.toString(address.getPort()));
          Observation parent = delivery;
          if (parent != null) {
            o.parentObservation(parent);
          }
          // Kept before it starts, as the delivery is, so that attemptEnd stops it whatever
          // onStart did.
          attempts
              .computeIfAbsent(new AttemptKey(host, address), k -> new ArrayDeque<>())
              .addLast(o);
          o.start();
        });
  }

  @Override
  public synchronized void attemptEnd(Attempt attempt) {
    guarded(Meters.ATTEMPTS, "record", () -> metrics.instruments.attempt(attempt));
    AttemptKey key = new AttemptKey(attempt.host(), attempt.address());
    Deque<Observation> q = attempts.get(key);
    if (q == null || q.isEmpty()) {
      return;
    }
    Observation o = q.pollFirst();
    if (q.isEmpty()) {
      attempts.remove(key);
    }
    o.lowCardinalityKeyValue(Meters.OUTCOME, attempt.failure().isPresent() ? "failed" : "ok")
        .lowCardinalityKeyValue(Meters.FAILURE_TYPE, Meters.failure(attempt.failure()))
        .lowCardinalityKeyValue(
            Meters.AUTHENTICATION, Meters.authentication(attempt.authentication()))
        .lowCardinalityKeyValue(Meters.POLICY_SOURCE, Meters.source(attempt.source()));
    attempt.tls().ifPresent(t -> o.highCardinalityKeyValue("tls.protocol.version", t.protocol()));
    // The reply's code and enhanced status (RFC 3463), never its text, which may name the
    // recipient. High-cardinality: the peer chooses them, and low-cardinality keys become tags.
    attempt
        .reply()
        .ifPresent(
            r -> {
              o.highCardinalityKeyValue(Meters.REPLY_CODE, Integer.toString(r.code()));
              r.enhancedStatus()
                  .ifPresent(
                      e -> o.highCardinalityKeyValue(Meters.REPLY_ENHANCED_STATUS, e.toString()));
            });
    // error and stop each on its own: a handler that throws in onError must not skip the stop.
    attempt
        .failure()
        .ifPresent(
            f ->
                guarded(
                    Meters.ATTEMPT_OBSERVATION,
                    "error",
                    () -> o.error(new AttemptFailed(f, attempt.reply()))));
    guarded(Meters.ATTEMPT_OBSERVATION, "stop", o::stop);
  }

  @Override
  public synchronized void policyFailure(PolicyFailure failure) {
    guarded(
        Meters.POLICY_FAILURES,
        "record",
        () ->
            metrics.instruments.policyFailure(
                failure.source(), failure.type(), failure.enforced()));
  }

  @Override
  public synchronized void recipientEnd(RecipientResult result) {
    Optional<Attempt> deciding = result.attempt();
    PolicySource source =
        deciding
            .map(Attempt::source)
            .orElseGet(
                () ->
                    result.plan().hosts().stream()
                        .findFirst()
                        .map(PlannedHost::source)
                        .orElse(PolicySource.NONE));
    Optional<FailureType> failure =
        deciding
            .flatMap(Attempt::failure)
            .or(() -> result.plan().failure().map(DeliveryPlan.Failure::type));
    if (result.status() == DeliveryStatus.DELIVERED) {
      failure = Optional.empty();
    }
    Tags tags =
        Tags.of(
            Meters.STATUS, status(result.status()),
            Meters.AUTHENTICATION, Meters.authentication(result.authentication()),
            Meters.POLICY_SOURCE, Meters.source(source),
            Meters.FAILURE_TYPE, Meters.failure(failure));
    if (metrics.domainTagged) {
      tags = tags.and(Meters.DOMAIN, metrics.domainTag(result.recipient().domain()));
    }
    Tags recorded = tags;
    guarded(Meters.DELIVERIES, "record", () -> metrics.instruments.delivery(recorded));
  }

  /**
   * Runs one step that calls application code (an observation's handlers, filters and predicates, a
   * meter registry's filters) so that its failure is reported and never thrown: the transport must
   * not see it, and the steps after it (the other observations' stops) must still run.
   */
  private void guarded(String name, String step, Runnable action) {
    try {
      action.run();
    } catch (RuntimeException | Error e) {
      // Not a StackOverflowError: the handler's own recursion threw it, its frames are gone by
      // now, and rethrown it would skip the steps after this one (an attempt's stop after its
      // error), leaving a long-task timer running for ever.
      if (e instanceof VirtualMachineError vme && !(e instanceof StackOverflowError)) {
        throw vme;
      }
      metrics.failed(name, step, e);
    }
  }

  static String status(DeliveryStatus s) {
    return s.name().toLowerCase(Locale.ROOT);
  }

  /**
   * An attempt's failure as an observation's error, so that tracing marks the span failed; it is
   * never thrown. Its message is the failure type and the reply's code and enhanced status, e.g.
   * {@code service_closing: 421 4.3.2}: never the reply's text or the attempt's detail, which quote
   * the server (a reply to RCPT may name the recipient, personal data a trace must not keep).
   */
  static final class AttemptFailed extends Exception {
    private static final long serialVersionUID = 1L;

    AttemptFailed(FailureType type, Optional<SmtpReply> reply) {
      super(message(type, reply), null, false, false);
    }

    private static String message(FailureType type, Optional<SmtpReply> reply) {
      StringBuilder out = new StringBuilder(Meters.failure(Optional.of(type)));
      reply.ifPresent(
          r -> {
            out.append(": ").append(r.code());
            r.enhancedStatus().ifPresent(e -> out.append(' ').append(e));
          });
      return out.toString();
    }
  }
}
