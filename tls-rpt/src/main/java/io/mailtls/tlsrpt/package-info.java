/**
 * SMTP TLS Reporting (RFC 8460) for mailtls: {@link io.mailtls.tlsrpt.TlsRptDiscovery} finds a
 * domain's {@code _smtp._tls} record, {@link io.mailtls.tlsrpt.TlsRptAggregator} counts the
 * transport's sessions per UTC day into an {@link io.mailtls.tlsrpt.AggregateStore}, and {@link
 * io.mailtls.tlsrpt.TlsRptReportWriter} writes the §4.4 JSON report, which {@link
 * io.mailtls.tlsrpt.TlsRptReporter} delivers through {@link io.mailtls.tlsrpt.ReportChannel}s and
 * retries (§5.5).
 */
@NullMarked
package io.mailtls.tlsrpt;

import org.jspecify.annotations.NullMarked;
