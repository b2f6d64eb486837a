package io.mailtls.reliability.fuzz;

import io.mailtls.core.internal.smtp.TlsRequiredHeader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The {@code TLS-Required: No} detection (RFC 8689 §4.2.2) on streamed content: {@link
 * TlsRequiredHeader} fed in pieces whose size the first octet picks, checked against a plain
 * reference that normalises line ends, cuts the header section at its first empty line (RFC 5322
 * §2.1, within {@link TlsRequiredHeader#MAX_HEADER_OCTETS}) and unfolds fields (RFC 5322 §2.2.3);
 * one {@code TLS-Required} field only (RFC 8689 §3), in a header section read to its end. The
 * scanner may stop the writer only with an {@link IOException}, and only once it is done.
 */
public final class TlsRequiredHeaderTarget extends FuzzTarget {

  @Override
  protected void exercise(byte[] input) {
    if (input.length == 0) {
      return;
    }
    int piece = (input[0] & 0x1f) + 1;
    byte[] content = Arrays.copyOfRange(input, 1, input.length);
    TlsRequiredHeader scanner = new TlsRequiredHeader();
    for (int i = 0; i < content.length; i += piece) {
      try {
        scanner.write(content, i, Math.min(piece, content.length - i));
      } catch (IOException stop) {
        if (!scanner.done()) {
          throw new AssertionError("stopped the writer before the end of the header", stop);
        }
        break;
      }
    }
    boolean expected = reference(content);
    if (scanner.found() != expected) {
      throw new AssertionError("found " + scanner.found() + ", the reference says " + expected);
    }
  }

  /**
   * The same question answered on the whole header section at once: exactly one {@code
   * TLS-Required} field, saying {@code No}, in a header section that ends within the bound (or with
   * the content).
   */
  static boolean reference(byte[] content) {
    int n = Math.min(content.length, TlsRequiredHeader.MAX_HEADER_OCTETS);
    boolean atBound = content.length >= TlsRequiredHeader.MAX_HEADER_OCTETS;
    if (atBound && n > 0 && content[n - 1] == '\r') {
      n--; // a line end begun by the last octet read, never finished
    }
    String text =
        new String(content, 0, n, StandardCharsets.ISO_8859_1)
            .replace("\r\n", "\n")
            .replace('\r', '\n');
    String[] lines = text.split("\n", -1);
    boolean ended = false;
    int fields = 0;
    boolean no = false;
    String name = null;
    StringBuilder value = new StringBuilder();
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i];
      if (line.isEmpty()) {
        // an empty line ends the header section; the last piece is only the end of the content
        ended = i < lines.length - 1;
        break;
      }
      if (line.charAt(0) == ' ' || line.charAt(0) == '\t') {
        if (name != null) {
          value.append(' ').append(line, 1, line.length());
        }
        continue;
      }
      if (ours(name)) {
        fields++;
        no = says(value);
      }
      int colon = line.indexOf(':');
      if (colon < 0) {
        name = null;
        continue;
      }
      name = line.substring(0, colon);
      value.setLength(0);
      value.append(line, colon + 1, line.length());
    }
    if (atBound && !ended) {
      return false; // a second field could follow what the bound cut off
    }
    if (ours(name)) {
      fields++;
      no = says(value);
    }
    return fields == 1 && no;
  }

  private static boolean ours(String name) {
    return name != null && name.length() <= 32 && name.strip().equalsIgnoreCase("TLS-Required");
  }

  private static boolean says(StringBuilder value) {
    return value.length() <= 32 && value.toString().strip().equalsIgnoreCase("No");
  }
}
