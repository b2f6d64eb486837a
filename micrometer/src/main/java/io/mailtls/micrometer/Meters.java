package io.mailtls.micrometer;

import io.mailtls.core.Attempt;
import io.mailtls.core.Authentication;
import io.mailtls.core.FailureType;
import io.mailtls.core.PolicySource;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;

/** The meters' names, tags and tag values (docs/metrics.md), in one place. */
final class Meters {

  static final String DELIVERIES = "mailtls.deliveries";
  static final String ATTEMPTS = "mailtls.attempts";
  static final String POLICY_FAILURES = "mailtls.policy.failures";
  static final String PLAN = "mailtls.plan";
  static final String CONNECT = "mailtls.connect";
  static final String TLS_HANDSHAKE = "mailtls.tls.handshake";
  static final String DATA = "mailtls.data";
  static final String DELIVERY_OBSERVATION = "mailtls.delivery";
  static final String ATTEMPT_OBSERVATION = "mailtls.attempt";

  static final String STATUS = "status";
  static final String AUTHENTICATION = "authentication";
  static final String POLICY_SOURCE = "policy.source";
  static final String FAILURE_TYPE = "failure.type";
  static final String OUTCOME = "outcome";
  static final String PLAINTEXT_REASON = "plaintext.reason";
  static final String ENFORCED = "enforced";
  static final String DOMAIN = "domain";

  /**
   * An attempt observation's high-cardinality keys: the code and enhanced status (RFC 3463) of the
   * reply that ended it. Never low-cardinality: the peer chooses them.
   */
  static final String REPLY_CODE = "mailtls.reply.code";

  static final String REPLY_ENHANCED_STATUS = "mailtls.reply.enhanced.status";

  /** The value of a tag that does not apply (no failure, no session). */
  static final String NONE = "none";

  /**
   * The value of an attempt observation's low-cardinality keys, and of the {@code mailtls.attempts}
   * tags, when the attempt's end never reached the listener, which stopped it with its delivery.
   */
  static final String UNKNOWN = "unknown";

  private final MeterRegistry registry;

  Meters(MeterRegistry registry) {
    this.registry = registry;
  }

  void delivery(Tags tags) {
    Counter.builder(DELIVERIES)
        .description("Recipients decided: delivered, deferred or bounced")
        .baseUnit("recipients")
        .tags(tags)
        .register(registry)
        .increment();
  }

  void attempt(Attempt a) {
    attempts(
        a.failure().isPresent() ? "failed" : "ok",
        failure(a.failure()),
        authentication(a.authentication()),
        // why a session went on without TLS (Attempt.plaintextReason): a failed STARTTLS
        // handshake followed by a plaintext retry at opportunistic counts as "ok", and only this
        // tells it from a server that offered no STARTTLS
        failure(a.plaintextReason()),
        source(a.source()));
    a.timings().connect().ifPresent(d -> timer(CONNECT, "Connection set-up, TLS excepted", d));
    a.timings().tls().ifPresent(d -> timer(TLS_HANDSHAKE, "STARTTLS and the TLS handshake", d));
    a.timings()
        .data()
        .ifPresent(d -> timer(DATA, "Mail transactions, MAIL FROM to end of data", d));
  }

  /**
   * An attempt that began but whose end never reached the listener: counted all the same, {@link
   * #UNKNOWN} in every tag, so that the series add up to the attempts made.
   */
  void unknownAttempt() {
    attempts(UNKNOWN, UNKNOWN, UNKNOWN, UNKNOWN, UNKNOWN);
  }

  private void attempts(
      String outcome,
      String failureType,
      String authentication,
      String plaintextReason,
      String policySource) {
    Counter.builder(ATTEMPTS)
        .description("Connection attempts, by how they ended")
        .baseUnit("attempts")
        .tag(OUTCOME, outcome)
        .tag(FAILURE_TYPE, failureType)
        .tag(AUTHENTICATION, authentication)
        .tag(PLAINTEXT_REASON, plaintextReason)
        .tag(POLICY_SOURCE, policySource)
        .register(registry)
        .increment();
  }

  void policyFailure(PolicySource source, FailureType type, boolean enforced) {
    Counter.builder(POLICY_FAILURES)
        .description("MTA-STS and DANE policy failures, enforced or report-only")
        .baseUnit("failures")
        .tag(POLICY_SOURCE, source(source))
        .tag(FAILURE_TYPE, failure(Optional.of(type)))
        .tag(ENFORCED, Boolean.toString(enforced))
        .register(registry)
        .increment();
  }

  Timer plan(boolean failed) {
    return Timer.builder(PLAN)
        .description("Making a next hop's delivery plan (MX, MTA-STS and TLSA lookups)")
        .tag(OUTCOME, failed ? "failed" : "ok")
        .register(registry);
  }

  private void timer(String name, String description, Duration d) {
    Timer.builder(name).description(description).register(registry).record(d);
  }

  static String authentication(Optional<Authentication> a) {
    return a.map(x -> x.name().toLowerCase(Locale.ROOT)).orElse(NONE);
  }

  static String source(PolicySource s) {
    return s.name().toLowerCase(Locale.ROOT);
  }

  static String failure(Optional<FailureType> f) {
    return f.map(x -> x.name().toLowerCase(Locale.ROOT)).orElse(NONE);
  }
}
