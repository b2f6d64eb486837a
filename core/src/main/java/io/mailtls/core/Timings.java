package io.mailtls.core;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Where the time of a connection attempt ({@link Attempt#timings()}) or of a recipient ({@link
 * RecipientResult#timings()}) went, in the shape of Postfix's {@code delays=a/b/c/d}: planning,
 * connection set-up, TLS, and the mail transaction, and the total they are part of. Measured with
 * the transport's monotonic clock ({@link System#nanoTime()}); never wall-clock time.
 *
 * <ul>
 *   <li>{@link #plan()}: making the next hop's delivery plan (MX, MTA-STS and TLSA lookups, RFC
 *       7672 §2, RFC 8461 §4); empty for an attempt, and for a recipient decided before planning.
 *   <li>{@link #connect()}: setting up the session except TLS: waiting for a pool slot, TCP
 *       connect, greeting, EHLO, AUTH, or the RSET of a reused session (RFC 5321 §3.1, §4.1.1.5);
 *       empty when no session was set up.
 *   <li>{@link #tls()}: STARTTLS, the handshake with its certificate checks, and the EHLO after it
 *       (RFC 3207 §4.2), or the handshake of implicit TLS (RFC 8314); empty when TLS was not tried.
 *   <li>{@link #data()}: the transaction, MAIL FROM to the reply to the end of data (RFC 5321
 *       §3.3); empty when none started.
 *   <li>{@link #total()}: the whole attempt; for a recipient, from the start of the {@code send} to
 *       the end of its domain's delivery, so it includes waiting for a delivery slot.
 * </ul>
 *
 * <p>The phases never overlap, so their sum is at most {@link #total()}. For a recipient, {@code
 * connect}, {@code tls} and {@code data} are the sums over the attempts up to the one that decided
 * it. Immutable.
 */
public final class Timings {

  /** No phase measured and a total of zero: for results made without timing them. */
  public static final Timings NONE =
      new Timings(
          Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), Duration.ZERO);

  private final Optional<Duration> plan;
  private final Optional<Duration> connect;
  private final Optional<Duration> tls;
  private final Optional<Duration> data;
  private final Duration total;

  private Timings(
      Optional<Duration> plan,
      Optional<Duration> connect,
      Optional<Duration> tls,
      Optional<Duration> data,
      Duration total) {
    this.plan = plan;
    this.connect = connect;
    this.tls = tls;
    this.data = data;
    this.total = total;
  }

  /**
   * Timings with these phases and total.
   *
   * @throws IllegalArgumentException when a duration is negative or the phases add up to more than
   *     the total
   */
  public static Timings of(
      Optional<Duration> plan,
      Optional<Duration> connect,
      Optional<Duration> tls,
      Optional<Duration> data,
      Duration total) {
    Objects.requireNonNull(total, "total");
    Duration sum = Duration.ZERO;
    for (Optional<Duration> phase : java.util.List.of(plan, connect, tls, data)) {
      Duration d = phase.orElse(Duration.ZERO);
      if (d.isNegative()) {
        throw new IllegalArgumentException("negative phase: " + d);
      }
      sum = sum.plus(d);
    }
    if (total.compareTo(sum) < 0) {
      throw new IllegalArgumentException("phases " + sum + " exceed the total " + total);
    }
    return new Timings(plan, connect, tls, data, total);
  }

  /** Making the delivery plan; empty for an attempt. */
  public Optional<Duration> plan() {
    return plan;
  }

  /** Setting up the session, TLS excepted; empty when none was set up. */
  public Optional<Duration> connect() {
    return connect;
  }

  /** STARTTLS and the handshake; empty when TLS was not tried. */
  public Optional<Duration> tls() {
    return tls;
  }

  /** The mail transaction; empty when none started. */
  public Optional<Duration> data() {
    return data;
  }

  /** The whole attempt, or the recipient's time from the start of the call. */
  public Duration total() {
    return total;
  }

  /** The sum of the phases (at most {@link #total()}). */
  public Duration phases() {
    return plan.orElse(Duration.ZERO)
        .plus(connect.orElse(Duration.ZERO))
        .plus(tls.orElse(Duration.ZERO))
        .plus(data.orElse(Duration.ZERO));
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Timings other
        && plan.equals(other.plan)
        && connect.equals(other.connect)
        && tls.equals(other.tls)
        && data.equals(other.data)
        && total.equals(other.total);
  }

  @Override
  public int hashCode() {
    return Objects.hash(plan, connect, tls, data, total);
  }

  /** Postfix's shape: {@code delay=1.2, delays=plan/conn/tls/data} in seconds. */
  @Override
  public String toString() {
    return "delay="
        + seconds(total)
        + ", delays="
        + seconds(plan.orElse(Duration.ZERO))
        + "/"
        + seconds(connect.orElse(Duration.ZERO))
        + "/"
        + seconds(tls.orElse(Duration.ZERO))
        + "/"
        + seconds(data.orElse(Duration.ZERO));
  }

  /**
   * Seconds as Postfix writes them: two decimals, or {@code 0} when zero (a value under 10 ms but
   * not zero is written with as many decimals as it takes to show it, up to {@code 0.001}).
   */
  static String seconds(Duration d) {
    long millis = d.toMillis();
    if (d.isZero()) {
      return "0";
    }
    if (millis >= 10) {
      return String.format(java.util.Locale.ROOT, "%.2f", millis / 1000.0);
    }
    if (millis >= 1) {
      return String.format(java.util.Locale.ROOT, "%.3f", millis / 1000.0);
    }
    return "0.001";
  }
}
