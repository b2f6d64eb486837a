package io.mailtls.cli;

import io.mailtls.core.DnsResolver;
import io.mailtls.core.DnssecSelfCheck;
import io.mailtls.core.DomainName;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Option;

/**
 * The names of the start-up DNSSEC self-check that {@code --dnssec trust-ad} requires (a picocli
 * mixin): a resolver whose AD bit decides DANE must refuse a bogus name and mark a signed name
 * secure. Not thread-safe: filled in by picocli, then read.
 */
final class SelfCheckOptions {

  @Option(
      names = "--selfcheck-bogus",
      paramLabel = "NAME",
      defaultValue = "dnssec-failed.org",
      description =
          "with --dnssec trust-ad: a deliberately bogus name that a validating"
              + " resolver must refuse (default: ${DEFAULT-VALUE})")
  String bogus;

  @Option(
      names = "--selfcheck-signed",
      paramLabel = "NAME",
      defaultValue = ".",
      description =
          "with --dnssec trust-ad: a signed name that a validating resolver must"
              + " mark secure (default: the root zone, ${DEFAULT-VALUE})")
  String signed;

  /** The bogus name, then the signed one. */
  List<DomainName> names() {
    try {
      return List.of(DomainName.of(bogus), DomainName.of(signed));
    } catch (IllegalArgumentException e) {
      throw CliException.usage("--selfcheck-bogus/--selfcheck-signed: " + e.getMessage(), e);
    }
  }

  /**
   * Runs the self-check against {@code dns} (described as {@code resolver} in the error).
   *
   * @throws CliException exit 69 listing what the resolver got wrong
   */
  void require(DnsResolver dns, String resolver, Optional<TraceListener> trace) {
    List<DomainName> n = names();
    DnssecSelfCheck.Result check = DnssecSelfCheck.run(dns, n.get(0), n.get(1));
    trace.ifPresent(
        t -> t.line("DNSSEC self-check: bogus " + check.bogus() + "; signed " + check.signed()));
    if (!check.passed()) {
      throw new CliException(
          Mailtls.EX_UNAVAILABLE,
          "DNS resolver "
              + resolver
              + " failed the DNSSEC self-check that --dnssec trust-ad requires: "
              + String.join("; ", check.problems())
              + " (name a validating resolver, or use --dnssec validate)");
    }
  }
}
