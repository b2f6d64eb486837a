package io.mailtls.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A start-up check that a resolver really validates DNSSEC: a deliberately bogus name must fail to
 * resolve, and a signed name must resolve as secure. Run it before trusting a resolver's AD bit
 * ({@link DnssecMode#TRUST_AD}): a loopback address proves only that nobody on a network path can
 * set the bit, not that the resolver behind it validates; a forwarding stub copies the AD bit of
 * whatever answered it, and a non-validating resolver happily returns bogus data. The check catches
 * answers that nobody validated; it cannot catch a forwarding stub whose own upstream validates
 * (Docker's {@code 127.0.0.11}, dnsmasq with {@code proxy-dnssec}): that passes, and the AD bit is
 * then only as trustworthy as the path from the stub to its upstream (RFC 6840 §5.7).
 *
 * <pre>{@code
 * DnssecResolver dns = DnssecResolver.builder().mode(DnssecMode.TRUST_AD)
 *     .upstream(new InetSocketAddress("127.0.0.1", 53)).build();
 * DnssecSelfCheck.Result check = DnssecSelfCheck.run(dns);
 * if (!check.passed()) {
 *   throw new IllegalStateException("resolver does not validate: " + check.problems());
 * }
 * }</pre>
 *
 * <p>The defaults are public names on the internet: {@value #DEFAULT_BOGUS_NAME_TEXT}, a zone kept
 * deliberately broken for this purpose, and the root zone, signed since 2010. Private networks name
 * their own. Stateless and thread-safe; each run sends two queries.
 */
public final class DnssecSelfCheck {

  private static final String DEFAULT_BOGUS_NAME_TEXT = "dnssec-failed.org";

  /** The default deliberately bogus name: its signatures do not validate from the root. */
  public static final DomainName DEFAULT_BOGUS_NAME = DomainName.of(DEFAULT_BOGUS_NAME_TEXT);

  /** The default signed name: the root zone, whose answers a validating resolver marks secure. */
  public static final DomainName DEFAULT_SIGNED_NAME = DomainName.ROOT;

  private DnssecSelfCheck() {}

  /**
   * What the check found.
   *
   * <p>Immutable; built by {@link DnssecSelfCheck#run}, read by callers (docs/design.md §5).
   */
  public static final class Result {

    private final DnsAnswer bogus;
    private final DnsAnswer signed;
    private final List<String> problems;

    /** Private: {@link DnssecSelfCheck#run} builds results. */
    private Result(DnsAnswer bogus, DnsAnswer signed, List<String> problems) {
      Objects.requireNonNull(bogus, "bogus");
      Objects.requireNonNull(signed, "signed");
      problems = List.copyOf(problems);
      this.bogus = bogus;
      this.signed = signed;
      this.problems = problems;
    }

    /** The answer for the bogus name (type A): must be a failure. */
    public DnsAnswer bogus() {
      return bogus;
    }

    /**
     * The answer for the signed name (type TXT): secure data or a secure denial, either of which
     * only a validating resolver marks secure.
     */
    public DnsAnswer signed() {
      return signed;
    }

    /** What was wrong, in words; empty when the check passed. */
    public List<String> problems() {
      return problems;
    }

    /** Equal when every component is. */
    @Override
    public boolean equals(Object o) {
      return o instanceof Result other
          && bogus.equals(other.bogus)
          && signed.equals(other.signed)
          && problems.equals(other.problems);
    }

    @Override
    public int hashCode() {
      return Objects.hash(bogus, signed, problems);
    }

    /** Whether the resolver behaved as a validating resolver on both names. */
    public boolean passed() {
      return problems.isEmpty();
    }

    /** In the form a record has: {@code Result[bogus=…, …]}. */
    @Override
    public String toString() {
      return "Result[bogus=" + bogus + ", signed=" + signed + ", problems=" + problems + "]";
    }
  }

  /** Runs the check with the {@linkplain #DEFAULT_BOGUS_NAME default names}. Blocks. */
  public static Result run(DnsResolver dns) {
    return run(dns, DEFAULT_BOGUS_NAME, DEFAULT_SIGNED_NAME);
  }

  /** Runs the check with the given names. Blocks for at most two lookups. */
  public static Result run(DnsResolver dns, DomainName bogusName, DomainName signedName) {
    Objects.requireNonNull(dns, "dns");
    Objects.requireNonNull(bogusName, "bogusName");
    Objects.requireNonNull(signedName, "signedName");
    DnsAnswer bogus = dns.resolve(bogusName, DnsRecordType.A);
    DnsAnswer signed = dns.resolve(signedName, DnsRecordType.TXT);
    List<String> problems = new ArrayList<>();
    if (bogus.isSuccess()) {
      // RFC 4035 §5.5: a validating resolver answers SERVFAIL for data that fails validation.
      problems.add(
          "the deliberately bogus name "
              + bogusName
              + " resolved ("
              + bogus.outcome()
              + ", "
              + bogus.state()
              + "): the resolver does not validate DNSSEC");
    } else if (bogus.rcode() < 0) {
      problems.add(
          "no answer for the deliberately bogus name "
              + bogusName
              + " ("
              + bogus.failure().orElseThrow()
              + "): cannot tell whether the resolver validates");
    }
    if (!signed.isSuccess()) {
      problems.add(
          "the signed name "
              + signedName
              + " did not resolve ("
              + signed
              + "): cannot tell whether the resolver validates");
    } else if (signed.state() != DnssecState.SECURE) {
      // RFC 4035 §3.2.3: a validating resolver sets AD on data it validated.
      problems.add(
          "the signed name "
              + signedName
              + " resolved "
              + signed.state()
              + ", not SECURE: the resolver does not set the AD bit, or does not validate");
    }
    return new Result(bogus, signed, problems);
  }
}
