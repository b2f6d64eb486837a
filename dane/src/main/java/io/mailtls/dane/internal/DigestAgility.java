package io.mailtls.dane.internal;

import io.mailtls.core.DnsRecord;
import io.mailtls.dane.TlsaUsability;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Chooses which TLSA records of an RRset a client tries: the usable ones (RFC 7672 §3.1) after
 * digest algorithm agility (RFC 7671 §9). Stateless and thread-safe.
 *
 * <p>RFC 7671 §9: for each combination of certificate usage and selector, only records with the
 * strongest digest matching type present are used (SHA2-512 over SHA2-256); records with matching
 * type Full(0) are not digests and always stay. So with {@code 3 1 1 X} and {@code 3 1 2 Y} a key
 * matching only {@code X} is refused: an attacker who can break the weaker digest gains nothing.
 * Unusable records take no part in the choice, so an unknown matching type never suppresses a known
 * one.
 */
public final class DigestAgility {

  private DigestAgility() {}

  /**
   * What to do with each record of a TLSA RRset.
   *
   * @param used the records to try, in RRset order
   * @param superseded usable records dropped because a stronger digest exists for their usage and
   *     selector
   * @param unusable records that cannot be used at all, each with why (RFC 7672 §3.1)
   */
  public record Selection(
      List<DnsRecord.Tlsa> used, List<DnsRecord.Tlsa> superseded, List<String> unusable) {
    public Selection {
      used = List.copyOf(used);
      superseded = List.copyOf(superseded);
      unusable = List.copyOf(unusable);
    }
  }

  /** Applies RFC 7672 §3.1 and RFC 7671 §9 to {@code records}. */
  public static Selection select(List<DnsRecord.Tlsa> records) {
    List<DnsRecord.Tlsa> usable = new ArrayList<>();
    List<String> unusable = new ArrayList<>();
    for (DnsRecord.Tlsa r : records) {
      Optional<String> why = TlsaUsability.whyUnusable(r);
      if (why.isPresent()) {
        unusable.add(TlsaData.describe(r) + ": " + why.get());
      } else {
        usable.add(r);
      }
    }
    // RFC 7671 §9: the strongest digest per (usage, selector). SHA2-512(2) > SHA2-256(1); the
    // matching type numbers happen to order by strength among the digests we support.
    Map<Integer, Integer> strongest = new HashMap<>();
    for (DnsRecord.Tlsa r : usable) {
      if (r.matchingType() != DnsRecord.Tlsa.FULL) {
        strongest.merge(key(r), r.matchingType(), Math::max);
      }
    }
    List<DnsRecord.Tlsa> used = new ArrayList<>();
    List<DnsRecord.Tlsa> superseded = new ArrayList<>();
    for (DnsRecord.Tlsa r : usable) {
      if (r.matchingType() == DnsRecord.Tlsa.FULL
          || r.matchingType() == Objects.requireNonNull(strongest.get(key(r)))) { // merged above
        used.add(r);
      } else {
        superseded.add(r);
      }
    }
    return new Selection(used, superseded, unusable);
  }

  private static int key(DnsRecord.Tlsa r) {
    return (r.usage() << 8) | r.selector();
  }
}
