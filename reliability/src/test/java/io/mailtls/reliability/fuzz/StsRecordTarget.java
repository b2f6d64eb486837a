package io.mailtls.reliability.fuzz;

import io.mailtls.mtasts.StsRecord;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The MTA-STS TXT record at {@code _mta-sts.<domain>} (RFC 8461 §3.1), as the DNS layer hands it
 * over: each record the concatenation of its character-strings, octets as ISO-8859-1. The input is
 * the RRset, records separated by NUL; {@link StsRecord#select} must give a typed result, and
 * {@link StsRecord#parse} of each record a record or its documented {@link
 * IllegalArgumentException}.
 *
 * <p>Checked: a parsed record's id is 1 to 32 letters and digits; the extension names and values
 * fit §3.1; a record found by {@code select} is one that {@code parse} accepts.
 */
public final class StsRecordTarget extends FuzzTarget {

  @Override
  protected void exercise(byte[] input) {
    List<String> records =
        Arrays.asList(new String(input, StandardCharsets.ISO_8859_1).split("\0", 16));
    StsRecord.Selection selection = StsRecord.select(records);
    if (selection instanceof StsRecord.Found found) {
      check(found.record());
    } else if (!(selection instanceof StsRecord.NotFound)) {
      throw new AssertionError("untyped selection " + selection);
    }
    for (String text : records) {
      StsRecord record;
      try {
        record = StsRecord.parse(text);
      } catch (IllegalArgumentException invalid) {
        continue; // documented
      }
      check(record);
    }
  }

  private static void check(StsRecord record) {
    if (!record.id().matches("[A-Za-z0-9]{1,32}")) {
      throw new AssertionError("id outside RFC 8461 §3.1: " + record.id());
    }
    for (Map.Entry<String, String> e : record.extensions().entrySet()) {
      if (!e.getKey().matches("[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
          || !e.getValue().matches("[\\x21-\\x3a\\x3c\\x3e-\\x7e]+")) {
        throw new AssertionError("extension outside RFC 8461 §3.1: " + e);
      }
    }
  }
}
