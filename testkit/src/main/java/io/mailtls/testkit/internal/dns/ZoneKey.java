package io.mailtls.testkit.internal.dns;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.Objects;
import org.xbill.DNS.DClass;
import org.xbill.DNS.DNSKEYRecord;
import org.xbill.DNS.DNSSEC;
import org.xbill.DNS.DSRecord;
import org.xbill.DNS.Name;
import org.xbill.DNS.RRSIGRecord;
import org.xbill.DNS.RRset;

/**
 * One zone's signing key: an ECDSA P-256 key pair (algorithm 13, RFC 6605) published as a combined
 * signing key (DNSKEY flags 257: Zone Key and SEP, RFC 4034 §2.1.1).
 *
 * <p>Immutable and thread-safe.
 */
public final class ZoneKey {
  /** DNSKEY flags of a CSK: Zone Key (bit 7) and Secure Entry Point (bit 15). */
  static final int CSK_FLAGS = DNSKEYRecord.Flags.ZONE_KEY | DNSKEYRecord.Flags.SEP_KEY;

  private final Name zone;
  private final PrivateKey privateKey;
  private final DNSKEYRecord dnskey;

  private ZoneKey(Name zone, PrivateKey privateKey, DNSKEYRecord dnskey) {
    this.zone = zone;
    this.privateKey = privateKey;
    this.dnskey = dnskey;
  }

  /** DNSKEY flag REVOKE (RFC 5011 §7): the key is revoked, and validators must not use it. */
  static final int REVOKE_FLAG = DNSKEYRecord.Flags.REVOKE;

  /** Generates a fresh key for {@code zone}; its DNSKEY record carries {@code ttl}. */
  public static ZoneKey generate(Name zone, long ttl) {
    return generate(zone, ttl, false);
  }

  /**
   * Generates a fresh key for {@code zone}, its DNSKEY record carrying {@code ttl} and, if {@code
   * revoked}, the REVOKE flag besides 257 (flags 385: a key its zone has revoked, RFC 5011 §2.1,
   * still signing the zone as an attacker holding it would).
   */
  public static ZoneKey generate(Name zone, long ttl, boolean revoked) {
    Objects.requireNonNull(zone, "zone");
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"));
      KeyPair pair = generator.generateKeyPair();
      DNSKEYRecord dnskey =
          new DNSKEYRecord(
              zone,
              DClass.IN,
              ttl,
              revoked ? CSK_FLAGS | REVOKE_FLAG : CSK_FLAGS,
              DNSKEYRecord.Protocol.DNSSEC, // RFC 4034 §2.1.2: the protocol field MUST be 3
              DNSSEC.Algorithm.ECDSAP256SHA256,
              pair.getPublic());
      return new ZoneKey(zone, pair.getPrivate(), dnskey);
    } catch (GeneralSecurityException | DNSSEC.DNSSECException e) {
      throw new IllegalStateException("cannot create an ECDSA P-256 key for " + zone, e);
    }
  }

  /** The zone this key signs. */
  public Name zone() {
    return zone;
  }

  /** The public key as the zone's DNSKEY record. */
  public DNSKEYRecord dnskey() {
    return dnskey;
  }

  /** The DS record for this key with a SHA-256 digest (RFC 4509), as the parent publishes it. */
  public DSRecord ds(long ttl) {
    return new DSRecord(zone, DClass.IN, ttl, DNSSEC.Digest.SHA256, dnskey);
  }

  /** Signs {@code rrset} (which must hold no signatures) for the given validity period. */
  public RRSIGRecord sign(RRset rrset, Instant inception, Instant expiration) {
    try {
      return DNSSEC.sign(rrset, dnskey, privateKey, inception, expiration);
    } catch (DNSSEC.DNSSECException e) {
      throw new IllegalStateException("cannot sign " + rrset.getName() + " in " + zone, e);
    }
  }
}
