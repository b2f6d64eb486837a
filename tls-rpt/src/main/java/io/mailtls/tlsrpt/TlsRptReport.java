package io.mailtls.tlsrpt;

import io.mailtls.core.DomainName;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Objects;
import java.util.zip.GZIPOutputStream;

/**
 * One aggregate report (RFC 8460 §4.4): for one policy domain and one UTC day. Immutable. mailtls
 * builds it ({@link TlsRptReportWriter}) and callers read it.
 */
public final class TlsRptReport {

  private final DomainName submitter;
  private final DomainName policyDomain;
  private final LocalDate day;
  private final String reportId;
  private final String uniqueId;
  private final byte[] json;

  TlsRptReport(
      DomainName submitter,
      DomainName policyDomain,
      LocalDate day,
      String reportId,
      String uniqueId,
      byte[] json) {
    this.submitter = Objects.requireNonNull(submitter, "submitter");
    this.policyDomain = Objects.requireNonNull(policyDomain, "policyDomain");
    this.day = Objects.requireNonNull(day, "day");
    this.reportId = Objects.requireNonNull(reportId, "reportId");
    this.uniqueId = Objects.requireNonNull(uniqueId, "uniqueId");
    this.json = json.clone();
  }

  /** The submitter it was written by: the {@code sender} of its §5.1 file name. */
  DomainName submitter() {
    return submitter;
  }

  /** The domain the report is about. */
  public DomainName policyDomain() {
    return policyDomain;
  }

  /** The UTC day it covers. */
  public LocalDate day() {
    return day;
  }

  /** Its {@code report-id}. */
  public String reportId() {
    return reportId;
  }

  /** The report, UTF-8 JSON (a new array). */
  public byte[] json() {
    return json.clone();
  }

  /** The report gzip-compressed (RFC 8460 §5: {@code application/tlsrpt+gzip}). */
  public byte[] gzip() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(json);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a byte array does not fail
    }
    return out.toByteArray();
  }

  /**
   * The file name of RFC 8460 §5.1: {@code sender!policy-domain!begin-timestamp!end-timestamp
   * !unique-id.extension}, the timestamps in seconds since the epoch (the day's first and last
   * second, as {@code date-range} says), the extension {@code json.gz} or {@code json}.
   */
  public String fileName(boolean gzipped) {
    long begin = day.atStartOfDay(ZoneOffset.UTC).toEpochSecond();
    long end = begin + 86_399;
    return submitter
        + "!"
        + policyDomain
        + "!"
        + begin
        + "!"
        + end
        + "!"
        + uniqueId
        + (gzipped ? ".json.gz" : ".json");
  }

  @Override
  public String toString() {
    return "TlsRptReport[" + fileName(true) + ", report-id=" + reportId + "]";
  }
}
