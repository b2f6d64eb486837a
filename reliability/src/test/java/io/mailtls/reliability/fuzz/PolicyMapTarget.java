package io.mailtls.reliability.fuzz;

import io.mailtls.core.DestinationPolicyMap;
import io.mailtls.core.DomainName;
import io.mailtls.core.PolicyMapException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The policy-map file (docs/policy-map.md), as {@link DestinationPolicyMap#parse} reads it: a map,
 * or a {@link PolicyMapException} naming a line of the input; never another exception, never half a
 * map. The input is the file's bytes as UTF-8 (malformed sequences replaced, as a reader of text
 * would see them).
 *
 * <p>Checked: the failing line exists; a parsed map written out ({@link
 * DestinationPolicyMap#format}) reads back equal; every entry is what a lookup of its own key
 * finds.
 */
public final class PolicyMapTarget extends FuzzTarget {

  @Override
  protected void exercise(byte[] input) throws Exception {
    String text = new String(input, StandardCharsets.UTF_8);
    DestinationPolicyMap map;
    try {
      map = DestinationPolicyMap.parse(text);
    } catch (PolicyMapException e) {
      long lines = text.split("\r\n|\n|\r", -1).length;
      if (e.line() < 1 || e.line() > lines) {
        throw new AssertionError("error on line " + e.line() + " of " + lines + ": " + e, e);
      }
      return; // documented
    }
    String written = DestinationPolicyMap.format(map);
    DestinationPolicyMap again = DestinationPolicyMap.parse(written);
    if (!again.equals(map) || !again.entries().equals(map.entries())) {
      throw new AssertionError("round trip changed the map:\n" + written + "\n" + again);
    }
    List<DestinationPolicyMap.Entry> entries = map.entries();
    for (DestinationPolicyMap.Entry e : entries) {
      if (e.coversSubdomains()) {
        DomainName below = DomainName.of("x" + e.key());
        DestinationPolicyMap.Entry found = map.lookup(below).orElseThrow(AssertionError::new);
        // the closest parent entry, or an exact entry for that very name
        if (!found.equals(e) && !found.key().equals(below.toString())) {
          if (!found.key().startsWith(".") || found.key().length() <= e.key().length()) {
            throw new AssertionError(below + " found " + found + " rather than " + e);
          }
        }
      } else if (!map.lookup(DomainName.of(e.key())).orElseThrow(AssertionError::new).equals(e)) {
        throw new AssertionError("the exact entry " + e + " is not what its key finds");
      }
    }
  }
}
