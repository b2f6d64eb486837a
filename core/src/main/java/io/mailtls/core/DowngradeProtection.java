package io.mailtls.core;

import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * Downgrade memory for a transport ({@link SecureSmtpTransport.Builder#downgradeProtection}): per
 * recipient domain, the strongest security a delivery achieved within {@link #period()} is a floor
 * for later deliveries, which defer ({@link FailureType#DOWNGRADE_DETECTED}, 451 4.7.4) rather than
 * go weaker (docs/design.md §1, "Downgrade memory"). Off by default: a transport without it
 * delivers exactly as the levels and policies say. Immutable.
 *
 * <ul>
 *   <li>TLS seen within the period: a session that would go on in plaintext (no STARTTLS, STARTTLS
 *       refused, or the opportunistic fallback after a failed handshake) is closed before MAIL, and
 *       the host counts as failed.
 *   <li>Authenticated TLS (DANE or PKIX) seen within the period: hosts whose requirement does not
 *       authenticate the peer (their TLSA records or the MTA-STS policy vanished) are skipped
 *       before any connection; with none left, the domain is deferred. The requirement is never
 *       raised to a PKIX check of the domain's own choosing: that would pass an attacker who forged
 *       the MX answer and holds a certificate for the name he put there.
 * </ul>
 *
 * <p>Only a delivery (the server's 250 to the final dot) is recorded, with the security its session
 * achieved. Domains {@link Builder#exempt exempt} by the operator are still recorded, but the
 * memory is not applied to them; the decision record says so.
 */
public final class DowngradeProtection {

  /** The default period: 30 days. */
  public static final Duration DEFAULT_PERIOD = Duration.ofDays(30);

  /** The longest period: ten years (3,650 days), far beyond any record's use. */
  public static final Duration MAX_PERIOD = Duration.ofDays(3650);

  /**
   * How far ahead of the protection's clock a remembered time may be and still count: one hour. A
   * time further ahead (written by a process whose clock ran ahead, or a damaged store) is not
   * evidence of a delivery and is ignored, and the decision record says so: kept, it would never
   * fall out of the period, and a domain whose hosts lost their TLS or authentication would be
   * deferred for ever.
   */
  public static final Duration MAX_CLOCK_AHEAD = Duration.ofHours(1);

  private final DowngradeMemory memory;
  private final Duration period;
  private final Predicate<DomainName> exempt;
  private final Clock clock;

  private DowngradeProtection(Builder b) {
    this.memory = b.memory;
    this.period = b.period;
    this.exempt = b.exempt;
    this.clock = b.clock;
  }

  /** A builder over {@code memory}, with the default period, no exemption and the system clock. */
  public static Builder builder(DowngradeMemory memory) {
    return new Builder(memory);
  }

  /** The store. */
  public DowngradeMemory memory() {
    return memory;
  }

  /** How long a level seen stays a floor. */
  public Duration period() {
    return period;
  }

  /** Whether the operator exempted {@code domain} (the memory is then not applied to it). */
  public Predicate<DomainName> exemptions() {
    return exempt;
  }

  /** The clock for "now" and for the times recorded. */
  public Clock clock() {
    return clock;
  }

  /** Configures a {@link DowngradeProtection}. Not thread-safe. */
  public static final class Builder {
    private final DowngradeMemory memory;
    private Duration period = DEFAULT_PERIOD;
    private Predicate<DomainName> exempt = d -> false;
    private Clock clock = Clock.systemUTC();

    private Builder(DowngradeMemory memory) {
      this.memory = Objects.requireNonNull(memory, "memory");
    }

    /**
     * How long a level seen stays a floor; default {@link #DEFAULT_PERIOD}. Longer protects longer
     * against an attacker who strips STARTTLS; shorter lets a domain that really dropped TLS
     * receive mail again sooner without an exemption.
     *
     * @throws IllegalArgumentException if not positive, or longer than {@link #MAX_PERIOD}
     */
    public Builder period(Duration period) {
      Objects.requireNonNull(period, "period");
      if (period.isNegative() || period.isZero()) {
        throw new IllegalArgumentException("period must be positive: " + period);
      }
      if (period.compareTo(MAX_PERIOD) > 0) {
        // A longer one cannot be subtracted from now (ChronoUnit.FOREVER would defer every message)
        throw new IllegalArgumentException("period must be at most " + MAX_PERIOD + ": " + period);
      }
      this.period = period;
      return this;
    }

    /**
     * The operator's exemptions: domains (next hops) to which the memory is not applied, e.g. one
     * that dropped TLS for good ({@code Set.of(DomainName.of("example.com"))::contains}, or a
     * policy map's entry). Called for every delivery while protection is on; it must be fast and
     * thread-safe. When it throws, the domain is not exempt (fail closed). Default: none.
     */
    public Builder exempt(Predicate<DomainName> exempt) {
      this.exempt = Objects.requireNonNull(exempt, "exempt");
      return this;
    }

    /** The clock; default {@link Clock#systemUTC()}. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** Builds the protection. */
    public DowngradeProtection build() {
      return new DowngradeProtection(this);
    }
  }
}
