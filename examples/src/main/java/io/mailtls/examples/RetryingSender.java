package io.mailtls.examples;

import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.EmailAddress;
import io.mailtls.core.Envelope;
import io.mailtls.core.MessageContent;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SecureSmtpTransport;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.PriorityQueue;

/**
 * A custom sender on top of {@link SecureSmtpTransport}: its own queue, and retries of the
 * recipients that were {@link DeliveryStatus#DEFERRED} with exponential back-off, as an MTA's queue
 * manager does (RFC 5321 §4.5.4.1: retry, with a growing interval, until a give-up time). Delivered
 * and bounced recipients are final and never sent again; a retry carries only the deferred
 * recipients.
 *
 * <pre>{@code
 * RetryingSender sender = RetryingSender.builder(transport::send)
 *     .maxAttempts(5).initialBackoff(Duration.ofMinutes(1)).maxBackoff(Duration.ofHours(1))
 *     .build();
 * sender.submit(envelope, content);
 * List<RetryingSender.Outcome> done = sender.drain();
 * }</pre>
 *
 * <p>Time comes from an injected {@link Clock} and waiting goes through an injected {@link
 * Sleeper}, so a test replaces hours of back-off by advancing a fake clock. Not thread-safe: one
 * thread submits and drains (a real queue would persist jobs and run drain on a schedule).
 */
public final class RetryingSender {

  /** What sends one message: in production {@code transport::send}. */
  @FunctionalInterface
  public interface Sender {
    /** Delivers to every recipient of {@code envelope} and reports on each. */
    DeliveryReport send(Envelope envelope, MessageContent content);
  }

  /** Waits; {@code Thread::sleep} in production, a fake-clock advance in tests. */
  @FunctionalInterface
  public interface Sleeper {
    /** Returns after {@code duration} has passed. */
    void sleep(Duration duration) throws InterruptedException;
  }

  /**
   * What became of one submitted message.
   *
   * @param envelope the envelope as submitted
   * @param results the final result per recipient, in envelope order; a recipient still deferred
   *     after the last attempt keeps its last {@code DEFERRED} result
   * @param attempts how many times the message was sent
   * @param waits the back-off waited before each retry, in order
   */
  public record Outcome(
      Envelope envelope,
      Map<EmailAddress, RecipientResult> results,
      int attempts,
      List<Duration> waits) {
    public Outcome {
      results = Collections.unmodifiableMap(new LinkedHashMap<>(results));
      waits = List.copyOf(waits);
    }

    /** The final status of one recipient. */
    public DeliveryStatus status(String recipient) {
      RecipientResult result = results.get(EmailAddress.parse(recipient));
      if (result == null) {
        throw new IllegalArgumentException("not a recipient of this delivery: " + recipient);
      }
      return result.status();
    }
  }

  /** One queued message: who is still to be tried, and when. */
  private static final class Job {
    final long order;
    final Envelope envelope;
    final MessageContent content;
    final Map<EmailAddress, RecipientResult> results = new LinkedHashMap<>();
    final List<Duration> waits = new ArrayList<>();
    List<EmailAddress> pending;
    int attempts;
    Instant due;

    Job(long order, Envelope envelope, MessageContent content, Instant due) {
      this.order = order;
      this.envelope = envelope;
      this.content = content;
      this.pending = envelope.recipients();
      this.due = due;
    }
  }

  private final Sender sender;
  private final Clock clock;
  private final Sleeper sleeper;
  private final int maxAttempts;
  private final Duration initialBackoff;
  private final double multiplier;
  private final Duration maxBackoff;
  private final PriorityQueue<Job> queue =
      new PriorityQueue<>(
          (a, b) -> {
            int byDue = a.due.compareTo(b.due);
            return byDue != 0 ? byDue : Long.compare(a.order, b.order);
          });
  private final List<Job> submitted = new ArrayList<>();
  private long next;

  private RetryingSender(Builder b) {
    this.sender = b.sender;
    this.clock = b.clock;
    this.sleeper = b.sleeper;
    this.maxAttempts = b.maxAttempts;
    this.initialBackoff = b.initialBackoff;
    this.multiplier = b.multiplier;
    this.maxBackoff = b.maxBackoff;
  }

  /** A builder around {@code sender}, e.g. {@code transport::send}. */
  public static Builder builder(Sender sender) {
    return new Builder(sender);
  }

  /** Queues a message; it is first sent by the next {@link #drain()}. */
  public void submit(Envelope envelope, MessageContent content) {
    Objects.requireNonNull(envelope, "envelope");
    Objects.requireNonNull(content, "content");
    Job job = new Job(next++, envelope, content, clock.instant());
    queue.add(job);
    submitted.add(job);
  }

  /**
   * Sends everything queued, waiting out each back-off, until every recipient is delivered,
   * bounced, or still deferred after the last attempt; returns the outcomes of the messages
   * submitted since the last drain, in submission order.
   *
   * @throws InterruptedException if a wait is interrupted (the queue keeps what is left)
   */
  public List<Outcome> drain() throws InterruptedException {
    while (!queue.isEmpty()) {
      Job job = queue.peek();
      Duration wait = Duration.between(clock.instant(), job.due);
      if (!wait.isNegative() && !wait.isZero()) {
        sleeper.sleep(wait);
        continue; // the clock moved: look again (another job may be due first)
      }
      queue.poll();
      attempt(job);
    }
    List<Outcome> out = new ArrayList<>();
    for (Job j : submitted) {
      out.add(new Outcome(j.envelope, ordered(j), j.attempts, j.waits));
    }
    submitted.clear();
    return out;
  }

  private void attempt(Job job) {
    job.attempts++;
    DeliveryReport report =
        // withRecipients keeps the sender and the message's REQUIRETLS (RFC 8689): a retry is
        // the same message, to the recipients still deferred.
        sender.send(job.envelope.withRecipients(job.pending), job.content);
    List<EmailAddress> deferred = new ArrayList<>();
    for (RecipientResult r : report.recipients()) {
      job.results.put(r.recipient(), r);
      if (r.status() == DeliveryStatus.DEFERRED) {
        deferred.add(r.recipient());
      }
    }
    if (deferred.isEmpty() || job.attempts >= maxAttempts) {
      return;
    }
    Duration backoff = backoff(job.attempts);
    job.pending = deferred;
    job.waits.add(backoff);
    job.due = clock.instant().plus(backoff);
    queue.add(job);
  }

  /** The wait after attempt {@code n} (1-based): initial × multiplier^(n-1), at most the cap. */
  Duration backoff(int n) {
    double millis = initialBackoff.toMillis() * Math.pow(multiplier, n - 1);
    return millis >= maxBackoff.toMillis() ? maxBackoff : Duration.ofMillis((long) millis);
  }

  private static Map<EmailAddress, RecipientResult> ordered(Job j) {
    Map<EmailAddress, RecipientResult> out = new LinkedHashMap<>();
    for (EmailAddress r : j.envelope.recipients()) {
      RecipientResult res = j.results.get(r);
      if (res != null) {
        out.put(r, res);
      }
    }
    return out;
  }

  /** Configures a {@link RetryingSender}. Not thread-safe. */
  public static final class Builder {
    private final Sender sender;
    private Clock clock = Clock.systemUTC();
    private Sleeper sleeper = d -> Thread.sleep(d.toMillis());
    private int maxAttempts = 5;
    private Duration initialBackoff = Duration.ofMinutes(1);
    private double multiplier = 2.0;
    private Duration maxBackoff = Duration.ofHours(1);

    private Builder(Sender sender) {
      this.sender = Objects.requireNonNull(sender, "sender");
    }

    /** The clock that decides when a retry is due; default the system's UTC clock. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** How to wait for a due retry; default {@link Thread#sleep(long)}. */
    public Builder sleeper(Sleeper sleeper) {
      this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
      return this;
    }

    /** Sends per message, the first included; default 5. */
    public Builder maxAttempts(int maxAttempts) {
      this.maxAttempts = maxAttempts;
      return this;
    }

    /** The wait before the first retry; default one minute. */
    public Builder initialBackoff(Duration backoff) {
      this.initialBackoff = Objects.requireNonNull(backoff, "backoff");
      return this;
    }

    /** The factor each further wait grows by; default 2. */
    public Builder multiplier(double multiplier) {
      this.multiplier = multiplier;
      return this;
    }

    /** The longest wait; default one hour. */
    public Builder maxBackoff(Duration backoff) {
      this.maxBackoff = Objects.requireNonNull(backoff, "backoff");
      return this;
    }

    /**
     * Builds the sender.
     *
     * @throws IllegalArgumentException naming the value when attempts are not positive, a back-off
     *     is not positive, or the multiplier is below 1
     */
    public RetryingSender build() {
      if (maxAttempts < 1) {
        throw new IllegalArgumentException("maxAttempts must be positive: " + maxAttempts);
      }
      if (initialBackoff.isNegative() || initialBackoff.isZero()) {
        throw new IllegalArgumentException("initialBackoff must be positive: " + initialBackoff);
      }
      if (maxBackoff.compareTo(initialBackoff) < 0) {
        throw new IllegalArgumentException(
            "maxBackoff " + maxBackoff + " is shorter than initialBackoff " + initialBackoff);
      }
      if (!(multiplier >= 1.0) || Double.isInfinite(multiplier)) {
        throw new IllegalArgumentException("multiplier must be at least 1: " + multiplier);
      }
      return new RetryingSender(this);
    }
  }
}
