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

  private static boolean isAlnum(int c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  }

  private static void check(StsRecord record) {
    String id = record.id();
    if (id.isEmpty() || id.length() > 32 || !id.chars().allMatch(StsRecordTarget::isAlnum)) {
      throw new AssertionError("id outside RFC 8461 §3.1: " + record.id());
    }
    for (Map.Entry<String, String> e : record.extensions().entrySet()) {
      String name = e.getKey();
      String value = e.getValue();
      boolean nameOk =
          !name.isEmpty()
              && name.length() <= 32
              && isAlnum(name.charAt(0))
              && name.chars().allMatch(c -> isAlnum(c) || c == '_' || c == '.' || c == '-');
      boolean valueOk =
          !value.isEmpty()
              && value.chars().allMatch(c -> c >= 0x21 && c <= 0x7e && c != ';' && c != '=');
      if (!nameOk || !valueOk) {
        throw new AssertionError("extension outside RFC 8461 §3.1: " + e);
      }
    }
  }
}
