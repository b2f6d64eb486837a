package io.mailtls.testkit.internal.dns;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;

/**
 * What the caller configured for one zone: its origin, its own records (without the SOA, NS,
 * DNSKEY, NSEC, NSEC3 and RRSIG records the server generates) and how it is to be signed.
 *
 * <p>Immutable and thread-safe.
 */
public final class ZoneDefinition {
  private final Name origin;
  private final List<Record> records;
  private final boolean signed;
  private final boolean wrongDs;
  private final boolean expiredSignatures;
  private final long serial;
  private final @Nullable Duration nsecTtl;
  private final Map<Integer, Duration> signatureValidity;
  private final @Nullable Nsec3Params nsec3;

  /**
   * A zone definition with the default NSEC TTL and signature validity.
   *
   * @param origin the zone apex
   * @param records the caller's records, each at or below {@code origin}
   * @param signed whether the zone is served signed (otherwise insecure, RFC 4035 §5.2)
   * @param wrongDs whether the parent publishes a DS that matches no key of this zone
   * @param expiredSignatures whether every RRSIG of this zone has expired
   * @param serial the SOA serial
   */
  public ZoneDefinition(
      Name origin,
      List<Record> records,
      boolean signed,
      boolean wrongDs,
      boolean expiredSignatures,
      long serial) {
    this(origin, records, signed, wrongDs, expiredSignatures, serial, null, Map.of(), null);
  }

  /**
   * A zone definition.
   *
   * @param origin the zone apex
   * @param records the caller's records, each at or below {@code origin}
   * @param signed whether the zone is served signed (otherwise insecure, RFC 4035 §5.2)
   * @param wrongDs whether the parent publishes a DS that matches no key of this zone
   * @param expiredSignatures whether every RRSIG of this zone has expired
   * @param serial the SOA serial
   * @param nsecTtl the TTL of the zone's NSEC records, or null for the compiler's TTL
   * @param signatureValidity per RRset type, how long after the signing time its signatures expire;
   *     types not in it get the compiler's default
   * @param nsec3 how the zone denies existence with NSEC3 (RFC 5155), or null for NSEC
   */
  public ZoneDefinition(
      Name origin,
      List<Record> records,
      boolean signed,
      boolean wrongDs,
      boolean expiredSignatures,
      long serial,
      @Nullable Duration nsecTtl,
      Map<Integer, Duration> signatureValidity,
      @Nullable Nsec3Params nsec3) {
    this.origin = Objects.requireNonNull(origin, "origin");
    this.records = List.copyOf(records);
    this.signed = signed;
    this.wrongDs = wrongDs;
    this.expiredSignatures = expiredSignatures;
    this.serial = serial;
    this.nsecTtl = nsecTtl;
    this.signatureValidity = Map.copyOf(signatureValidity);
    this.nsec3 = nsec3;
    for (Record r : this.records) {
      if (!r.getName().subdomain(origin)) {
        throw new IllegalArgumentException(r.getName() + " is not in zone " + origin);
      }
    }
  }

  /** The default definition of a zone: no records of its own, signed. */
  public static ZoneDefinition empty(Name origin) {
    return new ZoneDefinition(origin, List.of(), true, false, false, 1);
  }

  /** The zone apex. */
  public Name origin() {
    return origin;
  }

  /** The caller's records. */
  public List<Record> records() {
    return records;
  }

  /** Whether the zone is signed. */
  public boolean signed() {
    return signed;
  }

  /** Whether the parent publishes a DS matching no key of this zone. */
  public boolean wrongDs() {
    return wrongDs;
  }

  /** Whether every RRSIG of this zone is expired. */
  public boolean expiredSignatures() {
    return expiredSignatures;
  }

  /** The SOA serial. */
  public long serial() {
    return serial;
  }

  /** How the zone denies existence with NSEC3, or null if it uses NSEC (the default). */
  public @Nullable Nsec3Params nsec3() {
    return nsec3;
  }

  /** The TTL of the zone's NSEC (or NSEC3) records, or null for the compiler's TTL. */
  public @Nullable Duration nsecTtl() {
    return nsecTtl;
  }

  /**
   * Per RRset type, how long after the signing time its signatures expire; types not in it get the
   * compiler's default.
   */
  public Map<Integer, Duration> signatureValidity() {
    return signatureValidity;
  }

  @Override
  public String toString() {
    return "zone "
        + origin
        + (signed ? "" : " unsigned")
        + (wrongDs ? " wrong-DS" : "")
        + (expiredSignatures ? " expired" : "")
        + (nsecTtl == null ? "" : " NSEC-TTL=" + nsecTtl.toSeconds())
        + (signatureValidity.isEmpty() ? "" : " validity=" + signatureValidity)
        + (nsec3 == null ? "" : " " + nsec3)
        + " ("
        + records.size()
        + " records)";
  }
}
