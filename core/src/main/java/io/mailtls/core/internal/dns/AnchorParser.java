package io.mailtls.core.internal.dns;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.xbill.DNS.DClass;
import org.xbill.DNS.DNSKEYRecord;
import org.xbill.DNS.DNSSEC;
import org.xbill.DNS.DSRecord;
import org.xbill.DNS.Master;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.Type;

/** Checks trust-anchor text (DS/DNSKEY in zone-file syntax) before a validator sees it. */
public final class AnchorParser {

  /**
   * The DNSKEY algorithms dnsjava's validator implements by default on Java 17 (RSA/SHA-1 and its
   * NSEC3 alias, RSA/SHA-256, RSA/SHA-512, ECDSA P-256 and P-384, Ed25519, Ed448). GOST (12) needs
   * a provider the JDK lacks, DSA (3, 6) is off by default, RSA/MD5 (1) is obsolete (RFC 6725).
   */
  private static final Set<Integer> ALGORITHMS =
      Set.of(
          DNSSEC.Algorithm.RSASHA1,
          DNSSEC.Algorithm.RSA_NSEC3_SHA1,
          DNSSEC.Algorithm.RSASHA256,
          DNSSEC.Algorithm.RSASHA512,
          DNSSEC.Algorithm.ECDSAP256SHA256,
          DNSSEC.Algorithm.ECDSAP384SHA384,
          DNSSEC.Algorithm.ED25519,
          DNSSEC.Algorithm.ED448);

  /** The DS digest types dnsjava's validator implements by default (GOST needs a provider). */
  private static final Set<Integer> DIGESTS =
      Set.of(DNSSEC.Digest.SHA1, DNSSEC.Digest.SHA256, DNSSEC.Digest.SHA384);

  private AnchorParser() {}

  /**
   * Parses the anchors and returns one summary line per record.
   *
   * @throws IllegalArgumentException if nothing parses, a record is not DS or DNSKEY of class IN,
   *     the text holds a {@code $INCLUDE} directive, or a zone has no anchor of an algorithm (and,
   *     for DS, digest type) the validator implements and, for DNSKEY, without the REVOKE flag: it
   *     would treat that zone as unsigned (RFC 4035 §5.2) rather than fail, or trust a revoked key
   */
  public static List<String> summarise(String text) {
    List<String> out = new ArrayList<>();
    for (Record r : parse(text)) {
      if (r instanceof DSRecord ds) {
        out.add(
            r.getName()
                + " DS "
                + ds.getFootprint()
                + " "
                + ds.getAlgorithm()
                + " "
                + ds.getDigestID());
      } else {
        DNSKEYRecord key = (DNSKEYRecord) r;
        out.add(
            r.getName()
                + " DNSKEY "
                + key.getFootprint()
                + " "
                + key.getAlgorithm()
                + (isRevoked(key) ? " revoked" : ""));
      }
    }
    return List.copyOf(out);
  }

  /**
   * The anchors the validator is to load, in zone-file syntax: every record of {@code text} but
   * DNSKEY records with the REVOKE flag. RFC 5011 §2.1: a key seen with the REVOKE bit must not be
   * used as a trust anchor; dnsjava's validator does not look at the flag, and files kept by RFC
   * 5011 resolvers (Unbound's auto-trust-anchor-file) still list the keys they saw revoked.
   *
   * @throws IllegalArgumentException as {@link #summarise}
   */
  public static String forValidator(String text) {
    StringBuilder out = new StringBuilder();
    for (Record r : parse(text)) {
      if (!(r instanceof DNSKEYRecord key && isRevoked(key))) {
        out.append(r).append('\n');
      }
    }
    return out.toString();
  }

  private static boolean isRevoked(DNSKEYRecord key) {
    return (key.getFlags() & DNSKEYRecord.Flags.REVOKE) != 0;
  }

  /** Parses and checks the anchors; see {@link #summarise}. */
  private static List<Record> parse(String text) {
    List<Record> out = new ArrayList<>();
    Map<Name, List<String>> unusable = new LinkedHashMap<>();
    Set<Name> usable = new HashSet<>();
    try (Master master =
        new Master(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)), Name.root, 0)) {
      // Anchors are text, not a path into the file system: $INCLUDE is an error.
      master.disableIncludes(true);
      // Default TTL 0 as the validator reads anchors (a TTL is meaningless for an anchor).
      Record r;
      while ((r = master.nextRecord()) != null) {
        if (!(r instanceof DSRecord) && !(r instanceof DNSKEYRecord)) {
          throw new IllegalArgumentException(
              "trust anchors must be DS or DNSKEY records, got "
                  + Type.string(r.getType())
                  + ": "
                  + r);
        }
        if (r.getDClass() != DClass.IN) {
          throw new IllegalArgumentException(
              "trust anchors must be of class IN, got class "
                  + DClass.string(r.getDClass())
                  + ": "
                  + r);
        }
        out.add(r);
        String problem;
        if (r instanceof DSRecord ds) {
          problem =
              !ALGORITHMS.contains(ds.getAlgorithm())
                  ? "DS "
                      + ds.getFootprint()
                      + ": algorithm "
                      + ds.getAlgorithm()
                      + " not supported"
                  : !DIGESTS.contains(ds.getDigestID())
                      ? "DS "
                          + ds.getFootprint()
                          + ": digest type "
                          + ds.getDigestID()
                          + " not supported"
                      : null;
        } else {
          DNSKEYRecord key = (DNSKEYRecord) r;
          problem =
              !ALGORITHMS.contains(key.getAlgorithm())
                  ? "DNSKEY "
                      + key.getFootprint()
                      + ": algorithm "
                      + key.getAlgorithm()
                      + " not supported"
                  : isRevoked(key)
                      ? "DNSKEY " + key.getFootprint() + ": revoked (RFC 5011 §2.1)"
                      : null;
        }
        if (problem == null) {
          usable.add(r.getName());
        } else {
          unusable.computeIfAbsent(r.getName(), n -> new ArrayList<>()).add(problem);
        }
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("trust anchors do not parse: " + e.getMessage(), e);
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException("no trust anchor records found");
    }
    for (Map.Entry<Name, List<String>> e : unusable.entrySet()) {
      if (!usable.contains(e.getKey())) {
        throw new IllegalArgumentException(
            "no usable trust anchor for "
                + e.getKey()
                + ", the validator would treat the zone as unsigned: "
                + String.join("; ", e.getValue()));
      }
    }
    return out;
  }
}
