package io.mailtls.reliability.fuzz;

import io.mailtls.core.DomainName;
import io.mailtls.core.MtaStsMode;
import io.mailtls.core.MtaStsPolicy;
import io.mailtls.mtasts.FetchResult;
import io.mailtls.mtasts.MtaStsFuzzAccess;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The MTA-STS policy body, {@code .well-known/mta-sts.txt} (RFC 8461 §3.2), twice: as the HTTPS
 * fetcher reads a 200 {@code text/plain} response with these octets ({@code PolicyResponses}: body
 * limit, strict UTF-8, then the parser), which must give a {@link FetchResult} and never throw; and
 * the parser itself on the body decoded leniently, which may throw only its documented {@code
 * StsPolicyException}.
 *
 * <p>Checked: a parsed policy has a mode, {@code max_age} of at most 31557600 s, {@code mx}
 * patterns unless the mode is none, each a normalised host name or {@code *.} and one, which
 * matches the host it names (or one label under a wildcard).
 */
public final class StsPolicyTarget extends FuzzTarget {

  @Override
  protected void exercise(byte[] input) throws Exception {
    FetchResult fetched = MtaStsFuzzAccess.readPolicyResponse(input, "20260101");
    if (fetched instanceof FetchResult.Success success) {
      check(success.policy());
    } else if (!(fetched instanceof FetchResult.Failure)) {
      throw new AssertionError("untyped result " + fetched);
    }
    MtaStsPolicy parsed;
    try {
      parsed = MtaStsFuzzAccess.parsePolicy(new String(input, StandardCharsets.UTF_8), "id1");
    } catch (RuntimeException e) {
      if (MtaStsFuzzAccess.policyException().isInstance(e)) {
        return; // documented
      }
      throw e;
    }
    check(parsed);
  }

  private static void check(MtaStsPolicy policy) {
    if (policy.maxAge().isNegative() || policy.maxAge().compareTo(MtaStsPolicy.MAX_AGE_LIMIT) > 0) {
      throw new AssertionError("max_age out of range: " + policy);
    }
    List<String> patterns = policy.mxPatterns();
    if (policy.mode() != MtaStsMode.NONE && patterns.isEmpty()) {
      throw new AssertionError("no mx in mode " + policy.mode());
    }
    for (String pattern : patterns) {
      boolean wildcard = pattern.startsWith("*.");
      String host = wildcard ? "a." + pattern.substring(2) : pattern;
      if (host.length() > 253) {
        continue; // a wildcard's domain may be as long as a name; one more label may not fit
      }
      if (!policy.matches(DomainName.of(host))) {
        throw new AssertionError("pattern " + pattern + " does not match " + host);
      }
    }
  }
}
