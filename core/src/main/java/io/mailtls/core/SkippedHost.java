package io.mailtls.core;

import java.util.Objects;

/**
 * An MX host that was not tried, and why (policy mismatch, no address, unusable DNS data).
 * Immutable.
 */
public record SkippedHost(DomainName host, FailureType failure, String reason) {
  public SkippedHost {
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(failure, "failure");
    Objects.requireNonNull(reason, "reason");
  }
}
