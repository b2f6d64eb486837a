package io.mailtls.testkit.internal.dns;

import java.security.NoSuchAlgorithmException;
import java.util.Collections;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;
import org.xbill.DNS.Name;
import org.xbill.DNS.RRset;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.utils.base32;

/**
 * A zone's NSEC3 chain (RFC 5155 §7.1): its NSEC3 RRsets, with their signatures, ordered by hash,
 * and the lookups a server's denials are made of: the NSEC3 that matches a name and the one that
 * covers it (§3.1.7, §7.2.1).
 *
 * <p>Immutable and thread-safe once built. Built by {@link ZoneCompiler}.
 */
public final class Nsec3Chain {
  private static final base32 BASE32HEX = new base32(base32.Alphabet.BASE32HEX, false, false);

  private final Name origin;
  private final Nsec3Params params;

  /** The NSEC3 RRsets by the base32hex hash of their owner (which sorts as the hashes do). */
  private final NavigableMap<String, RRset> byHash;

  Nsec3Chain(Name origin, Nsec3Params params, NavigableMap<String, RRset> byHash) {
    this.origin = origin;
    this.params = params;
    this.byHash = Collections.unmodifiableNavigableMap(new TreeMap<>(byHash));
  }

  /** The zone's NSEC3 parameters. */
  public Nsec3Params params() {
    return params;
  }

  /** The NSEC3 RRsets in hash order. */
  public Iterable<RRset> rrsets() {
    return byHash.values();
  }

  /** The base32hex hash of {@code name} (RFC 5155 §5), in upper case. */
  static String hash(Name name, Nsec3Params params) {
    try {
      return BASE32HEX.toString(params.record(Name.root, 0).hashName(name));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-1 is missing from this JVM", e);
    }
  }

  /** The owner name of the NSEC3 record for a hash: the hash as a label above the origin. */
  static Name owner(String hash, Name origin) {
    try {
      return Name.fromString(hash, origin);
    } catch (TextParseException e) {
      throw new IllegalStateException("not a label: " + hash, e);
    }
  }

  /** The next hashed owner name field for a hash (RFC 5155 §3.1.7: the hash itself, binary). */
  static byte[] nextField(String hash) {
    return BASE32HEX.fromString(hash);
  }

  /** The NSEC3 RRset whose owner is the hash of {@code name}, or null if it is not in the chain. */
  public @Nullable RRset matching(Name name) {
    return byHash.get(hash(name, params));
  }

  /**
   * The NSEC3 RRset covering {@code name}: the last one whose hash precedes the name's, or the last
   * of the chain when none does (its next name wraps around, RFC 5155 §3.1.7). Null when the name's
   * hash is in the chain (then it is matched, not covered) or the chain is empty.
   */
  public @Nullable RRset covering(Name name) {
    String h = hash(name, params);
    if (byHash.containsKey(h)) {
      return null;
    }
    Map.Entry<String, RRset> previous = byHash.lowerEntry(h);
    if (previous == null) {
      previous = byHash.lastEntry();
    }
    return previous == null ? null : previous.getValue();
  }

  /** Whether the hash of {@code name} is in the chain. */
  public boolean contains(Name name) {
    return byHash.containsKey(hash(name, params));
  }

  /**
   * The closest provable encloser of {@code name} (RFC 5155 §7.2.1): its nearest ancestor, or the
   * name itself, that is in the chain; the origin at the least.
   */
  public Name closestProvableEncloser(Name name) {
    Name candidate = name;
    while (!candidate.equals(origin) && !contains(candidate)) {
      candidate = DnsNames.parent(candidate);
    }
    return candidate;
  }

  /**
   * The next closer name (RFC 5155 §1.3): the ancestor of {@code name} one label below {@code ce}.
   */
  public static Name nextCloser(Name name, Name closestEncloser) {
    int strip = name.labels() - closestEncloser.labels() - 1;
    return strip > 0 ? new Name(name, strip) : name;
  }
}
