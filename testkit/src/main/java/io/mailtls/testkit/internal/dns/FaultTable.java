package io.mailtls.testkit.internal.dns;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.xbill.DNS.Name;

/**
 * The misbehaviour switched on at run time, per owner name and (optionally) type.
 *
 * <p>Thread-safe: switches may be flipped while queries are being answered.
 */
public final class FaultTable {
  /** Matches every type. */
  public static final int ANY_TYPE = -1;

  /** A kind of misbehaviour. */
  public enum Fault {
    /** Answer with rcode SERVFAIL. */
    SERVFAIL,
    /** Never answer. */
    DROP,
    /** Over UDP, answer with TC set and empty sections; over TCP, answer normally. */
    TRUNCATE,
    /** Serve the RRSIGs over matching RRsets with one signature byte flipped. */
    CORRUPT_SIGNATURES,
    /** Leave the NSEC and NSEC3 records out of the authority section of the answer. */
    OMIT_DENIAL
  }

  private record Key(Fault fault, Name name, int type) {}

  private final Set<Key> active = ConcurrentHashMap.newKeySet();

  /** Switches {@code fault} on for {@code name} and {@code type} (or {@link #ANY_TYPE}). */
  public void add(Fault fault, Name name, int type) {
    active.add(new Key(fault, name, type));
  }

  /** Whether {@code fault} applies to {@code name}/{@code type}. */
  public boolean matches(Fault fault, Name name, int type) {
    if (active.isEmpty()) {
      return false;
    }
    return active.contains(new Key(fault, name, type))
        || active.contains(new Key(fault, name, ANY_TYPE));
  }

  /** Switches every fault off. */
  public void clear() {
    active.clear();
  }
}
