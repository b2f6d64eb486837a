package io.mailtls.tlsrpt;

import java.net.URI;

/**
 * One way of delivering a TLS-RPT report to one {@code rua} destination (RFC 8460 §3): HTTPS POST
 * ({@link HttpsReportSender}, §5.4) or mail ({@link MailReportSender}, §5.3). A channel tries once
 * (with whatever short in-call retries it is configured for); retries over days are the {@link
 * TlsRptReporter}'s. Implementations never throw for anything the peer does.
 */
public interface ReportChannel {

  /** Whether this channel delivers to {@code destination} (by its URI scheme). */
  boolean supports(URI destination);

  /** Delivers {@code report} to {@code destination}; never throws for peer behaviour. */
  ReportOutcome deliver(URI destination, TlsRptReport report);
}
