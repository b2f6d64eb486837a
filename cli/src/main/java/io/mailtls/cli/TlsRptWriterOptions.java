package io.mailtls.cli;

import io.mailtls.core.DomainName;
import io.mailtls.tlsrpt.TlsRptReportWriter;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Option;

/**
 * Who writes the reports ({@code tlsrpt show --json}, {@code tlsrpt send}): the submitter of RFC
 * 8460 §4.4 ({@code report-id}, §5.3's {@code TLS-Report-Submitter}), the organisation and the
 * contact.
 */
final class TlsRptWriterOptions {

  @Option(
      names = "--submitter",
      paramLabel = "DOMAIN",
      description =
          "the submitter's domain, in report-id (default: this machine's host name, as --helo)")
  @Nullable String submitter;

  @Option(
      names = "--organization",
      paramLabel = "NAME",
      description = "the report's organization-name (default: the submitter)")
  @Nullable String organization;

  @Option(
      names = "--contact",
      paramLabel = "CONTACT",
      description = "the report's contact-info (default: postmaster@SUBMITTER)")
  @Nullable String contact;

  /** This machine's host name; tests give their own. */
  Supplier<String> localHostName = CommonOptions::canonicalLocalHostName;

  /** The submitter's domain: {@code --submitter}, else this machine's host name. */
  DomainName submitter() {
    String name = submitter != null ? submitter : localHostName.get();
    try {
      return DomainName.of(name);
    } catch (IllegalArgumentException e) {
      throw CliException.usage(
          (submitter != null ? "--submitter" : "this machine's host name")
              + " \""
              + name
              + "\": "
              + e.getMessage(),
          e);
    }
  }

  /** The report writer these options describe. */
  TlsRptReportWriter writer() {
    DomainName domain = submitter();
    try {
      return TlsRptReportWriter.builder()
          .submitter(domain)
          .organizationName(organization != null ? organization : domain.toString())
          .contactInfo(contact != null ? contact : "postmaster@" + domain)
          .build();
    } catch (IllegalArgumentException e) {
      throw CliException.usage(String.valueOf(e.getMessage()), e);
    }
  }
}
