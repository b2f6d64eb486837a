package io.mailtls.testkit.internal.dns;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.xbill.DNS.Name;

/**
 * The keys of every zone a server holds, generated on first use and kept for the server's life, so
 * that re-signing never changes a DNSKEY (and a validator's cached keys stay valid).
 *
 * <p>Thread-safe.
 */
public final class KeyRing {
  private final long ttl;
  private final Set<Name> revoked;
  private final Map<Name, ZoneKey> keys = new ConcurrentHashMap<>();
  private final Map<Name, ZoneKey> decoys = new ConcurrentHashMap<>();

  /** A key ring whose DNSKEY records carry {@code ttl}. */
  public KeyRing(long ttl) {
    this(ttl, Set.of());
  }

  /**
   * A key ring whose DNSKEY records carry {@code ttl}, the keys of the zones in {@code revoked}
   * with the REVOKE flag (RFC 5011 §2.1).
   */
  public KeyRing(long ttl, Set<Name> revoked) {
    this.ttl = ttl;
    this.revoked = Set.copyOf(revoked);
  }

  /** The signing key of {@code zone}. */
  public ZoneKey key(Name zone) {
    return keys.computeIfAbsent(zone, z -> ZoneKey.generate(z, ttl, revoked.contains(z)));
  }

  /**
   * A key that is never published in {@code zone}: a DS made from it matches no DNSKEY of the zone,
   * which a validator must treat as bogus (RFC 4035 §5.2).
   */
  public ZoneKey decoy(Name zone) {
    return decoys.computeIfAbsent(zone, z -> ZoneKey.generate(z, ttl));
  }
}
