package io.mailtls.tlsrpt;

import io.mailtls.core.DnsRecord;
import io.mailtls.core.DomainName;
import io.mailtls.core.MtaStsPolicy;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * The policy a session was held under, as a report's {@code policy} object names it (RFC 8460 §4.3,
 * §4.4): the key that counts are kept under. Immutable.
 *
 * @param type {@code sts}, {@code tlsa} or {@code no-policy-found}
 * @param policyDomain the recipient domain whose policy it is
 * @param policyString the policy's text, one line per element: an MTA-STS policy's lines, or the
 *     TLSA records in presentation form; empty when no policy was had (a failed fetch, no policy)
 * @param mxHosts the MTA-STS {@code mx} patterns, or the MX host a TLSA RRset belongs to
 */
public record AppliedPolicy(
    PolicyType type, DomainName policyDomain, List<String> policyString, List<String> mxHosts) {

  public AppliedPolicy {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(policyDomain, "policyDomain");
    policyString = List.copyOf(policyString);
    mxHosts = List.copyOf(mxHosts);
  }

  /** {@code no-policy-found} for {@code domain}. */
  public static AppliedPolicy noPolicy(DomainName domain) {
    return new AppliedPolicy(PolicyType.NO_POLICY_FOUND, domain, List.of(), List.of());
  }

  /**
   * An MTA-STS policy as the domain declared it (RFC 8460 §4.4, §4.5: "the policy that is declared
   * by the receiving site"): the lines of the policy text it was parsed from ({@link
   * MtaStsPolicy#text()}), as they were, in their order, extension fields included; lines end in LF
   * or CRLF (RFC 8461 §3.2's {@code sts-policy-term}), and the empty line after a final terminator
   * is not one. A policy without its text (made from its fields, or read from a store entry written
   * before the text was kept) is rebuilt from the fields: {@code version}, {@code mode}, each
   * {@code mx} and {@code max_age}, one line each.
   */
  public static AppliedPolicy sts(DomainName domain, MtaStsPolicy policy) {
    List<String> lines = policy.text().map(AppliedPolicy::lines).orElseGet(() -> rebuilt(policy));
    return new AppliedPolicy(PolicyType.STS, domain, lines, policy.mxPatterns());
  }

  /** The lines of a policy text; RFC 8461 §3.2: sts-policy-term = LF / CRLF. */
  private static List<String> lines(String text) {
    List<String> lines = new ArrayList<>();
    int start = 0;
    while (start < text.length()) {
      int lf = text.indexOf('\n', start);
      if (lf < 0) {
        lines.add(text.substring(start)); // the last line may lack its terminator
        break;
      }
      int end = lf > start && text.charAt(lf - 1) == '\r' ? lf - 1 : lf;
      lines.add(text.substring(start, end));
      start = lf + 1;
    }
    return lines;
  }

  private static List<String> rebuilt(MtaStsPolicy policy) {
    List<String> lines = new ArrayList<>();
    lines.add("version: STSv1");
    lines.add("mode: " + policy.mode().name().toLowerCase(Locale.ROOT));
    for (String mx : policy.mxPatterns()) {
      lines.add("mx: " + mx);
    }
    lines.add("max_age: " + policy.maxAge().toSeconds());
    return lines;
  }

  /** The TLSA records of MX host {@code host}, in presentation form ({@code 3 1 1 ab12…}). */
  public static AppliedPolicy tlsa(DomainName domain, List<DnsRecord.Tlsa> records, String host) {
    return new AppliedPolicy(
        PolicyType.TLSA,
        domain,
        records.stream().map(DnsRecord.Tlsa::toString).toList(),
        List.of(host));
  }
}
