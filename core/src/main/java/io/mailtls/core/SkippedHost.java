package io.mailtls.core;

import java.util.Objects;

/**
 * An MX host that was not tried, and why (policy mismatch, no address, unusable DNS data).
 *
 * <p>Immutable. mailtls builds it and callers read it: its constructor is not public, so that it
 * may gain components without breaking callers (docs/design.md §5).
 */
public final class SkippedHost {

  private final DomainName host;
  private final FailureType failure;
  private final String reason;

  /** Not public: built by the planner. */
  SkippedHost(DomainName host, FailureType failure, String reason) {
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(failure, "failure");
    Objects.requireNonNull(reason, "reason");
    this.host = host;
    this.failure = failure;
    this.reason = reason;
  }

  /** The MX host; the root for an address literal. */
  public DomainName host() {
    return host;
  }

  /** Why it was skipped, as a failure type. */
  public FailureType failure() {
    return failure;
  }

  /** Why it was skipped, in words. */
  public String reason() {
    return reason;
  }

  /** Equal when every component is. */
  @Override
  public boolean equals(Object o) {
    return o instanceof SkippedHost other
        && host.equals(other.host)
        && failure.equals(other.failure)
        && reason.equals(other.reason);
  }

  @Override
  public int hashCode() {
    return Objects.hash(host, failure, reason);
  }

  /** In the form a record has: {@code SkippedHost[host=…, …]}. */
  @Override
  public String toString() {
    return "SkippedHost[host=" + host + ", failure=" + failure + ", reason=" + reason + "]";
  }
}
