package io.mailtls.core;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * The sender's TLS level per sending domain, with a default. Immutable and thread-safe.
 *
 * <pre>{@code
 * SenderPolicy policy = SenderPolicy.builder()
 *     .defaultLevel(TlsLevel.OPPORTUNISTIC)
 *     .level("bank.example", TlsLevel.ENFORCED)
 *     .build();
 * }</pre>
 */
public final class SenderPolicy {

  private final TlsLevel defaultLevel;
  private final Function<DomainName, Optional<TlsLevel>> lookup;

  private SenderPolicy(TlsLevel defaultLevel, Function<DomainName, Optional<TlsLevel>> lookup) {
    this.defaultLevel = defaultLevel;
    this.lookup = lookup;
  }

  /** One level for every sending domain. */
  public static SenderPolicy uniform(TlsLevel level) {
    Objects.requireNonNull(level, "level");
    return new SenderPolicy(level, d -> Optional.empty());
  }

  /**
   * Levels from a function (for example backed by the application's own configuration store). Only
   * an empty result ("no entry for this domain") means {@code defaultLevel}. A function that throws
   * or returns null has not said what the sender requires, so {@link #levelFor} throws {@link
   * SenderPolicyException} and the transport defers the message ({@link
   * FailureType#SENDER_POLICY_UNAVAILABLE}) rather than send it at a default level that may be
   * weaker than the one configured.
   */
  public static SenderPolicy of(
      Function<DomainName, Optional<TlsLevel>> levelForDomain, TlsLevel defaultLevel) {
    Objects.requireNonNull(levelForDomain, "levelForDomain");
    Objects.requireNonNull(defaultLevel, "defaultLevel");
    return new SenderPolicy(defaultLevel, levelForDomain);
  }

  /** A builder for a fixed per-domain map. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The level for a sender domain; the default for the null reverse-path (bounces) and for domains
   * without an entry.
   *
   * @throws SenderPolicyException when the lookup function threw or returned null: the level is
   *     unknown, and no default stands in for it
   */
  public TlsLevel levelFor(Optional<DomainName> senderDomain) {
    Objects.requireNonNull(senderDomain, "senderDomain");
    if (senderDomain.isEmpty()) {
      return defaultLevel;
    }
    Optional<TlsLevel> level;
    try {
      level = lookup.apply(senderDomain.get());
    } catch (Exception e) {
      // Exception: a function in Kotlin, or with @SneakyThrows, throws undeclared checked ones too.
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt(); // its status, cleared by the exception, kept
      }
      throw new SenderPolicyException(senderDomain.get(), "the lookup failed: " + e, e);
    }
    if (level == null) {
      throw new SenderPolicyException(
          senderDomain.get(),
          "the lookup returned null instead of a level or Optional.empty()",
          null);
    }
    return level.orElse(defaultLevel);
  }

  /** The level used when no entry applies. */
  public TlsLevel defaultLevel() {
    return defaultLevel;
  }

  @Override
  public String toString() {
    return "SenderPolicy{default=" + defaultLevel + "}";
  }

  /** Builds a {@link SenderPolicy} from a map of domains. Not thread-safe. */
  public static final class Builder {
    private TlsLevel defaultLevel = TlsLevel.OPPORTUNISTIC;
    private boolean defaultSet;
    private final Map<DomainName, TlsLevel> levels = new HashMap<>();

    private Builder() {}

    /** The level for domains without an entry; default {@link TlsLevel#OPPORTUNISTIC}. */
    public Builder defaultLevel(TlsLevel level) {
      if (defaultSet) {
        throw new IllegalStateException("defaultLevel already set");
      }
      defaultSet = true;
      this.defaultLevel = Objects.requireNonNull(level, "level");
      return this;
    }

    /** The level for one sending domain (normalised, so IDN and case do not matter). */
    public Builder level(String senderDomain, TlsLevel level) {
      DomainName d = DomainName.of(senderDomain);
      Objects.requireNonNull(level, "level");
      if (levels.putIfAbsent(d, level) != null) {
        throw new IllegalStateException("level for " + d + " already set");
      }
      return this;
    }

    public SenderPolicy build() {
      Map<DomainName, TlsLevel> copy = Map.copyOf(levels);
      return new SenderPolicy(defaultLevel, d -> Optional.ofNullable(copy.get(d)));
    }
  }
}
