package io.mailtls.reliability.fuzz;

import io.mailtls.core.ReceivedChain;
import java.util.List;

/**
 * A received message's header as {@link ReceivedChain#parse(byte[])} reads it for {@code mailtls
 * inspect}: unfolding, comments, the {@code from}/{@code by}/{@code with} clauses and the TLS
 * annotations of Postfix, Exim, Microsoft and Gmail.
 *
 * <p>Checked: it never throws (a typed result for any input); hops are numbered 0..n-1 in order, at
 * most {@link ReceivedChain#MAX_HOPS}; each hop's text is bounded and holds no control character
 * but space; at most one hop is the submission hop, and the verdict agrees with the hops it names.
 */
public final class ReceivedTarget extends FuzzTarget {

  @Override
  protected void exercise(byte[] input) {
    ReceivedChain chain = ReceivedChain.parse(input);
    List<ReceivedChain.Hop> hops = chain.hops();
    check(hops.size() <= ReceivedChain.MAX_HOPS, "more than MAX_HOPS hops: " + hops.size());
    int submissions = 0;
    for (int i = 0; i < hops.size(); i++) {
      ReceivedChain.Hop h = hops.get(i);
      check(h.index() == i, "hop " + i + " numbered " + h.index());
      // escaping may lengthen the kept characters a few times (\\uNNNN)
      check(h.text().length() <= 6 * ReceivedChain.MAX_FIELD_CHARS, "unbounded hop text");
      check(
          h.text().chars().noneMatch(c -> c < 0x20 || c == 0x7f), "control character in hop text");
      if (h.submission()) {
        submissions++;
        check(!h.internal(), "an internal submission hop");
      }
    }
    check(submissions <= 1, submissions + " submission hops");
    List<ReceivedChain.Hop> after = chain.afterSubmission();
    check(after.stream().noneMatch(ReceivedChain.Hop::internal), "an internal hop counted");
    ReceivedChain.Verdict v = chain.verdict();
    boolean plain =
        after.stream().anyMatch(h -> h.encryption() == ReceivedChain.Encryption.PLAINTEXT);
    check(after.isEmpty() == (v == ReceivedChain.Verdict.NO_HOPS), "NO_HOPS disagrees");
    check(plain == (v == ReceivedChain.Verdict.NOT_ALL_ENCRYPTED), "NOT_ALL_ENCRYPTED disagrees");
    check(chain.problem().isEmpty(), "a problem reading a byte array: " + chain.problem());
  }

  private static void check(boolean condition, String what) {
    if (!condition) {
      throw new AssertionError(what);
    }
  }
}
