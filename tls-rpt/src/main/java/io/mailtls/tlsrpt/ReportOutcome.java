package io.mailtls.tlsrpt;

import java.util.Objects;

/** How one attempt to deliver a report to one destination ended. */
public sealed interface ReportOutcome permits ReportOutcome.Delivered, ReportOutcome.NotDelivered {

  /** What the peer said, for the operator (an HTTP status line, an SMTP reply); never a secret. */
  String detail();

  /**
   * The destination took the report (HTTP 2xx; SMTP 250 to the final dot).
   *
   * @param detail what the peer said
   */
  record Delivered(String detail) implements ReportOutcome {
    public Delivered {
      Objects.requireNonNull(detail, "detail");
    }
  }

  /**
   * The report was not taken.
   *
   * @param detail what the last attempt got
   * @param permanent true when trying again cannot help (an SMTP 5xx, a malformed destination); the
   *     reporter then stops trying this destination and reports it
   */
  record NotDelivered(String detail, boolean permanent) implements ReportOutcome {
    public NotDelivered {
      Objects.requireNonNull(detail, "detail");
    }
  }
}
