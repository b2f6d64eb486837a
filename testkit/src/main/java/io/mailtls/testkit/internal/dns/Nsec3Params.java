package io.mailtls.testkit.internal.dns;

import java.util.Arrays;
import java.util.HexFormat;
import org.jspecify.annotations.Nullable;
import org.xbill.DNS.DClass;
import org.xbill.DNS.NSEC3PARAMRecord;
import org.xbill.DNS.NSEC3Record;
import org.xbill.DNS.Name;

/**
 * How a zone denies existence with NSEC3 (RFC 5155) instead of NSEC: SHA-1 (hash algorithm 1, the
 * only one defined), the extra iterations and salt of RFC 5155 §3.1.3–§3.1.5, and whether every
 * NSEC3 record has the Opt-Out flag (§3.1.2.1, §6), which lets the chain skip unsigned delegations.
 *
 * <p>Immutable and thread-safe.
 */
public final class Nsec3Params {
  /** RFC 5155 §3.1.3: the iterations field is 16 bits. */
  static final int MAX_ITERATIONS = 0xFFFF;

  /** RFC 5155 §3.1.4: the salt length is one octet. */
  static final int MAX_SALT = 0xFF;

  private final int iterations;
  private final byte[] salt;
  private final boolean optOut;

  /**
   * NSEC3 parameters.
   *
   * @param iterations additional hash iterations, 0..65535 (RFC 9276 §3.1 recommends 0)
   * @param salt the salt, at most 255 octets; empty for none (RFC 9276 §3.1 recommends none)
   * @param optOut whether the chain uses Opt-Out
   * @throws IllegalArgumentException if a value is out of range
   */
  public Nsec3Params(int iterations, byte[] salt, boolean optOut) {
    if (iterations < 0 || iterations > MAX_ITERATIONS) {
      throw new IllegalArgumentException(
          "NSEC3 iterations out of range 0..65535 (RFC 5155 §3.1.3): " + iterations);
    }
    if (salt.length > MAX_SALT) {
      throw new IllegalArgumentException(
          "NSEC3 salt longer than 255 octets (RFC 5155 §3.1.4): " + salt.length);
    }
    this.iterations = iterations;
    this.salt = salt.clone();
    this.optOut = optOut;
  }

  /** The additional iterations. */
  public int iterations() {
    return iterations;
  }

  /** The salt (a copy); empty for none. */
  public byte[] salt() {
    return salt.clone();
  }

  /** The salt as dnsjava's NSEC3 records take it: null for none. */
  byte @Nullable [] saltOrNull() {
    return salt.length == 0 ? null : salt.clone();
  }

  /**
   * The zone's NSEC3PARAM record (RFC 5155 §4): SHA-1, flags 0 (§4.1.2: the Opt-Out flag is the
   * NSEC3 records' business), these iterations and salt.
   */
  NSEC3PARAMRecord record(Name origin, long ttl) {
    return new NSEC3PARAMRecord(
        origin, DClass.IN, ttl, NSEC3Record.SHA1_DIGEST_ID, 0, iterations, saltOrNull());
  }

  /** Whether every NSEC3 record has the Opt-Out flag. */
  public boolean optOut() {
    return optOut;
  }

  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof Nsec3Params p
        && p.iterations == iterations
        && p.optOut == optOut
        && Arrays.equals(p.salt, salt);
  }

  @Override
  public int hashCode() {
    return (iterations * 31 + Arrays.hashCode(salt)) * 31 + (optOut ? 1 : 0);
  }

  @Override
  public String toString() {
    return "NSEC3(iterations="
        + iterations
        + ", salt="
        + (salt.length == 0 ? "-" : HexFormat.of().formatHex(salt))
        + (optOut ? ", opt-out" : "")
        + ")";
  }
}
