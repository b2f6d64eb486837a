/**
 * SMTP TLS Reporting (RFC 8460) for mailtls: {@code _smtp._tls} discovery, daily aggregation of the
 * transport's sessions and policy failures, and the JSON report. The API is {@link
 * io.mailtls.tlsrpt}; {@code io.mailtls.tlsrpt.internal} is not exported.
 */
module io.mailtls.tlsrpt {
  requires transitive io.mailtls.core;
  // HttpsReportSender resolves destinations with ResolverDns, as the MTA-STS fetch does.
  requires io.mailtls.mtasts;
  requires com.fasterxml.jackson.databind;
  requires com.github.benmanes.caffeine;
  // HttpsReportSender takes the application's OkHttpClient.
  requires transitive okhttp3;
  requires org.slf4j;

  exports io.mailtls.tlsrpt;
}
