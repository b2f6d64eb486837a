package io.mailtls.testkit.internal.pki;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Collects the validity choices of a certificate builder and resolves them to a window (RFC 5280
 * §4.1.2.5) against a clock.
 *
 * <p>Defaults: the window starts the builder's default age before now (an hour for leaves, which
 * tolerates clock skew; a year for CAs, so that backdated or expired leaves still sit inside their
 * issuers' windows) and lasts the builder's default duration. {@link #expired()} means "ended a day
 * ago"; {@link #notYetValid()} means "starts in a day". Each choice may be made once, and
 * contradicting choices are rejected.
 *
 * <p>Not thread-safe: owned by one builder.
 */
public final class ValidityWindow {

  private final Duration defaultAge;
  private final Duration defaultDuration;
  private @Nullable Instant notBefore;
  private @Nullable Instant notAfter;
  private @Nullable Duration validFor;
  private @Nullable String preset;

  /** A window that starts {@code defaultAge} ago and lasts {@code defaultDuration} by default. */
  public ValidityWindow(Duration defaultAge, Duration defaultDuration) {
    this.defaultAge = defaultAge;
    this.defaultDuration = defaultDuration;
  }

  /** Sets the start of the window. */
  public void notBefore(Instant instant) {
    Objects.requireNonNull(instant, "notBefore");
    checkNoPreset("notBefore");
    if (notBefore != null) {
      throw new IllegalStateException("notBefore already set to " + notBefore);
    }
    notBefore = instant;
  }

  /** Sets the end of the window. */
  public void notAfter(Instant instant) {
    Objects.requireNonNull(instant, "notAfter");
    checkNoPreset("notAfter");
    if (notAfter != null || validFor != null) {
      throw new IllegalStateException("the end of the window is already set");
    }
    notAfter = instant;
  }

  /** Sets the length of the window, counted from its start. */
  public void validFor(Duration duration) {
    Objects.requireNonNull(duration, "validFor");
    checkNoPreset("validFor");
    if (duration.isNegative() || duration.isZero()) {
      throw new IllegalArgumentException("validFor must be positive: " + duration);
    }
    if (notAfter != null || validFor != null) {
      throw new IllegalStateException("the end of the window is already set");
    }
    validFor = duration;
  }

  /** Makes a window that ended one day ago. */
  public void expired() {
    setPreset("expired");
  }

  /** Makes a window that starts one day from now. */
  public void notYetValid() {
    setPreset("notYetValid");
  }

  private void setPreset(String name) {
    if (preset != null || notBefore != null || notAfter != null || validFor != null) {
      throw new IllegalStateException(name + "() conflicts with an earlier validity choice");
    }
    preset = name;
  }

  private void checkNoPreset(String setter) {
    if (preset != null) {
      throw new IllegalStateException(setter + " conflicts with " + preset + "()");
    }
  }

  /** The resolved start, truncated to seconds as X.509 time encodes it. */
  public Instant resolveNotBefore(Clock clock) {
    Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
    if ("expired".equals(preset)) {
      return now.minus(Duration.ofDays(31));
    }
    if ("notYetValid".equals(preset)) {
      return now.plus(Duration.ofDays(1));
    }
    return notBefore != null ? notBefore.truncatedTo(ChronoUnit.SECONDS) : now.minus(defaultAge);
  }

  /** The resolved end for a window starting at {@code start}. */
  public Instant resolveNotAfter(Clock clock, Instant start) {
    if ("expired".equals(preset)) {
      return clock.instant().truncatedTo(ChronoUnit.SECONDS).minus(Duration.ofDays(1));
    }
    if (notAfter != null) {
      return notAfter.truncatedTo(ChronoUnit.SECONDS);
    }
    return start.plus(validFor != null ? validFor : defaultDuration);
  }
}
