package io.mailtls.mtasts;

import io.mailtls.core.FailureType;
import io.mailtls.core.MtaStsPolicy;
import java.util.Objects;

/** The outcome of one policy fetch. Immutable. */
public sealed interface FetchResult permits FetchResult.Success, FetchResult.Failure {

  /** A policy was fetched and parsed. */
  record Success(MtaStsPolicy policy) implements FetchResult {
    public Success {
      Objects.requireNonNull(policy, "policy");
    }
  }

  /**
   * The fetch failed.
   *
   * @param type the RFC 8460 result type: {@link FailureType#STS_POLICY_FETCH_ERROR} (network, DNS,
   *     status, redirect, media type, size, time), {@link FailureType#STS_POLICY_INVALID} (the body
   *     does not parse) or {@link FailureType#STS_WEBPKI_INVALID} (the HTTPS certificate does not
   *     verify for {@code mta-sts.<domain>})
   * @param reason a human-readable account
   */
  record Failure(FailureType type, String reason) implements FetchResult {
    public Failure {
      Objects.requireNonNull(type, "type");
      Objects.requireNonNull(reason, "reason");
    }
  }
}
