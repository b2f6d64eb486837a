package io.mailtls.core.internal.dns;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.xbill.DNS.DNSKEYRecord;
import org.xbill.DNS.DSRecord;
import org.xbill.DNS.Master;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.Type;

/** Checks trust-anchor text (DS/DNSKEY in zone-file syntax) before a validator sees it. */
public final class AnchorParser {

  private AnchorParser() {}

  /**
   * Parses the anchors and returns one summary line per record.
   *
   * @throws IllegalArgumentException if nothing parses, or a record is not DS or DNSKEY
   */
  public static List<String> summarise(String text) {
    List<String> out = new ArrayList<>();
    try (Master master =
        new Master(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)), Name.root, 0)) {
      // Default TTL 0 as the validator reads anchors (a TTL is meaningless for an anchor).
      Record r;
      while ((r = master.nextRecord()) != null) {
        if (r instanceof DSRecord ds) {
          out.add(
              r.getName()
                  + " DS "
                  + ds.getFootprint()
                  + " "
                  + ds.getAlgorithm()
                  + " "
                  + ds.getDigestID());
        } else if (r instanceof DNSKEYRecord key) {
          out.add(r.getName() + " DNSKEY " + key.getFootprint() + " " + key.getAlgorithm());
        } else {
          throw new IllegalArgumentException(
              "trust anchors must be DS or DNSKEY records, got "
                  + Type.string(r.getType())
                  + ": "
                  + r);
        }
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("trust anchors do not parse: " + e.getMessage(), e);
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException("no trust anchor records found");
    }
    return List.copyOf(out);
  }
}
