package io.mailtls.core;

import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * An operator's entry for one destination in a {@link DestinationPolicyMap}: a TLS level for mail
 * to it, and optionally a relay and explicit overrides of the recipient's published policies
 * (docs/design.md §1, "Per destination"; the file format is docs/policy-map.md). Immutable.
 *
 * <p>The stricter of the sender's level and the entry's level applies; the recipient's MTA-STS
 * {@code enforce} policy and usable DANE records still raise it per MX host, unless the entry
 * overrides them explicitly ({@link RecipientOverride}), which the decision record then states.
 *
 * @param level the level for this destination
 * @param matchNames for {@link Level#VERIFY}: the names the certificate must match (RFC 6125
 *     DNS-ID); empty means the MX host name, as Postfix's {@code verify} with {@code
 *     smtp_tls_verify_cert_match = hostname}. Empty for every other level.
 * @param pins for {@link Level#FINGERPRINT}: the pinned digests, at least one; empty otherwise
 * @param relay where mail for this destination goes instead of its MX hosts, if anywhere
 * @param overrides the recipient policies this entry sets aside (an operator working around a
 *     receiver's broken policy)
 */
public record DestinationPolicy(
    Level level,
    List<DomainName> matchNames,
    List<CertificatePin> pins,
    Optional<Relay> relay,
    Set<RecipientOverride> overrides) {

  /** The levels an entry may set. */
  public enum Level {
    /** As the sender level {@link TlsLevel#OPPORTUNISTIC}. */
    OPPORTUNISTIC("opportunistic", 0),
    /** As the sender level {@link TlsLevel#ENFORCED} (Postfix {@code encrypt}). */
    ENFORCED("enforced", 1),
    /**
     * DANE where usable (through a DNSSEC-secure MX answer), else the recipient's MTA-STS {@code
     * enforce} policy, else no delivery (deferred): authenticated TLS to every domain that
     * publishes either policy.
     */
    AUTHENTICATED("authenticated", 2),
    /** As the sender level {@link TlsLevel#STS_REQUIRED}. */
    STS_REQUIRED("sts-required", 3),
    /** As the sender level {@link TlsLevel#DANE_REQUIRED}; also written {@code dane-only}. */
    DANE_REQUIRED("dane-required", 3),
    /**
     * TLS 1.2+, WebPKI chain, the certificate naming one of {@link #matchNames()} (default the MX
     * host name): Postfix {@code verify}.
     */
    VERIFY("verify", 3),
    /**
     * TLS 1.2+, the leaf certificate or its public key matching one of {@link #pins()}; no WebPKI
     * chain needed: Postfix {@code fingerprint}.
     */
    FINGERPRINT("fingerprint", 3);

    private final String token;
    private final int strength;

    Level(String token, int strength) {
      this.token = token;
      this.strength = strength;
    }

    /** The token in a policy-map file. */
    public String token() {
      return token;
    }

    /**
     * How strict the level is, for precedence: 0 opportunistic, 1 enforced, 2 authenticated, 3 a
     * level naming how the server is authenticated ({@code sts-required}, {@code dane-required},
     * {@code verify}, {@code fingerprint}).
     */
    public int strength() {
      return strength;
    }

    /** The entry level that means what {@code level} means for a sender. */
    public static Level of(TlsLevel level) {
      return switch (level) {
        case OPPORTUNISTIC -> OPPORTUNISTIC;
        case ENFORCED -> ENFORCED;
        case STS_REQUIRED -> STS_REQUIRED;
        case DANE_REQUIRED -> DANE_REQUIRED;
      };
    }

    /** The sender level that means the same, if there is one. */
    public Optional<TlsLevel> asSenderLevel() {
      return switch (this) {
        case OPPORTUNISTIC -> Optional.of(TlsLevel.OPPORTUNISTIC);
        case ENFORCED -> Optional.of(TlsLevel.ENFORCED);
        case STS_REQUIRED -> Optional.of(TlsLevel.STS_REQUIRED);
        case DANE_REQUIRED -> Optional.of(TlsLevel.DANE_REQUIRED);
        case AUTHENTICATED, VERIFY, FINGERPRINT -> Optional.empty();
      };
    }

    /**
     * Parses a token (case-insensitive, {@code _} for {@code -}; {@code dane-only} is {@link
     * #DANE_REQUIRED}, as Postfix names it).
     *
     * @throws IllegalArgumentException naming the value when it is no level
     */
    public static Level parse(String token) {
      String t = token.trim().toLowerCase(Locale.ROOT).replace('_', '-');
      if (t.equals("dane-only")) {
        return DANE_REQUIRED;
      }
      for (Level l : values()) {
        if (l.token.equals(t)) {
          return l;
        }
      }
      throw new IllegalArgumentException(
          "unknown level \""
              + token
              + "\" (expected opportunistic, enforced, sts-required, dane-required, dane-only,"
              + " verify, fingerprint or authenticated)");
    }

    @Override
    public String toString() {
      return token;
    }
  }

  /** A recipient policy an entry may set aside. */
  public enum RecipientOverride {
    /** The recipient's MTA-STS policy is not applied (written {@code override=sts}). */
    STS("sts"),
    /** The MX hosts' TLSA records are not applied (written {@code override=dane}). */
    DANE("dane");

    private final String token;

    RecipientOverride(String token) {
      this.token = token;
    }

    /** The token in a policy-map file. */
    public String token() {
      return token;
    }

    @Override
    public String toString() {
      return token;
    }
  }

  /**
   * A relay for one destination: its host name (looked up as a domain would be: MX records, else
   * its own addresses; its own MTA-STS and DANE apply to it) and port. The constructor throws
   * {@link IllegalArgumentException} for an IP address or a port outside 1..65535.
   *
   * @param host the relay's name; not an IP address (a last label of digits only, RFC 1123 §2.1)
   * @param port the port, or empty for the transport's port
   */
  public record Relay(DomainName host, Optional<Integer> port) {
    public Relay {
      Objects.requireNonNull(host, "host");
      Objects.requireNonNull(port, "port");
      if (host.endsInNumericLabel()) {
        throw new IllegalArgumentException(DomainName.relayIsAnAddress(host.toString()));
      }
      if (port.isPresent() && (port.get() < 1 || port.get() > 65535)) {
        throw new IllegalArgumentException("port out of range: " + port.get());
      }
    }

    /** Parses {@code host} or {@code host:port}. */
    public static Relay parse(String text) {
      int colon = text.lastIndexOf(':');
      if (text.startsWith("[") || text.indexOf(':') != colon) {
        throw new IllegalArgumentException(DomainName.relayIsAnAddress(text));
      }
      if (colon < 0) {
        return new Relay(DomainName.of(text), Optional.empty());
      }
      String p = text.substring(colon + 1);
      if (p.isEmpty() || p.length() > 5 || !p.chars().allMatch(c -> c >= '0' && c <= '9')) {
        throw new IllegalArgumentException("invalid relay port: \"" + text + "\"");
      }
      return new Relay(DomainName.of(text.substring(0, colon)), Optional.of(Integer.parseInt(p)));
    }

    @Override
    public String toString() {
      return host + port.map(p -> ":" + p).orElse("");
    }
  }

  public DestinationPolicy {
    Objects.requireNonNull(level, "level");
    matchNames = List.copyOf(matchNames);
    pins = List.copyOf(pins);
    Objects.requireNonNull(relay, "relay");
    overrides = overrides.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(overrides));
    if (!matchNames.isEmpty() && level != Level.VERIFY) {
      throw new IllegalArgumentException("match names belong to level verify, not " + level);
    }
    if (level == Level.FINGERPRINT && pins.isEmpty()) {
      throw new IllegalArgumentException("level fingerprint needs at least one pin");
    }
    if (!pins.isEmpty() && level != Level.FINGERPRINT) {
      throw new IllegalArgumentException("pins belong to level fingerprint, not " + level);
    }
    if (level == Level.STS_REQUIRED && overrides.contains(RecipientOverride.STS)) {
      throw new IllegalArgumentException(
          "sts-required cannot override the MTA-STS policy it needs");
    }
    if (level == Level.DANE_REQUIRED && overrides.contains(RecipientOverride.DANE)) {
      throw new IllegalArgumentException("dane-required cannot override the DANE records it needs");
    }
    if (level == Level.AUTHENTICATED && overrides.size() == RecipientOverride.values().length) {
      throw new IllegalArgumentException(
          "authenticated with both MTA-STS and DANE overridden can never deliver");
    }
  }

  /** An entry with {@code level} only. */
  public static DestinationPolicy of(Level level) {
    return new DestinationPolicy(level, List.of(), List.of(), Optional.empty(), Set.of());
  }

  /** A {@code verify} entry checking {@code names} (none: the MX host name). */
  public static DestinationPolicy verify(DomainName... names) {
    return new DestinationPolicy(
        Level.VERIFY, List.of(names), List.of(), Optional.empty(), Set.of());
  }

  /** A {@code fingerprint} entry with {@code pins}. */
  public static DestinationPolicy fingerprint(CertificatePin... pins) {
    return new DestinationPolicy(
        Level.FINGERPRINT, List.of(), List.of(pins), Optional.empty(), Set.of());
  }

  /** This entry with mail going to {@code relay}. */
  public DestinationPolicy withRelay(Relay relay) {
    return new DestinationPolicy(level, matchNames, pins, Optional.of(relay), overrides);
  }

  /** This entry, setting aside {@code more} recipient policies as well. */
  public DestinationPolicy withOverrides(RecipientOverride... more) {
    EnumSet<RecipientOverride> all = EnumSet.noneOf(RecipientOverride.class);
    all.addAll(overrides);
    all.addAll(List.of(more));
    return new DestinationPolicy(level, matchNames, pins, relay, all);
  }

  /** Whether this entry sets {@code o} aside. */
  public boolean overrides(RecipientOverride o) {
    return overrides.contains(o);
  }

  /** The entry in the policy-map file's syntax, without the key. */
  @Override
  public String toString() {
    StringBuilder b = new StringBuilder(level.token());
    if (!matchNames.isEmpty()) {
      b.append(" match=");
      for (int i = 0; i < matchNames.size(); i++) {
        b.append(i == 0 ? "" : ":").append(matchNames.get(i));
      }
    }
    pins.forEach(p -> b.append(' ').append(p));
    relay.ifPresent(r -> b.append(" relay=").append(r));
    for (RecipientOverride o : RecipientOverride.values()) {
      if (overrides.contains(o)) {
        b.append(" override=").append(o.token());
      }
    }
    return b.toString();
  }
}
