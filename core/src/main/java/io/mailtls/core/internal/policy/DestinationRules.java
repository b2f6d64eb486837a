package io.mailtls.core.internal.policy;

import io.mailtls.core.DestinationPolicy;
import io.mailtls.core.DestinationPolicy.Level;
import io.mailtls.core.DestinationPolicy.RecipientOverride;
import io.mailtls.core.DestinationPolicyMap;
import io.mailtls.core.DomainName;
import io.mailtls.core.MxHost;
import io.mailtls.core.PolicySource;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.TlsRequirement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The precedence between the sender's level and the operator's entry for the destination
 * (docs/design.md §1, "Per destination"), as a pure function: which level applies, who set it, and
 * which of the entry's overrides of recipient policies take effect. No I/O, no state.
 *
 * <p>The stricter level wins ({@link Level#strength()}: opportunistic, enforced, authenticated,
 * then the levels that name how the server is authenticated); between two different levels of the
 * highest strength, the entry's wins, as the operator's choice for that one destination. An
 * override never sets aside the policy the applying level itself needs ({@code override=sts} under
 * {@code sts-required}, {@code override=dane} under {@code dane-required}).
 */
public final class DestinationRules {

  private DestinationRules() {}

  /**
   * What applies to a destination.
   *
   * @param level the level that applies
   * @param ruleLevel the sender level the rules of docs/design.md §1 read: {@code level} where it
   *     is one of the four sender levels, {@code enforced} (TLS required) for {@code verify},
   *     {@code fingerprint} and {@code authenticated}, whose own rules come on top
   * @param entry the entry, if there is one
   * @param fromEntry whether the entry's level applies (it was stricter, or of the same strength)
   * @param overrideSts whether the recipient's MTA-STS policy is set aside
   * @param overrideDane whether the MX hosts' TLSA records are set aside
   * @param notes lines for the decision record
   */
  public record Effective(
      Level level,
      TlsLevel ruleLevel,
      Optional<DestinationPolicyMap.Entry> entry,
      boolean fromEntry,
      boolean overrideSts,
      boolean overrideDane,
      List<String> notes) {
    public Effective {
      notes = List.copyOf(notes);
    }

    /** Whether the level is one of the entry-only levels. */
    public boolean entryOnlyLevel() {
      return level.asSenderLevel().isEmpty();
    }

    /** The entry's key, for the record. */
    String key() {
      return entry.map(DestinationPolicyMap.Entry::key).orElse("");
    }
  }

  /** The level that applies under {@code sender} and {@code entry}. */
  public static Effective effective(TlsLevel sender, Optional<DestinationPolicyMap.Entry> entry) {
    Level s = Level.of(sender);
    if (entry.isEmpty()) {
      return new Effective(s, sender, entry, false, false, false, List.of());
    }
    DestinationPolicy p = entry.get().policy();
    Level e = p.level();
    List<String> notes = new ArrayList<>();
    String key = entry.get().key();
    notes.add("policy map entry " + key + ": " + p);
    boolean fromEntry;
    Level level;
    if (e == s) {
      fromEntry = false;
      level = s;
      notes.add("policy map entry " + key + " and sender level agree: " + s);
    } else if (e.strength() > s.strength() || e.strength() == s.strength()) {
      // the same strength with different levels happens only among the levels that name how the
      // server is authenticated: the operator's choice for this destination wins
      fromEntry = true;
      level = e;
      notes.add(
          "policy map level "
              + e
              + (e.strength() > s.strength()
                  ? " is stricter than sender level "
                  : " replaces sender level (same strength) ")
              + s);
    } else {
      fromEntry = false;
      level = s;
      notes.add("sender level " + s + " is stricter than policy map level " + e + "; it applies");
    }
    boolean sts = p.overrides(RecipientOverride.STS);
    boolean dane = p.overrides(RecipientOverride.DANE);
    if (sts && level == Level.STS_REQUIRED) {
      sts = false;
      notes.add(
          "override=sts not applied: level sts-required needs the recipient's MTA-STS policy");
    }
    if (dane && level == Level.DANE_REQUIRED) {
      dane = false;
      notes.add("override=dane not applied: level dane-required needs the hosts' DANE records");
    }
    TlsLevel ruleLevel = level.asSenderLevel().orElse(TlsLevel.ENFORCED);
    return new Effective(level, ruleLevel, entry, fromEntry, sts, dane, notes);
  }

  /**
   * The requirement a {@code verify} or {@code fingerprint} level imposes on host {@code h}; empty
   * for every other level.
   */
  static Optional<TlsRequirement> requirement(Effective eff, MxHost h) {
    if (eff.level() == Level.VERIFY) {
      List<DomainName> names = eff.entry().orElseThrow().policy().matchNames();
      return Optional.of(new TlsRequirement.Pkix(names.isEmpty() ? List.of(h.name()) : names));
    }
    if (eff.level() == Level.FINGERPRINT) {
      return Optional.of(new TlsRequirement.Fingerprint(eff.entry().orElseThrow().policy().pins()));
    }
    return Optional.empty();
  }

  /** The source of a requirement the applying level sets. */
  static PolicySource source(Effective eff, PolicySource senderSource) {
    return eff.fromEntry() ? PolicySource.POLICY_MAP : senderSource;
  }
}
