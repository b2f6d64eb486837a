package io.mailtls.reliability.fuzz;

import io.mailtls.tlsrpt.TlsRptRecord;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The TLS-RPT TXT record at {@code _smtp._tls.<domain>} (RFC 8460 §3), as the DNS layer hands it
 * over: each record the concatenation of its character-strings, octets as ISO-8859-1. The input is
 * the RRset, records separated by NUL; {@link TlsRptRecord#select} must give a typed result, and
 * {@link TlsRptRecord#parse} of each record a record or its documented {@link
 * IllegalArgumentException}.
 *
 * <p>Checked: a parsed record has at least one destination and at most {@link
 * TlsRptRecord#MAX_DESTINATIONS}, every destination is a {@code mailto:} or {@code https:} URI, and
 * an ignored URI is of another scheme, an {@code https:} URI without a host or a {@code mailto:}
 * URI that alone names no destination, unless the destinations are full (then a usable URI beyond
 * them is ignored too), all of printable US-ASCII with no raw {@code !}; extension names and values
 * fit §3; a record found by {@code select} is one that {@code parse} accepts; messages quote no
 * control character.
 */
public final class TlsRptRecordTarget extends FuzzTarget {

  @Override
  protected void exercise(byte[] input) {
    List<String> records =
        Arrays.asList(new String(input, StandardCharsets.ISO_8859_1).split("\0", 16));
    TlsRptRecord.Selection selection = TlsRptRecord.select(records);
    if (selection instanceof TlsRptRecord.Found found) {
      check(found.record());
      long accepted =
          records.stream()
              .filter(
                  r -> {
                    try {
                      TlsRptRecord.parse(r);
                      return true;
                    } catch (IllegalArgumentException e) {
                      return false;
                    }
                  })
              .count();
      if (accepted < 1) {
        throw new AssertionError("select found a record that parse refuses");
      }
    } else if (selection instanceof TlsRptRecord.NotFound notFound) {
      checkMessage(notFound.reason());
    } else {
      throw new AssertionError("untyped selection " + selection);
    }
    for (String text : records) {
      TlsRptRecord record;
      try {
        record = TlsRptRecord.parse(text);
      } catch (IllegalArgumentException invalid) {
        checkMessage(String.valueOf(invalid.getMessage()));
        continue; // documented
      }
      check(record);
    }
  }

  private static void checkMessage(String message) {
    // Peer text is escaped to printable US-ASCII; the only other character is the '§' of the
    // messages' own RFC references.
    if (message.chars().anyMatch(c -> c < 0x20 || (c >= 0x7f && c != '§'))) {
      throw new AssertionError("unescaped peer text in " + message);
    }
  }

  private static boolean isAlnum(int c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  }

  private static void check(TlsRptRecord record) {
    if (record.rua().isEmpty()) {
      throw new AssertionError("a record without destinations");
    }
    if (record.rua().size() > TlsRptRecord.MAX_DESTINATIONS) {
      throw new AssertionError("more destinations than the bound: " + record.rua().size());
    }
    for (URI uri : record.rua()) {
      String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
      if (!scheme.equals("mailto") && !scheme.equals("https")) {
        throw new AssertionError("destination of another scheme: " + uri);
      }
      checkUri(uri);
    }
    for (URI uri : record.ignored()) {
      String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
      if ((scheme.equals("mailto") || scheme.equals("https"))
          && record.rua().size() < TlsRptRecord.MAX_DESTINATIONS
          && (scheme.equals("https") ? hasHost(uri) : aloneIsADestination(uri))) {
        throw new AssertionError("a usable URI ignored with room for it: " + uri);
      }
      checkUri(uri);
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
      if (!nameOk || !valueOk || name.equals("rua")) {
        throw new AssertionError("extension outside RFC 8460 §3: " + e);
      }
    }
  }

  private static boolean hasHost(URI uri) {
    return uri.getHost() != null && !uri.getHost().isEmpty();
  }

  /**
   * Whether a record naming only {@code uri} has it as its destination: a {@code mailto:} URI with
   * no address (RFC 6068 §2: before {@code ?} or in {@code to=}) is ignored on its own, so such a
   * record names none and is invalid.
   */
  private static boolean aloneIsADestination(URI uri) {
    try {
      return TlsRptRecord.parse("v=TLSRPTv1;rua=" + uri).rua().contains(uri);
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private static void checkUri(URI uri) {
    String s = uri.toString();
    if (s.chars().anyMatch(c -> c <= 0x20 || c >= 0x7f || c == '!' || c == ',' || c == ';')) {
      throw new AssertionError("URI outside RFC 8460 §3: " + s);
    }
  }
}
