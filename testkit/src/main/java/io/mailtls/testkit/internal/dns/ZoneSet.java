package io.mailtls.testkit.internal.dns;

import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.xbill.DNS.Name;
import org.xbill.DNS.Type;

/**
 * Every zone a server holds, as served at one moment; always includes the root.
 *
 * <p>Immutable and thread-safe. A server swaps in a new set after each change.
 */
public final class ZoneSet {
  private final Map<Name, ServedZone> zones;

  ZoneSet(Map<Name, ServedZone> zones) {
    if (!zones.containsKey(Name.root)) {
      throw new IllegalArgumentException("a zone set needs the root zone");
    }
    this.zones = Map.copyOf(zones);
  }

  /**
   * The zone that answers {@code qname}/{@code qtype}: the most specific held zone enclosing qname,
   * except that DS at a zone apex comes from the parent side of the cut (RFC 4035 §3.1.4.1).
   */
  public ServedZone select(Name qname, int qtype) {
    for (int strip = 0; strip < qname.labels(); strip++) {
      Name candidate = strip == 0 ? qname : new Name(qname, strip);
      ServedZone zone = zones.get(candidate);
      if (zone == null) {
        continue;
      }
      boolean dsAtApex = strip == 0 && qtype == Type.DS && !candidate.equals(Name.root);
      if (!dsAtApex) {
        return zone;
      }
    }
    return Objects.requireNonNull(zones.get(Name.root)); // the constructor requires it
  }

  /** The zone with this apex, or null. */
  public @Nullable ServedZone zone(Name origin) {
    return zones.get(origin);
  }

  /** The most specific held zone enclosing {@code name} (the zone its data belongs to). */
  public ServedZone enclosing(Name name) {
    return select(name, Type.A);
  }
}
